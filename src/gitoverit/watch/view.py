"""What the watch shows of its records: the ``-w``/``-d`` filter, the sort, the totals."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gitoverit.model import RepoRecord


@dataclass(frozen=True, slots=True)
class Filter:
    """Which records to show: ``-d`` (dirty only) and a compiled ``-w`` expression."""

    dirty_only: bool = False
    where: Any = None

    def matches(self, rec: RepoRecord) -> bool:
        """Whether *rec* is shown; a record the expression cannot be evaluated on is not."""
        if self.dirty_only and not (rec.dirty or rec.error is not None):
            return False
        if self.where is None:
            return True
        from gitoverit.query import ExprError, record_env, truthy

        try:
            return truthy(self.where.evaluate(record_env(rec)))
        except ExprError:
            return False


@dataclass(frozen=True, slots=True)
class Totals:
    """The header's counts."""

    repos: int = 0
    dirty: int = 0
    ahead: int = 0
    behind: int = 0
    errors: int = 0

    def text(self) -> str:
        return (
            f"{self.repos} repos  {self.dirty} dirty  {self.ahead} ahead  "
            f"{self.behind} behind  {self.errors} errors"
        )


def totals(records: Iterable[RepoRecord]) -> Totals:
    """The counts over *records* (all of them, whatever the filter): repositories with
    uncommitted work, ahead of or behind their upstream, failed."""
    repos = dirty = ahead = behind = errors = 0
    for r in records:
        repos += 1
        dirty += bool(r.dirty)
        errors += r.error is not None
        if r.status is not None:
            ahead += bool(r.status.ahead)
            behind += bool(r.status.behind)
    return Totals(repos, dirty, ahead, behind, errors)


def shown(
    records: Iterable[RepoRecord], keep: Filter, sort_key: str, reverse: bool
) -> list[RepoRecord]:
    """The records *keep* lets through, sorted as the scan's table sorts them."""
    from gitoverit.output.sorting import sort_records

    return sort_records([r for r in records if keep.matches(r)], sort_key, reverse)
