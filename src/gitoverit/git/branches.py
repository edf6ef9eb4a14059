"""Every local branch of one repository, read with a single ``git for-each-ref`` call,
and the status of each work tree that has one of them checked out.

``%(upstream:track)`` gives ahead/behind counts and the "gone" state for every branch in
the same process, so the cost does not grow with one process per branch. Fields are
separated by NUL and each record ends with a distinctive terminator; the subject is the
last field and is split off last, so whatever a commit subject contains cannot shift
the other fields.

A branch checked out in a work tree gets that work tree's status
(:func:`with_worktree_status`): one ``git status`` per work tree, read as a scan reads
it (:func:`~gitoverit.git.status.read_status`), so no hook or repository-defined filter
runs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from gitoverit.git.command import LOCAL_TIMEOUT, git
from gitoverit.model import RepoError, RepoRef, RepoStatus

#: Field names of a branch record in JSON output, in order: this version's fields, then
#: those that gitob 0.x had under the same names (see README, "Coming from gitoverit 0.x"),
#: then ``format_version``.
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
    "author_name",
    "author_email",
    "subject",
    "worktree",
    "current",
    "repo_path",
    "has_upstream",
    "status",
    "dirty",
    "modified",
    "untracked",
    "deleted",
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
    "%(authoremail)",
    "%(upstream:remotename)",
    "%(upstream:remoteref)",
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
    committer date in seconds since the epoch. ``author`` is the last commit's author as
    shown (``Name <email>``, see :func:`author_identity`), ``author_style`` the style the
    table gives it. ``worktree`` is the path of the worktree that has the branch checked
    out, if any; ``current`` is true for the branch checked out in the repository that
    was asked about, whose work tree is ``repo_path``. ``upstream_remote`` is the remote
    the upstream lives on (``None`` for a local upstream) and ``upstream_ref`` the branch
    there (``refs/heads/main``). ``worktree_status`` is the status of ``worktree`` once
    read (:func:`with_worktree_status`), ``worktree_error`` why it could not be.
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
    author_name: str | None = None
    author_email: str | None = None
    author_style: str = ""
    upstream_remote: str | None = None
    upstream_ref: str | None = None
    repo_path: str | None = None
    worktree_status: RepoStatus | None = None
    worktree_error: RepoError | None = None

    @property
    def has_upstream(self) -> bool:
        """An upstream is configured (it may be gone)."""
        return self.upstream is not None

    @property
    def in_sync(self) -> bool:
        """The upstream exists and points at the same commit as the branch."""
        return self.upstream is not None and self.ahead == 0 and self.behind == 0


def author_identity(name: str | None, email: str | None) -> str | None:
    """The author as gitob shows it, everywhere (table, JSON, ``--where``, ``--sort``):
    ``Name <email>``, or whichever part there is; ``None`` without either.

    This is the one place the text is made, so a rule that rewrites identities applies
    to it here or to :attr:`BranchInfo.author` right after :func:`list_branches`.
    """
    if name and email:
        return f"{name} <{email}>"
    if email:
        return f"<{email}>"
    return name or None


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


def parse_branches(output: bytes, repo_path: str | None = None) -> list[BranchInfo]:
    """Parse the output of ``git for-each-ref --format=FORMAT refs/heads``."""
    branches: list[BranchInfo] = []
    for record in output.split(_END):
        if not record.strip(b"\n"):
            continue
        parts = record.split(b"\x00", len(_FIELDS) - 1)
        if len(parts) != len(_FIELDS):
            raise ValueError(f"unexpected for-each-ref record: {record[:200]!r}")
        name, head, upstream, track, date, author, email, remote, remote_ref = parts[:9]
        worktree, mark, subject = parts[9:]
        gone, ahead, behind = _track(track, bool(upstream))
        author_name = _or_none(author)
        author_email = _or_none(email.strip().removeprefix(b"<").removesuffix(b">"))
        branches.append(
            BranchInfo(
                name=_text(name),
                head=_text(head),
                upstream=_or_none(upstream),
                upstream_gone=gone,
                ahead=ahead,
                behind=behind,
                date=float(date) if date.isdigit() else None,
                author=author_identity(author_name, author_email),
                subject=_text(subject),
                worktree=os.fsdecode(worktree) if worktree else None,
                current=mark == b"*",
                author_name=author_name,
                author_email=author_email,
                upstream_remote=_or_none(remote) if upstream and remote != b"." else None,
                upstream_ref=_or_none(remote_ref) if upstream else None,
                repo_path=repo_path,
            )
        )
    return branches


def list_branches(
    repo: str | os.PathLike[str], *, timeout: float = LOCAL_TIMEOUT
) -> list[BranchInfo]:
    """Every local branch of *repo* (the top of a work tree), in git's ref order (by name).

    One git process. A repository without commits has no branches and gives an empty
    list. Raises a :class:`~gitoverit.errors.CommandError` subclass when *repo* cannot be
    read (``GitNotARepoError`` for a folder that is not a repository).
    """
    result = git("for-each-ref", f"--format={FORMAT}", "refs/heads", cwd=repo, timeout=timeout)
    return parse_branches(result.stdout, os.fspath(repo))


def worktree_ref(path: str) -> RepoRef | None:
    """The work tree at *path*, with its git dir read from ``.git`` (a folder, or a
    ``gitdir:`` file for a linked worktree or a submodule); ``None`` when there is none."""
    dot = os.path.join(path, ".git")
    if os.path.isdir(dot):
        return RepoRef(path=path, git_dir=os.path.realpath(dot), display_path=path)
    try:
        with open(dot, "rb") as fh:
            data = fh.read(4096)
    except OSError:
        return None
    if not data.startswith(b"gitdir: "):
        return None
    git_dir = os.path.realpath(os.path.join(path, os.fsdecode(data[8:].strip())))
    linked = os.path.basename(os.path.dirname(git_dir)) == "worktrees"
    return RepoRef(
        path=path, git_dir=git_dir, display_path=path, is_worktree=linked, is_submodule=not linked
    )


def _read_worktree(path: str, trust: bool, timeout: float) -> RepoStatus:
    from gitoverit.errors import GitNotARepoError
    from gitoverit.git.status import read_status

    ref = worktree_ref(path)
    if ref is None:
        raise GitNotARepoError([], None, message=f"not a git work tree: {path}")
    return read_status(ref, timeout=timeout, trust=trust)


def with_worktree_status(
    branches: Sequence[BranchInfo], *, trust: bool = False, timeout: float = LOCAL_TIMEOUT
) -> list[BranchInfo]:
    """*branches*, each checked-out one with the status of its work tree.

    One ``git status`` per work tree, several at once. A work tree that cannot be read
    (its folder was removed) gets ``worktree_error`` instead; nothing is raised but an
    interrupt.
    """
    from gitoverit.errors import error_from_exception
    from gitoverit.parallel import run_parallel

    paths = sorted({b.worktree for b in branches if b.worktree})
    if not paths:
        return list(branches)
    found: dict[str, RepoStatus | RepoError] = {}
    workers = min(len(paths), 2 * (os.cpu_count() or 1), 8)
    for outcome in run_parallel(
        lambda p: _read_worktree(p, trust, timeout), paths, max_workers=workers
    ):
        if isinstance(outcome.error, KeyboardInterrupt):
            raise outcome.error
        if isinstance(outcome.result, RepoStatus):
            found[outcome.item] = outcome.result
        else:
            found[outcome.item] = error_from_exception(outcome.error or ValueError("no status"))
    out: list[BranchInfo] = []
    for b in branches:
        got = found.get(b.worktree) if b.worktree else None
        if isinstance(got, RepoStatus):
            b = replace(b, worktree_status=got)
        elif isinstance(got, RepoError):
            b = replace(b, worktree_error=got)
        out.append(b)
    return out


__all__ = [
    "BRANCH_FIELDS",
    "FORMAT",
    "BranchInfo",
    "author_identity",
    "list_branches",
    "parse_branches",
    "with_worktree_status",
    "worktree_ref",
]
