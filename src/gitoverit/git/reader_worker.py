"""A worker process of :mod:`gitoverit.git.readers`, forked from the scan's main process
once its in-process reader is set up: the worker starts with libgit2 already imported
and configured, in a few milliseconds, where a fresh interpreter would spend a tenth of
a second or more on its imports.

The worker reads frames on its stdin: ``(ref, mode)`` for each repository, and writes one
frame to its stdout for each, in order: :data:`~gitoverit.git.reader_io.DECLINED` when
the in-process reader cannot promise git's record, else the packed record. It first
says :data:`~gitoverit.git.reader_io.READY`. SIGTERM and SIGINT end it.

What a forked copy of a threaded process must not do, it does not: it keeps none of the
main process's descriptors but its two pipes (stderr goes to ``/dev/null``), never lets
its garbage collector finalize an object it inherited (a file object closing a
descriptor number it no longer owns), writes its command log through handlers of its
own, and leaves with :func:`os._exit`, so that nothing the main process buffered or
registered runs twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import logging
import os
import pickle
import signal
import warnings
from typing import Any

from gitoverit.git.reader_io import (
    _HEADER,
    DECLINED,
    READY,
    Reader,
    pack_record,
    start_worker_log,
    write_frame,
)
from gitoverit.model import RepoRecord, RepoRef

#: The inherited log handlers a worker set aside: kept referenced, never closed.
_SET_ASIDE: list[logging.Handler] = []


#: Where a worker appends its command log: see :func:`~.reader_io.log_settings`.
LogSettings = tuple[str, int, str, str | None]


def fork_worker(reader: Reader, log: LogSettings | None) -> tuple[int, int, int]:
    """Fork a worker that reads with *reader* (and appends to the command log *log*, when
    given); returns its pid, the descriptor to write its frames to and the one to read
    its answers from."""
    # What a read imports is imported before the fork: a module that another thread of
    # this process is importing at that moment would stay locked in the worker.
    import pygit2.enums  # noqa: F401

    from gitoverit.git import extras, inproc  # noqa: F401

    to_r, to_w = os.pipe()
    frm_r, frm_w = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() in a threaded process; see the module's notes.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the worker: it never returns
        code = 1
        try:
            _become_worker(to_r, frm_w, log)
            serve(0, 1, reader)
            code = 0
        except (KeyboardInterrupt, BrokenPipeError):
            code = 130
        finally:
            os._exit(code)
    os.close(to_r)
    os.close(frm_w)
    return pid, to_w, frm_r


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _become_worker(fd_in: int, fd_out: int, log: LogSettings | None) -> None:
    """Set up the forked process: its signals, its descriptors (*fd_in* becomes stdin,
    *fd_out* stdout, stderr ``/dev/null``, no other) and its log."""
    gc.freeze()  # what it inherited is never collected (and so never finalized) here
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    fin = fcntl.fcntl(fd_in, fcntl.F_DUPFD, 3)
    fout = fcntl.fcntl(fd_out, fcntl.F_DUPFD, 3)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 2)
    os.dup2(fin, 0)
    os.dup2(fout, 1)
    _close_from(3)
    # The inherited handlers write to descriptors this process has just closed.
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        if isinstance(logger, logging.Logger):
            _SET_ASIDE.extend(logger.handlers)
            logger.handlers = []
    if log is not None:
        start_worker_log(*log)


def _close_from(low: int) -> None:
    """Close every descriptor from *low* up."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        import resource

        os.closerange(low, min(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 1 << 16))
        return
    for fd in fds:
        if fd >= low:
            with contextlib.suppress(OSError):
                os.close(fd)


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        data = os.read(fd, n)
        if not data:
            return None
        chunks.append(data)
        n -= len(data)
    return b"".join(chunks)


def read_one(reader: Reader, ref: RepoRef) -> RepoRecord | None:
    """A worker's read of *ref*: the in-process record, or ``None`` (git reads it)."""
    return reader.read_inprocess(ref)


def serve(fd_in: int, fd_out: int, reader: Reader) -> None:
    """Answer frames from *fd_in* on *fd_out* until *fd_in* closes."""

    def frame() -> Any:
        head = _read_exact(fd_in, 4)
        if head is None:
            return None
        (size,) = _HEADER.unpack(head)
        body = _read_exact(fd_in, size)
        return None if body is None else pickle.loads(body)

    if reader.log is not None:
        reader.log = logging.getLogger("gitoverit.reader")
    write_frame(fd_out, READY)
    while (item := frame()) is not None:
        ref, _mode = item
        assert isinstance(ref, RepoRef)
        record = read_one(reader, ref)
        write_frame(fd_out, DECLINED if record is None else pack_record(record))
