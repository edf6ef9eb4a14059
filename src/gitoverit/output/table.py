"""The human table: one line per repository, fitted to the terminal, with a legend."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING

from gitoverit.model import RepoRecord
from gitoverit.output.cells import LEGEND, UNCHECKED_LEGEND, UNTRUSTED_LEGEND, Cell, Span
from gitoverit.output.columns import COLUMNS, DEFAULT_COLUMNS, SHRINK_ORDER, Column

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

#: Spaces between two columns.
GAP = 1

#: A free-text column is not cut below this many cells while another column can give way.
MIN_CUT = 8

#: The priority of a column that ``column_priorities`` does not name (see
#: :func:`fit_widths`): between the URL's and the time's defaults.
DEFAULT_PRIORITY = 100


#: Path columns lose their start, not their end: the repo's own name is what tells rows
#: apart, and it comes last.
_CUT_LEFT = frozenset({"dir", "path", "parent"})


def _cut_left(text: str, width: int) -> str:
    """*text* shortened to *width* cells by dropping characters from the start."""
    from rich.cells import cell_len

    if width <= 1:
        return "…"[:width]
    keep = text
    while keep and cell_len(keep) > width - 1:
        keep = keep[1:]
    return "…" + keep


def fit_widths(
    natural: Sequence[int],
    cuttable: Sequence[bool],
    avail: int,
    *,
    gap: int = GAP,
    priority: Sequence[int] | None = None,
) -> list[int]:
    """Column widths that fit *avail* cells, given each column's *natural* width.

    Nothing changes when the natural widths fit. Otherwise the widest free-text
    (*cuttable*) columns give way first, down to :data:`MIN_CUT` cells each; only when that
    is not enough does every column, widest first, give way down to one cell. Rich's own
    last resort cuts every column evenly, which would garble short fixed-format cells such
    as counts and ages while a long path still had room to spare. With *priority*, a
    free-text column with a lower priority gives way before one with a higher priority.
    """
    rank = priority if priority is not None else [0] * len(natural)
    widths = list(natural)
    excess = sum(widths) + gap * max(0, len(widths) - 1) - avail
    even = [0] * len(widths)
    for pool, floor, order in ((cuttable, MIN_CUT, rank), ([True] * len(widths), 1, even)):
        while excess > 0:
            # Take a cell from the widest column that may still give way (of those with
            # the lowest priority, while free text is cut), so the cut is shared and the
            # shortest cells are kept whole longest.
            candidates = [i for i, w in enumerate(widths) if pool[i] and w > min(floor, natural[i])]
            if not candidates:
                break
            widest = min(candidates, key=lambda i: (order[i], -widths[i], i))
            widths[widest] -= 1
            excess -= 1
    return widths


def render_table(
    records: Sequence[RepoRecord],
    out: IO[str],
    *,
    columns: Sequence[str] | None = None,
    color: bool | None = None,
    width: int | None = None,
    legend: bool = True,
    notes: Sequence[str] = (),
    terminal: bool | None = None,
    aside: IO[str] | None = None,
    priorities: Mapping[str, int] | None = None,
    console: Console | None = None,
) -> None:
    """Write *records* (already sorted) as a table to *out*, one line per record.

    The table fits *width* (default: the terminal's; unlimited when *out* is not a
    terminal and ``COLUMNS`` is unset). Columns first lose detail in
    ``SHRINK_ORDER``; only then are free-text columns cut with an ellipsis. No line ends
    in blanks: *out* gets the header and one line per record, nothing else. When *out* is
    a *terminal* (by default: when it is one), the legend and the *notes* follow on
    *aside* (default: stderr), wrapped to the table's width.
    """
    cols = [COLUMNS[c] for c in (columns if columns is not None else DEFAULT_COLUMNS)]
    if terminal is None:
        terminal = hasattr(out, "isatty") and out.isatty()
    plain_width = None if console is not None or terminal else _plain_width(out, width, color)
    if plain_width is not None:
        # Surely uncoloured (a pipe or a file): no console is needed, nor its import.
        if cols and records:
            layout = _Layout(records, cols, time.time(), priorities or {})
            widths = layout.fit(plain_width)
            out.write("".join(line + "\n" for line in _plain_lines(layout, widths)))
        return
    if console is None:
        console = _console(out, width, color)
    if cols and records:
        layout = _Layout(records, cols, time.time(), priorities or {})
        widths = layout.fit(console.width)
        if console.color_system is None or console.no_color:
            # Nothing to colour: plain text, written at once.
            out.write("".join(line + "\n" for line in _plain_lines(layout, widths)))
        else:
            from rich.text import Text

            lines = _lines(layout, widths)
            console.print(Text("\n").join(lines), no_wrap=True, overflow="ignore", crop=False)
    if not terminal:
        return
    after = list(notes)
    if legend and records and any(c.name == "status" for c in cols):
        after[:0] = _legend(records)
    if after:
        import sys

        out.flush()
        side = _console(aside or sys.stderr, console.width, color)
        for item_line in after:
            _print_wrapped(side, item_line.split("  "))


def table_lines(
    records: Sequence[RepoRecord],
    columns: Sequence[str],
    width: int,
    *,
    priorities: Mapping[str, int] | None = None,
    now: float | None = None,
) -> list[Text]:
    """The header and one line per record (already sorted), fitted to *width* cells by
    the rules of :func:`render_table`, as styled text: for a display that draws them
    itself (``gitoverit watch``)."""
    cols = [COLUMNS[c] for c in columns]
    layout = _Layout(records, cols, time.time() if now is None else now, priorities or {})
    return _lines(layout, layout.fit(width))


def _legend(records: Sequence[RepoRecord]) -> list[str]:
    """The legend's lines: the status marks, and what a ``?`` means when one is shown."""
    statuses = [r.status for r in records if r.status is not None]
    lines = [LEGEND]
    if any(st.dirty is None for st in statuses):
        lines.append(UNCHECKED_LEGEND)
    if any(st.untrusted_config for st in statuses):
        lines.append(UNTRUSTED_LEGEND)
    return lines


