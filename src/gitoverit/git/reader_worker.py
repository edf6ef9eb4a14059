"""A worker process of :mod:`gitoverit.git.readers`: ``python -m gitoverit.git.reader_worker``.

It reads frames from stdin: first the run's settings, then ``(ref, mode)`` for each
repository, and writes one :class:`~gitoverit.model.RepoRecord` frame to stdout for each,
in order. With mode ``auto`` the repository is read in-process when
:func:`~gitoverit.git.inproc.read_inprocess` can promise git's record, else by git; with
``git``, by git. SIGTERM and SIGINT end the git it runs before it exits.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import time
from typing import Any

from gitoverit.model import RepoRecord, RepoRef
from gitoverit.text import safe_text


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        data = os.read(fd, n)
        if not data:
            return None
        chunks.append(data)
        n -= len(data)
    return b"".join(chunks)


def serve(fd_in: int, fd_out: int) -> None:
    """Answer frames from *fd_in* on *fd_out* until *fd_in* closes."""
    import pickle

    from gitoverit.errors import error_from_exception
    from gitoverit.git import inproc
    from gitoverit.git.readers import _HEADER, pack_record, start_worker_log, write_frame
    from gitoverit.git.status import read_status

    def frame() -> Any:
        head = _read_exact(fd_in, 4)
        if head is None:
            return None
        (size,) = _HEADER.unpack(head)
        body = _read_exact(fd_in, size)
        return None if body is None else pickle.loads(body)

    settings = frame()
    if settings is None:
        return
    timeout: float = settings["timeout"]
    trust: bool = settings["trust"]
    config = settings["config"]
    lines = bool(settings.get("lines")) and config is not None and config.lines_reason is None
    usable = config is not None and config.reason is None
    log = start_worker_log(*settings["log"]) if settings.get("log") else None
    if usable:
        try:
            inproc.prepare_libgit2(config)
        except Exception:
            usable = False
    while (item := frame()) is not None:
        ref, mode = item
        assert isinstance(ref, RepoRef)
        start = time.monotonic()
        record: RepoRecord | None = None
        if usable and mode == "auto":
            try:
                status = inproc.read_inprocess(ref, lines=lines)
            except Exception:
                pass  # NotExact, or anything libgit2 fails on: git reads it
            else:
                record = RepoRecord(
                    ref, status=status, duration=time.monotonic() - start, reader="libgit2"
                )
                if log is not None:
                    log.debug(
                        "read repo=%s reader=libgit2 duration_ms=%.1f",
                        shlex.quote(safe_text(ref.path)),
                        record.duration * 1000,
                    )
        if record is None:
            try:
                status = read_status(ref, timeout=timeout, trust=trust)
            except Exception as exc:
                error = error_from_exception(exc)
                record = RepoRecord(
                    ref, error=error, duration=time.monotonic() - start, reader="git"
                )
            else:
                record = RepoRecord(
                    ref, status=status, duration=time.monotonic() - start, reader="git"
                )
        write_frame(fd_out, pack_record(record))


def main() -> int:
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        serve(sys.stdin.fileno(), sys.stdout.fileno())
    except (KeyboardInterrupt, BrokenPipeError):
        os._exit(130)
    # Nothing to flush or clean up: leave without the interpreter's teardown.
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
