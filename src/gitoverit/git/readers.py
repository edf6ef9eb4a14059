"""A status scan on worker processes that read repositories in-process (``--reader auto``).

libgit2 holds the GIL while it reads, so the in-process reader
(:mod:`gitoverit.git.inproc`) runs in a few worker processes, one per CPU the scan may use
(at most ``-j``). The main process hands them repositories as discovery finds them, a
couple ahead of each worker so that none waits, and yields each record the moment it comes
back. A worker reads a repository itself when it can promise git's record, and otherwise
runs the same single ``git status`` as :func:`~gitoverit.git.status.read_status`, so the
CPUs are shared by the workers and their gits without more processes than CPUs at work.

The guarantees of the git engine hold here too: each worker's repository has a deadline
(twice the git timeout: the git a worker starts has its own), after which the worker is
killed, the repository gets a timeout record, and a new worker takes the rest; a worker
that dies sends its repositories to git in a new worker; Ctrl-C or an early stop ends
every worker, and a worker ends the git it runs before it exits. A repository is
*started* when it is handed to a worker.

When the configuration outside the repositories keeps every repository from being read
in-process (see :func:`~gitoverit.git.inproc.run_config`), or pygit2 cannot be imported,
the scan runs on the git engine (:mod:`gitoverit.git.batch`) instead.
"""

from __future__ import annotations

import collections
import contextlib
import os
import pickle
import queue
import selectors
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Generator
from dataclasses import dataclass, field, replace
from typing import Any

from gitoverit.model import Reason, RepoError, RepoRecord, RepoRef

#: Repositories handed to a worker before it returns the first of them.
DEPTH = 2
#: How long a stopping worker gets to end its git before it is killed.
GRACE = 2.0

_HEADER = struct.Struct(">I")


def worker_count(jobs: int) -> int:
    """Workers for a scan at ``-j jobs``: one per usable CPU, at most *jobs*."""
    from gitoverit.parallel import cpu_count

    return max(1, min(jobs, cpu_count()))


def write_frame(fd: int, obj: object) -> None:
    """Send *obj* (pickled, length first) down the pipe *fd*."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


class FrameReader:
    """Frames from a pipe, as they arrive."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes) -> list[Any]:
        self.buf += data
        out = []
        while len(self.buf) >= 4:
            (size,) = _HEADER.unpack_from(self.buf)
            if len(self.buf) < 4 + size:
                break
            out.append(pickle.loads(bytes(self.buf[4 : 4 + size])))
            del self.buf[: 4 + size]
        return out


@dataclass(eq=False)
class _Worker:
    proc: subprocess.Popen[bytes]
    to: int
    frm: int
    reader: FrameReader = field(default_factory=FrameReader)
    #: Handed to it, in order: ``(ref, mode)``; the first is being read.
    queue: collections.deque[tuple[RepoRef, str]] = field(default_factory=collections.deque)
    #: When it began the first one in its queue.
    since: float = 0.0


