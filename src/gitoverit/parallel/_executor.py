"""The executor backends of :func:`~gitoverit.parallel.run_parallel`: a thread pool, a
process pool, or an executor the caller passes (dask, Ray ...).

The scheduler runs on the consumer's thread. A feeder thread pulls the items, each
finished future posts itself to the scheduler's inbox, and the scheduler submits, collects,
expires and cancels tasks between the outcomes it yields.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, wait
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from gitoverit.parallel._cancel import CancelScope, enter_scope
from gitoverit.parallel._light import TaskSkipped, TaskTimeout
from gitoverit.parallel._outcome import Emitter, Outcome, Outcomes
from gitoverit.parallel._pool import DaemonThreadPool

T = TypeVar("T")
R = TypeVar("R")

#: While a task with a timeout is queued but not yet started, the scheduler looks again
#: this often, so that its clock is noticed promptly once a worker picks it up.
_START_POLL = 0.05


def _is_failure(outcome: Outcome[Any, Any]) -> bool:
    return outcome.error is not None and not isinstance(outcome.error, TaskSkipped)


class _Stop:
    """The run's stop flag, shared by the scheduler and its thread workers.

    A worker checks it and marks its task started under the same lock, so once the flag is
    set no further task begins.
    """

    __slots__ = ("lock", "stopped")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stopped = False

    def set(self) -> None:
        with self.lock:
            self.stopped = True


@dataclass(slots=True)
class _Task(Generic[T]):
    index: int
    item: T
    scope: CancelScope = field(default_factory=CancelScope)
    submitted: float = 0.0
    started: float | None = None


def _invoke_in_scope(
    func: Callable[[T], R], task: _Task[T], stop: _Stop, fail_fast: bool
) -> tuple[R | None, BaseException | None, float]:
    with stop.lock:
        if stop.stopped:
            return None, TaskSkipped(), 0.0
        start = task.started = time.monotonic()
    with enter_scope(task.scope):
        try:
            result = func(task.item)
        except Exception as exc:
            if fail_fast:
                # Stop the other workers at once, before the scheduler has seen the error.
                stop.set()
            return None, exc, time.monotonic() - start
    return result, None, time.monotonic() - start


def _invoke_plain(
    func: Callable[[T], R], item: T, key: object
) -> tuple[R | None, BaseException | None, float]:
    # Module-level and scope-free so that it pickles for process and remote executors.
    # *key* is unused here but unique to each submission: an engine that names a task by a
    # hash of its arguments (dask does, and runs equal calls once) must still run each item.
    del key
    start = time.monotonic()
    try:
        return func(item), None, time.monotonic() - start
    except Exception as exc:
        return None, exc, time.monotonic() - start


def _outcome_of(fut: Future[Any], task: _Task[T]) -> Outcome[T, Any]:
    if fut.cancelled():
        return Outcome(task.item, error=TaskSkipped())
    try:
        result, error, duration = fut.result()
    except BaseException as exc:  # the executor itself failed, or the task raised one
        return Outcome(task.item, None, exc, time.monotonic() - task.submitted)
    return Outcome(task.item, result, error, duration)


def _wait_time(pending: Iterable[_Task[T]], timeout: float | None, scoped: bool) -> float | None:
    """How long the scheduler may block before the next task can expire."""
    if timeout is None:
        return None
    now = time.monotonic()
    wait_for = timeout
    for task in pending:
        began = task.started if scoped else task.submitted
        if began is None:
            wait_for = min(wait_for, _START_POLL)
        else:
            wait_for = min(wait_for, began + timeout - now)
    return max(0.0, wait_for)


_ITEM, _DONE, _END, _ERROR = range(4)
_Message = tuple[int, Any]


def _messages(inbox: queue.SimpleQueue[_Message], timeout: float | None) -> list[_Message]:
    """Block until a message arrives or *timeout* passes; return every message so far."""
    try:
        first = inbox.get(timeout=timeout)
    except queue.Empty:
        return []
    got = [first]
    while True:
        try:
            got.append(inbox.get_nowait())
        except queue.Empty:
            return got


class _Feeder:
    """Pulls *items* on its own thread, so a slow producer never holds back outcomes.

    Each item needs a credit; the scheduler returns one per outcome it yields, which keeps
    at most *credits* items between the producer and the consumer.
    """

    def __init__(self, items: Iterable[Any], credits: int, inbox: queue.SimpleQueue[_Message]):
        self._items = items
        self._credits = threading.Semaphore(credits)
        self._inbox = inbox
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="gitoverit-feeder", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for item in self._items:
                self._inbox.put((_ITEM, item))
                self._credits.acquire()
                if self._closed:
                    return
            self._inbox.put((_END, None))
        except BaseException as exc:
            self._inbox.put((_ERROR, exc))

    def release(self) -> None:
        self._credits.release()

    def close(self) -> None:
        self._closed = True
        self._credits.release()


def _open_executor(
    backend: Literal["thread", "process"] | Executor, workers: int
) -> tuple[Executor, bool]:
    """The executor for *backend*, and whether this module created it (and shuts it down)."""
    if backend == "thread":
        return DaemonThreadPool(workers), True
    if backend == "process":
        # Imported here: together with asyncio it costs ~20 ms of start-up that the thread
        # backend never needs.
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(workers), True
    assert isinstance(backend, Executor)
    return backend, False


class _Scheduler(Generic[T, R]):
    """One run on an executor: the tasks submitted and not yet reported, and the steps
    that submit, collect, expire and cancel them. It runs on the consumer's thread."""

    def __init__(
        self,
        func: Callable[[T], R],
        executor: Executor,
        workers: int,
        fail_fast: bool,
        timeout: float | None,
    ) -> None:
        self.func = func
        self.executor = executor
        self.fail_fast = fail_fast
        self.timeout = timeout
        self.scoped = isinstance(executor, DaemonThreadPool)
        # With a timeout on an executor we cannot observe, the clock starts at submission, so
        # only submit what can start at once.
        self.window = 2 * workers if (self.scoped or timeout is None) else workers
        self.pending: dict[Future[Any], _Task[T]] = {}
        self.stop = _Stop()
        # New items and finished futures arrive here: one callback per future, instead of
        # concurrent.futures.wait(), which installs and removes a waiter on every pending
        # future per call.
        self.inbox: queue.SimpleQueue[_Message] = queue.SimpleQueue()
        #: Tells this run's submissions from another run's with the same items.
        self.run = os.urandom(8).hex()
        self.index = 0
        self.exhausted = False
        self.expired_any = False

    def _done(self, fut: Future[Any]) -> None:
        self.inbox.put((_DONE, fut))

    def receive(self) -> list[tuple[int, Outcome[T, R]]]:
        """Wait for messages, no longer than until a task can expire, and act on each:
        submit a new item, collect a finished task, note the end of the items."""
        ready: list[tuple[int, Outcome[T, R]]] = []
        wait_for = _wait_time(self.pending.values(), self.timeout, self.scoped)
        for kind, payload in _messages(self.inbox, wait_for):
            if kind == _ITEM:
                if self.stop.stopped:
                    ready.append((self.index, Outcome(payload, error=TaskSkipped())))
                else:
                    refused = self._submit(payload)
                    if refused is not None:
                        ready.append((self.index, refused))
                self.index += 1
            elif kind == _DONE:
                done_task = self.pending.pop(payload, None)
                if done_task is not None:  # None: already reported as expired or skipped
                    ready.append((done_task.index, _outcome_of(payload, done_task)))
            elif kind == _END:
                self.exhausted = True
            else:
                raise payload
        return ready

    def _submit(self, item: T) -> Outcome[T, R] | None:
        """Hand *item* to the executor; if it refuses (an item a remote engine cannot
        serialize, an executor already shut down), that item's failed outcome."""
        task = _Task(self.index, item, submitted=time.monotonic())
        fut: Future[Any]
        try:
            if self.scoped:
                fut = self.executor.submit(
                    _invoke_in_scope, self.func, task, self.stop, self.fail_fast
                )
            else:
                fut = self.executor.submit(_invoke_plain, self.func, item, (self.run, self.index))
        except Exception as exc:
            return Outcome(item, error=exc)
        self.pending[fut] = task
        fut.add_done_callback(self._done)
        return None

    def expire(self, timeout: float) -> list[tuple[int, Outcome[T, R]]]:
        """Report every task that has run *timeout* seconds as timed out, and cancel it."""
        ready: list[tuple[int, Outcome[T, R]]] = []
        now = time.monotonic()
        for fut, task in list(self.pending.items()):
            began = task.started if self.scoped else task.submitted
            if began is not None and now - began >= timeout:
                del self.pending[fut]
                self.expired_any = True
                task.scope.cancel("timeout")
                fut.cancel()  # still queued inside a foreign executor: never start
                expired: Outcome[T, R] = Outcome(
                    task.item, error=TaskTimeout(timeout), duration=now - began
                )
                ready.append((task.index, expired))
        return ready

    def skip_queued(self) -> list[tuple[int, Outcome[T, R]]]:
        """Report every task that has not started as skipped, and cancel it."""
        ready: list[tuple[int, Outcome[T, R]]] = []
        for fut, task in list(self.pending.items()):
            if fut.cancel():
                del self.pending[fut]
                ready.append((task.index, Outcome(task.item, error=TaskSkipped())))
        return ready

    def abort(self, grace: float) -> None:
        """Cancel every task, queued or running, and wait up to *grace* seconds for the
        running ones."""
        for fut, task in self.pending.items():
            if not fut.cancel():
                task.scope.cancel("interrupted")
        running = [f for f in self.pending if not f.done()]
        if running:
            wait(running, timeout=grace)


