"""The binary index file (``.git/index``), parsed in-process.

Versions 2, 3 and 4 (prefix-compressed paths), extended flags and sha256 object names are
read here; a split or sparse index, whose full path list is not in this one file, raises
:class:`IndexFormatError` so that the caller can ask git (``ls-files``) instead.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from gitoverit.git.files import read_bytes

_GITLINK = 0o160000
_DIR = 0o040000
_TYPE_MASK = 0o170000
_GITLINK_BYTES = struct.pack(">I", _GITLINK)


class IndexFormatError(ValueError):
    """The index file is not in a format :func:`read_index` can read in-process."""


#: Entry flags: assume-unchanged, and "extended flags follow".
_CE_VALID = 0x8000
_CE_EXTENDED = 0x4000
_CE_STAGE = 0x3000
#: Extended entry flags: skip-worktree and intent-to-add.
_CE_SKIP_WORKTREE = 0x4000
_CE_INTENT_TO_ADD = 0x2000
_UNTRUSTED = _CE_SKIP_WORKTREE | _CE_INTENT_TO_ADD
#: An entry with any of these is unmerged, assume-unchanged, or has extended flags
#: (skip-worktree, intent-to-add): git writes extended flags only when one is set.
_SPECIAL = _CE_VALID | _CE_EXTENDED | _CE_STAGE


@dataclass(frozen=True, slots=True)
class IndexInfo:
    """What the index says: every path once, in index order, and the gitlink count.

    Only when parsed with a *stamp* (see :func:`parse_index`): ``latest_ns``, the latest
    recorded modification time among entries whose recorded stat data git checks, and
    ``unchecked``, the paths whose recorded time cannot be trusted that way.
    """

    paths: tuple[bytes, ...]
    gitlinks: int
    latest_ns: int = -1
    unchecked: tuple[bytes, ...] = ()
    #: A sparse index's directory entries (``dir/``): the paths below them are in those
    #: trees, not in this file (git collapses no directory that holds a submodule, so
    #: every gitlink is counted).
    trees: tuple[bytes, ...] = ()
    #: Whether an entry is unmerged, assume-unchanged, skip-worktree or intent-to-add.
    special: bool = False


def parse_index(
    data: bytes,
    hash_len: int = 20,
    stamp: int | None = None,
    sizes: dict[bytes, int] | None = None,
) -> IndexInfo:
    """Parse a binary index file (``DIRC``, versions 2, 3 and 4).

    Unmerged paths (several stages) appear once. A sparse index's directory entries are
    listed as paths (``dir/``) and in ``trees``. Raises :class:`IndexFormatError` for
    anything else, including a split index (``link`` extension), whose full path list
    is not in this file.

    With *stamp*, the index file's modification time in whole seconds, the recorded
    modification times are read too. An entry's recorded time is its file's time
    whenever ``git status`` finds the entry's stat data unchanged, except for entries
    git does not check that way or checks by content: those listed in ``unchecked`` are
    unmerged, assume-unchanged, skip-worktree or intent-to-add entries, and "racy" ones,
    recorded in or after the second the index was written. Submodules (gitlinks) are in
    neither.

    With *sizes*, a dict whose keys are paths, each key present in the index gets the
    file size the index recorded for it.
    """
    if len(data) < 12 or data[:4] != b"DIRC":
        raise IndexFormatError("not an index file")
    version, count = struct.unpack_from(">II", data, 4)
    if version not in (2, 3, 4):
        raise IndexFormatError(f"unsupported index version {version}")
    try:
        off, paths, gitlinks, latest, unchecked, trees, special = _entries(
            data, count, version == 4, hash_len, stamp, sizes
        )
    except (struct.error, IndexError) as exc:
        raise IndexFormatError(f"truncated index: {exc}") from None
    stop = len(data) - hash_len
    while off + 8 <= stop:
        sig = data[off : off + 4]
        (size,) = struct.unpack_from(">I", data, off + 4)
        if sig == b"link":
            raise IndexFormatError("split index")
        off += 8 + size
    return IndexInfo(tuple(paths), gitlinks, latest, tuple(unchecked), tuple(trees), special)


def _entries(
    data: bytes,
    count: int,
    v4: bool,
    hash_len: int,
    stamp: int | None,
    sizes: dict[bytes, int] | None,
) -> tuple[int, list[bytes], int, int, list[bytes], list[bytes], bool]:
    """Read the *count* entries after the header (see :func:`parse_index`): the offset
    where the extensions start, the paths, the gitlink count, the latest recorded time,
    the unchecked paths, the sparse directories and whether any entry is special."""
    # The hot loop of every index read, whole in this one function: an entry costs one
    # struct unpack and a few integer tests, and no call of a Python function.
    head = struct.Struct(f">8xII8xI8xI{hash_len}xH")
    name_at = 42 + hash_len
    timed = stamp is not None
    racy = stamp if stamp is not None else 0
    latest = -1
    unchecked: list[bytes] = []
    trees: list[bytes] = []
    paths: list[bytes] = []
    append = paths.append
    gitlinks = 0
    special = False
    last = b""
    off = 12
    find = data.find
    prev = b""
    for _ in range(count):
        sec, nsec, mode, size, flags = head.unpack_from(data, off)
        p = off + name_at + (2 if flags & _CE_EXTENDED else 0)
        if v4:
            # git's offset varint: how many bytes to drop from the previous path.
            c = data[p]
            p += 1
            drop = c & 0x7F
            while c & 0x80:
                c = data[p]
                p += 1
                drop = ((drop + 1) << 7) | (c & 0x7F)
            end = find(b"\0", p)
            if end < 0 or drop > len(prev):
                raise IndexFormatError("truncated entry")
            name = prev = prev[: len(prev) - drop] + data[p:end]
            following = end + 1
        else:
            namelen = flags & 0xFFF
            end = p + namelen if namelen < 0xFFF else find(b"\0", p)
            if end < 0:
                raise IndexFormatError("truncated entry")
            name = data[p:end]
            following = off + ((end - off + 8) & ~7)
        if flags & _SPECIAL:
            special = True
        kind = mode & _TYPE_MASK
        if kind == _GITLINK:
            gitlinks += 1
        elif kind == _DIR:
            trees.append(name)
        elif timed:
            if (
                sec >= racy
                or flags & (_CE_VALID | _CE_STAGE)
                or (flags & _CE_EXTENDED and data[off + name_at] << 8 & _UNTRUSTED)
            ):
                unchecked.append(name)
            elif sec * 1_000_000_000 + nsec > latest:
                latest = sec * 1_000_000_000 + nsec
        off = following
        if sizes is not None and name in sizes:
            sizes[name] = size
        if name != last:
            append(name)
            last = name
    return off, paths, gitlinks, latest, unchecked, trees, special


def _read_index_bytes(git_dir: str) -> bytes | None:
    """The index file's bytes; ``None`` when there is none, ``b""`` when unreadable (so
    that the caller falls back to git, which reports the real problem).
    """
    try:
        return read_bytes(os.path.join(git_dir, "index"))
    except FileNotFoundError:
        return None
    except OSError:
        return b""
