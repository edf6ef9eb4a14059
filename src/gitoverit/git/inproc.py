"""The in-process status reader: libgit2 (through pygit2) reads a repository without
starting git, for the repositories whose record it can promise to be git's.

**Exact or not used.** :func:`read_inprocess` gives exactly the
:class:`~gitoverit.model.RepoStatus` the git engine (:mod:`gitoverit.git.batch`) would
build, every field, or raises :class:`NotExact` naming why git must read the repository
instead. What goes to git, and why:

- anything the configuration may change in a way libgit2 does not follow exactly:
  ``core.autocrlf``, ``core.eol``, ``core.ignoreCase``, ``core.precomposeUnicode``,
  ``core.symlinks``, ``core.fileMode``, ``core.trustCtime`` and ``core.checkStat`` at other
  than git's default values, ``core.worktree``, ``core.attributesFile``, the repository's
  own ``core.excludesFile``, any ``extensions.*`` (sha256, reftable, worktree config),
  ``index.sparse``, ``index.skipHash``, ``feature.*``, ``core.splitIndex``,
  ``core.sparseCheckout``, the repository's own filter drivers, and ``include``/``includeIf``
  in the repository's config (see :func:`config_reason`);
- attributes anywhere (a ``.gitattributes`` file, ``info/attributes``, a global or system
  attributes file): they may name filters and end-of-line conversions;
- an index libgit2 and git may read differently: split or sparse, an unmerged,
  assume-unchanged, skip-worktree or intent-to-add entry, or submodules (gitlinks, whose
  ``--ignore-submodules=dirty`` comparison libgit2 cannot be asked for);
- history that git reads through more than the object database: shallow clones, grafts,
  replace refs;
- a staged addition next to a staged deletion (git may pair them as one rename);
- an unusual branch or upstream: a HEAD outside ``refs/heads/``, an upstream on a remote
  whose fetch refspec is not the plain ``refs/heads/*:refs/remotes/<name>/*``, more than one
  ``merge`` value, a local (``.``) upstream, an upstream whose short name is ambiguous, an
  unborn branch with an upstream;
- more than :data:`MAX_FILES` tracked files, where git's own status is faster;
- a path that is not valid UTF-8, and anything libgit2 fails on (git then says what is
  wrong).

The configuration outside the repository (system, global, ``-c`` and ``GIT_CONFIG_*``
variables) is read once per run by :func:`run_config`, from ``git config --list``; libgit2
then sees none of it but the global excludes file.

The branch headers are rebuilt as the ``# branch.*`` and ``# stash`` lines ``git status
--porcelain=v2`` would print and read by the same parser as git's output, and the counts
follow :func:`~gitoverit.git.porcelain.parse_porcelain_v2`'s rules, so that both readers
share every rule after the reading itself. Nothing here writes to a repository: libgit2
reads the index and never refreshes it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, NamedTuple

from gitoverit.git.files import read_bytes
from gitoverit.git.gitconfig import common_dir, read_config
from gitoverit.git.gitdir import detect_operation
from gitoverit.git.index import IndexFormatError, IndexInfo, _read_index_bytes, parse_index
from gitoverit.git.inproc_config import (
    NotExact,
    RunConfig,
    available,
    config_reason,
    lines_config_reason,
    prepare_libgit2,
    run_config,
)
from gitoverit.git.inproc_refs import _headers, _Refs
from gitoverit.git.metadata import status_of
from gitoverit.git.porcelain import count_untracked, parse_porcelain_v2
from gitoverit.git.tracked import latest_ns
from gitoverit.model import RepoRef, RepoStatus

__all__ = [
    "MAX_FILES",
    "NotExact",
    "RunConfig",
    "available",
    "config_reason",
    "lines_config_reason",
    "prepare_libgit2",
    "read_inprocess",
    "run_config",
]

#: Above this many tracked files, git's own status (threaded, with its caches) is faster.
MAX_FILES = 1000


# libgit2's status flags (GIT_STATUS_*), as plain ints.
_INDEX_NEW, _INDEX_MODIFIED, _INDEX_DELETED, _INDEX_RENAMED, _INDEX_TYPECHANGE = 1, 2, 4, 8, 16
_WT_NEW, _WT_MODIFIED, _WT_DELETED, _WT_TYPECHANGE, _WT_RENAMED, _WT_UNREADABLE = (
    128,
    256,
    512,
    1024,
    2048,
    4096,
)
_IGNORED, _CONFLICTED = 16384, 32768
_INDEX = _INDEX_NEW | _INDEX_MODIFIED | _INDEX_DELETED | _INDEX_TYPECHANGE
_WT = _WT_MODIFIED | _WT_DELETED | _WT_TYPECHANGE
_CHANGED = _INDEX | _WT
#: What porcelain v2 shows as M, A, R, C or T in either column, and as D.
_MODIFIED = _INDEX_NEW | _INDEX_MODIFIED | _INDEX_TYPECHANGE | _WT_MODIFIED | _WT_TYPECHANGE
_DELETED = _INDEX_DELETED | _WT_DELETED
#: What this reader does not count: renames (git pairs its own), unreadable, unmerged.
_ODD = _INDEX_RENAMED | _WT_RENAMED | _WT_UNREADABLE | _CONFLICTED | _IGNORED


# -- one repository -----------------------------------------------------------------


def read_inprocess(ref: RepoRef, *, lines: bool = False, ident: str | None = None) -> RepoStatus:
    """*ref*'s status as the git engine would record it, read by libgit2 in this process
    (:func:`prepare_libgit2` first). Raises :class:`NotExact` when git must read it.

    With *lines*, the line totals of ``git diff HEAD --numstat``
    (:func:`gitoverit.git.extras.read_lines`) are filled in too when libgit2 counts them
    as git does (see :func:`lines_config_reason`; an unborn HEAD leaves them to git).
    *ident*, when known, is the record's committer identity."""
    config = read_config(ref.git_dir)
    reason = config_reason(config, repo=True)
    if reason is not None:
        raise NotExact(reason)
    common = common_dir(ref.git_dir)
    _check_history(common)
    index = _read_index(ref)
    if index.trees:
        raise NotExact("split or sparse index")
    if index.gitlinks:
        raise NotExact("submodules")
    if index.special:
        raise NotExact("unmerged, skip-worktree, assume-unchanged or intent-to-add entries")
    if len(index.paths) > MAX_FILES:
        raise NotExact(f"{len(index.paths)} tracked files")
    _check_attributes(index.paths)
    tracked_ns = latest_ns(ref.path, index.paths)
    repo = _open(ref)
    headers = _headers(ref, config, _Refs(repo), common)
    operation = detect_operation(ref.git_dir)
    counts, untracked, typechange = _counts(repo)
    _check_hidden_repos(repo, ref.path, index.paths, untracked)
    _check_attributes(untracked)
    parsed = parse_porcelain_v2(headers)
    latest = max(tracked_ns, latest_ns(ref.path, untracked))
    lines_added = lines_removed = None
    if lines and parsed.oid is not None and not typechange and lines_config_reason(config) is None:
        if counts.staged or counts.unstaged_modified or counts.unstaged_deleted:
            lines_added, lines_removed = _line_totals(repo)
        else:
            lines_added = lines_removed = 0
    # The branch part and the remote URL as the git engine builds them from git's output.
    return status_of(
        parsed,
        config,
        untracked=count_untracked(untracked, index.paths),
        conflicted=0,
        operation=operation,
        submodules=index.gitlinks,
        mtime=latest / 1e9 if latest >= 0 else None,
        lines_added=lines_added,
        lines_removed=lines_removed,
        ident=ident,
        **counts._asdict(),
    )


