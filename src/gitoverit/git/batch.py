"""Many ``git status`` calls at once, driven from one thread.

A status scan is mostly starting processes and waiting for them. Run from a pool of
threads, every start, read and parse also hands the GIL from thread to thread, which
costs as much CPU again as the work itself. Here one thread keeps up to *jobs* git
processes running, watches all their pipes with one ``poll(2)`` set, and starts each
process with :func:`gitoverit.process.spawn` (``posix_spawn``: cheaper than
``subprocess.Popen``; with one thread its hold on the GIL costs nothing). The files a
status needs (config, index, operation markers) are read right after git starts, while
it works on another core, and a record is built only after the next git has been started
in its place. Each git reads a private copy of its repository's index
(:class:`~gitoverit.git.index_copy.IndexCopy`), made while the previous gits run, so that
tracked files' modification times come from the stat data git refreshed rather than from
a stat per file. With fewer jobs than CPUs (``-j 1``), the engine's thread and its gits
are kept on different CPUs (:class:`~gitoverit.git.cpus.CpuSplit`).

The guarantees are the runner's (:mod:`gitoverit.process`, :mod:`gitoverit.git.command`): an
argv list, stdin from ``/dev/null``, a new session per process, the same hardened
environment, a timeout after which the whole process group is killed, and every process
group killed when the caller is interrupted or stops iterating. Used for plain status
scans (with ``--reader auto``, for the repositories the in-process reader declines:
:mod:`gitoverit.git.readers`); ``-f/-P/-U`` and ``--metadata-only`` run per-repo tasks
on the thread pool instead.
"""

from __future__ import annotations

import contextlib
import os
import queue
import selectors
import signal
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass, field

from gitoverit import errors, process
from gitoverit.git import command
from gitoverit.git.cpus import CpuSplit
from gitoverit.git.index_copy import (
    REFRESH_CONFIG,
    IndexCopy,
    copy_index,
    discard_copy,
    make_copy_dir,
)
from gitoverit.git.porcelain import STATUS_ARGS
from gitoverit.git.ref_source import RefSource
from gitoverit.git.repo_filters import NO_GUARD, FilterGuard, filter_guard
from gitoverit.git.repo_git import status_env, status_error
from gitoverit.git.status import LocalFacts, read_local_facts, status_from
from gitoverit.model import Reason, RepoError, RepoRecord, RepoRef

#: Whether this platform can run the engine (Linux and macOS can); else the thread pool.
AVAILABLE = hasattr(os, "posix_spawn") and hasattr(os, "POSIX_SPAWN_OPEN")

#: An index at least this big (about 5,000 entries) has its files read on a helper thread.
BIG_INDEX = 400_000
#: How often to look whether a helper thread has finished reading a job's files.
FACTS_POLL = 0.005


@dataclass(eq=False)
class _Job:
    ref: RepoRef
    argv: list[str]
    pid: int
    start: float
    deadline: float
    fds: list[int] = field(default_factory=list)
    out: list[bytes] = field(default_factory=list)
    err: list[bytes] = field(default_factory=list)
    facts: LocalFacts | None = None
    facts_error: BaseException | None = None
    returncode: int | None = None
    pidfd: int = -1
    facts_thread: threading.Thread | None = None
    ended: float | None = None
    copy: IndexCopy | None = None
    guard: FilterGuard = NO_GUARD
    stopped: str | None = None  # why the engine killed this git, for the command log


def _record(ref: RepoRef, exc: BaseException, start: float) -> RepoRecord:
    return RepoRecord(
        ref, error=errors.error_from_exception(exc), duration=time.monotonic() - start
    )


#: What a repository's git needs ready before it starts: its index copy, if any, and the
#: overrides that keep the repository's own filter commands from running.
_Prepared = tuple[IndexCopy | None, FilterGuard]


