"""The pipeline: selection → bounded pool → one record per repository.

:class:`Scan` finds the selected repositories (:mod:`gitoverit.select`) on a background
thread and hands each one to the worker pool the moment it is found. :meth:`Scan.events`
yields :mod:`gitoverit.model` events in the order they happen; every repository found
ends in exactly one :class:`~gitoverit.model.RepoDone`. After an interrupt,
:meth:`Scan.found` lists every repository found so far, so that callers can report the
ones they have not shown as ``interrupted``.
"""

from __future__ import annotations

import collections
import importlib.util
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from gitoverit.errors import RepoFailed, error_from_exception
from gitoverit.model import (
    DiscoveryDone,
    Event,
    Reason,
    RepoDone,
    RepoError,
    RepoFound,
    RepoRecord,
    RepoRef,
    ScanWarning,
)
from gitoverit.select import Selection, find

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

    from gitoverit.process import Wakeup

#: Most repositories discovery may run ahead of the workers. Bounds memory on huge trees
#: while letting the progress display learn the total early on ordinary ones.
DISCOVERY_AHEAD = 4096


def _read_by_git(record: RepoRecord) -> bool:
    """Whether git read *record*'s repository (it was not skipped or stopped first)."""
    return record.error is None or record.error.reason not in (Reason.SKIPPED, Reason.INTERRUPTED)


def default_jobs() -> int:
    """Workers for local work: about 2x the cores, capped at 8 (see ``git.cpus.local_jobs``)."""
    from gitoverit.git.cpus import local_jobs

    return local_jobs()


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """Everything a status scan needs to know. The CLI builds one from flags."""

    selection: Selection = field(default_factory=Selection)
    jobs: int = field(default_factory=default_jobs)
    metadata_only: bool = False
    timeout: float = 60.0
    fail_fast: bool = False
    #: Let the repositories' own filter commands run (``--trust-repo-config``).
    trust_repo_config: bool = False
    #: What to add to each record beyond its status (:data:`gitoverit.git.extras.EXTRAS`).
    extras: frozenset[str] = frozenset()
    #: Who reads a plain status: ``auto`` (in-process where exact, see
    #: :mod:`gitoverit.git.readers`) or ``git`` (the git engine, :mod:`gitoverit.git.batch`).
    reader: str = "git"


RepoTask = Callable[[RepoRef], RepoRecord]


def status_task(options: ScanOptions) -> RepoTask:
    """The per-repo work of a status scan on the thread pool (``--metadata-only``).

    Never raises, except :class:`RepoFailed` under ``fail_fast``.
    """
    from gitoverit.git.status import read_status

    def task(ref: RepoRef) -> RepoRecord:
        start = time.monotonic()
        try:
            status = read_status(
                ref,
                metadata_only=options.metadata_only,
                timeout=options.timeout,
                trust=options.trust_repo_config,
            )
        except Exception as exc:
            record = RepoRecord(
                ref, error=error_from_exception(exc), duration=time.monotonic() - start
            )
            if options.fail_fast:
                raise RepoFailed(record) from exc  # stops the pool; the record is kept
            return record
        return RepoRecord(ref, status=status, duration=time.monotonic() - start)

    return task


class _Listener:
    """Discovery listener that turns callbacks into queued events (thread-safe)."""

    def __init__(self, sink: collections.deque[Event], found: dict[str, RepoRef]) -> None:
        self._sink = sink
        self._found = found

    def started(self, roots: Sequence[str]) -> None:
        pass

    def looking_at(self, path: str) -> None:
        pass

    def repo_found(self, ref: RepoRef) -> None:
        self._found[ref.path] = ref
        self._sink.append(RepoFound(ref))

    def warning(self, path: str, message: str) -> None:
        self._sink.append(ScanWarning(path, message))

    def finished(self, n_repos: int) -> None:
        self._sink.append(DiscoveryDone(n_repos))


_DONE = object()


