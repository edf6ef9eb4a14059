"""The full-screen watch (Textual): the scan's table, kept current.

The rows, columns, fitting rules, sort and filter are the scan table's
(:func:`gitoverit.output.table.table_lines`); the app only draws the lines, keeps the
selection on the same repository across updates, and runs the keys' work in workers so
the screen never waits on git.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Static

from gitoverit.model import RepoRecord
from gitoverit.watch.view import Filter, shown, totals
from gitoverit.watch.watcher import (
    FetchDone,
    Notice,
    Ready,
    RecordChanged,
    RepoRemoved,
    Watcher,
    WatchEvent,
    WatchOptions,
)

#: The sort keys ``s`` goes through, in turn.
SORT_CYCLE = ("mtime", "status", "dir", "name", "branch", "ahead", "behind")


class WatchApp(App[int]):
    """The table of every repository, with its keys (see :data:`~.screens.KEYS_HELP`)."""

    TITLE = "gitoverit watch"
    CSS = """
    #header { height: 1; background: $panel; }
    #columns { height: 1; text-style: bold; }
    #table { height: 1fr; }
    #filter, #filter-error { display: none; }
    #filter-error { color: $error; height: auto; }
    #notice { height: 1; color: $text-muted; }
    RepoScreen, HelpScreen { align: center middle; }
    #repo, #help { width: 95%; height: 90%; background: $surface; border: round $accent; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit_app", "quit"),
        Binding("slash", "edit_filter", "filter"),
        Binding("s", "cycle_sort", "sort"),
        Binding("d", "toggle_dirty", "dirty only"),
        Binding("f", "fetch", "fetch"),
        Binding("p", "pull", "pull"),
        Binding("question_mark", "help", "help"),
        Binding("escape", "close_filter", show=False),
    ]

    def __init__(self, options: WatchOptions, plan: Any, keep: Filter) -> None:
        super().__init__()
        self.options = options
        self.columns: tuple[str, ...] = plan.columns
        self.priorities = dict(plan.column_priorities)
        self.sort_key: str = plan.sort_key
        self.reverse: bool = plan.reverse
        self.keep = keep
        #: The text of the ``-w`` filter in force (for ``/``), when it came from the app.
        self.filter_text = ""
        self.records: dict[str, RepoRecord] = {}
        self.ready = False
        self.fetching = False
        self.watcher = Watcher(options, self._on_event)
        self._stop: Any = None
        self._redraw_due = False

    def compose(self) -> ComposeResult:
        yield Static("reading…", id="header")
        yield Static("", id="columns")
        table: DataTable[Any] = DataTable(
            id="table", cursor_type="row", show_header=False, cell_padding=0, zebra_stripes=False
        )
        yield table
        yield Input(placeholder="-w expression, e.g. dirty and branch != 'main'", id="filter")
        yield Static("", id="filter-error")
        yield Static("? help", id="notice")

    async def on_mount(self) -> None:
        import asyncio

        self._stop = asyncio.Event()
        self.query_one(DataTable).add_column("", key="row")
        self.run_worker(self.watcher.run(self._stop), name="watch", exit_on_error=True)

    async def on_unmount(self) -> None:
        if self._stop is not None:
            self._stop.set()

    # -- what the watch tells -----------------------------------------------------------

    def _on_event(self, event: WatchEvent) -> None:
        if isinstance(event, RecordChanged):
            self.records[event.record.ref.path] = event.record
        elif isinstance(event, RepoRemoved):
            self.records.pop(event.ref.path, None)
        elif isinstance(event, Ready):
            self.ready = True
        elif isinstance(event, Notice):
            self.notice(event.text)
        elif isinstance(event, FetchDone):
            self.fetching = False
            failed = f", {event.failed} failed" if event.failed else ""
            self.notice(f"fetched {event.total} repos{failed}")
        if self.ready and not self._redraw_due:
            # Many records often change at once: draw them together.
            self._redraw_due = True
            self.set_timer(0.05, self.redraw)

    def notice(self, text: str) -> None:
        from rich.text import Text

        self.query_one("#notice", Static).update(Text(text))

    def header_text(self) -> str:
        """The totals, the last fetch, the sort and the filter in force."""
        parts = [totals(self.records.values()).text()]
        last = self.watcher.last_fetch
        fetch = time.strftime("%H:%M:%S", time.localtime(last)) if last else "never"
        parts.append("fetching…" if self.fetching else f"last fetch {fetch}")
        parts.append(f"sort {self.sort_key}{' (reversed)' if self.reverse else ''}")
        if self.keep.dirty_only:
            parts.append("dirty only")
        if self.keep.where is not None:
            parts.append(f"-w {self.filter_text}" if self.filter_text else "-w (given)")
        return "  │  ".join(parts)

    def redraw(self) -> None:
        """Draw the table again from the records, keeping the selected repository."""
        from rich.text import Text

        from gitoverit.output.table import table_lines

        self._redraw_due = False
        table = self.query_one(DataTable)
        rows = shown(self.records.values(), self.keep, self.sort_key, self.reverse)
        width = max(20, table.size.width or self.size.width)
        lines = table_lines(rows, self.columns, width, priorities=self.priorities)
        self.query_one("#header", Static).update(Text(self.header_text()))
        self.query_one("#columns", Static).update(lines[0])
        selected = self.selected_path()
        table.clear()
        table.columns[next(iter(table.columns))].width = width
        for record, line in zip(rows, lines[1:], strict=True):
            table.add_row(line, key=record.ref.path)
        if selected is not None and selected in {r.ref.path for r in rows}:
            table.move_cursor(row=table.get_row_index(selected), animate=False)

    def on_resize(self) -> None:
        if self.ready:
            self.redraw()

    def selected_path(self) -> str | None:
        """The path of the repository under the cursor, if any."""
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return str(key.value) if key.value is not None else None

    # -- keys ---------------------------------------------------------------------------

    def action_quit_app(self) -> None:
        self.exit(0)

    def action_cycle_sort(self) -> None:
        keys = SORT_CYCLE
        self.sort_key = (
            keys[(keys.index(self.sort_key) + 1) % len(keys)]
            if (self.sort_key in keys)
            else keys[0]
        )
        self.redraw()

    def action_toggle_dirty(self) -> None:
        self.keep = Filter(dirty_only=not self.keep.dirty_only, where=self.keep.where)
        self.redraw()

    def action_edit_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = self.filter_text
        box.display = True
        box.focus()

    def action_close_filter(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one("#filter-error", Static).display = False
        self.query_one(DataTable).focus()

    def on_input_submitted(self, message: Input.Submitted) -> None:
        """Apply the filter typed; a bad one shows its caret and the old one stays."""
        from rich.text import Text

        from gitoverit.query import RECORD_TYPES, ExprError, compile_expr

        text = message.value.strip()
        try:
            where = compile_expr(text, types=RECORD_TYPES) if text else None
        except ExprError as exc:
            error = self.query_one("#filter-error", Static)
            error.update(Text(exc.render()))
            error.display = True
            return
        self.filter_text = text
        self.keep = Filter(dirty_only=self.keep.dirty_only, where=where)
        self.action_close_filter()
        self.redraw()

    def action_fetch(self) -> None:
        if self.fetching or not self.ready:
            return
        self.fetching = True
        self.query_one("#header", Static).update(self.header_text())
        self.run_worker(self.watcher.fetch_all(), name="fetch", group="fetch")

    def action_pull(self) -> None:
        path = self.selected_path()
        if path is None or path not in self.watcher.repos.refs:
            return
        self.notice(f"pulling {self.records[path].ref.display_path}…")
        self.run_worker(self._pull(path), name="pull", group="pull")

    async def _pull(self, path: str) -> None:
        from gitoverit.text import safe_text

        record = await self.watcher.pull(path)
        shown_path = safe_text(record.ref.display_path)
        if record.error is not None:
            self.notice(
                f"{shown_path}: {record.error.reason.value}: {safe_text(record.error.message)}"
            )
        else:
            note = f": {safe_text(record.note)}" if record.note else ""
            self.notice(f"{shown_path}: {record.final_outcome}{note}")

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        from gitoverit.watch.screens import RepoScreen

        ref = self.watcher.repos.refs.get(str(message.row_key.value))
        if ref is not None:
            self.push_screen(RepoScreen(ref))

    def action_help(self) -> None:
        from gitoverit.watch.screens import HelpScreen

        self.push_screen(HelpScreen())


def run_app(options: WatchOptions, plan: Any, keep: Filter) -> int:
    """Run the full-screen watch until ``q``; returns the exit code."""
    from gitoverit.process import kill_all

    try:
        return WatchApp(options, plan, keep).run() or 0
    finally:
        kill_all()
