"""The human table: one line per repository, fitted to the terminal, with a legend."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import IO

from gitoverit.model import RepoRecord
from gitoverit.output.escape import safe_text, simplify_url

LEGEND = (
    "m modified  d deleted  + staged  u untracked  c conflicted  s stashes  "
    "↑ ahead  ↓ behind  ⊘ upstream gone  ! operation in progress  ✗ error"
)


def status_segments(r: RepoRecord) -> list[tuple[str, str]]:
    """Compact status as (text, style) pairs, e.g. ``2m 1u 3↑ 1↓ 1s !``."""
    if r.error is not None:
        return [(f"✗ {r.error.reason.value}", "bold red")]
    st = r.status
    if st is None:
        return []
    segs: list[tuple[str, str]] = []

    def add(n: int | None, suffix: str, style: str) -> None:
        if n:
            segs.append((f"{n}{suffix}", style))

    add(st.conflicted, "c", "bold red")
    add(st.staged, "+", "green")
    add(st.modified, "m", "yellow")
    add(st.deleted, "d", "yellow")
    add(st.untracked, "u", "magenta")
    add(st.ahead, "↑", "cyan")
    add(st.behind, "↓", "blue")
    add(st.stashes, "s", "dim")
    if st.upstream_gone:
        segs.append(("⊘", "red"))
    if st.operation is not None:
        segs.append((f"!{st.operation.value}", "bold red"))
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


def render_table(
    records: Sequence[RepoRecord],
    out: IO[str],
    *,
    color: bool | None = None,
    width: int | None = None,
    legend: bool = True,
) -> None:
    """Write *records* (already sorted) as a table to *out*."""
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
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, expand=False)
    table.add_column("repo", overflow="ellipsis", no_wrap=True, ratio=3, min_width=8)
    table.add_column("branch", overflow="ellipsis", no_wrap=True, ratio=2, min_width=6)
    table.add_column("status", no_wrap=True, overflow="ellipsis", min_width=6)
    table.add_column("remote", overflow="ellipsis", no_wrap=True, ratio=2, min_width=6)
    table.add_column("age", no_wrap=True, justify="right", min_width=3)
    now = time.time()
    for r in records:
        st = r.status
        if st is None:
            branch = Text("")
        elif st.detached:
            branch = Text(f"({(st.head or '')[:8]})", style="yellow")
        else:
            branch = Text(safe_text(st.branch or "(unborn)"), style="" if st.head else "dim")
        status = Text()
        for i, (seg, style) in enumerate(status_segments(r)):
            if i:
                status.append(" ")
            status.append(seg, style=style)
        if not len(status) and st is not None and r.error is None:
            status.append("✓", style="green")
        table.add_row(
            Text(safe_text(r.ref.display_path), style="bold" if r.dirty else ""),
            branch,
            status,
            Text(safe_text(simplify_url(st.remote_url if st else None)), style="dim"),
            Text(age(st.mtime if st else None, now), style="dim"),
        )
    console.print(table)
    if legend and records:
        console.print(Text(LEGEND, style="dim"), overflow="ellipsis", no_wrap=True)
