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
    "(+/-) lines added/removed",
    "↑ ahead",
    "↓ behind",
    "$ stashes",
    "s submodules",
    "⊘ upstream gone",
    "P pulled",
    "U pushed",
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


class Part(NamedTuple):
    """One segment of the status cell: its text, its colour, and what it tells."""

    text: str
    style: str
    #: ``count`` (changes and commits: never dropped), ``lines`` (dropped first when the
    #: table is narrow), ``extra`` (stashes, submodules, P and U: dropped next, unless
    #: nothing else is left) or ``operation`` (its name is dropped next; ``!`` stays).
    kind: str = "count"


def status_parts(r: RepoRecord) -> list[Part]:
    """Compact status, e.g. ``1+ 2m 1u (+12/-3) 3↑ 1↓ 1$ 2s P !merge``.

    Each change is counted once: ``+`` counts the paths staged in the index, ``m`` and
    ``d`` the paths whose work-tree file differs from the index (changes not staged), as
    ``git status`` lists them under its two headings. ``(+A/-D)`` are the lines added and
    removed since HEAD, when they were read; ``$`` counts stashes and ``s`` submodules;
    ``P`` and ``U`` mark a repository pulled or pushed in this run.
    """
    if r.error is not None:
        return [Part(f"✗ {r.error.reason.value}", "bold red")]
    st = r.status
    if st is None:
        return []
    parts: list[Part] = []
    # Counts that git may have got wrong without a filter the repository defines.
    doubt = "?" if st.untrusted_config else ""

    def add(n: int | None, suffix: str, style: str, kind: str = "count") -> None:
        if n:
            parts.append(Part(f"{n}{suffix}", style, kind))

    add(st.conflicted, "c" + doubt, "bold red")
    add(st.staged, "+" + doubt, "green")
    add(st.unstaged_modified, "m" + doubt, "yellow")
    add(st.unstaged_deleted, "d" + doubt, "red")
    add(st.untracked, "u" + doubt, "magenta")
    if st.lines_added or st.lines_removed:
        parts.append(Part(f"(+{st.lines_added or 0}/-{st.lines_removed or 0})", "cyan", "lines"))
    add(st.ahead, "↑", "green")
    add(st.behind, "↓", "blue")
    add(st.stashes, "$", "bright_magenta", "extra")
    add(st.submodules, "s", "bright_blue", "extra")
    if st.upstream_gone:
        parts.append(Part("⊘", "red"))
    if r.pulled:
        parts.append(Part("P", "cyan", "extra"))
    if r.pushed:
        parts.append(Part("U", "green", "extra"))
    if st.operation is not None:
        parts.append(Part(f"!{st.operation.value}", "bold red", "operation"))
    if st.dirty is None:
        parts.append(Part("?", "dim"))
    return parts


def status_segments(r: RepoRecord) -> list[tuple[str, str]]:
    """:func:`status_parts` as (text, style) pairs."""
    return [(p.text, p.style) for p in status_parts(r)]


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
