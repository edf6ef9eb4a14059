"""Table columns (``-c/--columns``) and how each one narrows when space is short.

Each column renders a cell at detail level 0 (full) and, when it can shrink, at higher
levels with less detail. The table fitter lowers detail in :data:`SHRINK_ORDER` (status
first, then URLs, then dates) before anything is cut with an ellipsis.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gitoverit.model import RepoRecord
from gitoverit.output.cells import Cell, age, status_segments
from gitoverit.text import redact_url, safe_text, simplify_url


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: header, cell renderer by detail level, and layout hints."""

    name: str
    header: str
    render: Callable[[RepoRecord, int, float], Cell]
    levels: int = 1
    justify: str = "left"
    #: May be cut with an ellipsis when narrowing is not enough (free text columns).
    cuttable: bool = False
    help: str = ""


def _status_cell(r: RepoRecord, level: int, now: float) -> Cell:
    segs = status_segments(r)
    if r.error is None and r.status is not None and not segs:
        return ("✓", "green")
    if r.error is not None:
        # The reason is short and says what is wrong: it is never dropped.
        return segs[0]
    if level >= 1:
        # Drop stashes and the operation's name; keep counts that need action.
        segs = [(t if not t.startswith("!") else "!", s) for t, s in segs if not t.endswith("s")]
    if level >= 2:
        # One marker per kind, no counts.
        segs = [(t.lstrip("0123456789"), s) for t, s in segs]
    text = " ".join(t for t, _ in segs)
    style = segs[0][1] if len(segs) == 1 else ""
    return (text, style)


def _url_cell(r: RepoRecord, level: int, now: float) -> Cell:
    url = simplify_url(r.status.remote_url if r.status else None)
    if url.startswith("/") and level >= 1:
        # A local path: its last part says more than its first.
        tail = os.path.basename(url.rstrip("/")) or url
        return (safe_text(f"…/{tail}" if level == 1 else tail), "dim")
    if level >= 1 and "/" in url:
        head = url.split("/", 1)[0]
        url = f"{head}/…"
    if level >= 2:
        url = url.split("/", 1)[0].split(":")[0]
    return (safe_text(url), "dim")


def _age_cell(r: RepoRecord, level: int, now: float) -> Cell:
    mtime = r.status.mtime if r.status else None
    if mtime is None:
        return ("", "dim")
    if level == 0:
        when = _dt.datetime.fromtimestamp(mtime)
        if now - mtime < 86400 * 300:
            return (when.strftime("%b %d %H:%M") + f" ({age(mtime, now)})", "dim")
        return (when.strftime("%Y-%m-%d") + f" ({age(mtime, now)})", "dim")
    return (age(mtime, now), "dim")


def _branch_cell(r: RepoRecord, level: int, now: float) -> Cell:
    st = r.status
    if st is None:
        return ("", "")
    if st.detached:
        return (f"({(st.head or '')[:8]})", "yellow")
    if st.head is None:
        return (safe_text(st.branch or "") + " (unborn)", "dim")
    return (safe_text(st.branch or ""), "")


def _num(get: Callable[[RepoRecord], int | None]) -> Callable[[RepoRecord, int, float], Cell]:
    def render(r: RepoRecord, level: int, now: float) -> Cell:
        v = get(r)
        return ("" if v is None else str(v), "")

    return render


def _text(
    get: Callable[[RepoRecord], str | None], style: str = ""
) -> Callable[[RepoRecord, int, float], Cell]:
    def render(r: RepoRecord, level: int, now: float) -> Cell:
        v = get(r)
        return (safe_text(v) if v else "", style)

    return render


COLUMNS: dict[str, Column] = {
    c.name: c
    for c in (
        Column(
            "repo",
            "repo",
            _text(lambda r: r.ref.display_path),
            cuttable=True,
            help="path as shown (relative to the current folder, or ~)",
        ),
        Column("name", "name", _text(lambda r: r.ref.name), cuttable=True, help="folder name"),
        Column(
            "dir",
            "dir",
            _text(lambda r: os.path.dirname(r.ref.display_path)),
            cuttable=True,
            help="parent folder",
        ),
        Column("path", "path", _text(lambda r: r.ref.path), cuttable=True, help="absolute path"),
        Column("branch", "branch", _branch_cell, cuttable=True, help="branch or (sha)"),
        Column("status", "status", _status_cell, levels=3, help="compact status segments"),
        Column(
            "ahead",
            "↑",
            _num(lambda r: r.status.ahead if r.status else None),
            justify="right",
            help="commits ahead of upstream",
        ),
        Column(
            "behind",
            "↓",
            _num(lambda r: r.status.behind if r.status else None),
            justify="right",
            help="commits behind upstream",
        ),
        Column(
            "upstream",
            "upstream",
            _text(lambda r: r.status.upstream if r.status else None),
            cuttable=True,
            help="upstream branch",
        ),
        Column("remote", "remote", _url_cell, levels=3, help="remote URL, simplified"),
        Column(
            "url",
            "url",
            _text(
                lambda r: (
                    redact_url(r.status.remote_url) if r.status and r.status.remote_url else None
                ),
                "dim",
            ),
            cuttable=True,
            help="remote URL in full (credentials redacted)",
        ),
        Column(
            "age",
            "modified",
            _age_cell,
            levels=2,
            justify="right",
            help="time of the latest change",
        ),
        Column(
            "head",
            "head",
            _text(lambda r: (r.status.head or "")[:10] if r.status else None, "dim"),
            help="HEAD commit (short)",
        ),
        Column(
            "stashes",
            "stash",
            _num(lambda r: r.status.stashes if r.status else None),
            justify="right",
            help="stash entries",
        ),
        Column(
            "error",
            "error",
            _text(lambda r: r.error.message if r.error else None, "red"),
            cuttable=True,
            help="error message",
        ),
    )
}

DEFAULT_COLUMNS: tuple[str, ...] = ("repo", "branch", "status", "remote", "age")

#: Which column gives up detail next when the table is too wide.
SHRINK_ORDER: tuple[tuple[str, int], ...] = (
    ("status", 1),
    ("remote", 1),
    ("age", 1),
    ("status", 2),
    ("remote", 2),
)


class ColumnSpecError(ValueError):
    """A ``--columns`` spec names an unknown column."""


def parse_columns(spec: str | None, base: Sequence[str] = DEFAULT_COLUMNS) -> tuple[str, ...]:
    """Apply a column *spec* to *base*.

    The spec is a list of tokens separated by commas or spaces: ``-`` clears every column,
    ``-col`` removes one, ``col`` (or ``+col``) adds one or moves it to the end.
    """
    cols = list(base)
    if not spec:
        return tuple(cols)
    for token in spec.replace(",", " ").split():
        if token == "-":
            cols.clear()
            continue
        remove = token.startswith("-")
        name = token.lstrip("+-")
        if name not in COLUMNS:
            valid = ", ".join(COLUMNS)
            raise ColumnSpecError(f"unknown column {name!r}; valid columns: {valid}")
        if name in cols:
            cols.remove(name)
        if not remove:
            cols.append(name)
    return tuple(cols)
