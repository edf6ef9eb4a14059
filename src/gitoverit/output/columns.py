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

from gitoverit.model import RepoRecord, RepoStatus
from gitoverit.output.cells import Cell, age, status_parts
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
    parts = status_parts(r)
    if r.error is not None:
        # The reason is short and says what is wrong: it is never dropped.
        return Cell(parts[0].text, parts[0].style)
    if r.status is None:
        return Cell("")
    if not parts:
        return Cell("✓", "green")
    if level >= 1:
        # The line totals go first.
        parts = [p for p in parts if p.kind != "lines"]
    if level >= 2:
        # Then stashes, submodules, P and U, and the operation's name, keeping the counts
        # that need action; they stay when they are all there is to show.
        kept = [p for p in parts if p.kind != "extra"]
        parts = [p._replace(text="!") if p.kind == "operation" else p for p in kept or parts]
    if level >= 3:
        # One marker per kind, no counts.
        parts = [p._replace(text=p.text.lstrip("0123456789")) for p in parts]
    return joined([(p.text, p.style) for p in parts])


def joined(segs: Sequence[tuple[str, str]]) -> Cell:
    """One cell of *segs*, separated by spaces, each segment keeping its own style."""
    spans: list[tuple[int, int, str]] = []
    pos = 0
    for text, style in segs:
        if style:
            spans.append((pos, pos + len(text), style))
        pos += len(text) + 1
    return Cell(" ".join(t for t, _ in segs), "", tuple(spans))


def _url_cell(r: RepoRecord, level: int, now: float) -> Cell:
    url = simplify_url(r.status.remote_url if r.status else None)
    if url.startswith("/") and level >= 1:
        # A local path: its last part says more than its first.
        tail = os.path.basename(url.rstrip("/")) or url
        return Cell(safe_text(f"…/{tail}" if level == 1 else tail), "dim")
    if level >= 1 and "/" in url:
        head = url.split("/", 1)[0]
        url = f"{head}/…"
    if level >= 2:
        url = url.split("/", 1)[0].split(":")[0]
    return Cell(safe_text(url), "dim")


def _age_cell(r: RepoRecord, level: int, now: float) -> Cell:
    mtime = r.status.mtime if r.status else None
    if mtime is None:
        return Cell("", "dim")
    if level == 0:
        when = _dt.datetime.fromtimestamp(mtime)
        if now - mtime < 86400 * 300:
            return Cell(when.strftime("%b %d %H:%M") + f" ({age(mtime, now)})", "dim")
        return Cell(when.strftime("%Y-%m-%d") + f" ({age(mtime, now)})", "dim")
    return Cell(age(mtime, now), "dim")


def _branch_cell(r: RepoRecord, level: int, now: float) -> Cell:
    st = r.status
    if st is None:
        return Cell("")
    if st.detached:
        return Cell(f"({(st.head or '')[:8]})", "yellow")
    if st.head is None:
        return Cell(safe_text(st.branch or "") + " (unborn)", "dim")
    return Cell(safe_text(st.branch or ""))


def _num(get: Callable[[RepoRecord], int | None]) -> Callable[[RepoRecord, int, float], Cell]:
    def render(r: RepoRecord, level: int, now: float) -> Cell:
        v = get(r)
        return Cell("" if v is None else str(v))

    return render


def _text(
    get: Callable[[RepoRecord], str | None], style: str = ""
) -> Callable[[RepoRecord, int, float], Cell]:
    def render(r: RepoRecord, level: int, now: float) -> Cell:
        v = get(r)
        return Cell(safe_text(v) if v else "", style)

    return render


def _branch_remote_cell(r: RepoRecord, level: int, now: float) -> Cell:
    """``main:origin/main``, then ``main:origin``, then ``main:…``."""
    branch = _branch_cell(r, 0, now)
    upstream = safe_text(r.status.upstream or "") if r.status else ""
    if not branch.text and not upstream:
        return Cell("")
    if level >= 1 and "/" in upstream:
        upstream = upstream.split("/", 1)[0] if level == 1 else "…"
    text = f"{branch.text}:{upstream}"
    spans = ((0, len(branch.text), branch.style),) if branch.style else ()
    return Cell(text, "", (*spans, (len(branch.text), len(branch.text) + 1, "dim")))


