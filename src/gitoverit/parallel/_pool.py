"""A minimal thread pool whose workers are daemon threads.

``concurrent.futures.ThreadPoolExecutor`` joins its workers at interpreter exit, so one
task stuck in a blocking call keeps Python alive forever after Ctrl-C (the "atexit-join
trap"). This pool's workers are daemon threads that nothing joins: once the caller has
stopped waiting, the interpreter can exit. It is an ordinary ``Executor``.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_counter = itertools.count()


class DaemonThreadPool(Executor):
    """Run callables on at most *max_workers* daemon threads, started on demand."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "gitoverit") -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self._max_workers = max_workers
        self._prefix = thread_name_prefix
        self._queue: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = (
            queue.SimpleQueue()
        )
        self._threads: list[threading.Thread] = []
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._shutdown = False

    def submit(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> Future[R]:
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot submit after shutdown")
            fut: Future[R] = Future()
            self._queue.put((fut, lambda: fn(*args, **kwargs)))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self._max_workers:
                t = threading.Thread(
                    target=self._work, name=f"{self._prefix}-{next(_counter)}", daemon=True
                )
                self._threads.append(t)
                t.start()
            return fut

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            fut, call = job
            if fut.set_running_or_notify_cancel():
                try:
                    result = call()
                except BaseException as exc:
                    fut.set_exception(exc)
                    del exc
                else:
                    fut.set_result(result)
            del job, fut, call
            self._idle.release()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                while True:
                    try:
                        job = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if job is not None:
                        job[0].cancel()
            for _ in self._threads:
                self._queue.put(None)
        if wait:
            for t in self._threads:
                t.join()
