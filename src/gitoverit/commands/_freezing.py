"""What ``gitoverit freeze`` records of the repositories it finds: for each one its
branch (or the tag or commit of a detached HEAD), every remote with its fetch URL and a
push URL that differs, and its linked worktrees; submodules are left to their
superproject's ``.gitmodules``. Credentials are taken out of every URL."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitoverit.text import safe_text, strip_credentials

if TYPE_CHECKING:
    from gitoverit.manifest import ManifestEntry, WorktreeEntry
    from gitoverit.model import RepoRecord, RepoRef


@dataclass(slots=True)
class Frozen:
    """The entries to write, the warnings to show, and each repo left out with why."""

    entries: list[ManifestEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    left_out: list[tuple[str, str]] = field(default_factory=list)


def collect(dirs: tuple[str, ...], exclude: tuple[str, ...]) -> Frozen:
    """Scan *dirs* and turn what is found into manifest entries, sorted by path (so a
    repo comes before the repos inside it)."""
    from gitoverit.model import RepoDone
    from gitoverit.scan import Scan, ScanOptions
    from gitoverit.select import Selection, roots_of

    selection = Selection(roots=roots_of(dirs), exclude=exclude)
    records = [
        e.record
        for e in Scan(ScanOptions(selection=selection, metadata_only=True)).events()
        if isinstance(e, RepoDone)
    ]
    frozen = Frozen()
    worktrees: list[RepoRecord] = []
    by_path: dict[str, ManifestEntry] = {}
    for rec in sorted(records, key=lambda r: r.ref.path):
        shown = safe_text(rec.ref.display_path)
        if rec.ref.is_submodule:
            owner = safe_text(rec.ref.superproject or "its superproject")
            frozen.left_out.append((shown, f"submodule of {owner}"))
        elif rec.ref.is_worktree:
            worktrees.append(rec)
        elif rec.error is not None or rec.status is None:
            reason = rec.error.message if rec.error is not None else "unreadable"
            frozen.left_out.append((shown, reason))
        else:
            entry = _entry(rec, frozen)
            if entry is not None:
                by_path[entry.path] = entry
    for rec in worktrees:
        _attach(rec, by_path, frozen)
    frozen.entries = [by_path[p] for p in sorted(by_path)]
    return frozen


def _clean(url: str, repo: str, remote: str, frozen: Frozen) -> str:
    clean = strip_credentials(url)
    if clean != url:
        frozen.warnings.append(
            f"{repo}: credentials removed from the URL of remote {safe_text(remote)}"
        )
    return clean


def _entry(rec: RepoRecord, frozen: Frozen) -> ManifestEntry | None:
    from gitoverit.git import ops
    from gitoverit.manifest import ManifestEntry

    ref, status = rec.ref, rec.status
    assert status is not None
    shown = safe_text(ref.display_path)
    remotes = {n: u for n, u in ops.remote_urls(ref.git_dir).items() if u[0]}
    if not remotes:
        frozen.left_out.append((shown, "no remote"))
        return None
    primary = "origin" if "origin" in remotes else next(iter(remotes))
    pairs: list[tuple[str, str]] = []
    pushes: list[tuple[str, str]] = []
    url = ""
    for name, (fetch_url, push_url) in remotes.items():
        assert fetch_url is not None
        fetch_url = _clean(fetch_url, shown, name, frozen)
        if push_url is not None:
            push_url = _clean(push_url, shown, name, frozen)
            if push_url != fetch_url:
                pushes.append(("origin" if name == primary else name, push_url))
        if name == primary:
            url = fetch_url
        else:
            pairs.append((name, fetch_url))
    branch, rev = status.branch, None
    if status.detached or branch is None:
        branch = None
        rev = _detached_at(ref, status.head)
    return ManifestEntry(
        path=ref.path,
        url=url,
        name=os.path.basename(ref.path) or ref.path,
        remotes=tuple(pairs),
        branch=branch,
        push_urls=tuple(pushes),
        rev=rev,
    )


def _detached_at(ref: RepoRef, head: str | None) -> str | None:
    """The tag at a detached HEAD, else its commit."""
    from gitoverit.errors import CommandError
    from gitoverit.git.command import git

    if head is None:
        return None
    try:
        out = git("tag", "--points-at", "HEAD", cwd=ref.path).stdout.decode()
    except CommandError:
        out = ""
    tags = out.split()
    return tags[0] if tags else head


def _worktree_of(rec: RepoRecord) -> WorktreeEntry:
    from gitoverit.manifest import WorktreeEntry

    status = rec.status
    if status is not None and status.branch is not None and not status.detached:
        return WorktreeEntry(rec.ref.path, branch=status.branch)
    at = _detached_at(rec.ref, status.head if status else None) or ""
    if status is not None and at == status.head:
        return WorktreeEntry(rec.ref.path, commit=at)
    return WorktreeEntry(rec.ref.path, tag=at)


def _attach(rec: RepoRecord, by_path: dict[str, ManifestEntry], frozen: Frozen) -> None:
    """Add linked worktree *rec* to its main repo's entry."""
    from dataclasses import replace

    from gitoverit.git.gitconfig import common_dir

    shown = safe_text(rec.ref.display_path)
    common = common_dir(rec.ref.git_dir)
    main = os.path.dirname(common) if os.path.basename(common) == ".git" else None
    if rec.status is None or rec.status.head is None:
        frozen.left_out.append((shown, "worktree without a commit"))
        return
    if main is None or main not in by_path:
        where = safe_text(main) if main else "a bare repository"
        frozen.left_out.append((shown, f"worktree of {where}, which is not written"))
        return
    entry = by_path[main]
    by_path[main] = replace(entry, worktrees=(*entry.worktrees, _worktree_of(rec)))
