"""A worker process of :mod:`gitoverit.git.readers`, forked from the scan's main process:
it starts in a few milliseconds where a fresh interpreter would spend a tenth of a second
or more on its imports, and sets up libgit2 for itself (:meth:`Reader.from_settings
<gitoverit.git.reader_io.Reader.from_settings>`) on a CPU of its own while the main process
goes on. It says :data:`~gitoverit.git.reader_io.READY` then, or
:data:`~gitoverit.git.reader_io.UNUSABLE` and leaves when it cannot read in-process.

Then it reads frames on its stdin, one for each repository
(:func:`~gitoverit.git.reader_io.pack_ref`), and writes one frame to its stdout for each,
in order: :data:`~gitoverit.git.reader_io.DECLINED` when the in-process reader cannot
promise git's record, else the packed record. SIGTERM and SIGINT end it.

What a forked copy of a threaded process must not do, it does not: the modules it imports
and that another thread of the main process may be importing at the same moment are
imported before the fork (such a module would stay locked in the worker); it keeps none
of the main process's descriptors but its two pipes (stderr goes to ``/dev/null``); it
never lets its garbage collector finalize an object it inherited (a file object closing a
descriptor number it no longer owns); it writes its command log through handlers of its
own; and it leaves with :func:`os._exit`, so that nothing the main process buffered or
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
import socket
import warnings
from typing import Any

from gitoverit.git.reader_io import (
    _HEADER,
    DECLINED,
    READY,
    UNUSABLE,
    Reader,
    pack_record,
    start_worker_log,
    unpack_ref,
    write_frame,
)
from gitoverit.model import RepoRecord, RepoRef

#: The inherited log handlers a worker set aside: kept referenced, never closed.
_SET_ASIDE: list[logging.Handler] = []


def fork_worker(settings: dict[str, Any]) -> tuple[int, int]:
    """Fork a worker that reads as *settings* say (see
    :func:`~gitoverit.git.readers.run_readers`); returns its pid and the descriptor that
    carries its frames and its answers: one end of a socket pair, so that each worker
    costs the main process one descriptor."""
    # The modules a read needs, but libgit2's, are imported before the fork: see the
    # module's notes. pygit2 and what it imports only the worker imports.
    from gitoverit.git import extras, inproc  # noqa: F401

    ours, theirs = (s.detach() for s in socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM))
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() in a threaded process; see the module's notes.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the worker: it never returns
        code = 1
        try:
            os.close(ours)
            _become_worker(theirs, theirs, settings.get("log"))
            reader = Reader.from_settings(settings)
            if reader.usable:
                serve(0, 1, reader, log=settings.get("log") is not None)
            else:
                write_frame(1, UNUSABLE)
            code = 0
        except (KeyboardInterrupt, BrokenPipeError):
            code = 130
        finally:
            os._exit(code)
    os.close(theirs)
    return pid, ours


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _become_worker(fd_in: int, fd_out: int, log: tuple[str, int, str, str | None] | None) -> None:
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
        try:
            data = os.read(fd, n)
        except ConnectionResetError:  # the main process left with answers unread
            return None
        if not data:
            return None
        chunks.append(data)
        n -= len(data)
    return b"".join(chunks)


def read_one(reader: Reader, ref: RepoRef) -> RepoRecord | None:
    """A worker's read of *ref*: the in-process record, or ``None`` (git reads it)."""
    return reader.read_inprocess(ref)


def serve(fd_in: int, fd_out: int, reader: Reader, *, log: bool = False) -> None:
    """Say it is ready, then answer frames from *fd_in* on *fd_out* until *fd_in*
    closes; with *log*, each read goes to the command log."""

    def frame() -> Any:
        head = _read_exact(fd_in, 4)
        if head is None:
            return None
        (size,) = _HEADER.unpack(head)
        body = _read_exact(fd_in, size)
        return None if body is None else pickle.loads(body)

    if log:
        reader.log = logging.getLogger("gitoverit.reader")
    write_frame(fd_out, READY)
    while (item := frame()) is not None:
        ref = unpack_ref(item)
        record = read_one(reader, ref)
        write_frame(fd_out, DECLINED if record is None else pack_record(record))
