"""``run_parallel`` and friends: many independent tasks at once, no result ever lost."""

from __future__ import annotations

import inspect
import queue
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Generator, Iterable
from concurrent.futures import Executor, Future, wait
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

from gitoverit.parallel._cancel import CancelScope, enter_scope
from gitoverit.parallel._light import (
    TaskSkipped,
    TaskTimeout,
    optimal_workers,
)
from gitoverit.parallel._pool import DaemonThreadPool

if TYPE_CHECKING:
    import asyncio

# asyncio and the process pool are imported where used: together they cost ~20 ms of
# start-up that the thread backend never needs.

T = TypeVar("T")
R = TypeVar("R")

Backend = Literal["thread", "process", "async"] | Executor

#: After Ctrl-C (or closing the iterator early) running tasks get this long to finish
#: before the caller sees the interrupt. Module-level so tests can shrink it.
INTERRUPT_GRACE = 2.0


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T, R]):
    """What happened to one item: its result, or the exception it raised.

    ``error`` is the original exception object raised by the task, a :class:`TaskTimeout`,
    or a :class:`TaskSkipped`. ``duration`` is wall-clock seconds spent running the task
    (0.0 for a skipped one).
    """

    item: T
    result: R | None = None
    error: BaseException | None = None
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def skipped(self) -> bool:
        return isinstance(self.error, TaskSkipped)

    @property
    def timed_out(self) -> bool:
        return isinstance(self.error, TaskTimeout)


#: What :func:`run_parallel` returns: an iterator with ``close()``, for ``closing()``.
Outcomes = Generator[Outcome[T, R], None, None]


@overload
def run_parallel(
    func: Callable[[T], Awaitable[R]],
    items: Iterable[T],
    *,
    max_workers: int | None = None,
    backend: Backend = "thread",
    fail_fast: bool = False,
    timeout: float | None = None,
    ordered: bool = False,
    desc: str | None = None,
) -> Outcomes[T, R]: ...


@overload
def run_parallel(
    func: Callable[[T], R],
    items: Iterable[T],
    *,
    max_workers: int | None = None,
    backend: Backend = "thread",
    fail_fast: bool = False,
    timeout: float | None = None,
    ordered: bool = False,
    desc: str | None = None,
) -> Outcomes[T, R]: ...


def run_parallel(
    func: Callable[[T], Any],
    items: Iterable[T],
    *,
    max_workers: int | None = None,
    backend: Backend = "thread",
    fail_fast: bool = False,
    timeout: float | None = None,
    ordered: bool = False,
    desc: str | None = None,
) -> Outcomes[T, Any]:
    """Run ``func(item)`` for every item concurrently and yield one :class:`Outcome` each.

    Outcomes arrive as tasks finish, or in input order with ``ordered=True``. *items* may be
    any iterable, including a generator that is still producing; it is consumed lazily, with
    at most ``2 * max_workers`` items taken but not yet yielded, so memory stays flat. For
    the executor backends it is iterated on a helper thread, so a producer that stalls
    (discovery walking a huge tree) never holds back outcomes that are ready.

    Backends: ``"thread"`` (default), ``"process"`` (*func* and items must pickle), ``"async"``,
    or any :class:`concurrent.futures.Executor` (a dask or Ray executor spreads work over a
    cluster; it is not shut down here). An ``async def`` *func* always runs on a private
    asyncio loop, limited by a semaphore of *max_workers*, whatever *backend* says; the
    caller must not already be running a loop on this thread.

    ``fail_fast``: after the first error (a timeout counts) no new task starts; running
    tasks finish and are yielded; every remaining item is yielded with a
    :class:`TaskSkipped` error. Thread and async tasks check the stop flag as they start.
    A process or foreign executor may already have handed a few tasks to its workers; those
    cannot be recalled and run to completion.

    ``timeout`` is per task; an expired task yields a :class:`TaskTimeout` at once. What can
    be interrupted differs by backend:

    - async: the coroutine is cancelled.
    - thread: the clock starts when a worker picks the task up. Python cannot stop a
      thread: the task's :class:`CancelScope` is cancelled, which kills any process it
      started through ``gitoverit.git`` (the whole process group) and makes the runner
      raise; pure-Python work keeps its worker busy until it returns, and its result is
      dropped.
    - process and foreign executors: the clock starts at submission (so only *max_workers*
      tasks are submitted at a time); the worker is not interrupted and its late result is
      dropped. A process pool created here has its workers terminated at the end of the
      run if any task expired.

    Ctrl-C (or closing the iterator early, or an error raised by *items*): no new task
    starts, queued tasks are dropped, running tasks are cancelled as above and given
    ``INTERRUPT_GRACE`` seconds, then the exception reaches the caller. Worker threads are
    daemons and worker processes are terminated, so a stuck task can never hold the
    interpreter open at exit. Wrap the iterator in ``contextlib.closing`` when you may stop
    consuming it early.

    ``desc``: when set and stderr is a terminal, a Rich progress bar counts outcomes and
    errors on stderr; otherwise nothing is written.
    """
    if max_workers is not None and max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    if timeout is not None and timeout <= 0:
        raise ValueError("timeout must be positive")
    if not (isinstance(backend, Executor) or backend in ("thread", "process", "async")):
        raise ValueError(f"unknown backend {backend!r}")
    workers = max_workers or optimal_workers(None, io_bound=True)
    is_async = backend == "async" or inspect.iscoroutinefunction(func)
    gen: Outcomes[T, Any]
    if is_async:
        gen = _run_async(func, items, workers, fail_fast, timeout, ordered)
    else:
        gen = _run_executor(func, items, backend, workers, fail_fast, timeout, ordered)  # type: ignore[arg-type]
    if desc is not None and sys.stderr.isatty():
        gen = _with_progress(gen, desc)
    return gen


