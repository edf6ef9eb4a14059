"""File-system events for the folders being watched, from ``watchfiles`` (Rust notify:
inotify on Linux, FSEvents on macOS).

One thread waits on the notifier and hands each batch of changed paths to a callback.
When the system's limit on watched folders is reached (inotify's
``fs.inotify.max_user_watches``), as many repositories as fit are watched and the others
are named in :attr:`EventSource.polled`, for the caller to poll.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Sequence
from typing import Any

#: How long the notifier gathers a burst of changes, and how long a quiet spell ends one
#: (milliseconds). The watch loop debounces per repository on top of this.
NOTIFY_DEBOUNCE_MS = 50
NOTIFY_STEP_MS = 50
#: How often the waiting thread looks whether it should stop (milliseconds).
NOTIFY_TIMEOUT_MS = 1000

#: What to tell the user when the limit is reached.
LIMIT_HINT = (
    "the system's limit on watched folders is reached (inotify); raise it with "
    "`sudo sysctl fs.inotify.max_user_watches=524288` (add "
    "`fs.inotify.max_user_watches=524288` to /etc/sysctl.conf to keep it)"
)


def is_limit_error(exc: BaseException) -> bool:
    """Whether *exc* says the system's watch limit is reached."""
    return isinstance(exc, OSError) and "watch limit" in str(exc)


def _notifier(paths: Sequence[str], *, tolerant: bool) -> Any:
    from watchfiles._rust_notify import RustNotify

    # debug, force_polling, poll_delay_ms, recursive, ignore_permission_denied
    return RustNotify(list(paths), False, False, 300, True, tolerant)


class EventSource:
    """Changed paths under *roots*, passed to *on_paths* (from a thread of its own)."""

    def __init__(self, roots: Sequence[str], on_paths: Callable[[set[str]], None]) -> None:
        self.roots = tuple(roots)
        self.on_paths = on_paths
        #: With the limit reached, the repositories a watch covers; the caller polls the
        #: others.
        self.covered: frozenset[str] = frozenset()
        #: Whether the watch limit was reached.
        self.limited = False
        self._notify: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, repos: Sequence[str]) -> None:
        """Watch the roots; when the limit forbids it, as many of *repos* as fit."""
        try:
            self._notify = _notifier(self.roots, tolerant=False)
        except OSError as exc:
            if not is_limit_error(exc):
                # An unreadable folder: watch what can be read.
                self._notify = _notifier(self.roots, tolerant=True)
            else:
                self.limited = True
                self._notify = self._watch_what_fits(list(repos))
        self._thread = threading.Thread(target=self._run, name="gitoverit-watch", daemon=True)
        self._thread.start()

    def _watch_what_fits(self, repos: list[str]) -> Any:
        """A notifier for the longest run of *repos* the limit allows (the rest polled)."""
        low, high = 0, len(repos)  # repos[:low] fit; repos[:high + 1] do not
        while low < high:
            mid = (low + high + 1) // 2
            try:
                _notifier(repos[:mid], tolerant=False)
                fits = True
            except OSError:
                fits = False
            gc.collect()  # frees the watches the attempt took
            low, high = (mid, high) if fits else (low, mid - 1)
        self.covered = frozenset(repos[:low])
        return _notifier(repos[:low], tolerant=True) if low else None

    def _run(self) -> None:
        notify = self._notify
        while notify is not None and not self._stop.is_set():
            try:
                changes = notify.watch(
                    NOTIFY_DEBOUNCE_MS, NOTIFY_STEP_MS, NOTIFY_TIMEOUT_MS, self._stop
                )
            except Exception:  # a notifier that failed: stop watching, polling carries on
                return
            if isinstance(changes, set) and changes:
                self.on_paths({path for _change, path in changes})
            elif changes == "stop":
                return

    def stop(self) -> None:
        """Stop the thread (within a step) and release the watches."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._notify = None
