"""The branch view's output (``gitob``): its sort orders, its table fitted to the
terminal, ``--print`` values and JSON.

The data is :class:`~gitoverit.git.branches.BranchInfo`, one per local branch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.text import Text

    from gitoverit.git.branches import BranchInfo

#: ``-s/--sort`` keys. ``date`` puts the most recently committed branch last; ``none``
#: keeps git's order (by name, bytewise).
SORT_KEYS: tuple[str, ...] = ("date", "name", "ahead", "behind", "upstream", "author", "none")

LEGEND = "* checked out here  ↑ ahead  ↓ behind  ⊘ upstream gone"


def _str_key(value: str | None) -> tuple[int, str]:
    return (0, value.casefold()) if value else (1, "")


def _num_key(value: float | None) -> tuple[int, float]:
    return (0, float(value)) if value is not None else (-1, 0.0)


_SORTS: dict[str, Callable[[BranchInfo], Any]] = {
    "date": lambda b: (_num_key(b.date), b.name),
    "name": lambda b: (b.name.casefold(), b.name),
    "ahead": lambda b: (_num_key(b.ahead), b.name),
    "behind": lambda b: (_num_key(b.behind), b.name),
    "upstream": lambda b: (_str_key(b.upstream), b.name),
    "author": lambda b: (_str_key(b.author), b.name),
}


def sort_branches(branches: Sequence[BranchInfo], key: str, reverse: bool) -> list[BranchInfo]:
    """*branches* ordered by *key* (one of :data:`SORT_KEYS`), ties broken by name.

    Numbers sort ascending with ``None`` first; text sorts case-insensitively with
    ``None`` last. ``none`` keeps the given order. *reverse* reverses the result.
    """
    if key == "none":
        ordered = list(branches)
    elif key in _SORTS:
        ordered = sorted(branches, key=_SORTS[key])
    else:
        raise ValueError(f"unknown sort key {key!r}; valid: {', '.join(SORT_KEYS)}")
    if reverse:
        ordered.reverse()
    return ordered


def _display_path(path: str) -> str:
    home = os.path.expanduser("~")
    if home not in ("", "~", os.sep) and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home) :]
    return path


def _upstream_cell(b: BranchInfo) -> Text:
    from rich.text import Text

    from gitoverit.text import safe_text

    cell = Text(no_wrap=True, overflow="ellipsis")
    if b.upstream is not None:
        cell.append(safe_text(b.upstream), style="dim" if b.upstream_gone else "")
    marks: list[tuple[str, str]] = []
    if b.upstream_gone:
        marks.append(("⊘", "red"))
    if b.ahead:
        marks.append((f"↑{b.ahead}", "cyan"))
    if b.behind:
        marks.append((f"↓{b.behind}", "blue"))
    for text, style in marks:
        if len(cell):
            cell.append(" ")
        cell.append(text, style=style)
    return cell


#: Table columns: header, and the widest the column grows (``None``: no limit).
_COLUMNS: tuple[tuple[str, int | None], ...] = (
    ("branch", None),
    ("upstream", 32),
    ("age", None),
    ("author", 20),
    ("subject", None),
    ("worktree", 40),
)
# When the table is too wide, columns give up width in these steps, each down to its
# floor (or its natural width, if that is smaller): the subject first, to a width that
# still reads well, then the worktree and author, then the subject to its minimum, then
# the rest.
_SQUEEZE: tuple[tuple[str, int], ...] = (
    ("subject", 24),
    ("worktree", 16),
    ("author", 10),
    ("subject", 12),
    ("worktree", 8),
    ("author", 6),
    ("upstream", 8),
    ("branch", 8),
)


def fit_widths(natural: dict[str, int], total: int) -> dict[str, int]:
    """Column widths for a table *total* cells wide (separators excluded).

    Each column gets its natural width, capped; when the sum is too wide, columns give
    up width in the steps of ``_SQUEEZE``, the subject first. Whatever still does not
    fit is left for Rich to cut.
    """
    widths = {}
    for name, cap in _COLUMNS:
        widths[name] = natural[name] if cap is None else min(natural[name], cap)
    excess = sum(widths.values()) - total
    for name, floor in _SQUEEZE:
        if excess <= 0:
            break
        take = max(0, min(excess, widths[name] - floor))
        widths[name] -= take
        excess -= take
    return widths


def _tail(text: str, width: int) -> str:
    """*text* cut to *width* cells from the left, with a leading ellipsis: paths keep
    their most telling part, the end."""
    from rich.cells import cell_len

    if cell_len(text) <= width:
        return text
    kept: list[str] = []
    used = 1
    for ch in reversed(text):
        w = cell_len(ch)
        if used + w > width:
            break
        kept.append(ch)
        used += w
    return "…" + "".join(reversed(kept))


def _rows(branches: Sequence[BranchInfo], when: float) -> tuple[list[dict[str, Text]], list[str]]:
    """The table cells of each branch but the worktree, and each worktree's shown path."""
    from rich.text import Text

    from gitoverit.output.cells import age
    from gitoverit.text import safe_text

    def cell(text: str | None, style: str = "") -> Text:
        return Text(safe_text(text or ""), style=style, no_wrap=True, overflow="ellipsis")

    rows: list[dict[str, Text]] = []
    paths: list[str] = []
    for b in branches:
        name = Text(no_wrap=True, overflow="ellipsis")
        name.append("* " if b.current else "  ", style="bold green")
        name.append(safe_text(b.name), style="bold" if b.current else "")
        rows.append(
            {
                "branch": name,
                "upstream": _upstream_cell(b),
                "age": cell(age(b.date, when), "dim"),
                "author": cell(b.author),
                "subject": cell(b.subject),
            }
        )
        paths.append(safe_text(_display_path(b.worktree)) if b.worktree else "")
    return rows, paths


