"""Sort keys shared by the table and JSON outputs (``-s/--sort``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports SORT_KEYS at start-up; keep that import light
    from gitoverit.model import RepoRecord

SORT_KEYS = (
    "dir",
    "path",
    "name",
    "status",
    "branch_remote",
    "branch",
    "remote",
    "url",
    "mtime",
    "ident",
    "author",
    "ahead",
    "behind",
    "branches_ahead",
    "none",
)

_NONE_LAST = (1, "")


def _s(value: str | None) -> tuple[int, str]:
    return (0, value.lower()) if value else _NONE_LAST


def _n(value: float | int | None) -> tuple[int, float]:
    return (0, float(value)) if value is not None else (-1, 0.0)


def _status_rank(r: RepoRecord) -> tuple[int, ...]:
    """Errors first, then what needs action most: conflicts and operations in progress,
    changes, commits to push or pull, stashes; then work trees not read, then clean."""
    if r.error is not None:
        return (0,)
    st = r.status
    if st is None:
        return (7,)
    if st.conflicted or st.operation is not None:
        return (1,)
    if r.dirty:
        return (2,)
    if st.ahead or st.behind or st.upstream_gone:
        return (3,)
    if st.stashes:
        return (4,)
    if st.dirty is None:
        return (5,)
    return (6,)


def _by_ident(r: RepoRecord) -> tuple[tuple[int, str], str]:
    return (_s(r.status.ident if r.status else None), r.ref.display_path.lower())


_KEYS: dict[str, Callable[[RepoRecord], Any]] = {
    "dir": lambda r: r.ref.display_path.casefold(),
    "path": lambda r: r.ref.path.casefold(),
    "name": lambda r: (r.ref.name.lower(), r.ref.display_path.lower()),
    "status": lambda r: (_status_rank(r), r.ref.display_path.lower()),
    "branch_remote": lambda r: (
        _s(r.status.branch if r.status else None),
        _s(r.status.upstream if r.status else None),
        r.ref.display_path.lower(),
    ),
    "ident": _by_ident,
    "author": _by_ident,
    "branch": lambda r: (_s(r.status.branch if r.status else None), r.ref.display_path.lower()),
    "remote": lambda r: (_s(r.status.upstream if r.status else None), r.ref.display_path.lower()),
    "url": lambda r: (_s(r.status.remote_url if r.status else None), r.ref.display_path.lower()),
    "mtime": lambda r: (_n(r.status.mtime if r.status else None), r.ref.display_path.lower()),
    "ahead": lambda r: (_n(r.status.ahead if r.status else None), r.ref.display_path.lower()),
    "behind": lambda r: (_n(r.status.behind if r.status else None), r.ref.display_path.lower()),
    "branches_ahead": lambda r: (
        _n(r.status.branches_ahead if r.status else None),
        r.ref.display_path.lower(),
    ),
}


def sort_key(key: str) -> Callable[[RepoRecord], Any] | None:
    """The function :func:`sort_records` sorts by for *key*; ``None`` for ``none``."""
    return None if key == "none" else _KEYS[key]


def sort_records(
    records: list[RepoRecord], key: str = "mtime", reverse: bool = False
) -> list[RepoRecord]:
    """Records sorted by *key* (one of :data:`SORT_KEYS`); ``none`` keeps completion order.

    ``mtime`` puts the most recently modified last, so it sits next to the prompt.
    """
    if key == "none":
        return list(reversed(records)) if reverse else list(records)
    return sorted(records, key=_KEYS[key], reverse=reverse)
