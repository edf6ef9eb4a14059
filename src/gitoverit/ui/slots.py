"""The multi-slot display for network work and ``gitoverit exec``.

One row per slot, exactly as many slots as the concurrency limit: a spinner, the
repo, its elapsed time and the latest line of git's own progress output (or of the
command's output). A finished repo
prints a permanent line above the rows (✓, ✗ with the reason, ⏱ for a timeout) and frees
its slot in the same step. Without a terminal, it writes one plain line per finished repo.

All methods are thread-safe; workers call them directly.
"""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import IO, Any

from gitoverit.model import Event, Reason, RepoDone, RepoProgress, RepoRecord, RepoStarted
from gitoverit.text import safe_text


def finished_line(record: RepoRecord) -> tuple[str, str]:
    """The permanent line for a finished repo, and its style."""
    path = safe_text(record.ref.display_path)
    if record.error is not None:
        if record.error.reason is Reason.TIMEOUT:
            return f"⏱ {path}: {safe_text(record.error.message)}", "yellow"
        if record.error.reason is Reason.SKIPPED:
            return f"- {path}: skipped", "dim"
        reason = record.error.reason.value
        message = safe_text(record.error.message)
        if message != reason and not message.startswith(f"{reason}:"):
            message = f"{reason}: {message}"
        return f"✗ {path}: {message}", "red"
    outcome = record.final_outcome
    detail = outcome
    if record.note:
        detail += f" ({safe_text(record.note)})"
    symbol = "-" if outcome == "skipped" else "✓"
    return f"{symbol} {path}: {detail}", "green" if symbol == "✓" else "dim"


class SlotDisplay:
    """Live rows for in-flight repos on stderr (terminal), or plain lines (no terminal)."""

    def __init__(
        self, slots: int, *, live: bool | None = None, stream: IO[str] | None = None
    ) -> None:
        self.slots = slots
        self._stream = stream if stream is not None else sys.stderr
        self.live = self._stream.isatty() if live is None else live
        self._lock = threading.Lock()
        self._free = list(range(slots))
        self._slot_of: dict[str, int] = {}
        self._rows: list[tuple[str, str] | None] = [None] * slots
        self._progress: Any = None
        self._task_ids: list[Any] = []
        if self.live:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}", markup=False),
                TimeElapsedColumn(),
                TextColumn("{task.fields[line]}", markup=False, style="dim"),
                console=Console(file=self._stream, highlight=False),
                transient=True,
            )
            self._task_ids = [
                self._progress.add_task("", start=False, visible=False, line="")
                for _ in range(slots)
            ]

    def __enter__(self) -> SlotDisplay:
        if self._progress is not None:
            self._progress.__enter__()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.__exit__(et, ev, tb)

    @property
    def busy(self) -> int:
        with self._lock:
            return len(self._slot_of)

    def rows(self) -> list[tuple[str, str] | None]:
        """What each slot shows, in slot order: ``(repo, latest progress line)``, or
        ``None`` for a free slot."""
        with self._lock:
            return list(self._rows)

    def handle(self, event: Event) -> None:
        """Route a worker event; other events are ignored."""
        if isinstance(event, RepoStarted):
            self.started(event.ref.path, event.ref.display_path)
        elif isinstance(event, RepoProgress):
            self.progress(event.ref.path, event.line)
        elif isinstance(event, RepoDone):
            self.finished(event.record)

    def started(self, key: str, label: str) -> None:
        with self._lock:
            # Free slots always exist: the pool never runs more tasks than there are slots.
            slot = self._free.pop(0) if self._free else None
            if slot is None:
                return
            self._slot_of[key] = slot
            self._rows[slot] = (safe_text(label), "")
        if self._progress is not None:
            self._progress.reset(
                self._task_ids[slot],
                start=True,
                visible=True,
                description=safe_text(label),
                line="",
            )

    def progress(self, key: str, line: str) -> None:
        text = safe_text(line)[-100:]
        with self._lock:
            slot = self._slot_of.get(key)
            if slot is None:
                return
            row = self._rows[slot]
            if row is not None:
                self._rows[slot] = (row[0], text)
            # Under the lock, so a line can never land on a slot already handed to the
            # next repo.
            if self._progress is not None:
                self._progress.update(self._task_ids[slot], line=text)

    def message(self, text: str, style: str = "yellow") -> None:
        """Print *text* (already escaped) above the rows, or as a plain line."""
        with self._lock:
            if self._progress is not None:
                from rich.text import Text

                self._progress.console.print(Text(text, style=style))
            else:
                self._stream.write(text + "\n")
                self._stream.flush()

    def finished(self, record: RepoRecord) -> None:
        self.done(record.ref.path, *finished_line(record))

    def done(self, key: str, text: str, style: str) -> None:
        """The work on *key* ended: print *text* (already escaped) as its permanent line,
        in *style*, and free its slot."""
        with self._lock:
            slot = self._slot_of.pop(key, None)
            if self._progress is not None:
                from rich.text import Text

                self._progress.console.print(Text(text, style=style))
                if slot is not None:
                    self._progress.update(self._task_ids[slot], visible=False, line="")
            else:
                self._stream.write(text + "\n")
                self._stream.flush()
            if slot is not None:
                self._rows[slot] = None
                self._free.append(slot)
                self._free.sort()