class _Pool:
    def __init__(self, n: int, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.sel = selectors.PollSelector()
        self.workers: list[_Worker] = []
        for _ in range(n):
            self.spawn()

    def spawn(self) -> _Worker:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gitoverit.git.reader_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        w = _Worker(proc, proc.stdin.fileno(), proc.stdout.fileno())
        os.set_blocking(w.frm, False)
        write_frame(w.to, self.settings)
        self.sel.register(w.frm, selectors.EVENT_READ, w)
        self.workers.append(w)
        return w

    def send(self, w: _Worker, ref: RepoRef, mode: str) -> None:
        if not w.queue:
            w.since = time.monotonic()
        w.queue.append((ref, mode))
        write_frame(w.to, (ref, mode))

    def least_busy(self) -> _Worker | None:
        w = min(self.workers, key=lambda w: len(w.queue))
        return w if len(w.queue) < DEPTH else None

    def retire(self, w: _Worker, *, kill: bool) -> None:
        """Stop *w* (killed at once with *kill*) and forget it."""
        self.sel.unregister(w.frm)
        self.workers.remove(w)
        _stop([w], kill=kill)

    def close(self) -> None:
        workers, self.workers = self.workers, []
        for w in workers:
            self.sel.unregister(w.frm)
        _stop(workers, kill=False)
        self.sel.close()


def _stop(workers: list[_Worker], *, kill: bool) -> None:
    """End *workers*: each is told to stop (SIGTERM, on which it ends its git) and
    killed if it has not within :data:`GRACE`, or killed at once with *kill*."""
    for w in workers:
        for f in (w.proc.stdin, w.proc.stdout):
            if f is not None:
                with contextlib.suppress(OSError):
                    f.close()
        if w.proc.poll() is None:
            with contextlib.suppress(OSError):
                w.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    deadline = time.monotonic() + GRACE
    for w in workers:
        try:
            w.proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            w.proc.kill()
            w.proc.wait()


def run_readers(
    refs: queue.Queue[object],
    end: object,
    wake_fd: int,
    *,
    jobs: int,
    timeout: float,
    fail_fast: bool = False,
    trust: bool = False,
    started: set[str] | None = None,
    config: Any = None,
    lines: bool = False,
) -> Generator[RepoRecord, None, None]:
    """A record for every repository taken from *refs* until *end* (see module);
    *wake_fd* becomes readable when *refs* has more. *config* is the
    :class:`~gitoverit.git.inproc.RunConfig` of this run; with *lines*, the records read
    in-process carry their line totals where libgit2 counts them as git does. Each
    record's ``reader`` says which reader took it."""
    settings = {"timeout": timeout, "trust": trust, "config": config, "lines": lines}
    pool = _Pool(worker_count(jobs), settings)
    pool.sel.register(wake_fd, selectors.EVENT_READ, None)
    depth = 1 if fail_fast else DEPTH
    ready: list[RepoRecord] = []
    source_done = stopped = False
    limit = 2 * timeout + 5.0

    def take() -> RepoRef | None:
        nonlocal source_done
        if source_done:
            return None
        try:
            item = refs.get_nowait()
        except queue.Empty:
            return None
        if item is end:
            source_done = True
            return None
        assert isinstance(item, RepoRef)
        return item

    def finish(w: _Worker, record: RepoRecord) -> None:
        nonlocal stopped
        w.queue.popleft()
        w.since = time.monotonic()
        if fail_fast and record.error is not None:
            stopped = True
        ready.append(record)

    def replace_worker(w: _Worker, *, kill: bool) -> None:
        """Retire *w*; a new worker takes what it had not begun, git reading each."""
        rest = list(w.queue)
        pool.retire(w, kill=kill)
        fresh = pool.spawn()
        for ref, _mode in rest:
            pool.send(fresh, ref, "git")

    try:
        while True:
            while True:
                w = pool.least_busy()
                if w is None or (len(w.queue) >= depth):
                    break
                ref = take()
                if ref is None:
                    break
                if stopped:
                    ready.append(
                        RepoRecord(
                            ref,
                            error=RepoError(Reason.SKIPPED, "skipped after an earlier failure"),
                        )
                    )
                    continue
                if started is not None:
                    started.add(ref.path)
                pool.send(w, ref, "auto")
            if stopped:
                # Nothing new starts; what comes from discovery is skipped.
                while (ref := take()) is not None:
                    ready.append(
                        RepoRecord(
                            ref,
                            error=RepoError(Reason.SKIPPED, "skipped after an earlier failure"),
                        )
                    )
            if ready:
                batch, ready = ready, []
                yield from batch
                continue
            busy = [w for w in pool.workers if w.queue]
            if source_done and not busy:
                return
            now = time.monotonic()
            wait = min((w.since + limit - now for w in busy), default=None)
            for key, _ in pool.sel.select(None if wait is None else max(0.0, wait)):
                if key.data is None:
                    _drain(wake_fd)
                    continue
                w = key.data
                if w not in pool.workers:
                    continue
                try:
                    data = os.read(w.frm, 1 << 16)
                except BlockingIOError:
                    continue
                if not data:  # the worker died: git reads what it had
                    ref, mode = w.queue[0] if w.queue else (None, "")
                    if ref is not None and mode == "git":
                        # It died reading through git: that record is an error.
                        err = RepoError(Reason.GIT_ERROR, "the reading process died")
                        finish(w, RepoRecord(ref, error=err, reader="git"))
                    replace_worker(w, kill=True)
                    continue
                for record in w.reader.feed(data):
                    finish(w, record)
            now = time.monotonic()
            for w in [w for w in pool.workers if w.queue and now > w.since + limit]:
                ref, _mode = w.queue[0]
                err = RepoError(Reason.TIMEOUT, f"status did not finish within {limit:.0f} s")
                finish(w, RepoRecord(ref, error=err, duration=now - w.since))
                replace_worker(w, kill=True)
    finally:
        pool.sel.unregister(wake_fd)
        pool.close()


def with_reader(record: RepoRecord, reader: str) -> RepoRecord:
    """*record* marked as read by *reader*."""
    return replace(record, reader=reader)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass
