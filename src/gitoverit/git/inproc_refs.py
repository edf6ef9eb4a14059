"""The branch headers of a status, read in-process for :mod:`gitoverit.git.inproc`: the
``# branch.*`` and ``# stash`` lines ``git status --porcelain=v2`` would print, or
:class:`~gitoverit.git.inproc_config.NotExact` when this cannot be told for certain."""

from __future__ import annotations

import os
import re
from typing import Any

from gitoverit.git.files import read_bytes
from gitoverit.git.gitconfig import ConfigEntry
from gitoverit.git.inproc_config import NotExact
from gitoverit.model import RepoRef

_HEX = re.compile(rb"[0-9a-f]{40}")
_REFSPEC = re.compile(r"\+?refs/heads/\*:(refs/remotes/.+/)\*")


def _headers(ref: RepoRef, config: list[ConfigEntry], repo_refs: _Refs, common: str) -> bytes:
    """The ``# branch.*`` and ``# stash`` lines ``git status --porcelain=v2 --branch -z
    --show-stash --ahead-behind`` would print for *ref*; :class:`NotExact` when this reader
    cannot tell them for certain."""
    import pygit2

    try:
        head = read_bytes(os.path.join(ref.git_dir, "HEAD"), 512).strip()
    except OSError as exc:
        raise NotExact(f"HEAD: {exc}") from None
    lines: list[bytes] = []
    stashes = _count_stashes(common)
    if _HEX.fullmatch(head):
        lines += [b"# branch.oid " + head, b"# branch.head (detached)"]
    elif head.startswith(b"ref: refs/heads/"):
        full = os.fsdecode(head[5:].strip())
        branch = full[len("refs/heads/") :]
        oid = repo_refs.oid(full)
        lines.append(b"# branch.oid " + (oid.encode() if oid else b"(initial)"))
        lines.append(b"# branch.head " + os.fsencode(branch))
        upstream = _upstream(config, branch)
        if upstream is not None:
            if oid is None:
                raise NotExact("an unborn branch with an upstream")
            short = upstream[len("refs/remotes/") :]
            for candidate in (f"refs/{short}", f"refs/tags/{short}", f"refs/heads/{short}"):
                if repo_refs.exists(candidate):
                    raise NotExact(f"the upstream's short name {short} is ambiguous")
            if short.endswith("/HEAD") or re.fullmatch(r"[A-Z_]+", short.split("/")[0]):
                raise NotExact(f"upstream {short}")
            lines.append(b"# branch.upstream " + os.fsencode(short))
            up_oid = repo_refs.oid(upstream)
            if up_oid is not None:
                try:
                    ahead, behind = repo_refs.repo.ahead_behind(oid, up_oid)
                except (pygit2.GitError, ValueError) as exc:
                    raise NotExact(f"ahead/behind: {exc}") from None
                lines.append(f"# branch.ab +{ahead} -{behind}".encode())
    else:
        raise NotExact("HEAD outside refs/heads")
    if stashes:
        lines.append(f"# stash {stashes}".encode())
    return b"\0".join(lines) + b"\0"


def _count_stashes(common: str) -> int:
    """The stash entries: lines of the stash reflog, shared by every worktree."""
    try:
        return read_bytes(os.path.join(common, "logs", "refs", "stash")).count(b"\n")
    except OSError:
        return 0


class _Refs:
    """Reference lookups through libgit2 (loose and packed refs alike)."""

    def __init__(self, repo: Any) -> None:
        self.repo = repo

    def oid(self, name: str) -> str | None:
        import pygit2
        from pygit2.enums import ReferenceType

        try:
            found = self.repo.references.get(name)
        except (pygit2.GitError, ValueError) as exc:
            raise NotExact(f"{name}: {exc}") from None
        if found is None:
            return None
        if found.type != ReferenceType.DIRECT:
            raise NotExact(f"{name} is a symbolic ref")
        return str(found.target)

    def exists(self, name: str) -> bool:
        return self.oid(name) is not None


def _upstream(config: list[ConfigEntry], branch: str) -> str | None:
    """The full name of *branch*'s upstream, as git's ``branch_get_upstream`` finds it
    in the plain case; ``None`` when none is configured."""
    merges = [
        e.value
        for e in config
        if e.section == "branch" and e.subsection == branch and e.key == "merge"
    ]
    remotes = [
        e.value
        for e in config
        if e.section == "branch" and e.subsection == branch and e.key == "remote"
    ]
    if not merges:
        if remotes:
            raise NotExact("branch.<…>.remote without merge")
        return None
    if len(merges) > 1 or not remotes:
        raise NotExact("an unusual upstream configuration")
    merge, remote = merges[0], remotes[-1]
    if merge is None or remote is None or not merge.startswith("refs/heads/") or remote == ".":
        raise NotExact("an unusual upstream configuration")
    fetch = [
        e.value
        for e in config
        if e.section == "remote" and e.subsection == remote and e.key == "fetch"
    ]
    if len(fetch) != 1 or fetch[0] is None:
        raise NotExact(f"remote {remote}'s fetch refspecs")
    m = _REFSPEC.fullmatch(fetch[0].strip())
    if m is None:
        raise NotExact(f"remote {remote}'s fetch refspec")
    return m.group(1) + merge[len("refs/heads/") :]
