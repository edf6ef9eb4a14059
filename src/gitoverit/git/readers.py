"""A status scan that reads repositories in-process where it can (``--reader auto``).

- Until the scan has met :data:`FORK_AT` repositories (taken, or waiting for a reader),
  they go to the git engine (:mod:`gitoverit.git.batch`, on a thread of its own:
  :class:`~.reader_lane.GitLane`): a small scan never pays for the in-process reader's
  start.
- Then the main process starts its worker processes, one per CPU the scan may use (at
  most ``-j``): libgit2 holds the GIL while it reads. Each is a fork of the main process
  (:func:`~gitoverit.git.reader_worker.fork_worker`) that imports libgit2 and sets it up
  on a CPU of its own, while git goes on reading (never more than :data:`git_ahead`
  repositories ahead, so that the rest wait for the workers). A ready worker gets
  repositories as discovery finds them, up to :data:`DEPTH` ahead so that none waits;
  the main process yields each record the moment it comes back. The main process never
  imports libgit2 itself.
- What the in-process reader declines (it cannot promise git's record) goes to the git
  engine, beside the workers: git's processes and the workers share the CPUs.

The guarantees of the git engine hold here too: each worker's repository has a deadline
(twice the git timeout), after which the worker is killed, the repository gets a timeout
record, and git reads the rest of what it held; a worker that dies hands its
repositories to git; a worker that cannot read in-process (no working pygit2), or is not
ready within :data:`READY_LIMIT`, leaves every repository to git; Ctrl-C or an early stop
ends every worker and kills the engine's gits; under ``fail_fast`` nothing new starts
after a failure, on either side. A repository is *started* when it is handed to a reader.
Without pygit2 the scan runs on the git engine alone (see :mod:`gitoverit.scan`).
"""

from __future__ import annotations

import collections
import contextlib
import os
import queue
import selectors
import signal
import subprocess
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from gitoverit.git.reader_io import (
    DECLINED,
    READY,
    UNUSABLE,
    FrameReader,
    log_settings,
    pack_ref,
    unpack_record,
    write_frame,
)
from gitoverit.git.reader_lane import GitLane
from gitoverit.git.ref_source import RefSource
from gitoverit.model import Reason, RepoError, RepoRecord, RepoRef
from gitoverit.process import drain_pipe

#: Repositories a worker may hold at once: enough that it never waits for the main
#: process, whose thread shares its interpreter with discovery's (a few milliseconds at a
#: time), and few enough that the last of them end together.
DEPTH = 8
#: The workers start once the scan has met this many repositories (read, or waiting to
#: be): a smaller scan is read by git alone. A worker's start, the import of libgit2 in
#: it (about 0.07 s of CPU), costs more than git's extra cost on fewer.
FORK_AT = 64
#: How long a worker may take to be ready (its import of libgit2) before it is killed.
READY_LIMIT = 30.0
#: How long a stopping worker gets to end its read before it is killed.
GRACE = 2.0


def git_ahead(jobs: int) -> int:
    """While the workers start, the repositories git may hold at once: enough to keep
    *jobs* gits running, no more (the rest wait for the workers)."""
    return 2 * jobs


def worker_count(jobs: int) -> int:
    """Workers for a scan at ``-j jobs``: one per usable CPU, at most *jobs*."""
    from gitoverit.parallel import cpu_count

    return max(1, min(jobs, cpu_count()))