class Scan:
    """One run of the pipeline. Iterate :meth:`events` once."""

    def __init__(
        self,
        options: ScanOptions,
        task: RepoTask | None = None,
        *,
        workers: int | None = None,
        refs: Sequence[RepoRef] | None = None,
        action: str = "status",
    ) -> None:
        """*task* defaults to a status scan; *workers* to ``options.jobs``. With *refs*,
        those repositories are worked on instead of discovering any. *action* names what
        the task does, for records of repos it never finished."""
        self.options = options
        self.action = action
        self.task = task if task is not None else status_task(options)
        self.workers = workers or options.jobs
        self._wakeup: Wakeup | None = None
        from gitoverit.git import batch

        #: Plain full status scans run on the single-threaded engine where it exists.
        self._engine = task is None and not options.metadata_only and batch.AVAILABLE
        self._given_refs = refs
        self._events: collections.deque[Event] = collections.deque()
        self._queue: queue.Queue[object] = queue.Queue(maxsize=DISCOVERY_AHEAD)
        self._stop = threading.Event()
        self._found: dict[str, RepoRef] = {}
        #: Paths of the repositories whose work has begun (their git started, or their task).
        self._started: set[str] = set()
        self._discovery_error: BaseException | None = None

    # -- discovery thread -------------------------------------------------------------

    def _source(self) -> Iterator[RepoRef]:
        listener = _Listener(self._events, self._found)
        if self._given_refs is not None:
            for ref in self._given_refs:
                listener.repo_found(ref)
                yield ref
            listener.finished(len(self._given_refs))
            return
        yield from find(self.options.selection, listener)

    def _discover(self) -> None:
        try:
            for ref in self._source():
                while not self._stop.is_set():
                    try:
                        self._queue.put(ref, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    return
                self._wake()
        except BaseException as exc:  # surfaced to the consumer, never lost
            self._discovery_error = exc
        finally:
            while not self._stop.is_set():
                try:
                    self._queue.put(_DONE, timeout=0.1)
                    break
                except queue.Full:
                    continue
            self._wake()

    def _wake(self) -> None:
        # Tell a waiting status engine that the queue has something.
        if self._wakeup is not None:
            self._wakeup.poke()

    def _refs(self) -> Iterator[RepoRef]:
        while True:
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            if item is _DONE:
                if self._discovery_error is not None:
                    raise self._discovery_error
                return
            assert isinstance(item, RepoRef)
            yield item

    # -- public -----------------------------------------------------------------------

    def events(self) -> Iterator[Event]:
        """Yield events as they happen; exactly one ``RepoDone`` per discovered repo."""
        if self.options.extras:
            yield from self._with_extras(self._events_of_work())
        else:
            yield from self._events_of_work()

    def _with_extras(self, events: Iterator[Event]) -> Iterator[Event]:
        """*events* with each record's extras filled in: what needs git in the repository
        runs on a small pool while the scan goes on."""
        from gitoverit.git.extras import extras_in_process, with_extras
        from gitoverit.parallel._cancel import CancelScope, enter_scope

        o = self.options
        # Cancelled when the scan stops early: it kills the gits still running.
        scope = CancelScope()

        def work(record: RepoRecord) -> RepoRecord:
            with enter_scope(scope):
                return with_extras(record, o.extras, timeout=o.timeout, trust=o.trust_repo_config)

        # Started when a record first needs git for its extras: many scans never do.
        pool: ThreadPoolExecutor | None = None
        pending: set[Future[RepoRecord]] = set()
        try:
            for event in events:
                if isinstance(event, RepoDone):
                    record, more = extras_in_process(event.record, o.extras, timeout=o.timeout)
                    if more:
                        if pool is None:
                            from concurrent.futures import ThreadPoolExecutor

                            pool = ThreadPoolExecutor(
                                max(1, self.workers // 2), thread_name_prefix="gitoverit-extras"
                            )
                        pending.add(pool.submit(work, record))
                    else:
                        yield RepoDone(record)
                else:
                    yield event
                for future in [f for f in pending if f.done()]:
                    pending.discard(future)
                    yield RepoDone(future.result())
            while pending:
                from concurrent.futures import FIRST_COMPLETED, wait

                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield RepoDone(future.result())
        finally:
            if pending:
                scope.cancel()
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)

    def _events_of_work(self) -> Iterator[Event]:
        if self._engine:
            yield from self._engine_events()
            return
        thread = threading.Thread(target=self._discover, name="gitoverit-discovery", daemon=True)
        thread.start()
        o = self.options
        from gitoverit.parallel import run_parallel

        outcomes = run_parallel(
            self._started_task, self._refs(), max_workers=self.workers, fail_fast=o.fail_fast
        )
        try:
            for outcome in outcomes:
                yield from self._drain()
                ref = outcome.item
                if outcome.ok and outcome.result is not None:
                    record = outcome.result
                elif isinstance(outcome.error, RepoFailed):
                    record = outcome.error.record
                else:
                    err = outcome.error or RuntimeError("no result")
                    error = (
                        RepoError(Reason.SKIPPED, str(err))
                        if outcome.skipped
                        else error_from_exception(err)
                    )
                    record = self.failed_record(ref, error, duration=outcome.duration)
                yield RepoDone(record)
            yield from self._drain()
        finally:
            self._stop.set()

    def _engine_events(self) -> Iterator[Event]:
        """A plain status scan on the single-threaded engine (:mod:`gitoverit.git.batch`)."""
        from gitoverit.git.batch import run_statuses
        from gitoverit.process import Wakeup

        wakeup = self._wakeup = Wakeup()
        wake_r = wakeup.fileno()
        thread = threading.Thread(target=self._discover, name="gitoverit-discovery", daemon=True)
        thread.start()
        o = self.options
        common: dict[str, Any] = {
            "jobs": self.workers,
            "timeout": o.timeout,
            "fail_fast": o.fail_fast,
            "trust": o.trust_repo_config,
            "started": self._started,
        }
        if self._in_process():
            from gitoverit.git.readers import run_readers

            records = run_readers(
                self._queue,
                _DONE,
                wake_r,
                lines="lines" in o.extras,
                ident="ident" in o.extras,
                **common,
            )
        else:
            records = run_statuses(self._queue, _DONE, wake_r, **common)
        try:
            for record in records:
                yield from self._drain()
                if record.reader is None and _read_by_git(record):
                    record = replace(record, reader="git")
                yield RepoDone(record)
            yield from self._drain()
            if self._discovery_error is not None:
                raise self._discovery_error
        finally:
            self._stop.set()
            records.close()
            self._wakeup = None
            wakeup.close()

    def _in_process(self) -> bool:
        """Whether the in-process reader may read this scan's repositories."""
        return self.options.reader == "auto" and importlib.util.find_spec("pygit2") is not None

    def _started_task(self, ref: RepoRef) -> RepoRecord:
        self._started.add(ref.path)
        return self.task(ref)

    def _drain(self) -> Iterator[Event]:
        while self._events:
            yield self._events.popleft()

    def failed_record(
        self, ref: RepoRef, error: RepoError, duration: float = 0.0, note: str | None = None
    ) -> RepoRecord:
        """The record of a repo whose task did not complete (skipped, interrupted, ...)."""
        a = self.action
        network = a != "status"
        return RepoRecord(
            ref,
            error=error,
            duration=duration,
            action=a,
            fetched=False if network else None,
            pulled=False if "pull" in a or a == "sync" else None,
            pushed=False if "push" in a else None,
            note=note,
        )

    def stop(self) -> None:
        """Stop discovery (after an interrupt): nothing more will be found."""
        self._stop.set()

    def was_started(self, ref: RepoRef) -> bool:
        """Whether work on *ref* has begun (its git or its task started)."""
        return ref.path in self._started

    def found(self) -> list[RepoRef]:
        """Every repository found so far, in discovery order."""
        # One C-level copy: the discovery thread may be adding to the dict right now.
        return list(self._found.values())
