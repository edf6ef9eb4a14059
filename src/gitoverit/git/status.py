"""Read one repository's state into a :class:`~gitoverit.model.RepoStatus`.

A full status costs exactly one git process::

    git status --porcelain=v2 --branch -z --show-stash --untracked-files=all
               --ahead-behind --ignore-submodules=dirty

run in the read-only environment of :mod:`gitoverit.git._run` (``GIT_OPTIONAL_LOCKS=0``,
``core.fsmonitor=false``), with ``GIT_CEILING_DIRECTORIES`` set to the repo's parent so that
git never reports on an enclosing repository instead. (The status engine may instead point
git at a private copy of the index, which git may then rewrite: :class:`IndexCopy`.)
Everything else is read from files:

- the operation in progress from marker files in the git dir (:func:`detect_operation`);
- tracked paths and the submodule count from the binary index (:func:`read_index`); only a
  split index, whose full path list is not in that file, costs one more process
  (``git ls-files --stage``). A sparse index is read as it is, never expanded (``git
  ls-files`` would expand it, rebuilding its tree objects and so rewriting their times in
  the object store): a collapsed directory counts as one tracked path, and it holds no
  submodule, since git never collapses a directory with a submodule inside;
- the remote URL from the repository's config file (:func:`read_remote_url`).

``ref.git_dir`` must be the resolved git dir (for a linked worktree, its own one under
``worktrees/``); the config and the stash reflog are read from its common dir.

Choices, and why:

- ``--untracked-files=all`` instead of ``normal``: the record needs both git's ``normal``
  count (a wholly untracked folder counts as one) and the modification time of every
  non-ignored untracked *file*. ``all`` lists the files; :func:`count_untracked` folds them
  back into exactly the entries ``normal`` would show, using the tracked paths from the
  index (a folder is shown whole when no index path lies under it). This keeps one process
  per repo where ``normal`` plus ``git ls-files -o`` would need two.
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
  private copy of the index (:class:`IndexCopy`), which git refreshes, and stats only
  the files git did not vouch for. One limit: git built without nanosecond stat
  comparison cannot see a file whose mtime was set back within the same second, with its
  ctime, size and inode unchanged; no ordinary write or ``touch`` does that. The index
  parse, the stats, the config and the operation check all happen while ``git status``
  runs, so they overlap with git's own work on the other core.
- ``remote_url`` is the first ``url`` of the current branch's ``branch.<name>.remote``; for
  a detached HEAD, a branch without upstream, or a local upstream (remote ``.``) it is the
  URL of ``origin``, git's default remote. The config file is parsed in-process;
  ``include``/``includeIf`` and ``url.<base>.insteadOf`` are not applied, so the URL is
  shown as configured in the repository.

``metadata_only=True`` never looks at the work tree: branch, head and stash count come from
files in the git dir, and upstream plus ahead/behind from a single
``git for-each-ref refs/heads/<branch>`` (no process at all for a detached HEAD).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat as _stat
import struct
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from gitoverit.errors import CommandError, GitCorruptError, GitNotARepoError
from gitoverit.git._run import LOCAL_TIMEOUT, default_env, git, start_git
from gitoverit.git.gitconfig import (
    ConfigEntry,
    _get,
    common_dir,
    parse_config,
    read_config,
)
from gitoverit.git.index import (
    _GITLINK_BYTES,
    IndexFormatError,
    IndexInfo,
    _read_index_bytes,
    parse_index,
)
from gitoverit.model import Operation, RepoRef, RepoStatus
from gitoverit.process import Running
from gitoverit.text import redact_url

#: The one git command behind a full status (see the module docstring for each flag).
STATUS_ARGS: tuple[str, ...] = (
    "status",
    "--porcelain=v2",
    "--branch",
    "-z",
    "--show-stash",
    "--untracked-files=all",
    "--ahead-behind",
    "--ignore-submodules=dirty",
)


class StatusParseError(ValueError):
    """``git status --porcelain=v2`` produced output this parser does not understand."""


# ---------------------------------------------------------------------------------------
# porcelain v2


@dataclass(frozen=True, slots=True)
class ParsedStatus:
    """Everything one ``git status --porcelain=v2 --branch -z --show-stash`` output says.

    ``untracked`` holds the untracked paths exactly as git listed them (a trailing ``/``
    marks a directory git did not descend into). ``ahead``/``behind`` are ``None`` when
    git printed no ``branch.ab`` header.
    """

    oid: str | None = None
    branch: str | None = None
    detached: bool = False
    upstream: str | None = None
    ahead: int | None = None
    behind: int | None = None
    stashes: int = 0
    staged: int = 0
    modified: int = 0
    deleted: int = 0
    conflicted: int = 0
    untracked: tuple[bytes, ...] = ()
    #: Paths whose work-tree file differs from the index entry (Y column not ``.``) and
    #: unmerged paths: their index entries' stat data is not the file's.
    changed: tuple[bytes, ...] = ()

    @property
    def upstream_gone(self) -> bool:
        """An upstream is configured but git could not compare with it.

        On an unborn branch git never prints ``branch.ab``, so that case is not "gone".
        """
        return self.upstream is not None and self.ahead is None and self.oid is not None


_CHANGED = b"MARCT"


def parse_porcelain_v2(data: bytes) -> ParsedStatus:
    """Parse NUL-separated ``git status --porcelain=v2 --branch --show-stash`` output.

    Counting rules: ``staged`` counts ordinary and rename/copy entries whose index
    column is not ``.``; ``modified`` counts those with M/A/R/C/T in either column;
    ``deleted`` those with D in either column; ``conflicted`` counts unmerged entries.
    Raises :class:`StatusParseError` on a line it does not recognise.
    """
    oid: str | None = None
    branch: str | None = None
    detached = False
    upstream: str | None = None
    ahead: int | None = None
    behind: int | None = None
    stashes = 0
    staged = modified = deleted = conflicted = 0
    untracked: list[bytes] = []
    changed: list[bytes] = []
    tokens = data.split(b"\0")
    i = 0
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        i += 1
        if not tok:
            continue
        kind = tok[0]
        if kind == 0x31 or kind == 0x32:  # "1" ordinary, "2" rename/copy
            if len(tok) < 5 or tok[1] != 0x20:
                raise StatusParseError(f"bad entry: {tok[:40]!r}")
            x = tok[2]
            y = tok[3]
            if x != 0x2E:
                staged += 1
            if x in _CHANGED or y in _CHANGED:
                modified += 1
            if x == 0x44 or y == 0x44:
                deleted += 1
            if y != 0x2E:
                fields = tok.split(b" ", 8 if kind == 0x31 else 9)
                if len(fields) < (9 if kind == 0x31 else 10):
                    raise StatusParseError(f"bad entry: {tok[:40]!r}")
                changed.append(fields[-1])
            if kind == 0x32:
                i += 1  # the original path follows as its own NUL-terminated token
        elif kind == 0x75:  # "u" unmerged
            conflicted += 1
            fields = tok.split(b" ", 10)
            if len(fields) < 11:
                raise StatusParseError(f"bad entry: {tok[:40]!r}")
            changed.append(fields[-1])
        elif kind == 0x3F:  # "?" untracked
            untracked.append(tok[2:])
        elif kind == 0x21:  # "!" ignored (only with --ignored)
            continue
        elif kind == 0x23:  # "#" header
            parts = tok.split(b" ", 2)
            if len(parts) < 3:
                continue
            key, value = parts[1], parts[2]
            if key == b"branch.oid":
                oid = None if value == b"(initial)" else value.decode("ascii", "replace")
            elif key == b"branch.head":
                if value == b"(detached)":
                    detached = True
                    branch = None
                else:
                    branch = value.decode("utf-8", "surrogateescape")
            elif key == b"branch.upstream":
                upstream = value.decode("utf-8", "surrogateescape")
            elif key == b"branch.ab":
                ahead, behind = _parse_ab(value)
            elif key == b"stash":
                try:
                    stashes = int(value)
                except ValueError:
                    raise StatusParseError(f"bad stash header: {tok!r}") from None
        else:
            raise StatusParseError(f"unknown entry: {tok[:40]!r}")
    return ParsedStatus(
        oid=oid,
        branch=branch,
        detached=detached,
        upstream=upstream,
        ahead=ahead,
        behind=behind,
        stashes=stashes,
        staged=staged,
        modified=modified,
        deleted=deleted,
        conflicted=conflicted,
        untracked=tuple(untracked),
        changed=tuple(changed),
    )


def _parse_ab(value: bytes) -> tuple[int | None, int | None]:
    parts = value.split()
    if len(parts) != 2 or not parts[0].startswith(b"+") or not parts[1].startswith(b"-"):
        raise StatusParseError(f"bad branch.ab header: {value!r}")
    try:
        return int(parts[0][1:]), int(parts[1][1:])
    except ValueError:
        return None, None  # "+? -?": counts not computed


def count_untracked(untracked: Iterable[bytes], tracked: Sequence[bytes]) -> int:
    """Count untracked entries the way ``git status --untracked-files=normal`` lists them.

    *untracked* are paths from ``--untracked-files=all``; *tracked* is the sorted list of
    index paths. A directory with no index path under it is listed once, as a whole; a
    file in a directory that holds tracked paths is listed on its own.
    """
    has_tracked: dict[bytes, bool] = {}
    entries: set[bytes] = set()
    ntracked = len(tracked)
    for path in untracked:
        key = path
        start = 0
        while True:
            j = path.find(b"/", start)
            if j == -1 or j == len(path) - 1:
                break
            prefix = path[: j + 1]
            known = has_tracked.get(prefix)
            if known is None:
                k = bisect_left(tracked, prefix)
                known = k < ntracked and tracked[k].startswith(prefix)
                has_tracked[prefix] = known
            if not known:
                key = prefix
                break
            start = j + 1
        entries.add(key)
    return len(entries)


# ---------------------------------------------------------------------------------------
# index


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
        return _index_from_ls_files(ref, timeout)


def _index_from_ls_files(ref: RepoRef, timeout: float) -> IndexInfo:
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


# ---------------------------------------------------------------------------------------
# mtime


def latest_mtime(
    worktree: str, tracked: Iterable[bytes], untracked: Iterable[bytes] = ()
) -> float | None:
    """Latest ``lstat`` modification time among the given files, in epoch seconds.

    Paths are relative to *worktree*. Directories and missing paths are skipped; so are
    untracked entries that end in ``/`` (nested repositories git does not descend into).
    """
    best = max(_latest_ns(worktree, tracked), _latest_ns(worktree, untracked))
    return best / 1e9 if best >= 0 else None


def _latest_ns(worktree: str, paths: Iterable[bytes]) -> int:
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


def _tracked(ref: RepoRef, hash_len: int) -> tuple[IndexInfo | None, int]:
    """The parsed index and the latest mtime (ns) of its paths; ``None`` when the index
    needs ``git ls-files`` to be read (split or sparse index, unknown format)."""
    data = _read_index_bytes(ref.git_dir)
    if data is None:
        return IndexInfo((), 0), -1
    try:
        index = parse_index(data, hash_len)
    except IndexFormatError:
        return None, -1
    return index, _latest_ns(ref.path, index.paths)


# ---------------------------------------------------------------------------------------
# operation in progress


def detect_operation(git_dir: str, names: Iterable[str] | None = None) -> Operation | None:
    """The multi-step operation left in progress, read from marker files in *git_dir*
    (whose entries are *names*, when the caller has listed them already).

    For a linked worktree *git_dir* is that worktree's own git dir, where these
    per-worktree files live. When several apply, the outermost wins: rebase, merge,
    cherry-pick, revert, bisect.
    """
    if names is None:
        try:
            names = os.listdir(git_dir)
        except OSError:
            return None
    names = set(names)
    if "rebase-merge" in names or "rebase-apply" in names:
        return Operation.REBASE
    if "MERGE_HEAD" in names:
        return Operation.MERGE
    if "CHERRY_PICK_HEAD" in names:
        return Operation.CHERRY_PICK
    if "REVERT_HEAD" in names:
        return Operation.REVERT
    if "sequencer" in names:
        # A multi-commit cherry-pick or revert between steps: the todo list names it.
        op = _sequencer_operation(os.path.join(git_dir, "sequencer", "todo"))
        if op is not None:
            return op
    if "BISECT_LOG" in names:
        return Operation.BISECT
    return None


def _sequencer_operation(todo: str) -> Operation | None:
    try:
        with open(todo, "rb") as fh:
            lines = fh.read(4096).splitlines()
    except OSError:
        return None
    for line in lines:
        word = line.split(None, 1)[0] if line.strip() else b""
        if not word or word.startswith(b"#"):
            continue
        if word in (b"pick", b"p"):
            return Operation.CHERRY_PICK
        if word == b"revert":
            return Operation.REVERT
        return None
    return None


# ---------------------------------------------------------------------------------------
# config and remote URL


def _remote_url(
    entries: Sequence[ConfigEntry], branch: str | None, upstream: str | None
) -> str | None:
    remotes = {e.subsection for e in entries if e.section == "remote" and e.subsection is not None}
    name: str | None = None
    if branch is not None:
        name = _get(entries, "branch", branch, "remote")
        if name is not None and name != "." and name not in remotes:
            # branch.<name>.remote may itself be a URL or a path.
            return redact_url(name)
    if (name is None or name == ".") and upstream is not None:
        # Longest configured remote name that prefixes the upstream ("a/b" before "a").
        for candidate in sorted(remotes, key=len, reverse=True):
            if upstream.startswith(candidate + "/"):
                name = candidate
                break
    if name is None or name == "." or name not in remotes:
        name = "origin"
    url = _get(entries, "remote", name, "url")
    return redact_url(url) if url is not None else None


def read_remote_url(git_dir: str, remote_name: str = "origin") -> str | None:
    """The fetch URL of *remote_name*, read from the config file (no process), redacted
    and on one line; ``None`` when that remote has no URL.
    """
    url = _get(read_config(git_dir), "remote", remote_name, "url")
    return redact_url(url) if url is not None else None


# ---------------------------------------------------------------------------------------
# the record


def status_env(ref: RepoRef, index_copy: str | None = None) -> dict[bytes, bytes]:
    """The child environment for git in *ref*: read-only, with a ceiling.

    With *index_copy* (see :func:`copy_index`) git reads and may rewrite that file instead
    of the repository's index, and nothing else: optional locks stay on, so that git
    writes the stat data it refreshes there.
    """
    # git must not walk up from the work tree and report on an enclosing repository. git
    # resolves symlinks in ceiling entries itself.
    parent = os.path.dirname(ref.path.rstrip(os.sep)) or os.sep
    env = dict(default_env(read_only=index_copy is None))
    env[b"GIT_CEILING_DIRECTORIES"] = os.fsencode(parent)
    if index_copy is not None:
        env[b"GIT_INDEX_FILE"] = os.fsencode(index_copy)
    return env


# ---------------------------------------------------------------------------------------
# a private copy of the index, for mtime without a stat per tracked file

#: ``-c`` options for a status on a copy of the index: never a split index (its shared
#: part would be written in the git dir), and stat data compared as strictly as git can,
#: ctime included, so that any change to a file since it was recorded is noticed.
REFRESH_CONFIG: tuple[str, ...] = (
    "-c",
    "core.splitIndex=false",
    "-c",
    "core.trustctime=true",
    "-c",
    "core.checkStat=default",
)


@dataclass(frozen=True, slots=True)
class IndexCopy:
    """A private copy of a repository's index, for one ``git status`` to refresh.

    ``git status`` compares every tracked file's stat data with the index entry and, when
    only the stat data changed, refreshes the entry and writes the index back, a write
    that ``GIT_OPTIONAL_LOCKS=0`` forbids on the real index. Pointed at this copy
    (``GIT_INDEX_FILE``), git writes it here. So afterwards the copy's recorded
    modification times are the files' own, except for the entries
    :func:`~gitoverit.git.index.parse_index` lists as unchecked and the paths git lists
    as changed in the work tree; those few are stat-ed. Tracked files' ``mtime`` then
    costs one stat per changed file instead of one per tracked file.
    """

    path: str
    data: bytes
    #: The original index's modification time in whole seconds: git's "racy" mark.
    stamp: int
    #: The copy's (inode, size, mtime ns) as written; different once git rewrote it.
    written: tuple[int, int, int]
    #: The git dir's entries, listed while looking for a split index.
    names: tuple[str, ...]


def copy_index(ref: RepoRef, dest: str) -> IndexCopy | None:
    """Copy *ref*'s index to *dest* (a new file), with the same modification time.

    ``None`` when there is no readable index, or when the index may be split (a
    ``sharedindex.*`` file in the git dir) or sparse (a sparse checkout): git reading or
    writing such a copy would still write in the git dir (the shared index; tree objects
    for the sparse directories), so that status runs read-only on the real index instead.
    Also ``None`` when the index may hold "racy" entries, recorded in the second the
    index was written, where a copy saves nothing.
    """
    try:
        names = os.listdir(ref.git_dir)
        if "index" not in names or any(n.startswith("sharedindex.") for n in names):
            return None
        if "info" in names and os.path.exists(os.path.join(ref.git_dir, "info", "sparse-checkout")):
            return None
        with open(os.path.join(ref.git_dir, "index"), "rb") as fh:
            st = os.fstat(fh.fileno())
            data = fh.read()
    except OSError:
        return None
    if data[:4] != b"DIRC":
        return None
    stamp = st.st_mtime_ns // 1_000_000_000
    if struct.pack(">I", stamp & 0xFFFFFFFF) in data:
        # Probably "racy" entries, recorded in the second the index was written (a fresh
        # clone, say). git would check those by content and rewrite the copy each time,
        # and they would be stat-ed here anyway: a read-only status costs less.
        return None
    try:
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except OSError:
        return None
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))
        mine = os.fstat(fd)
    except OSError:
        os.close(fd)
        discard_copy(dest)
        return None
    os.close(fd)
    return IndexCopy(
        dest,
        data,
        stamp,
        (mine.st_ino, mine.st_size, mine.st_mtime_ns),
        tuple(names),
    )


def discard_copy(path: str) -> None:
    """Remove an index copy and any lock git left beside it."""
    for name in (path, path + ".lock"):
        with contextlib.suppress(OSError):
            os.unlink(name)


def _copy_tracked_ns(ref: RepoRef, copy: IndexCopy, index: IndexInfo, hash_len: int) -> int:
    """The latest mtime of *ref*'s tracked files, read from the index copy after git's
    status (see :class:`IndexCopy`); paths git lists as changed are added by the caller."""
    try:
        st = os.stat(copy.path)
    except FileNotFoundError:
        # Something removed it, maybe before git read it: git would then have seen an
        # empty index, and its output cannot be trusted.
        raise CommandError(
            ["git", *STATUS_ARGS], 0, b"", b"", message=f"index copy {copy.path} was removed"
        ) from None
    try:
        rewritten = (st.st_ino, st.st_size, st.st_mtime_ns) != copy.written
        if rewritten:
            with open(copy.path, "rb") as fh:
                index = parse_index(fh.read(), hash_len, copy.stamp)
    except (OSError, IndexFormatError):
        return _latest_ns(ref.path, index.paths)
    return max(index.latest_ns, _latest_ns(ref.path, index.unchecked))


def _git_checked(ref: RepoRef, *args: str, timeout: float) -> bytes:
    """Run git in the repo and return its stdout (see :func:`_checked_output`)."""
    return _checked_output(
        ref, start_git(*args, cwd=ref.path, timeout=timeout, env=status_env(ref))
    )


def _checked_output(ref: RepoRef, running: Running) -> bytes:
    """Wait for git and return its stdout; see :func:`status_error` for failures."""
    try:
        return running.result().stdout
    except CommandError as exc:
        mapped = status_error(ref, exc)
        if mapped is exc:
            raise
        raise mapped from exc


def _hash_len(entries: Sequence[ConfigEntry]) -> int:
    fmt = _get(entries, "extensions", None, "objectformat")
    return 32 if fmt is not None and fmt.lower() == "sha256" else 20


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
    hash_len = _hash_len(config)
    if copy is None:
        index, tracked_ns = _tracked(ref, hash_len)
        return LocalFacts(config, index, tracked_ns, detect_operation(ref.git_dir))
    try:
        timed: IndexInfo | None = parse_index(copy.data, hash_len, copy.stamp)
    except IndexFormatError:
        timed = None
    operation = detect_operation(ref.git_dir, copy.names)
    return LocalFacts(config, timed, -1, operation, copy if timed is not None else None, hash_len)


def status_from(ref: RepoRef, out: bytes, facts: LocalFacts, *, timeout: float) -> RepoStatus:
    """Build the :class:`RepoStatus` from ``git status`` output (:data:`STATUS_ARGS`) and
    the facts read beside it. Raises a ``CommandError`` when the output cannot be parsed."""
    parsed = _parse_output(out, STATUS_ARGS)
    index, tracked_ns = facts.index, facts.tracked_ns
    if index is None:
        index = _index_from_ls_files(ref, timeout)
        tracked_ns = _latest_ns(ref.path, index.paths)
    elif facts.copy is not None:
        tracked_ns = max(
            _copy_tracked_ns(ref, facts.copy, index, facts.hash_len),
            _latest_ns(ref.path, parsed.changed),
        )
    latest = max(tracked_ns, _latest_ns(ref.path, parsed.untracked))
    return _status_of(
        parsed,
        facts.config,
        staged=parsed.staged,
        modified=parsed.modified,
        deleted=parsed.deleted,
        untracked=count_untracked(parsed.untracked, index.paths),
        conflicted=parsed.conflicted,
        operation=facts.operation,
        submodules=index.gitlinks,
        mtime=latest / 1e9 if latest >= 0 else None,
    )


def _parse_output(out: bytes, args: Sequence[str]) -> ParsedStatus:
    """:func:`parse_porcelain_v2`, with output it cannot parse as git's error."""
    try:
        return parse_porcelain_v2(out)
    except StatusParseError as exc:
        raise CommandError(["git", *args], 0, out, b"", message=str(exc)) from exc