class _Engine:
    def __init__(self, jobs: int, timeout: float, trust: bool = False) -> None:
        self.jobs = jobs
        self.timeout = timeout
        self.trust = trust
        self.cpus = CpuSplit(jobs)
        self.copies = make_copy_dir()
        self.seq = 0
        self.sel = selectors.PollSelector()
        self.running: dict[int, _Job] = {}
        self.unread: list[_Job] = []
        self.waiting: list[_Job] = []
        self.done: list[_Job] = []

    def prepare(self, ref: RepoRef) -> _Prepared:
        """The copy of *ref*'s index its git will read (see :class:`IndexCopy`), if any,
        and its filter overrides (see :func:`filter_guard`)."""
        guard = NO_GUARD if self.trust else filter_guard(ref)
        if self.copies is None:
            return None, guard
        self.seq += 1
        return copy_index(ref, os.path.join(self.copies, str(self.seq))), guard

    def launch(self, ref: RepoRef, prepared: _Prepared) -> _Job | RepoRecord:
        """Start git for *ref* (with its prepared index copy and overrides) and read its
        files meanwhile; a record if it cannot start."""
        copy, guard = prepared
        start = time.monotonic()
        if not os.path.isdir(ref.path):
            if copy is not None:
                discard_copy(copy.path)
            return _record(
                ref,
                errors.GitNotARepoError(
                    [command.GIT], None, message=f"no such directory: {ref.path}"
                ),
                start,
            )
        refresh = REFRESH_CONFIG if copy is not None else ()
        argv = [
            command.GIT,
            "-C",
            ref.path,
            *command.SAFE_CONFIG,
            *command.READ_ONLY_CONFIG,
            *refresh,
            *guard.args,
            *STATUS_ARGS,
        ]
        env = status_env(ref, copy.path if copy is not None else None)
        # Ctrl-C waits until the new process is registered, so that it is always killed.
        with process.sigint_held():
            try:
                pid, out_r, err_r = process.spawn(
                    argv, env, process.executable(command.GIT), folder=ref.path
                )
            except OSError as exc:
                if copy is not None:
                    discard_copy(copy.path)
                message = f"cannot run {command.GIT}: {exc.strerror or exc}"
                return _record(ref, errors.CommandError(argv, None, message=message), start)
            self.cpus.child(pid)
            job = _Job(ref, argv, pid, start, start + self.timeout, [out_r, err_r], copy=copy)
            job.guard = guard
            self.running[pid] = job
            self.sel.register(out_r, selectors.EVENT_READ, (job, job.out))
            self.sel.register(err_r, selectors.EVENT_READ, (job, job.err))
        self.unread.append(job)
        return job

    def read_facts(self, job: _Job) -> None:
        """Read the job's files (index, config, operation), once."""
        if job.facts is not None or job.facts_error is not None:
            return
        try:
            job.facts = read_local_facts(job.ref, job.copy)
        except Exception as exc:
            job.facts_error = exc

    def _read_facts_helper(self, job: _Job) -> None:
        self.cpus.helper()
        self.read_facts(job)

    def read_next_facts(self) -> bool:
        """Read one running job's files while git works; ``False`` when none is left.

        One job at a time, so that results keep flowing; a big index (thousands of files
        to stat) is read on a helper thread, so that it holds back no other result.
        """
        while self.unread:
            job = self.unread.pop(0)
            if job.pid not in self.running:
                continue
            if job.copy is not None:
                big = len(job.copy.data) >= BIG_INDEX
            else:
                try:
                    big = os.stat(os.path.join(job.ref.git_dir, "index")).st_size >= BIG_INDEX
                except OSError:
                    big = False
            if big:
                job.facts_thread = threading.Thread(
                    target=self._read_facts_helper,
                    args=(job,),
                    name="gitoverit-facts",
                    daemon=True,
                )
                job.facts_thread.start()
            else:
                self.read_facts(job)
            return True
        return False

    def exited(self, job: _Job) -> None:
        """*job*'s git has exited and been reaped: free its slot for the next repository.

        Its record is built later (:meth:`complete`), after the next git has started, so
        that parsing and output overlap with git's work instead of delaying it.
        """
        job.ended = time.monotonic()
        self._release(job)
        self.done.append(job)

    def complete(self, job: _Job) -> RepoRecord | None:
        """The record of a job whose git has exited, or ``None`` while its files are still
        being read on a helper thread (see :meth:`ready_waiting`)."""
        if job.facts_thread is not None and job.facts_thread.is_alive():
            self.waiting.append(job)
            return None
        return self.finish(job)

    def ready_waiting(self) -> list[RepoRecord]:
        done = [j for j in self.waiting if not (j.facts_thread and j.facts_thread.is_alive())]
        for job in done:
            self.waiting.remove(job)
        return [self.finish(job) for job in done]

    def _release(self, job: _Job) -> None:
        for fd in job.fds:
            self.sel.unregister(fd)
            os.close(fd)
        job.fds.clear()
        if job.pidfd >= 0:
            self.sel.unregister(job.pidfd)
            os.close(job.pidfd)
            job.pidfd = -1
        if self.running.get(job.pid) is job:
            del self.running[job.pid]
            process.forget(job.pid, job.stopped or job.returncode)

    def _reap(self, job: _Job, *, block: bool) -> bool:
        try:
            pid, status = os.waitpid(job.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            job.returncode = -1
            return True
        if pid == 0:
            return False
        job.returncode = os.waitstatus_to_exitcode(status)
        return True

    def kill(self, job: _Job, why: str = "cancelled") -> None:
        """SIGKILL the job's process group, reap it and release its descriptors (*why*:
        for the command log).

        A status holds no locks (``GIT_OPTIONAL_LOCKS=0``), so there is nothing for git to
        clean up and no reason to give it a grace period.
        """
        if job.returncode is None:
            job.stopped = why
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(job.pid, signal.SIGKILL)
        if job.returncode is None:
            self._reap(job, block=True)
        self._release(job)
        if job.copy is not None:
            discard_copy(job.copy.path)

    def finish(self, job: _Job) -> RepoRecord:
        if job.facts_thread is not None:
            job.facts_thread.join()
        self.read_facts(job)
        self._release(job)
        try:
            return self._record_of(job)
        finally:
            if job.copy is not None:
                discard_copy(job.copy.path)

    def _record_of(self, job: _Job) -> RepoRecord:
        out, err = b"".join(job.out), b"".join(job.err)
        duration = (job.ended or time.monotonic()) - job.start
        if job.returncode != 0:
            exc = command.classify(err)(job.argv, job.returncode, out, err, duration)
            return _record(job.ref, status_error(job.ref, exc), job.start)
        if job.facts_error is not None or job.facts is None:
            return _record(job.ref, job.facts_error or RuntimeError("no facts"), job.start)
        try:
            status = status_from(job.ref, out, job.facts, timeout=self.timeout, guard=job.guard)
        except Exception as exc:
            return _record(job.ref, exc, job.start)
        return RepoRecord(job.ref, status=status, duration=time.monotonic() - job.start)

    def on_ready(self, key: selectors.SelectorKey) -> None:
        """Handle one readable descriptor; a job whose git has exited goes to ``done``."""
        job, sink = key.data
        if sink is None:  # the pidfd: the process has exited
            self._reap(job, block=True)
            self.exited(job)
            return
        data = os.read(key.fd, 65536)
        if data:
            sink.append(data)
            return
        self.sel.unregister(key.fd)
        os.close(key.fd)
        job.fds.remove(key.fd)
        if job.fds:
            return
        if self._reap(job, block=False):
            self.exited(job)
            return
        # Both pipes closed but git has not exited yet: wake when it does.
        try:
            job.pidfd = os.pidfd_open(job.pid)
        except (AttributeError, OSError):
            self._reap(job, block=True)
            self.exited(job)
            return
        self.sel.register(job.pidfd, selectors.EVENT_READ, (job, None))

    def close(self) -> None:
        """Kill every git still running and release the engine's descriptors, CPUs and
        index copies."""
        for job in list(self.running.values()):
            self.kill(job)
        self.sel.close()
        self.cpus.restore()
        if self.copies is not None:
            process.remove_temp_dir(self.copies)

    def expire(self, now: float) -> list[RepoRecord]:
        records = []
        for job in [j for j in self.running.values() if j.deadline <= now]:
            self.kill(job, "timeout")
            duration = now - job.start
            exc = errors.CommandTimeoutError(
                job.argv, self.timeout, b"".join(job.out), b"".join(job.err), duration
            )
            records.append(_record(job.ref, exc, job.start))
        return records


def run_statuses(
    refs: queue.Queue[object],
    end: object,
    wake_fd: int,
    *,
    jobs: int,
    timeout: float = command.LOCAL_TIMEOUT,
    fail_fast: bool = False,
    trust: bool = False,
    started: set[str] | None = None,
    stop: threading.Event | None = None,
    halt: threading.Event | None = None,
) -> Generator[RepoRecord, None, None]:
    """Yield one record per repository taken from *refs*, as each finishes.

    *refs* is filled by another thread (discovery), which writes a byte to the pipe whose
    read end is *wake_fd* after each put, and puts *end* when it is done. At most *jobs*
    git processes run at once. With *fail_fast*, after the first error nothing new starts
    and every later repository is reported as skipped. With *trust*, the repositories'
    own filter commands run (see :mod:`gitoverit.git.repo_filters`). The path of each
    repository whose git is started is added to *started*. Once *stop* is set (and
    *wake_fd* written to), the gits are killed; once *halt* is, nothing new starts.
    """
    scan = _Scan(_Engine(jobs, timeout, trust), refs, end, wake_fd, fail_fast)
    if started is not None:
        scan.started = started
    engine = scan.engine
    try:
        while True:
            scan.stopped = scan.stopped or (halt is not None and halt.is_set())
            scan.start_next()
            # The next gits are running: now build the records of those that exited.
            while engine.done:
                record = engine.complete(engine.done.pop(0))
                if record is not None:
                    scan.add(record)
            if scan.ready:
                batch, scan.ready = scan.ready, []
                yield from batch
                continue
            if (
                scan.source.done
                and not scan.ahead
                and not engine.running
                and not engine.waiting
                and not engine.done
            ):
                return
            scan.wait()
            if stop is not None and stop.is_set():
                return  # the finally clause kills the gits
    finally:
        # Interrupted, or the consumer stopped early: no git process may outlive us.
        engine.close()


class _Scan:
    """The state of one :func:`run_statuses` call around its engine: where repositories
    come from, the records ready for the caller, and whether a failure stopped the scan."""

    def __init__(
        self, engine: _Engine, refs: queue.Queue[object], end: object, wake_fd: int, fail_fast: bool
    ) -> None:
        self.engine = engine
        self.source = RefSource(refs, end)
        self.wake_fd = wake_fd
        self.fail_fast = fail_fast
        engine.sel.register(wake_fd, selectors.EVENT_READ, None)
        self.ready: list[RepoRecord] = []
        self.stopped = False
        # The next repository, taken while every slot was busy, with its index already
        # copied: that file work then overlaps with the running gits instead of delaying
        # the next one.
        self.ahead: list[tuple[RepoRef, _Prepared | None]] = []
        self.started: set[str] = set()

    def add(self, record: RepoRecord) -> None:
        if self.fail_fast and record.error is not None:
            self.stopped = True
        self.ready.append(record)

    def start_next(self) -> None:
        """Start gits until every slot is busy or no repository is waiting; once the scan
        is stopped, report every repository that comes as skipped instead."""
        engine = self.engine
        while self.stopped or len(engine.running) < engine.jobs:
            if self.ahead:
                item, prepared = self.ahead.pop()
            else:
                taken = self.source.take()
                if taken is None:
                    break
                item = taken
                prepared = None if self.stopped else engine.prepare(item)
            if self.stopped or prepared is None:
                if prepared is not None and prepared[0] is not None:
                    discard_copy(prepared[0].path)
                self.add(
                    RepoRecord(
                        item,
                        error=RepoError(Reason.SKIPPED, "skipped after an earlier failure"),
                    )
                )
                continue
            self.started.add(item.path)
            launched = engine.launch(item, prepared)
            if isinstance(launched, RepoRecord):
                self.add(launched)

    def wait(self) -> None:
        """Prepare the next repository and read one job's files, then handle what happens
        next: output and exits, the queue's wake-ups, timeouts, files read on helpers."""
        engine = self.engine
        if not self.ahead and not self.stopped:
            taken = self.source.take()
            if taken is not None:
                self.ahead.append((taken, engine.prepare(taken)))
        wait = None
        if engine.running:
            wait = max(0.0, min(j.deadline for j in engine.running.values()) - time.monotonic())
            if engine.read_next_facts():
                wait = 0.0  # more file work may be waiting: only look for events
        if engine.waiting:
            wait = FACTS_POLL if wait is None else min(wait, FACTS_POLL)
        for key, _ in engine.sel.select(wait):
            if key.data is None:
                process.drain_pipe(self.wake_fd)
                continue
            if key.data[0].pid not in engine.running:
                continue  # finished earlier in this batch of events
            engine.on_ready(key)
        for record in engine.expire(time.monotonic()):
            self.add(record)
        for record in engine.ready_waiting():
            self.add(record)
