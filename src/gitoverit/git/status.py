"""Read one repository's state into a :class:`~gitoverit.model.RepoStatus`.

A full status costs exactly one git process (:data:`~gitoverit.git.porcelain.STATUS_ARGS`)::

    git status --porcelain=v2 --branch -z --show-stash --untracked-files=all
               --ahead-behind --ignore-submodules=dirty

run in the environment of :func:`~gitoverit.git.repo_git.status_env`: read-only
(``GIT_OPTIONAL_LOCKS=0``, ``core.fsmonitor=false``), with ``GIT_CEILING_DIRECTORIES`` set
to the repo's parent so that git never reports on an enclosing repository instead. (The
status engine may instead point git at a private copy of the index, which git may then
rewrite: :class:`~gitoverit.git.index_copy.IndexCopy`.) Everything else is read from files:

- the operation in progress from marker files in the git dir
  (:func:`~gitoverit.git.gitdir.detect_operation`);
- tracked paths and the submodule count from the binary index
  (:mod:`gitoverit.git.tracked`); only a split index, whose full path list is not in that
  file, costs one more process (``git ls-files --stage``). A sparse index is read as it
  is, never expanded: a collapsed directory counts as one tracked path;
- the remote URL from the repository's config file (:mod:`gitoverit.git.gitdir`).

``ref.git_dir`` must be the resolved git dir (for a linked worktree, its own one under
``worktrees/``); the config and the stash reflog are read from its common dir.

Choices, and why:

- ``--untracked-files=all`` instead of ``normal``: the record needs both git's ``normal``
  count (a wholly untracked folder counts as one) and the modification time of every
  non-ignored untracked *file*. ``all`` lists the files;
  :func:`~gitoverit.git.porcelain.count_untracked` folds them back into exactly the
  entries ``normal`` would show, using the tracked paths from the index (a folder is shown
  whole when no index path lies under it). This keeps one process per repo where
  ``normal`` plus ``git ls-files -o`` would need two.
- ``--ignore-submodules=dirty``: a submodule whose checked-out commit differs from the
  recorded gitlink still counts as modified, but git does not start a nested ``git status``
  inside every submodule. A submodule is a repository of its own and gets its own record.
- ``--ahead-behind`` overrides ``status.aheadBehind=false``, which would hide the counts.
- ``git am`` in progress (``rebase-apply/applying``) is reported as ``rebase``: it uses
  the same machinery and is resolved the same way (``--continue`` / ``--abort``).
- ``mtime`` covers files and symlinks only (``lstat``, so a symlink's own time): tracked
  paths from the index plus non-ignored untracked files. Directories are never counted, so
  submodules (gitlinks) and untracked nested repositories (listed by git as ``dir/``) do not
  contribute; they are repositories of their own. Missing files (deleted, skip-worktree)
  are skipped. :func:`read_status` stats every file (about 1 µs each). The status engine
  (:mod:`gitoverit.git.batch`) gets the same answer with far fewer stats: it gives git a
  private copy of the index (:mod:`gitoverit.git.index_copy`), which git refreshes, and
  stats only the files git did not vouch for. The index parse, the stats, the config and
  the operation check all happen while ``git status`` runs
  (:func:`read_local_facts`), so they overlap with git's own work on the other core.
- ``remote_url`` is the first ``url`` of the current branch's ``branch.<name>.remote``, else
  ``origin``'s, parsed in-process as configured in the repository
  (:func:`~gitoverit.git.gitdir.remote_url`).

``metadata_only=True`` never looks at the work tree (:mod:`gitoverit.git.metadata`).

The parsers, :data:`STATUS_ARGS`, :class:`IndexCopy` and the other names in ``__all__``
can be imported from here too.
"""

from __future__ import annotations

from dataclasses import dataclass

from gitoverit.git.command import LOCAL_TIMEOUT, READ_ONLY_CONFIG, start_git
from gitoverit.git.gitconfig import ConfigEntry, common_dir, parse_config, read_config
from gitoverit.git.gitdir import detect_operation, hash_len, read_remote_url
from gitoverit.git.index import IndexFormatError, IndexInfo, _read_index_bytes, parse_index
from gitoverit.git.index_copy import REFRESH_CONFIG, IndexCopy, copy_index, copy_tracked_ns
from gitoverit.git.metadata import read_metadata, status_of
from gitoverit.git.porcelain import (
    STATUS_ARGS,
    ParsedStatus,
    StatusParseError,
    count_untracked,
    parse_output,
    parse_porcelain_v2,
)
from gitoverit.git.repo_filters import NO_GUARD, FilterGuard, filter_guard, uncertain_filters
from gitoverit.git.repo_git import checked_output, status_env
from gitoverit.git.tracked import (
    count_gitlinks,
    index_from_ls_files,
    latest_mtime,
    latest_ns,
    read_index,
    read_tracked,
)
from gitoverit.model import Operation, RepoRef, RepoStatus
from gitoverit.text import redact_url


@dataclass(frozen=True, slots=True)
class LocalFacts:
    """What a full status reads from files, while ``git status`` runs beside it."""

    config: list[ConfigEntry]
    index: IndexInfo | None  # None: the index needs ``git ls-files`` to be read
    tracked_ns: int  # with an index copy: only its unchecked entries, see status_from
    operation: Operation | None
    copy: IndexCopy | None = None
    hash_len: int = 20