def _read_index(ref: RepoRef) -> IndexInfo:
    """*ref*'s index, parsed here (its files not yet looked at)."""
    data = _read_index_bytes(ref.git_dir)
    if data is None:
        return IndexInfo((), 0)
    try:
        return parse_index(data, 20)
    except IndexFormatError as exc:  # split, unknown version, unreadable: git says
        raise NotExact(f"index: {exc}") from None


def _check_attributes(paths: Sequence[bytes]) -> None:
    for path in paths:
        if path.endswith(b".gitattributes") and (
            path == b".gitattributes" or path.endswith(b"/.gitattributes")
        ):
            raise NotExact("attributes")


def _open(ref: RepoRef) -> Any:
    """*ref* opened by libgit2, which must find the same work tree and git dir."""
    import pygit2
    from pygit2.enums import RepositoryOpenFlag

    try:
        repo = pygit2.Repository(ref.path, RepositoryOpenFlag.NO_SEARCH)
    except (pygit2.GitError, ValueError, UnicodeError) as exc:
        raise NotExact(f"libgit2: {exc}") from None
    if not _same_path(repo.workdir or "", ref.path) or not _same_path(repo.path, ref.git_dir):
        raise NotExact("libgit2 opened another repository")
    return repo


class _Counts(NamedTuple):
    staged: int
    modified: int
    deleted: int
    unstaged_modified: int
    unstaged_deleted: int


#: A path whose type changed (file, symlink): libgit2's line totals leave out the new
#: side where ``git diff`` counts it, so git counts the lines of such a repository.
_TYPECHANGE = _INDEX_TYPECHANGE | _WT_TYPECHANGE


