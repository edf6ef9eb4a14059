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
  one-line message, with the command's whole stderr as its detail.

A failed command's message names the command (:func:`short_command`) and keeps the lines
of its stderr that explain the failure (:func:`explaining_lines`): what ssh said about
the connection, a hook's own words, the files a merge would overwrite, not only git's
last ``fatal:`` line. Messages and details are escaped and have credentials redacted from
the URLs in them.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Sequence
from typing import Any

from gitoverit.model import Reason, RepoError, RepoRecord
from gitoverit.text import redact_url, redact_urls, safe_text

#: At most this many lines of a command's stderr explain its failure in the message.
MESSAGE_LINES = 5
#: A command shown in a message is cut (between arguments) past this many characters.
COMMAND_WIDTH = 60
#: At most this many lines of a command's stderr are kept as an error's detail.
DETAIL_LINES = 1000


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

    @property
    def detail(self) -> str:
        """Everything the command wrote to stderr, as :func:`stderr_detail` shows it."""
        return stderr_detail(self.stderr)

    def _default_message(self) -> str:
        lines = explaining_lines(self.stderr)
        base = f"{self.command} exited with {self.returncode}"
        return f"{base}: {' | '.join(lines)}" if lines else base


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


# Lines of git's stderr that explain nothing about a failure: progress, hints, where a
# push went or a fetch came from, the refs that were updated all the same, and advice
# that follows every failure to reach a remote.
_NOISE = re.compile(
    r"(?:remote:)?\s*"
    r"|(?:remote: *)?(?:(?:Enumerating|Counting|Compressing|Receiving|Writing|Unpacking)"
    r" objects|Resolving deltas|Delta compression using|Total \d+|Checking connectivity"
    r"|Checking out files|Updating files|Filtering content|Finding sources)\b.*"
    r"|hint:.*|Cloning into .*|(?:To|From) \S+"
    r"|Please make sure you have the correct access rights|and the repository exists\."
    # a ref fetched, pushed, pruned or already up to date: " * [new branch] a -> b"
    r"| [ +*=t-] \S.* -> \S.*"
)


def _terminal_lines(stderr: bytes) -> list[str]:
    """*stderr* line by line as a terminal shows it: a line that ``\\r`` rewrote as its
    last version, without trailing blanks; undecodable bytes as surrogate escapes."""
    lines = []
    for raw in stderr.decode("utf-8", "surrogateescape").split("\n"):
        versions = [part for part in raw.split("\r") if part.strip()]
        lines.append(versions[-1].rstrip() if versions else "")
    return lines


def _shown_line(line: str) -> str:
    """*line* with credentials redacted from its URLs and control characters escaped."""
    return safe_text(redact_urls(line))


def explaining_lines(stderr: bytes, limit: int = MESSAGE_LINES) -> list[str]:
    """The lines of *stderr* that explain a failure, at most *limit* of them, stripped,
    with credentials redacted from URLs and control characters escaped.

    Noise is dropped (progress, ``hint:``, ``To <url>``, blank lines). When more lines
    remain, those around the first ``fatal:`` line are kept (else the first ``error:``,
    else the last line): what ssh or a hook said just before it, the file names just
    after it. ``…`` stands for the lines left out.
    """
    lines = [ln.strip() for ln in _terminal_lines(stderr) if not _NOISE.fullmatch(ln)]
    if len(lines) > limit:
        key = _decisive(lines)
        start = min(max(key - limit // 2, 0), len(lines) - limit)
        end = start + limit
        lines = ["…"] * (start > 0) + lines[start:end] + ["…"] * (end < len(lines))
    return [_shown_line(line) for line in lines]


def _decisive(lines: list[str]) -> int:
    """The index of the line that says most: the first ``fatal:`` (later ones are
    generic, like "Could not read from remote repository."), else the first ``error:``,
    else the last line."""
    for prefix in ("fatal:", "error:"):
        for i, line in enumerate(lines):
            if line.startswith(prefix):
                return i
    return len(lines) - 1


def stderr_detail(stderr: bytes) -> str:
    """All of *stderr* as a terminal shows it (a line that ``\\r`` rewrote as its last
    version, tabs as spaces), credentials redacted, control characters escaped, blank
    lines left out. Past :data:`DETAIL_LINES` lines, the first and last halves, with a
    line saying how many are left out between them."""
    lines = [_shown_line(line.expandtabs()) for line in _terminal_lines(stderr) if line]
    if len(lines) > DETAIL_LINES:
        half = DETAIL_LINES // 2
        left_out = len(lines) - 2 * half
        lines = [*lines[:half], f"… ({left_out} more lines)", *lines[-half:]]
    return "\n".join(lines)


class RepoFailed(Exception):
    """Raised by a task under ``fail_fast`` to stop the pool; carries the failed record."""

    def __init__(self, record: RepoRecord) -> None:
        super().__init__(record.error.message if record.error else "failed")
        self.record = record


def error_from_exception(exc: BaseException) -> RepoError:
    """Map any exception from per-repo work to a reason code and a one-line message
    (escaped, credentials redacted); a failed command's whole stderr is the detail.

    A task that ran out of time raises a :class:`TimeoutError` (the pool's own
    ``TaskTimeout`` is one); a task that never ran is mapped by its caller, which knows.
    """
    if isinstance(exc, CommandError):
        return RepoError(exc.reason, _shown_message(str(exc)), exc.detail)
    if isinstance(exc, TimeoutError):
        return RepoError(Reason.TIMEOUT, _shown_message(str(exc)))
    if isinstance(exc, PermissionError):
        return RepoError(Reason.PERMISSION, _shown_message(str(exc)))
    if isinstance(exc, UnicodeError):
        return RepoError(Reason.CORRUPT, _shown_message(f"{type(exc).__name__}: {exc}"))
    return RepoError(Reason.GIT_ERROR, _shown_message(f"{type(exc).__name__}: {exc}"))


def _shown_message(text: str) -> str:
    return safe_text(redact_urls(one_line(text)))


def one_line(text: str) -> str:
    """*text* with every run of whitespace, newlines included, as one space."""
    return " ".join(text.split())
