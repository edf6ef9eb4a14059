"""The asyncio backend of :func:`~gitoverit.parallel.run_parallel`: coroutines on a private
event loop, at most *workers* at a time.

asyncio is imported when a run starts, never when this module is: it costs start-up time
that the thread backend never needs.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from gitoverit.parallel._light import TaskSkipped, TaskTimeout
from gitoverit.parallel._outcome import Emitter, Outcome, Outcomes

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")
R = TypeVar("R")


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


def run_async(
    func: Callable[[T], Awaitable[R]],
    items: Iterable[T],
    workers: int,
    fail_fast: bool,
    timeout: float | None,
    ordered: bool,
    grace: float,
) -> Outcomes[T, R]:
    """:func:`~gitoverit.parallel.run_parallel` on a private asyncio loop; *grace* is how
    long running tasks get after an interrupt."""
    import asyncio

    loop = asyncio.new_event_loop()
    it = iter(items)
    emitter: Emitter[T, R] = Emitter(ordered)
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
                loop.run_until_complete(asyncio.wait(pending, timeout=grace))
            raise
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()