def _print_wrapped(console: Console, items: Sequence[str]) -> None:
    """*items* on as few lines as the console's width allows, two spaces apart; an item is
    broken only when it is wider than a whole line."""
    from rich.cells import cell_len
    from rich.text import Text

    lines: list[str] = []
    for item in items:
        if lines and cell_len(lines[-1]) + 2 + cell_len(item) <= console.width:
            lines[-1] += "  " + item
        else:
            lines.append(item)
    for line in lines:
        console.print(Text(line, style="dim"), overflow="fold")


def _plain_width(out: IO[str], width: int | None, color: bool | None) -> int | None:
    """The width of a table that :func:`_console` would surely leave uncoloured, told
    without one: *out* is not a terminal and nothing forces colour (*color*, or
    ``FORCE_COLOR`` or ``TTY_COMPATIBLE=1``, which rich follows); ``None`` when a console
    must decide, width included (``COLUMNS`` set, say)."""
    import os

    if color:
        return None
    try:
        if hasattr(out, "isatty") and out.isatty():
            return None
    except ValueError:
        return None
    env = os.environ
    if color is None and (env.get("FORCE_COLOR") is not None or env.get("TTY_COMPATIBLE") == "1"):
        return None
    if width is not None:
        return width
    return None if env.get("COLUMNS") else 100_000


def _console(out: IO[str], width: int | None, color: bool | None) -> Console:
    """A console writing to *out*, *width* cells wide (see :func:`render_table`)."""
    import os

    from rich.console import Console

    is_tty = hasattr(out, "isatty") and out.isatty()
    if width is None and not is_tty and not os.environ.get("COLUMNS"):
        width = 100_000
    console = Console(
        file=out,
        width=width,
        highlight=False,
        soft_wrap=False,
        no_color=None if color is None else not color,
        force_terminal=color if color else None,
    )
    # Rich exits with 1 when the reader of a pipe goes away; the caller decides.
    console.on_broken_pipe = _broken_pipe  # type: ignore[method-assign]
    return console


def _broken_pipe() -> None:
    raise BrokenPipeError("stdout was closed")