def read_local_facts(ref: RepoRef, copy: IndexCopy | None = None) -> LocalFacts:
    """Read the config, the index (and its files' mtimes) and the operation in progress.

    With *copy*, the index given to git (:func:`copy_index`), its recorded times stand
    for the tracked files' until git's output says otherwise (see :func:`status_from`).
    """
    config = read_config(ref.git_dir)
    hashlen = hash_len(config)
    if copy is None:
        index, tracked_ns = read_tracked(ref, hashlen)
        return LocalFacts(config, index, tracked_ns, detect_operation(ref.git_dir))
    try:
        timed: IndexInfo | None = parse_index(copy.data, hashlen, copy.stamp)
    except IndexFormatError:
        timed = None
    operation = detect_operation(ref.git_dir, copy.names)
    return LocalFacts(config, timed, -1, operation, copy if timed is not None else None, hashlen)


def status_from(
    ref: RepoRef,
    out: bytes,
    facts: LocalFacts,
    *,
    timeout: float,
    guard: FilterGuard = NO_GUARD,
) -> RepoStatus:
    """Build the :class:`RepoStatus` from ``git status`` output (:data:`STATUS_ARGS`) and
    the facts read beside it. *guard* says which of the repository's own filter drivers
    git ran without (see :mod:`.repo_filters`). Raises a ``CommandError`` when the output
    cannot be parsed."""
    parsed = parse_output(out, STATUS_ARGS)
    index, tracked_ns = facts.index, facts.tracked_ns
    if index is None:
        index = index_from_ls_files(ref, timeout)
        tracked_ns = latest_ns(ref.path, index.paths)
    elif facts.copy is not None:
        tracked_ns = max(
            copy_tracked_ns(ref, facts.copy, index, facts.hash_len),
            latest_ns(ref.path, parsed.changed),
        )
    latest = max(tracked_ns, latest_ns(ref.path, parsed.untracked))
    untrusted: tuple[str, ...] = ()
    if guard.disabled and parsed.changed:
        sizes = _recorded_sizes(ref, facts, parsed.changed)
        untrusted = uncertain_filters(ref, parsed.changed, guard, sizes, timeout=timeout)
    return status_of(
        parsed,
        facts.config,
        staged=parsed.staged,
        modified=parsed.modified,
        deleted=parsed.deleted,
        unstaged_modified=parsed.unstaged_modified,
        unstaged_deleted=parsed.unstaged_deleted,
        untracked=count_untracked(parsed.untracked, index.paths),
        conflicted=parsed.conflicted,
        operation=facts.operation,
        submodules=index.gitlinks,
        mtime=latest / 1e9 if latest >= 0 else None,
        untrusted_config=untrusted,
    )


def _recorded_sizes(ref: RepoRef, facts: LocalFacts, paths: tuple[bytes, ...]) -> dict[bytes, int]:
    """The file size the index recorded for each of *paths* that it holds; ``-1`` for
    each when the index cannot be read in-process (a split index), which makes every
    one of them count as possibly stat-dirty."""
    data = facts.copy.data if facts.copy is not None else _read_index_bytes(ref.git_dir) or b""
    sizes = dict.fromkeys(paths, -1)
    try:
        parse_index(data, hash_len(facts.config), sizes=sizes)
    except IndexFormatError:
        return dict.fromkeys(paths, -1)
    return sizes


def read_status(
    ref: RepoRef,
    *,
    metadata_only: bool = False,
    timeout: float = LOCAL_TIMEOUT,
    trust: bool = False,
) -> RepoStatus:
    """Read *ref*'s state: one ``git status`` process plus file reads.

    With *metadata_only*, the work tree is not inspected and the work-tree counts and
    ``mtime`` are ``None``. No hook runs, and the repository's own filter commands run
    only with *trust* (see :mod:`.repo_filters`). Raises a
    :class:`~gitoverit.errors.CommandError` subclass when the repository cannot be read
    (its ``reason`` says why).
    """
    if metadata_only:
        return read_metadata(ref, timeout, trust=trust)
    guard = NO_GUARD if trust else filter_guard(ref)
    running = start_git(
        *READ_ONLY_CONFIG,
        *guard.args,
        *STATUS_ARGS,
        cwd=ref.path,
        timeout=timeout,
        env=status_env(ref),
    )
    try:
        # File work while git runs: the two proceed on different cores.
        facts = read_local_facts(ref)
    except BaseException:
        running.abort()
        raise
    out = checked_output(ref, running)
    return status_from(ref, out, facts, timeout=timeout, guard=guard)


__all__ = [
    "REFRESH_CONFIG",
    "STATUS_ARGS",
    "ConfigEntry",
    "IndexCopy",
    "IndexFormatError",
    "IndexInfo",
    "ParsedStatus",
    "StatusParseError",
    "common_dir",
    "copy_index",
    "count_gitlinks",
    "count_untracked",
    "detect_operation",
    "latest_mtime",
    "parse_config",
    "parse_index",
    "parse_porcelain_v2",
    "read_config",
    "read_index",
    "read_remote_url",
    "read_status",
    "redact_url",
]