def run_executor(
    func: Callable[[T], R],
    items: Iterable[T],
    backend: Literal["thread", "process"] | Executor,
    workers: int,
    fail_fast: bool,
    timeout: float | None,
    ordered: bool,
    grace: float,
) -> Outcomes[T, R]:
    """:func:`~gitoverit.parallel.run_parallel` on an executor; *grace* is how long running
    tasks get after an interrupt."""
    executor, own = _open_executor(backend, workers)
    run: _Scheduler[T, R] = _Scheduler(func, executor, workers, fail_fast, timeout)
    emitter: Emitter[T, R] = Emitter(ordered)
    feeder = _Feeder(items, run.window - 1, run.inbox)
    try:
        while not (run.exhausted and not run.pending):
            ready = run.receive()
            if timeout is not None:
                ready += run.expire(timeout)
            if fail_fast and not run.stop.stopped and any(_is_failure(o) for _, o in ready):
                run.stop.set()
            if run.stop.stopped:
                # Before anything is yielded: the workers keep going while the consumer
                # holds an outcome, and none of them may pick up a queued task.
                ready += run.skip_queued()
            for idx, outcome in ready:
                for out in emitter.add(idx, outcome):
                    feeder.release()
                    yield out
    except BaseException:
        # KeyboardInterrupt, GeneratorExit (the consumer closed the iterator) or an error
        # raised by *items*: start nothing new, cancel what runs, wait a bounded time.
        run.stop.set()
        feeder.close()
        try:
            run.abort(grace)
        finally:
            if own:
                _shutdown(executor, cancel=True, terminate=True)
        raise
    else:
        if own:
            _shutdown(executor, cancel=False, terminate=run.expired_any)


def _shutdown(executor: Executor, *, cancel: bool, terminate: bool) -> None:
    """Shut down an executor this module created, never waiting for its workers.

    A process pool with a task still running (timed out, or interrupted) has its worker
    processes terminated; otherwise ``concurrent.futures`` would join them at exit.
    """
    procs: list[Any] = []
    if terminate and type(executor).__name__ == "ProcessPoolExecutor":
        # No public way exists to stop a running task; the worker processes are only
        # reachable through this private attribute, which shutdown() clears.
        procs = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=cancel)
    for proc in procs:
        with suppress(Exception):
            proc.terminate()
