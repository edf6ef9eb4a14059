"""The debug log: a file that records each git command a run starts, to find the slow repo.

``log_file`` (or ``GITO_DEBUG_LOG``) names the file; lines are appended, so that several
runs can share it. ``log_level`` keeps out the lines below it (default ``DEBUG``: all).
Each line starts with the time and the level, as the earlier gitoverit wrote them::

    14:03:22.123 INFO start date=2026-05-01 gitoverit=0.1.0 pid=4242 cwd=/home/u args=~/code -f
    14:03:22.180 DEBUG command repo=/home/u/code/app exit=0 duration_ms=4.7 cmd=git status ...
    14:03:24.502 WARNING command repo=/home/u/code/big exit=timeout duration_ms=120000.3 cmd=...

A run's commands are at ``DEBUG`` (:mod:`gitoverit.process._log` says which are higher);
the line that starts a run is at ``INFO``. Nothing of it goes to stdout or stderr.
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from gitoverit import __version__, process
from gitoverit.config.describe import origin
from gitoverit.config.settings import ConfigError, Settings, SettingSource
from gitoverit.text import safe_text

if TYPE_CHECKING:
    import logging

#: The logger every part of gitoverit logs under.
LOGGER = "gitoverit"

_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)s %(message)s"
_DATE_FORMAT = "%H:%M:%S"

#: The handler :func:`start_debug_log` installed, so that a second call replaces it.
_handler: logging.Handler | None = None


def start_debug_log(settings: Settings, sources: Mapping[str, SettingSource]) -> bool:
    """Open the debug log that *settings* name, if any, and start recording each command
    (:func:`gitoverit.process.log_commands`); returns whether a log is open.

    Raises :class:`ConfigError`, naming where ``log_file`` was set, when the file cannot
    be opened for appending.
    """
    stop_debug_log()
    if not settings.log_file:
        return False
    import logging  # here: a run without a log never needs it

    path = settings.log_file
    try:
        handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    except OSError as exc:
        where = origin(sources["log_file"]) if "log_file" in sources else "log_file"
        reason = exc.strerror or str(exc)
        raise ConfigError(
            f"{where}: cannot open {safe_text(path)} for appending: {reason}"
        ) from None
    handler.setFormatter(logging.Formatter(_FORMAT, _DATE_FORMAT))
    logger = logging.getLogger(LOGGER)
    logger.addHandler(handler)
    logger.setLevel(settings.log_level)
    # The log is the file's: the console shows only what the commands print.
    logger.propagate = False
    global _handler
    _handler = handler
    process.log_commands(logging.getLogger(f"{LOGGER}.process"))
    args = shlex.join(sys.argv[1:]) if sys.argv else ""
    try:
        cwd = shlex.quote(safe_text(os.getcwd()))
    except OSError:
        cwd = "-"
    logger.info(
        "start date=%s gitoverit=%s pid=%d cwd=%s args=%s",
        time.strftime("%Y-%m-%d"),
        __version__,
        os.getpid(),
        cwd,
        safe_text(args),
    )
    return True


def stop_debug_log() -> None:
    """Stop recording commands and close the log :func:`start_debug_log` opened, if any."""
    global _handler
    process.log_commands(None)
    if _handler is None:
        return
    import logging

    logger = logging.getLogger(LOGGER)
    logger.removeHandler(_handler)
    _handler.close()
    _handler = None
    logger.propagate = True
    logger.setLevel(logging.NOTSET)