class _Layout:
    """The columns shown, each one's detail level, and its cells, rendered once per level."""

    def __init__(
        self,
        records: Sequence[RepoRecord],
        cols: list[Column],
        now: float,
        priorities: Mapping[str, int],
    ) -> None:
        self.records = records
        self.priorities = priorities
        self.cols = cols
        self.now = now
        self.levels = {c.name: 0 for c in cols}
        self._cache: dict[tuple[str, int], list[Cell]] = {}

    def cells(self, col: str) -> list[Cell]:
        """The cells of column *col* at its current detail level."""
        key = (col, self.levels[col])
        if key not in self._cache:
            level = key[1]
            self._cache[key] = [COLUMNS[col].render(r, level, self.now) for r in self.records]
        return self._cache[key]

    def natural(self, col: str) -> int:
        """The width column *col* needs to show every cell and its header whole."""
        from rich.cells import cell_len

        widest = max((cell_len(c.text) for c in self.cells(col)), default=0)
        return max(widest, cell_len(COLUMNS[col].header))

    def total(self) -> int:
        return sum(self.natural(c.name) for c in self.cols) + GAP * (len(self.cols) - 1)

    def fit(self, avail: int) -> list[int]:
        """Lower detail levels, drop empty columns and return widths, to fit *avail* cells."""
        for name, level in SHRINK_ORDER:
            if self.total() <= avail:
                break
            if name in self.levels and level < COLUMNS[name].levels and self.levels[name] < level:
                self.levels[name] = level
        if self.total() > avail and len(self.cols) > 1:
            # A column with nothing in any row (no remotes, say) only spends its header's width.
            filled = [c for c in self.cols if any(cell.text for cell in self.cells(c.name))]
            self.cols = filled or self.cols[:1]
        while True:
            natural = [self.natural(c.name) for c in self.cols]
            widths = fit_widths(
                natural,
                [c.cuttable for c in self.cols],
                avail,
                gap=GAP,
                priority=[self.priorities.get(c.name, DEFAULT_PRIORITY) for c in self.cols],
            )
            cut = [c.name for c, w, n in zip(self.cols, widths, natural, strict=True) if w < n]
            if "status" not in cut or len(self.cols) == 1:
                return widths
            # So narrow that the status itself would be cut: the rightmost other column
            # goes instead, since a status cut short says nothing.
            del self.cols[max(i for i, c in enumerate(self.cols) if c.name != "status")]


def _lines(layout: _Layout, widths: Sequence[int]) -> list[Text]:
    """The header and one line per record, each cell fitted to its column's width."""
    from rich.text import Text

    cols = layout.cols
    gap = " " * GAP
    header = Text(style="bold")
    for i, (c, w) in enumerate(zip(cols, widths, strict=True)):
        if i:
            header.append(gap)
        header.append(_padded(Cell(c.header), w, c.justify, cut_left=False)[0])
    lines = [header]
    columns_cells = [layout.cells(c.name) for c in cols]
    for row, r in enumerate(layout.records):
        line = Text()
        for i, (c, w, col_cells) in enumerate(zip(cols, widths, columns_cells, strict=True)):
            if i:
                line.append(gap)
            cell = col_cells[row]
            style = cell.style
            if c.name in ("dir", "name", "path") and r.dirty:
                style = "bold"
            text, spans = _padded(cell, w, c.justify, cut_left=c.name in _CUT_LEFT)
            start = len(line)
            line.append(text, style or None)
            for a, b, span_style in spans:
                line.stylize(span_style, start + a, start + b)
        line.rstrip()
        lines.append(line)
    header.rstrip()
    return lines


def _plain_lines(layout: _Layout, widths: Sequence[int]) -> list[str]:
    """The text of :func:`_lines`, without its styles: what an uncoloured table prints,
    built as plain strings (a thousand rows of styled text cost a tenth of a second)."""
    gap = " " * GAP
    specs = [(w, c.justify, c.name in _CUT_LEFT) for c, w in zip(layout.cols, widths, strict=True)]
    header = gap.join(
        _padded(Cell(c.header), w, c.justify, cut_left=False)[0]
        for c, w in zip(layout.cols, widths, strict=True)
    )
    lines = [header.rstrip()]
    columns_cells = [layout.cells(c.name) for c in layout.cols]
    for row in range(len(layout.records)):
        texts = [
            _padded(col_cells[row], w, justify, cut_left=cut_left)[0]
            for col_cells, (w, justify, cut_left) in zip(columns_cells, specs, strict=True)
        ]
        lines.append(gap.join(texts).rstrip())
    return lines


def _padded(cell: Cell, width: int, justify: str, *, cut_left: bool) -> tuple[str, list[Span]]:
    """*cell*'s text cut (with an ellipsis) or padded to *width* cells, and its spans."""
    from rich.cells import cell_len, set_cell_size

    text = cell.text
    spans = list(cell.spans)
    size = cell_len(text)
    if size > width:
        if cut_left:
            return _cut_left(text, width), []
        text = set_cell_size(text, width - 1) + "…" if width > 1 else "…"[:width]
        keep = len(text) - 1
        spans = [(a, min(b, keep), s) for a, b, s in spans if a < keep]
        return text, spans
    pad = " " * (width - size)
    if justify == "right":
        return pad + text, [(a + len(pad), b + len(pad), s) for a, b, s in spans]
    return text + pad, spans
