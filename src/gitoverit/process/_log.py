"""The line the command log gets for each command that ends (see
:func:`gitoverit.process.log_commands`).

One line per command, ``key=value`` words and the command last::

    command repo=/home/u/code/app exit=0 duration_ms=4.7 cmd=git status --porcelain=v2 ...

*exit* is the exit code (negative: killed by that signal), or ``timeout``, ``cancelled``
(Ctrl-C, or the caller stopped waiting), ``killed`` (given up by the caller) or
``not_started``; *repo* is the folder the command ran in, quoted as the shell would when
it holds a space. The command is shown as in error messages, without git's ``-c`` overrides and
``-C`` folder, but whole: each argument escaped, quoted when it holds a space, with
credentials in URLs redacted. Commands that ran out of time are logged at ``WARNING``,
commands that could not start at ``ERROR``, the others at ``DEBUG``.
"""

from __future__ import annotations

import logging
import os
import shlex
from collections.abc import Sequence

from gitoverit.errors import short_command
from gitoverit.text import safe_text


def _level(exit_: int | str) -> int:
    if exit_ == "timeout":
        return logging.WARNING
    if exit_ == "not_started":
        return logging.ERROR
    return logging.DEBUG


def write(
    logger: logging.Logger,
    argv: Sequence[str],
    folder: str | os.PathLike[str] | None,
    duration: float,
    exit_: int | str,
) -> None:
    """Log one ended command to *logger*: *argv* run in *folder* (``-`` when none) for
    *duration* seconds, with *exit_*, its exit code or what stopped it."""
    level = _level(exit_)
    if not logger.isEnabledFor(level):
        return
    repo = shlex.quote(safe_text(os.fspath(folder))) if folder is not None else "-"
    logger.log(
        level,
        "command repo=%s exit=%s duration_ms=%.1f cmd=%s",
        repo,
        exit_,
        duration * 1000,
        short_command(argv, width=None),
    )
