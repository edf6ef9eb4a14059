"""A worker process of :mod:`gitoverit.git.readers`: ``python -m gitoverit.git.reader_worker``.

It reads frames from stdin: first the run's settings, then ``(ref, mode)`` for each
repository, and writes one :class:`~gitoverit.model.RepoRecord` frame to stdout for each,
in order. With mode ``auto`` the repository is read in-process when
:func:`~gitoverit.git.inproc.read_inprocess` can promise git's record, else by git; with
``git``, by git. SIGTERM and SIGINT end the git it runs before it exits.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from gitoverit.model import RepoRef


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

    from gitoverit.git.reader_io import (
        _HEADER,
        DECLINED,
        READY,
        Reader,
        pack_record,
        start_worker_log,
        write_frame,
    )

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
    reader = Reader.from_settings(settings)
    if settings.get("log"):
        reader.log = start_worker_log(*settings["log"])
    write_frame(fd_out, READY)
    while (item := frame()) is not None:
        ref, _mode = item
        assert isinstance(ref, RepoRef)
        record = reader.read_inprocess(ref)
        write_frame(fd_out, DECLINED if record is None else pack_record(record))


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
