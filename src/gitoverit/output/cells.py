"""What one table cell says about a repository: compact status, short ages, the legend.

Both the column renderers (:mod:`gitoverit.output.columns`) and the table
(:mod:`gitoverit.output.table`) use these, so they live below both.
"""

from __future__ import annotations

import time
from typing import NamedTuple

from gitoverit.model import RepoRecord

#: Part of a cell with a style of its own: (start, end, style), in characters.
Span = tuple[int, int, str]


class Cell(NamedTuple):
    """What a table cell shows: its text, the style of the whole text, and the parts of
    it that have a style of their own (a status cell gives each segment its colour)."""

    text: str
    style: str = ""
    spans: tuple[Span, ...] = ()


#: The legend's items, in the order the status cell shows its segments.
LEGEND_ITEMS: tuple[str, ...] = (
    "c conflicted",
    "+ staged",
    "m modified, not staged",
    "d deleted, not staged",
    "u untracked",
    "↑ ahead",
    "↓ behind",
    "s stashes",
    "⊘ upstream gone",
    "! operation in progress",
    "✗ error",
)
LEGEND = "  ".join(LEGEND_ITEMS)

#: The legend's line for repositories whose work tree was not read (``--metadata-only``).
UNCHECKED_LEGEND = "? work tree not read (--metadata-only): not known to be clean or dirty"

#: The legend's line for repositories whose work-tree counts carry a ``?``.
UNTRUSTED_LEGEND = (
    "? uncertain: a filter that only the repository's own config defines did not run "
    "(--trust-repo-config runs it)"
)


def status_segments(r: RepoRecord) -> list[tuple[str, str]]:
    """Compact status as (text, style) pairs, e.g. ``1+ 2m 1u 3↑ 1↓ 1s !merge``.

    Each change is counted once: ``+`` counts the paths staged in the index, ``m`` and
    ``d`` the paths whose work-tree file differs from the index (changes not staged), as
    ``git status`` lists them under its two headings.
    """
    if r.error is not None:
        return [(f"✗ {r.error.reason.value}", "bold red")]
    st = r.status
    if st is None:
        return []
    segs: list[tuple[str, str]] = []
    # Counts that git may have got wrong without a filter the repository defines.
    doubt = "?" if st.untrusted_config else ""

    def add(n: int | None, suffix: str, style: str) -> None:
        if n:
            segs.append((f"{n}{suffix}", style))

    add(st.conflicted, "c" + doubt, "bold red")
    add(st.staged, "+" + doubt, "green")
    add(st.unstaged_modified, "m" + doubt, "yellow")
    add(st.unstaged_deleted, "d" + doubt, "yellow")
    add(st.untracked, "u" + doubt, "magenta")
    add(st.ahead, "↑", "cyan")
    add(st.behind, "↓", "blue")
    add(st.stashes, "s", "bright_magenta")
    if st.upstream_gone:
        segs.append(("⊘", "red"))
    if st.operation is not None:
        segs.append((f"!{st.operation.value}", "bold red"))
    if st.dirty is None:
        segs.append(("?", "dim"))
    return segs


def age(mtime: float | None, now: float | None = None) -> str:
    """A short age: ``45s``, ``12m``, ``3h``, ``5d``, ``4mo``, ``2y``."""
    if mtime is None:
        return ""
    secs = max(0.0, (now if now is not None else time.time()) - mtime)
    for limit, div, unit in (
        (60, 1, "s"),
        (3600, 60, "m"),
        (86400, 3600, "h"),
        (86400 * 60, 86400, "d"),
        (86400 * 730, 86400 * 30, "mo"),
    ):
        if secs < limit:
            return f"{int(secs // div)}{unit}"
    return f"{int(secs // (86400 * 365))}y"
