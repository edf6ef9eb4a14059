"""The branch view's output (``gitob``) other than the table: its sort orders, its
columns, each branch's status text, ``--print`` values and JSON.

The data is :class:`~gitoverit.git.branches.BranchInfo`, one per local branch. The table
is :mod:`gitoverit.output.branch_table`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitoverit.git.branches import BranchInfo

#: ``-s/--sort`` keys. ``branch`` (the default; ``name`` is the same) sorts by name,
#: ``date`` puts the most recently committed branch last, ``none`` keeps git's order
#: (by name, bytewise).
SORT_KEYS: tuple[str, ...] = (
    "branch",
    "name",
    "date",
    "author",
    "ahead",
    "behind",
    "status",
    "upstream",
    "current",
    "head",
    "subject",
    "worktree",
    "gone",
    "none",
)
DEFAULT_SORT = "branch"

#: ``-c/--columns`` names, and the columns shown by default, in order.
COLUMNS: tuple[str, ...] = (
    "branch",
    "head",
    "upstream",
    "status",
    "ahead",
    "behind",
    "gone",
    "current",
    "worktree",
    "date",
    "age",
    "author",
    "subject",
)
DEFAULT_COLUMNS: tuple[str, ...] = ("branch", "upstream", "status", "author", "subject", "date")

#: What needs the status of the work trees that have a branch checked out: these
#: columns, sort keys and expression names.
STATUS_COLUMNS = frozenset({"status"})
STATUS_NAMES = frozenset({"status", "dirty", "modified", "untracked", "deleted"})


def parse_columns(spec: str | None, base: Sequence[str] = DEFAULT_COLUMNS) -> tuple[str, ...]:
    """Apply a column *spec* to *base*: tokens separated by commas or spaces, ``-`` clears
    every column, ``-col`` removes one, ``col`` (or ``+col``) adds one or moves it to the
    end. Raises ``ValueError`` naming an unknown column and the valid ones."""
    cols = list(base)
    for token in (spec or "").replace(",", " ").split():
        if token == "-":
            cols.clear()
            continue
        name = token.lstrip("+-")
        if name not in COLUMNS:
            raise ValueError(f"unknown column {name!r}; valid columns: {', '.join(COLUMNS)}")
        if name in cols:
            cols.remove(name)
        if not token.startswith("-"):
            cols.append(name)
    return tuple(cols)


def status_segments(b: BranchInfo) -> list[tuple[str, str]]:
    """A branch's status as (text, style) pairs: its work tree's status, as the scan
    table shows a repository's, when it is checked out; else how it stands against its
    upstream (``2↑ 1↓``, ``⊘`` when the upstream is gone)."""
    from gitoverit.model import RepoRecord, RepoRef
    from gitoverit.output.cells import status_segments as repo_segments

    if b.worktree_error is not None or b.worktree_status is not None:
        path = b.worktree or ""
        record = RepoRecord(
            RepoRef(path, "", path), status=b.worktree_status, error=b.worktree_error
        )
        return repo_segments(record)
    segs: list[tuple[str, str]] = []
    if b.ahead:
        segs.append((f"{b.ahead}↑", "cyan"))
    if b.behind:
        segs.append((f"{b.behind}↓", "blue"))
    if b.upstream_gone:
        segs.append(("⊘", "red"))
    return segs


def status_text(b: BranchInfo) -> str:
    """The status as one string: the segments, or ``clean`` for a checked-out branch
    whose work tree has nothing to report, ``=`` for one that is in sync with its
    upstream, ``error`` when the work tree could not be read, else empty."""
    if b.worktree_error is not None:
        return "error"
    text = " ".join(seg for seg, _style in status_segments(b))
    if text:
        return text
    if b.worktree_status is not None:
        return "clean"
    return "=" if b.in_sync else ""


def _str_key(value: str | None) -> tuple[int, str]:
    return (0, value.casefold()) if value else (1, "")


def _num_key(value: float | None) -> tuple[int, float]:
    return (0, float(value)) if value is not None else (-1, 0.0)


_SORTS: dict[str, Callable[[BranchInfo], Any]] = {
    "branch": lambda b: 0,
    "name": lambda b: 0,
    "date": lambda b: _num_key(b.date),
    "author": lambda b: _str_key(b.author),
    "ahead": lambda b: _num_key(b.ahead),
    "behind": lambda b: _num_key(b.behind),
    "status": lambda b: _str_key(status_text(b)),
    "upstream": lambda b: _str_key(b.upstream),
    "current": lambda b: not b.current,
    "head": lambda b: b.head,
    "subject": lambda b: _str_key(b.subject),
    "worktree": lambda b: _str_key(b.worktree),
    "gone": lambda b: b.upstream_gone,
}


def sort_branches(branches: Sequence[BranchInfo], key: str, reverse: bool) -> list[BranchInfo]:
    """*branches* ordered by *key* (one of :data:`SORT_KEYS`), ties broken by name.

    Numbers sort ascending with ``None`` first; text sorts case-insensitively with
    ``None`` last; ``current`` puts the current branch first, ``gone`` the branches whose
    upstream is gone last. ``none`` keeps the given order. *reverse* reverses the result.
    """
    if key == "none":
        ordered = list(branches)
    elif key in _SORTS:
        first = _SORTS[key]
        ordered = sorted(branches, key=lambda b: (first(b), b.name.casefold(), b.name))
    else:
        raise ValueError(f"unknown sort key {key!r}; valid: {', '.join(SORT_KEYS)}")
    if reverse:
        ordered.reverse()
    return ordered


def _worktree_counts(b: BranchInfo) -> dict[str, Any]:
    """``dirty``, ``modified``, ``untracked`` and ``deleted`` of a branch's work tree:
    false and 0 for a branch that is not checked out, null when its work tree was not
    read."""
    st = b.worktree_status
    if st is not None:
        return {
            "dirty": st.dirty,
            "modified": st.modified,
            "untracked": st.untracked,
            "deleted": st.deleted,
        }
    if b.worktree is None:
        return {"dirty": False, "modified": 0, "untracked": 0, "deleted": 0}
    return dict.fromkeys(("dirty", "modified", "untracked", "deleted"))


def branch_json(b: BranchInfo) -> dict[str, Any]:
    """The branch as a JSON object: :data:`~gitoverit.git.branches.BRANCH_FIELDS`."""
    from gitoverit.model import FORMAT_VERSION

    return {
        "type": "branch",
        "name": b.name,
        "head": b.head,
        "upstream": b.upstream,
        "upstream_gone": b.upstream_gone,
        "ahead": b.ahead,
        "behind": b.behind,
        "date": b.date,
        "author": b.author,
        "author_name": b.author_name,
        "author_email": b.author_email,
        "subject": b.subject,
        "worktree": b.worktree,
        "current": b.current,
        "repo_path": b.repo_path,
        "has_upstream": b.has_upstream,
        "status": status_text(b),
        **_worktree_counts(b),
        "format_version": FORMAT_VERSION,
    }


def _printable(value: Any) -> str:
    """The text ``--print`` writes for one value; a whole float (a date) as an integer."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_printed(values: Sequence[Any], out: IO[str], *, nul: bool, exact: bool) -> None:
    """Write one ``--print`` value per branch: NUL-terminated with *nul*, else one a line.
    A ``None`` value is left out, as ``gitoverit --print`` leaves it out.

    With *exact* (``-0`` into a pipe or file) values are written unchanged, so that names
    and paths reach ``xargs -0`` byte for byte; otherwise control characters (including
    line breaks) are shown as escapes, so each value stays on its line and no terminal
    sequence gets through.
    """
    from gitoverit.text import safe_text

    end = "\0" if nul else "\n"
    buffer = getattr(out, "buffer", None)
    for value in values:
        if value is None:
            continue
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
            out.write(dumps(branch_json(b)) + "\n")
    elif branches:
        out.write("[\n  " + ",\n  ".join(dumps(branch_json(b)) for b in branches) + "\n]\n")
    else:
        out.write("[]\n")
    out.flush()