def _outcome_cell(r: RepoRecord, level: int, now: float) -> Cell:
    """What came of the run's action: ``updated``, ``skipped: uncommitted changes``..."""
    outcome = r.final_outcome
    note = safe_text(r.note) if r.note else ""
    style = {"failed": "red", "skipped": "yellow", "interrupted": "red"}.get(outcome, "")
    return Cell(f"{outcome}: {note}" if note else outcome, style)


def _status_value(
    get: Callable[[RepoStatus], str | None], style: str = ""
) -> Callable[[RepoRecord, int, float], Cell]:
    return _text(lambda r: get(r.status) if r.status else None, style)


COLUMNS: dict[str, Column] = {
    c.name: c
    for c in (
        Column(
            "dir",
            "dir",
            _text(lambda r: r.ref.display_path),
            cuttable=True,
            help="the repo's path as shown (relative to the current folder, or ~)",
        ),
        Column("status", "status", _status_cell, levels=4, help="compact status segments"),
        Column("branch", "branch", _branch_cell, cuttable=True, help="branch or (sha)"),
        Column(
            "remote",
            "remote",
            _status_value(lambda st: st.upstream),
            cuttable=True,
            help="the tracking ref, e.g. origin/main",
        ),
        Column("url", "url", _url_cell, levels=3, help="remote URL, simplified"),
        Column(
            "mtime",
            "modified",
            _age_cell,
            levels=2,
            justify="right",
            help="time of the latest change in the work tree",
        ),
        Column(
            "branch_remote",
            "branch:remote",
            _branch_remote_cell,
            levels=3,
            help="branch and tracking ref, e.g. main:origin/main",
        ),
        Column(
            "ident",
            "ident",
            _status_value(lambda st: st.ident),
            cuttable=True,
            help="committer identity a commit here would get",
        ),
        Column("name", "name", _text(lambda r: r.ref.name), cuttable=True, help="folder name"),
        Column(
            "parent",
            "parent",
            _text(lambda r: os.path.dirname(r.ref.display_path)),
            cuttable=True,
            help="parent folder",
        ),
        Column("path", "path", _text(lambda r: r.ref.path), cuttable=True, help="absolute path"),
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
            "full_url",
            "url",
            _status_value(lambda st: redact_url(st.remote_url) if st.remote_url else None, "dim"),
            cuttable=True,
            help="remote URL in full (credentials redacted)",
        ),
        Column(
            "head",
            "head",
            _status_value(lambda st: (st.head or "")[:10], "dim"),
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
            "outcome",
            "outcome",
            _outcome_cell,
            cuttable=True,
            help="what came of -P, -U or sync: updated, skipped: uncommitted changes, ...",
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

#: Other names of columns: ``repo`` and ``age`` are ``dir`` and ``mtime``; ``upstream``
#: is ``remote``.
ALIASES: dict[str, str] = {"repo": "dir", "age": "mtime", "upstream": "remote"}

DEFAULT_COLUMNS: tuple[str, ...] = ("dir", "status", "branch", "remote", "url", "mtime")

#: The default columns of a scan that does not read the work tree (``--metadata-only``).
METADATA_ONLY_COLUMNS: tuple[str, ...] = ("dir", "status", "branch", "remote", "url")

#: Which column gives up detail next when the table is too wide.
SHRINK_ORDER: tuple[tuple[str, int], ...] = (
    ("status", 1),
    ("status", 2),
    ("url", 1),
    ("mtime", 1),
    ("branch_remote", 1),
    ("status", 3),
    ("url", 2),
    ("branch_remote", 2),
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
        name = ALIASES.get(name, name)
        if name not in COLUMNS:
            valid = ", ".join([*COLUMNS, *ALIASES])
            raise ColumnSpecError(f"unknown column {name!r}; valid columns: {valid}")
        if name in cols:
            cols.remove(name)
        if not remove:
            cols.append(name)
    return tuple(cols)
