"""The scan progress display: a discovery counter, then a completed/total bar.

Transient and on stderr; used only when stderr is a terminal. Messages print above the bar
through :meth:`ScanProgress.print` without breaking it.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from gitoverit.model import DiscoveryDone, Event, RepoDone, RepoFound, ScanWarning
from gitoverit.text import safe_text


class ScanProgress:
    """Consumes scan events and keeps a Rich progress bar up to date."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = Console(stderr=True, highlight=False)
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[errors_text]}[/red]"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[current]}", markup=False),
            console=self.console,
            transient=True,
        )
        self._task = self._progress.add_task("Discovering", total=None, errors_text="", current="")
        self.found = 0
        self.done = 0
        self.errors = 0

    def __enter__(self) -> ScanProgress:
        self._progress.__enter__()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.__exit__(et, ev, tb)

    def print(self, *objects: Any) -> None:
        self._progress.console.print(*objects)

    def handle(self, event: Event) -> None:
        if isinstance(event, RepoFound):
            self.found += 1
            self._progress.update(self._task, description=f"Discovering ({self.found} found)")
        elif isinstance(event, DiscoveryDone):
            self._progress.update(self._task, total=event.count, description="Scanning")
        elif isinstance(event, RepoDone):
            self.done += 1
            if event.record.error is not None:
                self.errors += 1
            self._progress.update(
                self._task,
                completed=self.done,
                errors_text=(
                    f"{self.errors} error{'s' if self.errors != 1 else ''}" if self.errors else ""
                ),
                current=safe_text(event.record.ref.display_path)[-60:],
            )
        elif isinstance(event, ScanWarning):
            from rich.text import Text

            self.print(
                Text(
                    f"warning: {safe_text(event.path)}: {safe_text(event.message)}", style="yellow"
                )
            )
