"""The output of ``gitoverit exec``: each repository's output whole under a header, lines
as they come with the repository in front (``--stream``), or JSON records.

Into a pipe or a file the command's bytes go out as they were written. On a terminal each
line is shown as the terminal would leave it (the last version of a line rewritten with
``\\r``, tabs as spaces), with control characters and undecodable bytes escaped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import IO

from gitoverit.model import ExecResult, Reason, RepoRef
from gitoverit.output.json import dumps
from gitoverit.text import safe_text

#: Writes one piece of text (whole lines) where the terminal shows it: above a live
#: display, or straight to its stream.
Emit = Callable[[str], None]


def status_text(result: ExecResult) -> str:
    """How the run ended, in a few words: ``exit 0``, ``exit 2``, ``timed out after
    600s``, ``killed by SIGKILL``, ``interrupted``, ``skipped``."""
    error = result.error
    if error is None:
        return "exit 0"
    if error.reason is Reason.EXIT and result.exit_code is not None:
        return f"exit {result.exit_code}"
    if error.reason is Reason.SKIPPED:
        return "skipped"
    return error.message


def header(result: ExecResult) -> str:
    """The line above a repository's output: ``==> app <== exit 0``."""
    return f"==> {safe_text(result.ref.display_path)} <== {status_text(result)}"


def finished_line(result: ExecResult) -> tuple[str, str]:
    """The permanent line of the live display for a finished run, and its style."""
    path = safe_text(result.ref.display_path)
    error = result.error
    if error is None:
        return f"✓ {path}: exit 0", "green"
    if error.reason is Reason.TIMEOUT:
        return f"⏱ {path}: {status_text(result)}", "yellow"
    if error.reason is Reason.SKIPPED:
        return f"- {path}: skipped", "dim"
    return f"✗ {path}: {safe_text(status_text(result))}", "red"


def shown_line(line: bytes) -> str:
    """*line* as a terminal shows it, escaped."""
    text = line.decode("utf-8", "surrogateescape")
    versions = [part for part in text.split("\r") if part]
    return safe_text((versions[-1] if versions else "").expandtabs())


def _shown(data: bytes) -> str:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return "".join(shown_line(line) + "\n" for line in lines)


class ExecWriter:
    """Writes results or lines to *out* (the command's stdout and our headers) and *err*
    (the command's stderr): raw bytes into a pipe, escaped text on a terminal, where
    *emit_out* and *emit_err*, when given, take the text (to print it above a live
    display). Thread-safe: a line or a block is written whole."""

    def __init__(
        self,
        out: IO[str],
        err: IO[str],
        *,
        emit_out: Emit | None = None,
        emit_err: Emit | None = None,
    ) -> None:
        self._out, self._err = out, err
        self._tty = {1: out.isatty(), 2: err.isatty()}
        self._emit = {1: emit_out, 2: emit_err}
        self._lock = threading.Lock()
        self.width = 0

    def _write(self, fd: int, data: bytes, prefix: str = "") -> None:
        stream = self._out if fd == 1 else self._err
        emit = self._emit[fd]
        if self._tty[fd] or emit is not None:
            text = _shown(data)
            if prefix:
                text = "".join(prefix + line + "\n" for line in text.splitlines())
            if emit is not None:
                emit(text.removesuffix("\n"))
            else:
                stream.write(text)
                stream.flush()
            return
        raw = getattr(stream, "buffer", None)
        if prefix:
            lines = data.split(b"\n")
            if lines and lines[-1] == b"":
                lines.pop()
            data = b"".join(prefix.encode("utf-8", "surrogateescape") + ln + b"\n" for ln in lines)
        stream.flush()
        if raw is not None:
            raw.write(data)
            raw.flush()
        else:
            stream.write(data.decode("utf-8", "surrogateescape"))
            stream.flush()

    def block(self, result: ExecResult) -> None:
        """*result*'s header, then its stdout, then its stderr, each ending with a newline."""
        with self._lock:
            self._write(1, (header(result) + "\n").encode("utf-8", "surrogateescape"))
            for fd, data in ((1, result.stdout), (2, result.stderr)):
                if data:
                    self._write(fd, data if data.endswith(b"\n") else data + b"\n")

    def line(self, ref: RepoRef, fd: int, line: bytes) -> None:
        """One line of a run's output, with the repository's path in front, padded to
        :attr:`width`."""
        label = safe_text(ref.display_path)
        with self._lock:
            self._write(fd, line + b"\n", prefix=f"{label:<{self.width}} | ")

    def note(self, result: ExecResult) -> None:
        """With ``--stream``, how a run ended, when it did not exit 0 (on our stderr)."""
        if result.error is None:
            return
        label = safe_text(result.ref.display_path)
        with self._lock:
            text = f"{label:<{self.width}} | [{status_text(result)}]\n"
            self._write(2, text.encode("utf-8", "surrogateescape"))


def write_json(results: list[ExecResult], out: IO[str]) -> None:
    """*results* as one JSON array."""
    out.write("[")
    for i, result in enumerate(results):
        out.write(("\n  " if i == 0 else ",\n  ") + dumps(result.to_json()))
    out.write("\n]\n" if results else "]\n")
    out.flush()


def write_ndjson(result: ExecResult, out: IO[str]) -> None:
    """*result* as one line, flushed."""
    out.write(dumps(result.to_json()) + "\n")
    out.flush()