def _status_of(parsed: ParsedStatus, config: Sequence[ConfigEntry], **rest: Any) -> RepoStatus:
    """The :class:`RepoStatus` of *parsed*'s branch headers and stash count, the remote URL
    from *config*, and the fields in *rest*."""
    return RepoStatus(
        branch=parsed.branch,
        head=parsed.oid,
        detached=parsed.detached,
        upstream=parsed.upstream,
        upstream_gone=parsed.upstream_gone,
        ahead=parsed.ahead,
        behind=parsed.behind,
        stashes=parsed.stashes,
        remote_url=_remote_url(config, parsed.branch, parsed.upstream),
        **rest,
    )


def status_error(ref: RepoRef, exc: CommandError) -> CommandError:
    """*exc* from ``git status``, as corrupt when git no longer recognises a repo whose git
    dir is there (garbage ``HEAD``, missing ``objects``...)."""
    if isinstance(exc, GitNotARepoError) and ref.git_dir and os.path.isdir(ref.git_dir):
        return GitCorruptError(
            exc.argv,
            exc.returncode,
            exc.stdout,
            exc.stderr,
            exc.duration,
            message=f"repository is unreadable (corrupt git dir?): {exc}",
        )
    return exc


def read_status(
    ref: RepoRef, *, metadata_only: bool = False, timeout: float = LOCAL_TIMEOUT
) -> RepoStatus:
    """Read *ref*'s state: one ``git status`` process plus file reads.

    With *metadata_only*, the work tree is not inspected and the work-tree counts and
    ``mtime`` are ``None``. Raises a :class:`~gitoverit.errors.CommandError` subclass when
    the repository cannot be read (its ``reason`` says why).
    """
    if metadata_only:
        return _read_metadata(ref, timeout)
    running = start_git(*STATUS_ARGS, cwd=ref.path, timeout=timeout, env=status_env(ref))
    try:
        # File work while git runs: the two proceed on different cores.
        facts = read_local_facts(ref)
    except BaseException:
        running.abort()
        raise
    out = _checked_output(ref, running)
    return status_from(ref, out, facts, timeout=timeout)


