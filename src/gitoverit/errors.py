"""Typed errors, and the mapping from an exception to a repo's error record.

Every layer imports this module; it imports nothing of ours but :mod:`gitoverit.model`
and :mod:`gitoverit.text`.

- :class:`UsageError`: bad input (a flag, an expression, a column, a config key, a
  manifest). The command line shows it and exits 2 (:mod:`gitoverit.exit_codes`)
  before any work starts.
- :class:`CommandError` and its subclasses: a child process failed, timed out or was
  cancelled. Each carries the command, its return code, its output and a :class:`Reason`.
- :class:`RepoFailed`: a per-repo task's way to stop its pool under ``fail_fast``.
- :func:`error_from_exception`: any exception from per-repo work as a reason and a
  one-line message.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from typing import Any

from gitoverit.model import Reason, RepoError, RepoRecord
from gitoverit.text import redact_url, safe_text

#: A command shown in a message is cut (between arguments) past this many characters.
COMMAND_WIDTH = 60


class UsageError(Exception):
    """Input the user can fix: the message says what is wrong and where. Exit code 2."""


def _restore_error(cls: type[CommandError], message: str, state: dict[str, Any]) -> CommandError:
    """Rebuild a pickled :class:`CommandError` (their ``__init__`` signatures differ)."""
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class CommandError(Exception):
    """A git command failed. Carries the command, return code, output and duration."""

    reason: Reason = Reason.GIT_ERROR

    def __init__(
        self,
        argv: Sequence[str],
        returncode: int | None,
        stdout: bytes = b"",
        stderr: bytes = b"",
        duration: float = 0.0,
        message: str | None = None,
    ) -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.duration = duration
        super().__init__(message or self._default_message())

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_error, (type(self), str(self), dict(self.__dict__)))

    @property
    def command(self) -> str:
        """The command as a short display string (see :func:`short_command`)."""
        return short_command(self.argv)

    @property
    def stderr_text(self) -> str:
        """stderr decoded (invalid bytes replaced) and stripped."""
        return self.stderr.decode("utf-8", "replace").strip()

    def _default_message(self) -> str:
        err = _last_meaningful_line(self.stderr_text)
        base = f"{self.command} exited with {self.returncode}"
        return f"{base}: {err}" if err else base


class CommandTimeoutError(CommandError):
    """The command outlived its timeout; its whole process group was killed."""

    reason = Reason.TIMEOUT

    def __init__(
        self, argv: Sequence[str], timeout: float, stdout: bytes, stderr: bytes, duration: float
    ) -> None:
        self.timeout = timeout
        super().__init__(
            argv,
            None,
            stdout,
            stderr,
            duration,
            message=f"Command timed out after {round(timeout, 2):g}s: {short_command(argv)}",
        )


class GitAuthError(CommandError):
    """git needed credentials, a passphrase or a host-key decision, and prompts are off."""

    reason = Reason.AUTH


class GitNetworkError(CommandError):
    """The remote could not be reached: connection refused or reset, host not found,
    network unreachable."""

    reason = Reason.NETWORK


class CommandCancelledError(CommandError):
    """The command was killed because its task was cancelled (Ctrl-C or task timeout)."""

    reason = Reason.INTERRUPTED


class GitNotARepoError(CommandError):
    """The directory is not (or no longer) a git repository."""

    reason = Reason.NOT_A_REPO


class GitCorruptError(CommandError):
    """The repository's index, objects or configuration cannot be read."""

    reason = Reason.CORRUPT


class GitPermissionError(CommandError):
    """The filesystem (or git's ownership check) refused access."""

    reason = Reason.PERMISSION


def short_command(argv: Sequence[str]) -> str:
    """*argv* as shown in a message: for git without its ``-c`` overrides and ``-C``
    folder (the record names the repository); each argument escaped, with credentials
    redacted from URLs, and quoted when it holds a space.

    Past :data:`COMMAND_WIDTH` characters the remaining arguments are left out, marked
    with ``…``: an argument is shown whole or not at all, and the program and its first
    argument always show.
    """
    words = [_shown_word(arg) for arg in _shown_args(argv)]
    kept = words[:2]
    width = len(" ".join(kept))
    for word in words[2:]:
        width += 1 + len(word)
        if width > COMMAND_WIDTH:
            return " ".join([*kept, "…"])
        kept.append(word)
    return " ".join(kept)


def _shown_args(argv: Sequence[str]) -> list[str]:
    """*argv* less the ``-c NAME=VALUE`` and ``-C FOLDER`` options before git's command."""
    if not argv or os.path.basename(argv[0]) != "git":
        return list(argv)
    shown = [argv[0]]
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] in ("-c", "-C"):
            i += 2
        else:
            shown.append(argv[i])
            i += 1
    return shown + list(argv[i:])


def _shown_word(arg: str) -> str:
    word = safe_text(redact_url(arg))
    if not word or any(ch.isspace() or ch in "'\"" for ch in word):
        return shlex.quote(word)
    return word


def _last_meaningful_line(text: str) -> str:
    """The line of git's stderr that says most: the first ``fatal:`` (later ones are
    generic, like "Could not read from remote repository."), else the first ``error:``,
    else the last line."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for prefix in ("fatal:", "error:"):
        for ln in lines:
            if ln.startswith(prefix):
                return ln
    return lines[-1] if lines else ""


class RepoFailed(Exception):
    """Raised by a task under ``fail_fast`` to stop the pool; carries the failed record."""

    def __init__(self, record: RepoRecord) -> None:
        super().__init__(record.error.message if record.error else "failed")
        self.record = record


def error_from_exception(exc: BaseException) -> RepoError:
    """Map any exception from per-repo work to a reason code and a one-line message.

    A task that ran out of time raises a :class:`TimeoutError` (the pool's own
    ``TaskTimeout`` is one); a task that never ran is mapped by its caller, which knows.
    """
    if isinstance(exc, CommandError):
        return RepoError(exc.reason, one_line(str(exc)))
    if isinstance(exc, TimeoutError):
        return RepoError(Reason.TIMEOUT, str(exc))
    if isinstance(exc, PermissionError):
        return RepoError(Reason.PERMISSION, one_line(str(exc)))
    if isinstance(exc, UnicodeError):
        return RepoError(Reason.CORRUPT, one_line(f"{type(exc).__name__}: {exc}"))
    return RepoError(Reason.GIT_ERROR, one_line(f"{type(exc).__name__}: {exc}"))


def one_line(text: str) -> str:
    """*text* with every run of whitespace, newlines included, as one space."""
    return " ".join(text.split())
