"""A private copy of a repository's index, for tracked files' mtime without a stat each.

The status engine (:mod:`gitoverit.git.batch`) points each ``git status`` at a copy of
its repository's index (:class:`IndexCopy`), which git refreshes, and then reads the
tracked files' modification times from the copy's stat data, stat-ing only the files git
did not vouch for (:func:`copy_tracked_ns`). One limit: git built without nanosecond stat
comparison cannot see a file whose mtime was set back within the same second, with its
ctime, size and inode unchanged; no ordinary write or ``touch`` does that.

The copies live in a folder only this user can read (:func:`make_copy_dir`), removed when
the engine ends, or by :func:`gitoverit.process.kill_all`.
"""

from __future__ import annotations

import contextlib
import os
import struct
from dataclasses import dataclass

from gitoverit import process
from gitoverit.errors import CommandError
from gitoverit.git.index import IndexFormatError, IndexInfo, parse_index
from gitoverit.git.porcelain import STATUS_ARGS
from gitoverit.git.tracked import latest_ns
from gitoverit.model import RepoRef

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


def copy_tracked_ns(ref: RepoRef, copy: IndexCopy, index: IndexInfo, hash_len: int) -> int:
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
        return latest_ns(ref.path, index.paths)
    return max(index.latest_ns, latest_ns(ref.path, index.unchecked))


def _private_bases() -> list[str]:
    """Where index copies may go, best first: memory-backed folders, where creating and
    removing a file costs no disk journal, then the temporary directory."""
    bases = [os.environ.get("XDG_RUNTIME_DIR", ""), "/dev/shm"]
    return [b for b in bases if b and os.path.isdir(b)] + [os.environ.get("TMPDIR") or "/tmp"]


def make_copy_dir() -> str | None:
    """A new folder only this user can read, for index copies; ``None`` if none can be
    made (then every status runs read-only on the real index).

    It is registered in :data:`gitoverit.process.TEMP_DIRS`; its owner removes it with
    :func:`gitoverit.process.remove_temp_dir`.
    """
    name = f"gitoverit-{os.getpid()}-{os.urandom(6).hex()}"
    for base in _private_bases():
        path = os.path.join(base, name)
        try:
            os.mkdir(path, 0o700)
        except OSError:
            continue
        process.TEMP_DIRS.add(path)
        return path
    return None
