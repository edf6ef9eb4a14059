"""``run_parallel`` and friends: many independent tasks at once, no result ever lost.

This module checks the arguments, picks a backend (:mod:`._executor` for threads, processes
and foreign executors; :mod:`._async` for coroutines) and adds the optional progress bar.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Awaitable, Callable, Iterable, Sized
from concurrent.futures import Executor
from typing import Any, Literal, TypeVar, overload

from gitoverit.parallel._async import run_async
from gitoverit.parallel._executor import run_executor
from gitoverit.parallel._light import optimal_workers
from gitoverit.parallel._outcome import Outcomes
from gitoverit.parallel._progress import is_terminal, with_progress

T = TypeVar("T")
R = TypeVar("R")

Backend = Literal["thread", "process", "async"] | Executor

#: After Ctrl-C (or closing the iterator early) running tasks get this long to finish
#: before the caller sees the interrupt. Read when a run starts; module-level so tests can
#: shrink it.
INTERRUPT_GRACE = 2.0


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

    An outcome unpacks to ``(item, result, error)``: ``for item, result, error in
    run_parallel(...)``.

    Backends: ``"thread"`` (default), ``"process"`` (*func* and items must pickle), ``"async"``,
    or any :class:`concurrent.futures.Executor`, which is not shut down here. A distributed
    one spreads the work over machines, for example dask's ``Client.get_executor()``: *func*,
    items and results must pickle, its workers need this package, and every item runs
    once even when items repeat. An ``async def`` *func* always runs on a private asyncio
    loop, limited by a semaphore of *max_workers*, whatever *backend* says; the caller must
    not already be running a loop on this thread.

    ``max_workers`` defaults to :func:`optimal_workers` of ``len(items)`` (when *items* has
    a length): CPU-bound (one per CPU) for ``"process"``, I/O-bound (up to 100) otherwise.

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

    ``desc``: when set and stderr is a terminal, a Rich progress bar labelled *desc* counts
    the outcomes (out of ``len(items)`` when known) and the errors among them, on stderr,
    and is erased at the end; when stderr is not a terminal nothing at all is written.
    """
    _check_arguments(max_workers, backend, timeout)
    total = len(items) if isinstance(items, Sized) else None
    # Processes are CPU workers: one per CPU. Threads, coroutines and a caller's executor
    # mostly wait, so they get the I/O-bound default.
    workers = max_workers or optimal_workers(total, io_bound=backend != "process")
    gen: Outcomes[T, Any]
    if backend == "async" or inspect.iscoroutinefunction(func):
        gen = run_async(func, items, workers, fail_fast, timeout, ordered, INTERRUPT_GRACE)
    else:
        assert not isinstance(backend, str) or backend in ("thread", "process")
        gen = run_executor(
            func, items, backend, workers, fail_fast, timeout, ordered, INTERRUPT_GRACE
        )
    if desc is not None and is_terminal(sys.stderr):
        gen = with_progress(gen, desc, total)
    return gen


def _check_arguments(max_workers: int | None, backend: Backend, timeout: float | None) -> None:
    """Refuse arguments that no run could use, before anything starts."""
    if max_workers is not None and max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    if timeout is not None and timeout <= 0:
        raise ValueError("timeout must be positive")
    if not (isinstance(backend, Executor) or backend in ("thread", "process", "async")):
        raise ValueError(f"unknown backend {backend!r}")


def batch_map(func: Callable[[T], R], items: Iterable[T], **kw: Any) -> list[R]:
    """Run :func:`run_parallel` and return the successful results, in input order.

    Failed, timed-out and skipped items are left out; use :func:`run_parallel` when you
    need to know about them.
    """
    kw.setdefault("ordered", True)
    return [o.result for o in run_parallel(func, items, **kw) if o.ok]  # type: ignore[misc]