class _Child:
    """A forked worker process, as much of :class:`subprocess.Popen` as the pool uses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere
                self.returncode = -1
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Its exit code, once it has ended; :class:`subprocess.TimeoutExpired` after
        *timeout* seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.0005
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"reader worker {self.pid}", timeout or 0.0)
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


@dataclass(eq=False)
class _Worker:
    proc: _Child
    #: Its end of the socket pair: frames go out and answers come in on it.
    fd: int
    reader: FrameReader = field(default_factory=FrameReader)
    #: Handed to it, in order; the first is being read.
    queue: collections.deque[RepoRef] = field(default_factory=collections.deque)
    #: When it began the first one in its queue.
    since: float = 0.0
    #: Whether it has said it is ready.
    ready: bool = False
    closed: bool = False

    def close_socket(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                os.close(self.fd)


class _Pool:
    def __init__(self, n: int, settings: dict[str, Any]) -> None:
        self.n = n
        #: Whether the workers have been started (or found not to be worth it).
        self.started = False
        #: Whether a worker has said it cannot read in-process: then none is started again.
        self.unusable = False
        self.settings = settings
        self.sel = selectors.PollSelector()
        self.workers: list[_Worker] = []

    def start(self) -> None:
        """Start the workers, each a fork of this process (it says when it is ready)."""
        self.started = True
        for _ in range(self.n):
            self.spawn()

    def spawn(self) -> None:
        if self.unusable:
            return
        from gitoverit.git.reader_worker import fork_worker

        pid, fd = fork_worker(self.settings)
        w = _Worker(_Child(pid), fd, since=time.monotonic())
        os.set_blocking(w.fd, False)
        self.sel.register(w.fd, selectors.EVENT_READ, w)
        self.workers.append(w)

    def send(self, w: _Worker, ref: RepoRef) -> None:
        if not w.queue:
            w.since = time.monotonic()
        w.queue.append(ref)
        # A worker that has died is noticed when its output ends; then git reads its queue.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            write_frame(w.fd, pack_ref(ref))

    def least_busy(self, depth: int) -> _Worker | None:
        """The ready worker with the fewest repositories, if it has room for one more."""
        ready = [w for w in self.workers if w.ready]
        if not ready:
            return None
        w = min(ready, key=lambda w: len(w.queue))
        return w if len(w.queue) < depth else None

    def starting(self) -> bool:
        """Whether workers are starting and none is ready yet."""
        return bool(self.workers) and not any(w.ready for w in self.workers)

    def retire(self, w: _Worker, *, kill: bool) -> None:
        """Stop *w* (killed at once with *kill*) and forget it."""
        self.sel.unregister(w.fd)
        self.workers.remove(w)
        _stop([w], kill=kill)

    def close(self, *, idle: bool) -> None:
        """Stop every worker: *idle* ones just see their input end and exit at once."""
        workers, self.workers = self.workers, []
        for w in workers:
            self.sel.unregister(w.fd)
        if idle:
            for w in workers:
                w.close_socket()
                if not w.ready:  # still starting: it holds nothing, and need not finish
                    w.proc.kill()
            for w in workers:
                try:
                    w.proc.wait(GRACE)
                except subprocess.TimeoutExpired:
                    w.proc.kill()
                    w.proc.wait()
        else:
            _stop(workers, kill=False)
        self.sel.close()


def _stop(workers: list[_Worker], *, kill: bool) -> None:
    """End *workers*: each is told to stop (SIGTERM, on which it ends its git) and
    killed if it has not within :data:`GRACE`, or killed at once with *kill*."""
    for w in workers:
        w.close_socket()
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
    lines: bool = False,
    ident: bool = False,
) -> Generator[RepoRecord, None, None]:
    """A record for every repository taken from *refs* until *end* (see module);
    *wake_fd* becomes readable when *refs* has more. With *lines*, the records read
    in-process carry their line totals where libgit2 counts them as git does, and with
    *ident* their committer identity where it needs no git. Each record's ``reader`` says
    which reader took it."""
    settings = {
        "timeout": timeout,
        "trust": trust,
        "config": None,  # read when the workers are to start
        "lines": lines,
        "ident": ident,
        "log": log_settings(),
    }
    run = _Run(_Pool(worker_count(jobs), settings), refs, end, fail_fast, settings, jobs)
    run.pool.sel.register(wake_fd, selectors.EVENT_READ, None)
    done = False
    try:
        while True:
            run.hand_out(started)
            if run.ready:
                batch, run.ready = run.ready, []
                yield from batch
                continue
            if run.source.done and not run.busy():
                done = True
                return
            run.wait(wake_fd)
    finally:
        run.close(done=done)
        run.pool.sel.unregister(wake_fd)
        run.pool.close(idle=done)


_SKIPPED = "skipped after an earlier failure"


class _Run:
    """The state of one :func:`run_readers` call: its workers, the gits it runs on a
    thread, where repositories come from, and the records ready for the caller."""

    def __init__(
        self,
        pool: _Pool,
        refs: queue.Queue[object],
        end: object,
        fail_fast: bool,
        settings: dict[str, Any],
        jobs: int,
    ) -> None:
        self.pool = pool
        self.settings = settings
        #: Repositories taken so far.
        self.taken = 0
        self.source = RefSource(refs, end)
        self.fail_fast = fail_fast
        self.jobs = jobs
        self.depth = 1 if fail_fast else DEPTH
        #: How long a worker may take over one repository before it is killed.
        self.limit = 2 * settings["timeout"] + 5.0
        self.ready: list[RepoRecord] = []
        self.stopped = False
        #: The git engine reading what the in-process reader declined.
        self.gits = GitLane(jobs, settings["timeout"], settings["trust"], fail_fast=fail_fast)
        pool.sel.register(self.gits.done.fileno(), selectors.EVENT_READ, _GITS)

    def take(self) -> RepoRef | None:
        """The next repository from the queue, if one is there already."""
        item = self.source.take()
        if item is not None:
            self.taken += 1
        return item

    def maybe_start(self) -> None:
        """Start the workers once the scan has met :data:`FORK_AT` repositories, unless
        the run's configuration leaves no repository to be read in-process (one ``git
        config`` tells)."""
        if self.pool.started or self.stopped:
            return
        if self.taken + self.source.refs.qsize() < FORK_AT:
            return
        from gitoverit.git.inproc_config import libgit2_home, run_config

        self.pool.started = True
        config = self.settings["config"] = run_config(self.settings["timeout"])
        if config.reason is None:
            # Made here, removed when this process ends: the workers share it.
            libgit2_home(config)
            if self.settings["ident"]:
                # The identity outside any repository, asked of git once, here: the
                # workers then know it without running git.
                from gitoverit.git.extras import user_ident

                user_ident(self.settings["timeout"])
            self.pool.start()

    def busy(self) -> bool:
        return bool(self.gits.pending) or any(w.queue for w in self.pool.workers)

    def hand_out(self, started: set[str] | None) -> None:
        """Give waiting repositories to workers with room, or to git while there is no
        worker to read them (not yet, or not at all); after a failure under
        ``fail_fast``, report each one as skipped instead."""
        pool = self.pool
        while True:
            self.maybe_start()
            w = None if self.stopped else pool.least_busy(self.depth)
            if w is None and not self.stopped and self.hold():
                return
            ref = self.take()
            if ref is None:
                return
            if self.stopped:
                self.ready.append(RepoRecord(ref, error=RepoError(Reason.SKIPPED, _SKIPPED)))
                continue
            if started is not None:
                started.add(ref.path)
            if w is not None:
                pool.send(w, ref)
            else:
                self.to_git(ref)

    def hold(self) -> bool:
        """Whether the next repository waits for a worker: every ready one has enough to
        do, or they are still starting and git has enough."""
        pool = self.pool
        if any(w.ready for w in pool.workers):
            return True
        return pool.starting() and self.gits.pending >= git_ahead(self.jobs)

    def to_git(self, ref: RepoRef) -> None:
        """Have the git engine read *ref*."""
        self.gits.put(ref)

    def add(self, record: RepoRecord) -> None:
        if self.fail_fast and record.error is not None and not self.stopped:
            self.stopped = True
            self.gits.halt()  # nothing new starts after a failure
        self.ready.append(record)

    def finish(self, w: _Worker, packed: object) -> None:
        """*w* is done with the first repository of its queue: *packed* is its record, or
        :data:`DECLINED` (git reads it)."""
        ref = w.queue.popleft()
        w.since = time.monotonic()
        if packed == DECLINED:
            if self.stopped:
                self.ready.append(RepoRecord(ref, error=RepoError(Reason.SKIPPED, _SKIPPED)))
            else:
                self.to_git(ref)
        else:
            self.add(unpack_record(ref, packed))  # type: ignore[arg-type]

    def wait(self, wake_fd: int) -> None:
        """Wait for records, more repositories, or a deadline."""
        pool = self.pool
        now = time.monotonic()
        deadlines = [w.since + self.limit for w in pool.workers if w.queue]
        deadlines += [w.since + READY_LIMIT for w in pool.workers if not w.ready]
        wait = max(0.0, min(deadlines) - now) if deadlines else None
        for key, _ in pool.sel.select(wait):
            if key.data is None:
                drain_pipe(wake_fd)
            elif key.data is _GITS:
                for record in self.gits.records():
                    self.add(record)
            else:
                self.read_worker(key.data)
        now = time.monotonic()
        for w in [w for w in pool.workers if not w.ready and now > w.since + READY_LIMIT]:
            pool.retire(w, kill=True)  # it holds nothing; git reads what would have been its
        for w in [w for w in pool.workers if w.queue and now > w.since + self.limit]:
            ref = w.queue.popleft()
            error = RepoError(Reason.TIMEOUT, f"status did not finish within {self.limit:.0f} s")
            self.add(RepoRecord(ref, error=error, duration=now - w.since))
            self.replace(w)

    def read_worker(self, w: _Worker) -> None:
        if w not in self.pool.workers:
            return
        try:
            data = os.read(w.fd, 1 << 16)
        except BlockingIOError:
            return
        except ConnectionResetError:  # it ended with frames unread: as good as the end
            data = b""
        if not data:
            self.died(w)
            return
        for packed in w.reader.feed(data):
            if packed == READY:
                w.ready = True
            elif packed == UNUSABLE:  # no working pygit2 there: git reads everything
                self.pool.unusable = True
                self.pool.retire(w, kill=False)
                return
            else:
                self.finish(w, packed)

    def died(self, w: _Worker) -> None:
        """*w* ended: git reads what it had. A worker that ends before it is ready is not
        replaced (another would too)."""
        if not w.ready:
            self.pool.retire(w, kill=True)
            return
        self.replace(w)

    def replace(self, w: _Worker) -> None:
        """Kill *w*, have git read what it had not finished, and start another worker."""
        rest = list(w.queue)
        self.pool.retire(w, kill=True)
        for ref in rest:
            self.to_git(ref)
        self.pool.spawn()

    def close(self, *, done: bool) -> None:
        self.pool.sel.unregister(self.gits.done.fileno())
        self.gits.close(done=done)


#: The selector's mark for the git engine's wake-up pipe.
_GITS = object()