_HEX_OID = re.compile(rb"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_TRACK = re.compile(r"(ahead|behind) (\d+)")


def _read_metadata(ref: RepoRef, timeout: float) -> RepoStatus:
    config = read_config(ref.git_dir)
    refstorage = _get(config, "extensions", None, "refstorage")
    try:
        with open(os.path.join(ref.git_dir, "HEAD"), "rb") as fh:
            head = fh.read(512).strip()
    except OSError:
        head = b""
    branch: str | None = None
    oid: str | None = None
    upstream: str | None = None
    ahead: int | None = None
    behind: int | None = None
    gone = False
    if head.startswith(b"ref:") and refstorage in (None, "files"):
        full = os.fsdecode(head[4:].strip())
        branch = full.removeprefix("refs/heads/")
        out = _git_checked(
            ref,
            "for-each-ref",
            "--format=%(refname)%00%(objectname)%00%(upstream:short)%00%(upstream:track,nobracket)",
            full,
            timeout=timeout,
        )
        for line in out.split(b"\n"):
            fields = line.split(b"\0")
            if len(fields) != 4 or os.fsdecode(fields[0]) != full:
                continue
            oid = fields[1].decode("ascii", "replace")
            if fields[2]:
                upstream = fields[2].decode("utf-8", "surrogateescape")
                track = fields[3].decode("ascii", "replace")
                if track == "gone":
                    gone = True
                else:
                    counts = dict(_TRACK.findall(track))
                    ahead = int(counts.get("ahead", 0))
                    behind = int(counts.get("behind", 0))
    elif _HEX_OID.fullmatch(head):
        oid = head.decode("ascii")
    else:
        # Something this reader does not understand (reftable, garbage HEAD): ask git,
        # header lines only; this also turns a broken repository into git's own error.
        return _metadata_via_status(ref, config, timeout)
    return RepoStatus(
        branch=branch,
        head=oid,
        detached=branch is None,
        upstream=upstream,
        upstream_gone=gone,
        ahead=ahead,
        behind=behind,
        stashes=_count_stashes(ref.git_dir),
        operation=detect_operation(ref.git_dir),
        submodules=count_gitlinks(ref, hash_len=_hash_len(config), timeout=timeout),
        remote_url=_remote_url(config, branch, upstream),
    )


_HEADERS_ARGS = (
    "status",
    "--porcelain=v2",
    "--branch",
    "-z",
    "--show-stash",
    "--untracked-files=no",
    "--ahead-behind",
    "--ignore-submodules=all",
)


def _metadata_via_status(ref: RepoRef, config: Sequence[ConfigEntry], timeout: float) -> RepoStatus:
    out = _git_checked(ref, *_HEADERS_ARGS, timeout=timeout)
    return _status_of(
        _parse_output(out, _HEADERS_ARGS),
        config,
        operation=detect_operation(ref.git_dir),
        submodules=count_gitlinks(ref, hash_len=_hash_len(config), timeout=timeout),
    )


def _count_stashes(git_dir: str) -> int:
    # refs/stash is shared by all worktrees; each stash entry is one reflog line.
    try:
        with open(os.path.join(common_dir(git_dir), "logs", "refs", "stash"), "rb") as fh:
            return fh.read().count(b"\n")
    except OSError:
        return 0


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
