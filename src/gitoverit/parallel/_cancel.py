"""Per-task cancellation scopes.

Each task run by :func:`gitoverit.parallel.run_parallel` gets a :class:`CancelScope`. Code
running inside the task (notably the git runner) registers a callback on the current scope;
when the task times out or the run is interrupted, the scheduler cancels the scope, and the
callbacks kill whatever the task started. This is how a timed-out *thread* task still gets
its git process group killed, even though Python cannot interrupt the thread itself.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

_local = threading.local()


class CancelScope:
    """A thread-safe cancellation flag with callbacks that run once, on cancel."""

    __slots__ = ("_callbacks", "_handles", "_lock", "_reason", "cancelled")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handles = itertools.count()
        self._callbacks: dict[int, Callable[[], None]] = {}
        self._reason = ""
        self.cancelled = False

    @property
    def reason(self) -> str:
        """Why the scope was cancelled (``"timeout"`` or ``"interrupted"``), or ``""``."""
        return self._reason

    def add_callback(self, callback: Callable[[], None]) -> int:
        """Register *callback*; run it at once if the scope is already cancelled.

        Callbacks run on the cancelling thread, usually the scheduler's, so they must only
        signal (send a signal, set a flag) and never block. Returns a handle for
        :meth:`remove_callback`.
        """
        with self._lock:
            handle = next(self._handles)
            if not self.cancelled:
                self._callbacks[handle] = callback
                return handle
        callback()
        return handle

    def remove_callback(self, handle: int) -> None:
        """Forget the callback registered under *handle* (a no-op once it has run)."""
        with self._lock:
            self._callbacks.pop(handle, None)

    def cancel(self, reason: str = "interrupted") -> None:
        """Mark the scope cancelled and run every registered callback once."""
        with self._lock:
            if self.cancelled:
                return
            self.cancelled = True
            self._reason = reason
            callbacks = list(self._callbacks.values())
            self._callbacks.clear()
        for cb in callbacks:
            with suppress(Exception):
                cb()


def current_scope() -> CancelScope | None:
    """The scope of the task running on this thread, or ``None`` outside a task."""
    return getattr(_local, "scope", None)


@contextmanager
def enter_scope(scope: CancelScope) -> Iterator[CancelScope]:
    """Make *scope* current on this thread for the duration of the block."""
    previous = getattr(_local, "scope", None)
    _local.scope = scope
    try:
        yield scope
    finally:
        _local.scope = previous