def batch_map(func: Callable[[T], R], items: Iterable[T], **kw: Any) -> list[R]:
    """Run :func:`run_parallel` and return the successful results, in input order.

    Failed, timed-out and skipped items are left out; use :func:`run_parallel` when you
    need to know about them.
    """
    kw.setdefault("ordered", True)
    return [o.result for o in run_parallel(func, items, **kw) if o.ok]  # type: ignore[misc]


# --------------------------------------------------------------------------- executors

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


def _invoke_plain(func: Callable[[T], R], item: T) -> tuple[R | None, BaseException | None, float]:
    # Module-level and scope-free so that it pickles for process and remote executors.
    start = time.monotonic()
    try:
        return func(item), None, time.monotonic() - start
    except Exception as exc:
        return None, exc, time.monotonic() - start


class _Emitter(Generic[T, R]):
    """Releases outcomes in completion order, or in input order when ``ordered``."""

    def __init__(self, ordered: bool) -> None:
        self.ordered = ordered
        self.buffer: dict[int, Outcome[T, R]] = {}
        self.next_index = 0

    @property
    def held(self) -> int:
        """Outcomes finished but waiting for an earlier item (``ordered`` only)."""
        return len(self.buffer)

    def add(self, index: int, outcome: Outcome[T, R]) -> list[Outcome[T, R]]:
        if not self.ordered:
            return [outcome]
        self.buffer[index] = outcome
        out = []
        while self.next_index in self.buffer:
            out.append(self.buffer.pop(self.next_index))
            self.next_index += 1
        return out


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


def _run_executor(
    func: Callable[[T], R],
    items: Iterable[T],
    backend: Literal["thread", "process"] | Executor,
    workers: int,
    fail_fast: bool,
    timeout: float | None,
    ordered: bool,
) -> Outcomes[T, R]:
    own = not isinstance(backend, Executor)
    executor: Executor
    if backend == "thread":
        executor = DaemonThreadPool(workers)
    elif backend == "process":
        from concurrent.futures import ProcessPoolExecutor

        executor = ProcessPoolExecutor(workers)
    else:
        assert isinstance(backend, Executor)
        executor = backend
    scoped = isinstance(executor, DaemonThreadPool)
    # With a timeout on an executor we cannot observe, the clock starts at submission, so
    # only submit what can start at once.
    window = 2 * workers if (scoped or timeout is None) else workers
    pending: dict[Future[Any], _Task[T]] = {}
    emitter: _Emitter[T, R] = _Emitter(ordered)
    stop = _Stop()
    # New items and finished futures arrive here: one callback per future, instead of
    # concurrent.futures.wait(), which installs and removes a waiter on every pending
    # future per call.
    inbox: queue.SimpleQueue[_Message] = queue.SimpleQueue()
    feeder = _Feeder(items, window - 1, inbox)
    index = 0
    exhausted = False
    expired_any = False

    def done(fut: Future[Any]) -> None:
        inbox.put((_DONE, fut))

    try:
        while not (exhausted and not pending):
            ready: list[tuple[int, Outcome[T, R]]] = []
            for kind, payload in _messages(inbox, _wait_time(pending.values(), timeout, scoped)):
                if kind == _ITEM:
                    if stop.stopped:
                        ready.append((index, Outcome(payload, error=TaskSkipped())))
                    else:
                        task = _Task(index, payload, submitted=time.monotonic())
                        if scoped:
                            fut = executor.submit(_invoke_in_scope, func, task, stop, fail_fast)
                        else:
                            fut = executor.submit(_invoke_plain, func, payload)
                        pending[fut] = task
                        fut.add_done_callback(done)
                    index += 1
                elif kind == _DONE:
                    done_task = pending.pop(payload, None)
                    if done_task is not None:  # None: already reported as expired or skipped
                        ready.append((done_task.index, _outcome_of(payload, done_task)))
                elif kind == _END:
                    exhausted = True
                else:
                    raise payload
            if timeout is not None:
                now = time.monotonic()
                for fut, task in list(pending.items()):
                    began = task.started if scoped else task.submitted
                    if began is not None and now - began >= timeout:
                        del pending[fut]
                        expired_any = True
                        task.scope.cancel("timeout")
                        fut.cancel()  # still queued inside a foreign executor: never start
                        expired: Outcome[T, R] = Outcome(
                            task.item, error=TaskTimeout(timeout), duration=now - began
                        )
                        ready.append((task.index, expired))
            if fail_fast and not stop.stopped and any(_is_failure(o) for _, o in ready):
                stop.set()
            if stop.stopped:
                # Before anything is yielded: the workers keep going while the consumer
                # holds an outcome, and none of them may pick up a queued task.
                for fut, task in list(pending.items()):
                    if fut.cancel():
                        del pending[fut]
                        ready.append((task.index, Outcome(task.item, error=TaskSkipped())))
            for idx, outcome in ready:
                for out in emitter.add(idx, outcome):
                    feeder.release()
                    yield out
    except BaseException:
        # KeyboardInterrupt, GeneratorExit (the consumer closed the iterator) or an error
        # raised by *items*: start nothing new, cancel what runs, wait a bounded time.
        stop.set()
        feeder.close()
        try:
            for fut, task in pending.items():
                if not fut.cancel():
                    task.scope.cancel("interrupted")
            running = [f for f in pending if not f.done()]
            if running:
                wait(running, timeout=INTERRUPT_GRACE)
        finally:
            if own:
                _shutdown(executor, cancel=True, terminate=True)
        raise
    else:
        if own:
            _shutdown(executor, cancel=False, terminate=expired_any)


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


