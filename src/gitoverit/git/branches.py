"""Every local branch of one repository, read with a single ``git for-each-ref`` call.

``%(upstream:track)`` gives ahead/behind counts and the "gone" state for every branch in
the same process, so the cost does not grow with one process per branch. Fields are
separated by NUL and each record ends with a distinctive terminator; the subject is the
last field and is split off last, so whatever a commit subject contains cannot shift
the other fields.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from gitoverit.git.command import LOCAL_TIMEOUT, git
from gitoverit.model import FORMAT_VERSION

#: Field names of a branch record in JSON output, in order.
BRANCH_FIELDS: tuple[str, ...] = (
    "type",
    "name",
    "head",
    "upstream",
    "upstream_gone",
    "ahead",
    "behind",
    "date",
    "author",
    "subject",
    "worktree",
    "current",
    "format_version",
)

# The subject comes last: it is the only field whose content is free-form text.
_FIELDS = (
    "%(refname:lstrip=2)",
    "%(objectname)",
    "%(upstream:short)",
    "%(upstream:track)",
    "%(committerdate:unix)",
    "%(authorname)",
    "%(worktreepath)",
    "%(HEAD)",
    "%(contents:subject)",
)
_END = b"\x00\x1egitob-end\x1e\x00\n"
FORMAT = "%00".join(_FIELDS) + "%00%1egitob-end%1e%00"

_TRACK = re.compile(rb"^\[(?:ahead (\d+))?(?:, )?(?:behind (\d+))?\]$")


@dataclass(frozen=True, slots=True)
class BranchInfo:
    """One local branch.

    ``upstream`` is the short upstream name (``origin/main``), or ``None`` when none is
    configured (or its remote no longer exists). ``ahead`` and ``behind`` are ``None``
    without an upstream and when the upstream is gone. ``date`` is the last commit's
    committer date in seconds since the epoch. ``worktree`` is the path of the worktree
    that has the branch checked out, if any; ``current`` is true for the branch checked
    out in the repository that was asked about.
    """

    name: str
    head: str
    upstream: str | None = None
    upstream_gone: bool = False
    ahead: int | None = None
    behind: int | None = None
    date: float | None = None
    author: str | None = None
    subject: str | None = None
    worktree: str | None = None
    current: bool = False

    def to_json(self) -> dict[str, Any]:
        """The branch as a JSON object, with ``type`` and ``format_version``."""
        return {
            "type": "branch",
            "name": self.name,
            "head": self.head,
            "upstream": self.upstream,
            "upstream_gone": self.upstream_gone,
            "ahead": self.ahead,
            "behind": self.behind,
            "date": self.date,
            "author": self.author,
            "subject": self.subject,
            "worktree": self.worktree,
            "current": self.current,
            "format_version": FORMAT_VERSION,
        }


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _or_none(raw: bytes) -> str | None:
    return _text(raw) if raw else None


def _track(raw: bytes, has_upstream: bool) -> tuple[bool, int | None, int | None]:
    """``(gone, ahead, behind)`` from ``%(upstream:track)``."""
    if raw == b"[gone]":
        return True, None, None
    if not has_upstream:
        return False, None, None
    m = _TRACK.match(raw)
    if m is None:
        # Empty: the branch and its upstream point at the same commit.
        return False, 0, 0
    return False, int(m.group(1) or 0), int(m.group(2) or 0)


def parse_branches(output: bytes) -> list[BranchInfo]:
    """Parse the output of ``git for-each-ref --format=FORMAT refs/heads``."""
    branches: list[BranchInfo] = []
    for record in output.split(_END):
        if not record.strip(b"\n"):
            continue
        parts = record.split(b"\x00", len(_FIELDS) - 1)
        if len(parts) != len(_FIELDS):
            raise ValueError(f"unexpected for-each-ref record: {record[:200]!r}")
        name, head, upstream, track, date, author, worktree, mark, subject = parts
        gone, ahead, behind = _track(track, bool(upstream))
        branches.append(
            BranchInfo(
                name=_text(name),
                head=_text(head),
                upstream=_or_none(upstream),
                upstream_gone=gone,
                ahead=ahead,
                behind=behind,
                date=float(date) if date.isdigit() else None,
                author=_or_none(author),
                subject=_text(subject),
                worktree=os.fsdecode(worktree) if worktree else None,
                current=mark == b"*",
            )
        )
    return branches


def list_branches(
    repo: str | os.PathLike[str], *, timeout: float = LOCAL_TIMEOUT
) -> list[BranchInfo]:
    """Every local branch of *repo*, in git's ref order (by name).

    One git process. A repository without commits has no branches and gives an empty
    list. Raises a :class:`~gitoverit.errors.CommandError` subclass when *repo* cannot be
    read (``GitNotARepoError`` for a folder that is not a repository).
    """
    result = git("for-each-ref", f"--format={FORMAT}", "refs/heads", cwd=repo, timeout=timeout)
    return parse_branches(result.stdout)


__all__ = ["BRANCH_FIELDS", "FORMAT", "BranchInfo", "list_branches", "parse_branches"]
