"""A repository's tracked files: their paths, its submodule count, files' latest mtime.

Tracked paths and the submodule count come from the binary index
(:func:`~gitoverit.git.index.parse_index`); only an index that file does not fully
describe (a split index, an unknown format) costs a process, ``git ls-files --stage``.
A sparse index is read as it is, never expanded (``git ls-files`` would expand it,
rebuilding its tree objects and so rewriting their times in the object store): a
collapsed directory counts as one tracked path, and it holds no submodule, since git never
collapses a directory with a submodule inside.

Modification times are ``lstat`` times of files and symlinks (a symlink's own time);
directories and missing files are skipped (:func:`latest_mtime`).
"""

from __future__ import annotations

import os
import stat as _stat
from collections.abc import Iterable

from gitoverit.git.command import LOCAL_TIMEOUT, git
from gitoverit.git.index import (
    _GITLINK_BYTES,
    IndexFormatError,
    IndexInfo,
    _read_index_bytes,
    parse_index,
)
from gitoverit.git.repo_git import status_env
from gitoverit.model import RepoRef


def read_index(ref: RepoRef, *, hash_len: int = 20, timeout: float = LOCAL_TIMEOUT) -> IndexInfo:
    """Read the repo's index: in-process, or with ``git ls-files --stage`` when the index
    is split or in a format :func:`parse_index` does not read.

    A missing index (a new repository) is an empty one.
    """
    data = _read_index_bytes(ref.git_dir)
    if data is None:
        return IndexInfo((), 0)
    try:
        return parse_index(data, hash_len)
    except IndexFormatError:
        return index_from_ls_files(ref, timeout)


def index_from_ls_files(ref: RepoRef, timeout: float) -> IndexInfo:
    """The index's paths and gitlink count as ``git ls-files --stage`` lists them."""
    out = git(
        "ls-files", "-z", "--stage", cwd=ref.path, timeout=timeout, env=status_env(ref)
    ).stdout
    paths: list[bytes] = []
    gitlinks = 0
    last = b""
    for rec in out.split(b"\0"):
        if not rec:
            continue
        meta, _, name = rec.partition(b"\t")
        if meta.startswith(b"160000"):
            gitlinks += 1
        if name != last:
            paths.append(name)
            last = name
    return IndexInfo(tuple(paths), gitlinks)


def count_gitlinks(ref: RepoRef, *, hash_len: int = 20, timeout: float = LOCAL_TIMEOUT) -> int:
    """Number of submodule entries (gitlinks) in the index.

    Fast and exact for the common case: when the big-endian mode ``0o160000`` occurs
    nowhere in the file and it is neither split nor sparse, there is no gitlink.
    """
    data = _read_index_bytes(ref.git_dir)
    if data is None:
        return 0
    if (
        data[:4] == b"DIRC"
        and _GITLINK_BYTES not in data
        and b"link" not in data
        and b"sdir" not in data
    ):
        return 0
    return read_index(ref, hash_len=hash_len, timeout=timeout).gitlinks


def latest_mtime(
    worktree: str, tracked: Iterable[bytes], untracked: Iterable[bytes] = ()
) -> float | None:
    """Latest ``lstat`` modification time among the given files, in epoch seconds.

    Paths are relative to *worktree*. Directories and missing paths are skipped; so are
    untracked entries that end in ``/`` (nested repositories git does not descend into).
    """
    best = max(latest_ns(worktree, tracked), latest_ns(worktree, untracked))
    return best / 1e9 if best >= 0 else None


def latest_ns(worktree: str, paths: Iterable[bytes]) -> int:
    """Latest ``lstat`` modification time (ns) among *paths*, relative to *worktree*,
    skipping directories and missing paths; -1 when there is none."""
    # The hot loop of a full status on a big repo: one lstat per path, nothing else.
    prefix = os.fsencode(worktree).rstrip(b"/") + b"/"
    lstat = os.lstat
    isdir = _stat.S_ISDIR
    best = -1
    for rel in paths:
        try:
            st = lstat(prefix + rel)
        except OSError:
            continue
        m = st.st_mtime_ns
        if m > best and not isdir(st.st_mode):
            best = m
    return best


def read_tracked(ref: RepoRef, hash_len: int) -> tuple[IndexInfo | None, int]:
    """The parsed index and the latest mtime (ns) of its paths; ``None`` when the index
    needs ``git ls-files`` to be read (split or sparse index, unknown format)."""
    data = _read_index_bytes(ref.git_dir)
    if data is None:
        return IndexInfo((), 0), -1
    try:
        index = parse_index(data, hash_len)
    except IndexFormatError:
        return None, -1
    return index, latest_ns(ref.path, index.paths)