def render_branch_table(
    branches: Sequence[BranchInfo],
    out: IO[str],
    *,
    width: int | None = None,
    color: bool | None = None,
    legend: bool = True,
    now: float | None = None,
) -> None:
    """Write *branches* (already sorted) to *out* as a table, one line per branch.

    Every untrusted string goes through :func:`~gitoverit.text.safe_text` and
    reaches Rich as ``Text``, so neither control sequences nor markup get through. The
    table fits *width* (default: the terminal's): the subject is cut first (see
    :func:`fit_widths`); worktree paths are cut from the left, to keep their end. Colour
    follows Rich: none when ``NO_COLOR`` is set or *out* is not a terminal, unless
    *color* says otherwise.
    """
    import time

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(
        file=out,
        width=width,
        highlight=False,
        soft_wrap=False,
        no_color=None if color is None else not color,
        force_terminal=color if color else None,
    )
    when = time.time() if now is None else now

    rows, paths = _rows(branches, when)
    natural = {header: len(header) for header, _cap in _COLUMNS}
    for row, path in zip(rows, paths, strict=True):
        for header, text in row.items():
            natural[header] = max(natural[header], text.cell_len)
        natural["worktree"] = max(natural["worktree"], Text(path).cell_len)
    widths = fit_widths(natural, console.width - 2 * (len(_COLUMNS) - 1))

    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, expand=False)
    for header, _cap in _COLUMNS:
        table.add_column(
            header,
            width=widths[header],
            no_wrap=True,
            overflow="ellipsis",
            justify="right" if header == "age" else "left",
        )
    for row, path in zip(rows, paths, strict=True):
        row["worktree"] = Text(_tail(path, widths["worktree"]), style="dim", no_wrap=True)
        table.add_row(*(row[header] for header, _cap in _COLUMNS))
    console.print(table)
    if legend and branches:
        console.print(Text(LEGEND, style="dim"), overflow="ellipsis", no_wrap=True)


def _printable(value: Any) -> str:
    """The text ``--print`` writes for one value: ``None`` is an empty string."""
    if value is None:
        return ""
    return str(value)


def write_printed(values: Sequence[Any], out: IO[str], *, nul: bool, exact: bool) -> None:
    """Write one ``--print`` value per branch: NUL-terminated with *nul*, else one a line.

    With *exact* (``-0`` into a pipe or file) values are written unchanged, so that names
    and paths reach ``xargs -0`` byte for byte; otherwise control characters (including
    line breaks) are shown as escapes, so each value stays on its line and no terminal
    sequence gets through.
    """
    from gitoverit.text import safe_text

    end = "\0" if nul else "\n"
    buffer = getattr(out, "buffer", None)
    for value in values:
        text = _printable(value)
        if not exact:
            text = safe_text(text)
        if buffer is not None:
            out.flush()
            buffer.write(text.encode("utf-8", "surrogateescape") + end.encode())
        else:
            out.write(text + end)
    out.flush()


def write_branch_json(branches: Sequence[BranchInfo], out: IO[str], *, ndjson: bool) -> None:
    """Write *branches* as one JSON array, or with *ndjson* as one object a line."""
    from gitoverit.output.json import dumps

    if ndjson:
        for b in branches:
            out.write(dumps(b.to_json()) + "\n")
    elif branches:
        out.write("[\n  " + ",\n  ".join(dumps(b.to_json()) for b in branches) + "\n]\n")
    else:
        out.write("[]\n")
    out.flush()