# --------------------------------------------------------------------------- asyncio


async def _attempt(
    func: Callable[[T], Awaitable[R]], item: T, timeout: float | None
) -> Outcome[T, R]:
    """Run one task on the loop, turning whatever it raises into an outcome."""
    import asyncio

    start = time.monotonic()
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline:
            # With backend="async" a plain function is accepted too; its value is used as is.
            value: Any = func(item)
            result: R = await value if inspect.isawaitable(value) else value
    except TimeoutError as exc:
        error: BaseException = exc
        if deadline.expired():
            assert timeout is not None
            error = TaskTimeout(timeout)
        return Outcome(item, None, error, time.monotonic() - start)
    except asyncio.CancelledError as exc:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # the scheduler is cancelling this task
        return Outcome(item, None, exc, time.monotonic() - start)
    except Exception as exc:
        return Outcome(item, None, exc, time.monotonic() - start)
    return Outcome(item, result, None, time.monotonic() - start)


def _run_async(
    func: Callable[[T], Awaitable[R]],
    items: Iterable[T],
    workers: int,
    fail_fast: bool,
    timeout: float | None,
    ordered: bool,
) -> Outcomes[T, R]:
    import asyncio

    loop = asyncio.new_event_loop()
    it = iter(items)
    emitter: _Emitter[T, R] = _Emitter(ordered)
    pending: dict[asyncio.Task[Outcome[T, R]], int] = {}
    sem = asyncio.Semaphore(workers)
    stopped = False

    async def one(item: T) -> Outcome[T, R]:
        nonlocal stopped
        async with sem:
            if stopped:
                return Outcome(item, error=TaskSkipped())
            outcome: Outcome[T, R] = await _attempt(func, item, timeout)
            if fail_fast and outcome.error is not None:
                # Set while still holding the semaphore: no waiting task gets to start.
                stopped = True
            return outcome

    index = 0
    exhausted = False
    try:
        try:
            while True:
                while not exhausted and not stopped and len(pending) + emitter.held < 2 * workers:
                    try:
                        item = next(it)
                    except StopIteration:
                        exhausted = True
                        break
                    pending[loop.create_task(one(item))] = index
                    index += 1
                if not pending:
                    break
                done, _ = loop.run_until_complete(
                    asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                )
                ready = [(pending.pop(task), task.result()) for task in done]
                for idx, outcome in ready:
                    yield from emitter.add(idx, outcome)
            if stopped:
                for item in it:
                    yield from emitter.add(index, Outcome(item, error=TaskSkipped()))
                    index += 1
        except BaseException:
            # KeyboardInterrupt, GeneratorExit or an error raised by *items*.
            stopped = True
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.wait(pending, timeout=INTERRUPT_GRACE))
            raise
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


# --------------------------------------------------------------------------- progress


def _with_progress(gen: Outcomes[T, R], desc: str) -> Outcomes[T, R]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[errors]} errors"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    errors = 0
    try:
        with progress:
            task_id = progress.add_task(desc, total=None, errors=0)
            for outcome in gen:
                if not outcome.ok:
                    errors += 1
                progress.update(task_id, advance=1, errors=errors)
                yield outcome
    finally:
        # Closing this wrapper early must close the run too, so that it cancels its tasks.
        gen.close()
