"""The binary index file (``.git/index``), parsed in-process.

Versions 2, 3 and 4 (prefix-compressed paths), extended flags and sha256 object names are
read here; a split or sparse index, whose full path list is not in this one file, raises
:class:`IndexFormatError` so that the caller can ask git (``ls-files``) instead.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

_GITLINK = 0o160000
_DIR = 0o040000
_TYPE_MASK = 0o170000
_GITLINK_BYTES = struct.pack(">I", _GITLINK)


class IndexFormatError(ValueError):
    """The index file is not in a format :func:`read_index` can read in-process."""


@dataclass(frozen=True, slots=True)
class IndexInfo:
    """What the index says: every path once, in index order, and the gitlink count."""

    paths: tuple[bytes, ...]
    gitlinks: int


def parse_index(data: bytes, hash_len: int = 20) -> IndexInfo:
    """Parse a binary index file (``DIRC``, versions 2, 3 and 4).

    Unmerged paths (several stages) appear once. Raises :class:`IndexFormatError` for
    anything else, including a split index (``link`` extension) and a sparse index
    (directory entries), whose full path list is not in this file.
    """
    if len(data) < 12 or data[:4] != b"DIRC":
        raise IndexFormatError("not an index file")
    version, count = struct.unpack_from(">II", data, 4)
    if version not in (2, 3, 4):
        raise IndexFormatError(f"unsupported index version {version}")
    head = struct.Struct(f">24xI{12 + hash_len}xH")
    name_at = 42 + hash_len
    paths: list[bytes] = []
    append = paths.append
    gitlinks = 0
    last = b""
    off = 12
    find = data.find
    try:
        if version == 4:
            prev = b""
            for _ in range(count):
                mode, flags = head.unpack_from(data, off)
                p = off + name_at + (2 if flags & 0x4000 else 0)
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
                name = prev[: len(prev) - drop] + data[p:end]
                prev = name
                off = end + 1
                kind = mode & _TYPE_MASK
                if kind == _GITLINK:
                    gitlinks += 1
                elif kind == _DIR:
                    raise IndexFormatError("sparse index")
                if name != last:
                    append(name)
                    last = name
        else:
            for _ in range(count):
                mode, flags = head.unpack_from(data, off)
                p = off + name_at + (2 if flags & 0x4000 else 0)
                namelen = flags & 0xFFF
                end = p + namelen if namelen < 0xFFF else find(b"\0", p)
                if end < 0:
                    raise IndexFormatError("truncated entry")
                name = data[p:end]
                off += (end - off + 8) & ~7
                kind = mode & _TYPE_MASK
                if kind == _GITLINK:
                    gitlinks += 1
                elif kind == _DIR:
                    raise IndexFormatError("sparse index")
                if name != last:
                    append(name)
                    last = name
    except (struct.error, IndexError) as exc:
        raise IndexFormatError(f"truncated index: {exc}") from None
    stop = len(data) - hash_len
    while off + 8 <= stop:
        sig = data[off : off + 4]
        (size,) = struct.unpack_from(">I", data, off + 4)
        if sig in (b"link", b"sdir"):
            raise IndexFormatError("split or sparse index")
        off += 8 + size
    return IndexInfo(tuple(paths), gitlinks)


def _read_index_bytes(git_dir: str) -> bytes | None:
    """The index file's bytes; ``None`` when there is none, ``b""`` when unreadable (so
    that the caller falls back to git, which reports the real problem).
    """
    try:
        with open(os.path.join(git_dir, "index"), "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        return None
    except OSError:
        return b""