def _counts(repo: Any) -> tuple[_Counts, list[bytes], bool]:
    """The work-tree counts of *repo*'s status, by porcelain v2's rules (see
    :func:`~gitoverit.git.porcelain.parse_porcelain_v2`), its untracked paths, and
    whether a path changed type."""
    import pygit2

    try:
        statuses: dict[str, Any] = repo.status(untracked_files="all", ignored=False)
    except UnicodeDecodeError:
        raise NotExact("a path that is not UTF-8") from None
    except (pygit2.GitError, ValueError) as exc:
        raise NotExact(f"libgit2: {exc}") from None
    staged = modified = deleted = unstaged_modified = unstaged_deleted = 0
    untracked: list[bytes] = []
    added = removed = typechange = False
    for name, status in statuses.items():
        flags = int(status)  # int operations: an IntFlag's are Python code
        if flags & _ODD:
            raise NotExact(f"libgit2 status {flags:#x}")
        if flags & _WT_NEW:
            untracked.append(name.encode("utf-8", "surrogateescape"))
        if not flags & _CHANGED:
            continue
        if flags & _TYPECHANGE:
            typechange = True
        if flags & _INDEX:
            staged += 1
            if flags & _INDEX_NEW:
                added = True
            if flags & _INDEX_DELETED:
                removed = True
        if flags & _MODIFIED:
            modified += 1
        if flags & _DELETED:
            deleted += 1
        if flags & _WT_DELETED:
            unstaged_deleted += 1
        elif flags & _WT:
            unstaged_modified += 1
    if added and removed:
        raise NotExact("a staged addition and deletion: git may pair them as a rename")
    counts = _Counts(staged, modified, deleted, unstaged_modified, unstaged_deleted)
    return counts, untracked, typechange


def _line_totals(repo: Any) -> tuple[int, int]:
    """Lines added and removed from HEAD to the work tree through the index, as libgit2's
    ``git_diff_tree_to_workdir_with_index`` counts them (binary files count 0)."""
    import pygit2

    index = repo.index
    diff = repo.head.peel(pygit2.Tree).diff_to_index(index)
    diff.merge(index.diff_to_workdir())
    stats = diff.stats
    return stats.insertions, stats.deletions


def _check_hidden_repos(
    repo: Any, worktree: str, tracked: Sequence[bytes], untracked: Sequence[bytes]
) -> None:
    """:class:`NotExact` when a folder libgit2 did not report holds a repository: git
    lists such a nested repository (``dir/``) even when it holds nothing but its ``.git``,
    where libgit2 takes it for an empty folder.

    The folders libgit2 reported are those of the tracked and untracked paths. A folder
    whose link count says it has no other subfolder (2, plus one per subfolder) is not
    listed; any other is, and each unreported, not ignored subfolder is searched."""
    known = {p.rpartition(b"/")[0] for p in tracked}
    known.update(p.rstrip(b"/").rpartition(b"/")[0] for p in untracked)
    known.update(p.rstrip(b"/") for p in untracked if p.endswith(b"/"))
    for d in list(known):
        while d:
            d = d.rpartition(b"/")[0]
            if d in known:
                break
            known.add(d)
    known.add(b"")
    children: dict[bytes, int] = dict.fromkeys(known, 0)
    for d in known:
        if d:
            children[d.rpartition(b"/")[0]] += 1
    children[b""] += 1  # .git
    base = os.fsencode(worktree).rstrip(b"/") + b"/"
    for d, count in children.items():
        folder = base + d if d else base
        try:
            links = os.lstat(folder).st_nlink
        except OSError:
            continue  # gone: git does not list it either
        if links == 2 + count:
            continue
        try:
            with os.scandir(folder) as it:
                subdirs = [e.name for e in it if e.is_dir(follow_symlinks=False)]
        except OSError:
            continue
        for name in subdirs:
            rel = d + b"/" + os.fsencode(name) if d else os.fsencode(name)
            if rel in known or rel == b".git":
                continue
            _search_hidden(repo, base, rel)


def _search_hidden(repo: Any, base: bytes, rel: bytes) -> None:
    """Search the unreported folder *rel* for a repository (see :func:`_check_hidden_repos`)."""
    if repo.path_is_ignored(os.fsdecode(rel) + "/"):
        return
    try:
        with os.scandir(base + rel) as it:
            entries = [(e.name, e.is_dir(follow_symlinks=False)) for e in it]
    except OSError:
        return
    for name, is_dir in entries:
        if name == b".git":
            raise NotExact(f"a nested repository in {os.fsdecode(rel)}/")
        if is_dir:
            _search_hidden(repo, base, rel + b"/" + name)


def _check_history(common: str) -> None:
    """:class:`NotExact` when git reads *common*'s history through more than its objects
    and refs (a shallow clone, grafts, replace refs) or it has attributes of its own."""
    try:
        names = os.listdir(common)
    except OSError as exc:
        raise NotExact(f"{common}: {exc}") from None
    if "shallow" in names:
        raise NotExact("a shallow clone")
    try:
        info = os.listdir(os.path.join(common, "info"))
    except OSError:
        info = []
    if "grafts" in info or "attributes" in info:
        raise NotExact("info/grafts or info/attributes")
    try:
        if os.listdir(os.path.join(common, "refs", "replace")):
            raise NotExact("replace refs")
    except OSError:
        pass
    if "packed-refs" in names:
        try:
            packed = read_bytes(os.path.join(common, "packed-refs"))
        except OSError as exc:
            raise NotExact(f"packed-refs: {exc}") from None
        if b" refs/replace/" in packed:
            raise NotExact("replace refs")


def _same_path(a: str, b: str) -> bool:
    a, b = os.path.normpath(a), os.path.normpath(b)
    return a == b or os.path.realpath(a) == os.path.realpath(b)
