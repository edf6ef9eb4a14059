"""What the in-process reader's processes say to each other (:mod:`gitoverit.git.readers`)
and how each of them reads a repository: frames on pipes (a pickle, length first), records
packed for the trip, the command log a worker appends to, and :class:`Reader`."""

from __future__ import annotations

import os
import select
import shlex
import struct
import time
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from gitoverit.model import Reason, RepoError, RepoRecord, RepoRef, RepoStatus
from gitoverit.text import safe_text

if TYPE_CHECKING:
    import logging

_HEADER = struct.Struct(">I")

#: A status travels back from a worker as the tuple of its fields, in this order: much
#: cheaper to unpickle than the dataclass.
STATUS_FIELDS = tuple(f.name for f in fields(RepoStatus))


#: A repository travels to a worker as the tuple of its fields, in this order: cheaper
#: to pickle than the dataclass.
REF_FIELDS = tuple(f.name for f in fields(RepoRef))


def pack_ref(ref: RepoRef) -> tuple[Any, ...]:
    """What the main process sends a worker for *ref* (:func:`unpack_ref` rebuilds it)."""
    return tuple(getattr(ref, name) for name in REF_FIELDS)


def unpack_ref(packed: tuple[Any, ...]) -> RepoRef:
    """The repository :func:`pack_ref` packed."""
    return RepoRef(*packed)


def pack_record(record: RepoRecord) -> tuple[Any, ...]:
    """What a worker sends back for *record* (its ref stays with the main process)."""
    st = record.status
    err = record.error
    return (
        None if st is None else tuple(getattr(st, name) for name in STATUS_FIELDS),
        None if err is None else (err.reason.value, err.message, err.detail),
        record.duration,
        record.reader,
    )


def unpack_record(ref: RepoRef, packed: tuple[Any, ...]) -> RepoRecord:
    """The record :func:`pack_record` packed, for *ref*."""
    status, error, duration, reader = packed
    return RepoRecord(
        ref,
        status=None if status is None else RepoStatus(*status),
        error=None if error is None else RepoError(Reason(error[0]), error[1], error[2]),
        duration=duration,
        reader=reader,
    )


def write_frame(fd: int, obj: object) -> None:
    """Send *obj* (pickled, length first) down the pipe or socket *fd*; on a non-blocking
    one, wait until it takes all of it."""
    import pickle  # here: a scan that never starts a worker never needs it

    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            poll = select.poll()
            poll.register(fd, select.POLLOUT)
            poll.poll()


class FrameReader:
    """Frames from a pipe, as they arrive."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes) -> list[Any]:
        import pickle

        self.buf += data
        out = []
        while len(self.buf) >= 4:
            (size,) = _HEADER.unpack_from(self.buf)
            if len(self.buf) < 4 + size:
                break
            out.append(pickle.loads(bytes(self.buf[4 : 4 + size])))
            del self.buf[: 4 + size]
        return out


def log_settings() -> tuple[str, int, str, str | None] | None:
    """Where the command log is written, when it is on and goes to a file: its path,
    level and format, for the workers to append their lines to (see
    :func:`start_worker_log`)."""
    from gitoverit import process

    logger = process.command_log()
    if logger is None:
        return None
    import logging

    level = logger.getEffectiveLevel()
    while logger is not None:
        for handler in logger.handlers:
            if isinstance(handler, logging.FileHandler) and handler.formatter is not None:
                fmt = handler.formatter
                return handler.baseFilename, level, fmt._fmt or "%(message)s", fmt.datefmt
        logger = logger.parent if logger.propagate else None
    return None


def start_worker_log(path: str, level: int, fmt: str, datefmt: str | None) -> logging.Logger:
    """In a worker: append the commands it runs to the main process's log file, as the
    main process does; returns the logger for its in-process reads."""
    import logging

    from gitoverit import process

    handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    handler.setFormatter(logging.Formatter(fmt, datefmt))
    logger = logging.getLogger("gitoverit")
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    process.log_commands(logging.getLogger("gitoverit.process"))
    return logging.getLogger("gitoverit.reader")


#: What a worker sends first, once it is ready.
READY = "ready"
#: What a worker sends instead when it cannot read in-process (no working pygit2).
UNUSABLE = "unusable"
#: What a worker sends back for a repository the in-process reader declined.
DECLINED = "declined"


@dataclass
class Reader:
    """How one process reads a repository in this run (a worker, or the main process
    while no worker is ready): in-process where exact, else through git."""

    timeout: float
    trust: bool
    usable: bool
    lines: bool
    #: Fill in the committer identity where it needs no git (see
    #: :func:`~gitoverit.git.extras.known_ident`): the config is read here anyway.
    ident: bool = False
    log: logging.Logger | None = None

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Reader:
        """The reader *settings* describe, with libgit2 set up for them."""
        from gitoverit.git import inproc

        config = settings["config"]
        usable = config is not None and config.reason is None
        if usable:
            try:
                inproc.prepare_libgit2(config)
            except Exception:  # no working pygit2 here: git reads every repository
                usable = False
        return cls(
            timeout=settings["timeout"],
            trust=settings["trust"],
            usable=usable,
            lines=bool(settings["lines"]) and usable and config.lines_reason is None,
            ident=bool(settings.get("ident")),
        )

    def read_inprocess(self, ref: RepoRef) -> RepoRecord | None:
        """*ref*'s record read in-process, or ``None`` when git must read it."""
        if not self.usable:
            return None
        from gitoverit.git import inproc

        start = time.monotonic()
        ident = _known_ident(ref, self.timeout) if self.ident else None
        try:
            status = inproc.read_inprocess(ref, lines=self.lines, ident=ident)
        except Exception:
            return None  # NotExact, or anything libgit2 fails on: git reads it
        duration = time.monotonic() - start
        if self.log is not None:
            self.log.debug(
                "read repo=%s reader=libgit2 duration_ms=%.1f",
                shlex.quote(safe_text(ref.path)),
                duration * 1000,
            )
        return RepoRecord(ref, status=status, duration=duration, reader="libgit2")


def _known_ident(ref: RepoRef, timeout: float) -> str | None:
    """*ref*'s committer identity, when that needs no git in the repository."""
    from gitoverit.git.extras import known_ident

    try:
        known, ident = known_ident(ref, timeout=timeout)
    except OSError:
        return None
    return ident if known else None
