"""gitob's table: one line per branch, in the columns asked for, fitted to the terminal.

Each cell comes in one or more forms, longest first (a date with and without its time,
an author with and without the email, a branch with and without its ``(WT)`` mark); the
widest form that fits its column is shown. When the table is too wide, columns give up
width in the steps of ``_SQUEEZE`` (the subject first), and only then does Rich cut a
cell with ``…``. On a terminal, the upstream links to its page on a known forge and a
worktree path to its folder (OSC 8).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from gitoverit.output.branches import COLUMNS, DEFAULT_COLUMNS, status_segments
from gitoverit.output.links import file_url, forge_branch_url

if TYPE_CHECKING:
    from rich.style import Style
    from rich.text import Text

    from gitoverit.git.branches import BranchInfo


@dataclass(frozen=True, slots=True)
class _Column:
    """A column: the widest it grows (``None``: no limit), and its alignment."""

    cap: int | None = None
    right: bool = False


_LAYOUT: dict[str, _Column] = {
    "upstream": _Column(32),
    "head": _Column(12),
    "ahead": _Column(right=True),
    "behind": _Column(right=True),
    "age": _Column(right=True),
    "author": _Column(40),
    "worktree": _Column(40),
}

# When the table is too wide, columns give up width in these steps, each down to its
# floor (or its natural width, if that is smaller): the subject first, to a width that
# still reads well, then the worktree and author, then the subject to its minimum, then
# the rest.
_SQUEEZE: tuple[tuple[str, int], ...] = (
    ("subject", 24),
    ("worktree", 16),
    ("author", 16),
    ("date", 10),
    ("subject", 12),
    ("worktree", 8),
    ("author", 6),
    ("upstream", 8),
    ("date", 5),
    ("status", 8),
    ("branch", 8),
    ("head", 7),
)

#: What the marks in the branch and status columns mean.
LEGEND_MARKS: tuple[tuple[str, str], ...] = (
    ("*", "* checked out here"),
    ("(WT)", "(WT) checked out in another worktree"),
    ("=", "= in sync with upstream"),
)


def fit_widths(natural: Mapping[str, int], total: int) -> dict[str, int]:
    """Column widths for a table *total* cells wide (separators excluded).

    Each column gets its natural width, capped; when the sum is too wide, columns give
    up width in the steps of ``_SQUEEZE``, the subject first. Whatever still does not
    fit is left for Rich to cut.
    """
    widths = {}
    for name, width in natural.items():
        cap = _LAYOUT.get(name, _Column()).cap
        widths[name] = width if cap is None else min(width, cap)
    excess = sum(widths.values()) - total
    for name, floor in _SQUEEZE:
        if excess <= 0:
            break
        if name not in widths:
            continue
        take = max(0, min(excess, widths[name] - floor))
        widths[name] -= take
        excess -= take
    return widths


def _tail(text: Text, width: int) -> Text:
    """*text* cut to *width* cells from the left, with a leading ellipsis: paths keep
    their most telling part, the end."""
    from rich.cells import cell_len

    if text.cell_len <= width:
        return text
    plain = text.plain
    start = len(plain)
    used = 1
    while start > 0 and used + cell_len(plain[start - 1]) <= width:
        start -= 1
        used += cell_len(plain[start])
    # A slice keeps its styles and its link.
    return type(text).assemble("…", text[start:], no_wrap=True)


def _display_path(path: str) -> str:
    home = os.path.expanduser("~")
    if home not in ("", "~", os.sep) and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home) :]
    return path


class _Cells:
    """The forms of every cell of a branch, for the columns asked for."""

    def __init__(self, when: float, links: bool, remote_urls: Mapping[str, str]) -> None:
        self.when = when
        self.links = links
        self.remote_urls = remote_urls

    def style(self, base: str, link: str | None) -> Style | str:
        from rich.style import Style

        if not (self.links and link):
            return base
        return Style.parse(base or "none") + Style(link=link)

    def text(self, value: str | None, style: Style | str = "") -> Text:
        from rich.text import Text

        from gitoverit.text import safe_text

        return Text(safe_text(value or ""), style=style, no_wrap=True, overflow="ellipsis")

    def branch(self, b: BranchInfo) -> list[Text]:
        from rich.text import Text

        from gitoverit.text import safe_text

        name = Text(no_wrap=True, overflow="ellipsis")
        name.append("* " if b.current else "  ", style="bold green")
        name.append(safe_text(b.name), style="bold" if b.current else "")
        if b.worktree is None or b.current:
            return [name]
        marked = name.copy()
        marked.append(" (WT)", style=self.style("dim", file_url(b.worktree)))
        return [marked, name]

    def upstream(self, b: BranchInfo) -> list[Text]:
        if b.upstream is None:
            return [self.text(None)]
        url = self.remote_urls.get(b.upstream_remote or "")
        link = forge_branch_url(url, b.upstream_ref) if not b.upstream_gone else None
        return [self.text(b.upstream, self.style("dim" if b.upstream_gone else "", link))]

    def status(self, b: BranchInfo) -> list[Text]:
        from rich.text import Text

        from gitoverit.output.branches import status_text

        segs = status_segments(b)
        if not segs:
            text = status_text(b)
            return [self.text(text, "green" if text == "clean" else "")]
        cell = Text(no_wrap=True, overflow="ellipsis")
        for i, (seg, style) in enumerate(segs):
            cell.append((" " if i else "") + seg, style=style)
        return [cell]

    def date(self, b: BranchInfo) -> list[Text]:
        if b.date is None:
            return [self.text(None)]
        local = time.localtime(b.date)
        forms = ("%Y-%m-%d %H:%M", "%Y-%m-%d", "%m-%d")
        return [self.text(time.strftime(f, local), "dim") for f in forms]

    def author(self, b: BranchInfo) -> list[Text]:
        full = self.text(b.author, b.author_style)
        if b.author_name and b.author_name != b.author:
            return [full, self.text(b.author_name, b.author_style)]
        return [full]

    def worktree(self, b: BranchInfo) -> list[Text]:
        if b.worktree is None:
            return [self.text(None)]
        return [self.text(_display_path(b.worktree), self.style("dim", file_url(b.worktree)))]

    def forms(self, column: str, b: BranchInfo) -> list[Text]:
        from gitoverit.output.cells import age

        simple: dict[str, Callable[[], str | None]] = {
            "head": lambda: b.head[:12],
            "ahead": lambda: None if b.ahead is None else str(b.ahead),
            "behind": lambda: None if b.behind is None else str(b.behind),
            "gone": lambda: "*" if b.upstream_gone else "-",
            "current": lambda: "*" if b.current else "-",
            "age": lambda: age(b.date, self.when),
            "subject": lambda: b.subject,
        }
        if column in simple:
            return [self.text(simple[column](), "dim" if column in ("head", "age") else "")]
        method: Callable[[BranchInfo], list[Text]] = getattr(self, column)
        return method(b)


def _pick(forms: list[Text], width: int, column: str) -> Text:
    """The widest of *forms* that fits *width*; a worktree path is cut from the left."""
    for text in forms:
        if text.cell_len <= width:
            return text
    if column == "worktree":
        return _tail(forms[-1], width)
    return forms[-1]


def render_branch_table(
    branches: Sequence[BranchInfo],
    out: IO[str],
    *,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    width: int | None = None,
    color: bool | None = None,
    links: bool | None = None,
    remote_urls: Mapping[str, str] | None = None,
    legend: bool = True,
    now: float | None = None,
) -> None:
    """Write *branches* (already sorted) to *out* as a table, one line per branch.

    Every untrusted string goes through :func:`~gitoverit.text.safe_text` and
    reaches Rich as ``Text``, so neither control sequences nor markup get through. The
    table fits *width* (default: the terminal's; see :func:`fit_widths`). Colour follows
    Rich: none when ``NO_COLOR`` is set or *out* is not a terminal, unless *color* says
    otherwise. *links* (default: *out* is a terminal) makes the upstream a link to its
    forge page, given each remote's URL in *remote_urls*, and worktree paths links to
    their folders.
    """
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise ValueError(f"unknown column {unknown[0]!r}; valid columns: {', '.join(COLUMNS)}")
    console = Console(
        file=out,
        width=width,
        highlight=False,
        soft_wrap=False,
        no_color=None if color is None else not color,
        force_terminal=color if color else None,
    )
    on_tty = links if links is not None else out.isatty()
    cells = _Cells(time.time() if now is None else now, on_tty, remote_urls or {})
    rows = [{c: cells.forms(c, b) for c in columns} for b in branches]
    natural = {c: max([len(c)] + [row[c][0].cell_len for row in rows]) for c in columns}
    widths = fit_widths(natural, console.width - 2 * (len(columns) - 1))

    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, expand=False)
    for c in columns:
        right = _LAYOUT.get(c, _Column()).right
        table.add_column(
            c,
            width=widths[c],
            no_wrap=True,
            overflow="ellipsis",
            justify="right" if right else "left",
        )
    for row in rows:
        table.add_row(*(_pick(row[c], widths[c], c) for c in columns))
    console.print(table)
    if legend and branches:
        shown = " ".join(
            t.plain for row in rows for c in ("branch", "status") if c in row for t in row[c][:1]
        )
        console.print(Text(_legend(shown.split()), style="dim"))


def _legend(words: Sequence[str]) -> str:
    """The legend of the marks among *words* (the branch and status cells' words)."""
    from gitoverit.output.cells import LEGEND_ITEMS

    items = [text for mark, text in LEGEND_MARKS if mark in words]
    for item in LEGEND_ITEMS:
        mark = item.split(" ", 1)[0]
        bare = {w.lstrip("0123456789").rstrip("?") for w in words}
        if mark in bare or (mark == "!" and any(w.startswith("!") for w in bare)):
            items.append(item)
    return "  ".join(items)


__all__ = ["LEGEND_MARKS", "fit_widths", "render_branch_table"]
