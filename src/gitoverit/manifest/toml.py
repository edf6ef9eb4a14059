"""Our TOML manifest format: reading it (with the line of each table and key, which
tomllib does not report) and writing it for ``gitoverit freeze``."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gitoverit.manifest.entries import (
    ManifestEntry,
    ManifestError,
    check_ref,
    check_url,
    relative_to,
    show,
    split_vcs,
)
from gitoverit.manifest.reader import Reader

# --- where things are in the file --------------------------------------------------------

_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")
_TOML_KEY = re.compile(
    r"""^\s*((?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[A-Za-z0-9_-]+)"""
    r"""(?:\s*\.\s*(?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[A-Za-z0-9_-]+))*)\s*="""
)
_BARE_DOTTED = re.compile(r"\s*[A-Za-z0-9_-]+(?:\s*\.\s*[A-Za-z0-9_-]+)*\s*")
_TOML_HEADER = re.compile(r"^\s*(\[\[?)(.*?)\]\]?\s*(?:#.*)?$")


def _decode_toml_key(text: str) -> tuple[str, ...] | None:
    """The parts of a TOML dotted key written as *text*, decoded by tomllib itself."""
    if _BARE_DOTTED.fullmatch(text):
        return tuple(part.strip() for part in text.split("."))
    try:
        data: Any = tomllib.loads(f"{text} = 0")
    except tomllib.TOMLDecodeError:
        return None
    parts: list[str] = []
    while isinstance(data, dict) and len(data) == 1:
        key, data = next(iter(data.items()))
        parts.append(key)
    return tuple(parts)


class _TomlLines:
    """Line numbers of tables and keys in a TOML text, found by scanning its lines.

    tomllib reports no positions. Headers and ``key =`` lines are good enough to point a
    person at the right place; a key inside a multi-line value may be missed, and then the
    enclosing table's line is given.
    """

    def __init__(self, text: str) -> None:
        self.arrays: dict[tuple[str, ...], list[int]] = {}
        self.tables: dict[tuple[str, ...], int] = {}
        self.keys: dict[tuple[str, ...], int] = {}
        section: tuple[str, ...] = ()
        for number, line in enumerate(text.splitlines(), start=1):
            header = _TOML_HEADER.match(line)
            if header:
                parts = _decode_toml_key(header.group(2))
                if parts is None:
                    continue
                section = parts
                if header.group(1) == "[[":
                    self.arrays.setdefault(parts, []).append(number)
                else:
                    self.tables.setdefault(parts, number)
                continue
            key = _TOML_KEY.match(line)
            if key:
                parts = _decode_toml_key(key.group(1))
                if parts is not None:
                    self.keys.setdefault(section + parts, number)

    def item(self, name: str, index: int) -> int | None:
        """The line of table *index* of array *name*: its ``[[name]]`` header, or for an
        inline array (``name = [...]``) the line of the key."""
        numbers = self.arrays.get((name,), [])
        return numbers[index] if index < len(numbers) else self.keys.get((name,))

    def table(self, parts: tuple[str, ...]) -> int | None:
        if parts in self.tables:
            return self.tables[parts]
        return self.keys.get(parts)

    def key(self, parts: tuple[str, ...]) -> int | None:
        found = self.keys.get(parts)
        return found if found is not None else self.table(parts[:-1])


# --- reading -----------------------------------------------------------------------------


def read_toml(reader: Reader, text: str) -> None:
    """Read our TOML *text* into *reader*: ``[[repo]]`` tables and workspace tables."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise toml_error(reader.file, exc, text) from exc
    lines = _TomlLines(text)
    groups: dict[str, Any] = {}
    for key, value in data.items():
        if key == "repo":
            _repo_list(reader, value, lines)
        elif isinstance(value, dict):
            groups[key] = value
        else:
            raise reader.error(
                f"unexpected top-level key {key!r}: expected [[repo]] tables or workspace"
                ' tables such as ["~/code"]',
                lines.key((key,)),
            )
    reader.groups(groups, lambda parts: lines.key(parts) if len(parts) > 1 else lines.table(parts))


def toml_error(file: Path, exc: tomllib.TOMLDecodeError, text: str) -> ManifestError:
    """*exc*, raised for *text*, as a :class:`ManifestError` at the line tomllib names (the
    last line when the text ended too soon)."""
    message = str(exc)
    m = _TOML_POS.search(message)
    if m:
        detail = _TOML_POS.sub("", message)
        return ManifestError(
            f"invalid TOML: {detail} (column {m.group(2)})", file=file, line=int(m.group(1))
        )
    if _TOML_END.search(message):
        detail = _TOML_END.sub("", message)
        last = max(1, len(text.splitlines()))
        return ManifestError(f"invalid TOML: {detail} (at end of file)", file=file, line=last)
    return ManifestError(f"invalid TOML: {message}", file=file)


def _repo_list(reader: Reader, items: object, lines: _TomlLines) -> None:
    """Read our ``[[repo]]`` entries."""
    if not isinstance(items, list):
        raise reader.error(
            "'repo' must be written as [[repo]] tables; a workspace folder named 'repo'"
            ' can be written ["./repo"]',
            lines.table(("repo",)),
        )
    for index, item in enumerate(items):
        line = lines.item("repo", index)
        if not isinstance(item, dict):
            raise reader.error(f"repo #{index + 1}: expected a table, got {show(item)}", line)
        raw_path = item.get("path")
        name = item.get("name")
        label = f"repo #{index + 1}"
        if isinstance(name, str) and name:
            label = f"repo {name!r}"
        elif isinstance(raw_path, str) and raw_path:
            label = f"repo {raw_path!r}"
        reader.check_keys(item, {"path", "url", "name", "branch", "remotes"}, label, line)
        if raw_path is None:
            raise reader.error(f"{label}: missing path (a non-empty string)", line)
        if not isinstance(raw_path, str) or not raw_path or "\x00" in raw_path:
            raise reader.error(
                f"{label}: path must be a non-empty string, got {show(raw_path)}", line
            )
        path = reader.resolve(raw_path)
        if name is None:
            name = os.path.basename(path) or path
        elif not isinstance(name, str) or not name or "\x00" in name:
            raise reader.error(f"{label}: name must be a non-empty string", line)
        if "url" not in item:
            raise reader.error(f"{label}: missing url", line)
        reader.add(
            label=label,
            line=line,
            path=path,
            name=name,
            url=item["url"],
            remotes=item.get("remotes"),
            branch=item.get("branch"),
        )


# --- writing -----------------------------------------------------------------------------

_TOML_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _toml_str(text: str) -> str:
    """*text* as a TOML basic string."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        elif 0xD800 <= code <= 0xDFFF:
            raise ManifestError(
                f"cannot write {text!r}: it is not valid Unicode (a path in another encoding?)"
            )
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else _toml_str(name)


def _portable_path(path: str, base: str | None) -> str:
    """*path* as written to a manifest: relative to *base*, else ``~/...``, else absolute."""
    if base is not None:
        rel = relative_to(path, os.path.normpath(os.path.abspath(os.path.expanduser(base))))
        if rel is not None:
            # A leading ``~`` would be read back as a home folder.
            return f"./{rel}" if rel.startswith("~") else rel
    rel = relative_to(path, os.path.expanduser("~"))
    if rel is not None:
        return "~" if rel == "." else f"~/{rel}"
    return path


def dump_toml(entries: Sequence[ManifestEntry], base: str | None = None) -> str:
    """*entries* as our TOML manifest, in the given order, for ``gitoverit freeze``.

    Paths inside *base* are written relative to it, so *base* should be the folder the
    manifest is saved in; other paths under the home folder are written ``~/...``, and the
    rest absolute. :func:`load_manifest` of the text gives *entries* back. Raises
    :class:`ManifestError` for an entry that could not be read back (a relative path, a
    bad URL or name, a path that is not valid Unicode).
    """
    out = [
        "# gitoverit manifest: `gitoverit sync` clones each repo that is missing",
        "# and fast-forwards the others.",
    ]
    for entry in entries:
        label = f"repo {entry.name!r}"
        if not os.path.isabs(entry.path):
            raise ManifestError(f"{label}: path {entry.path!r} is not absolute")
        if not entry.name or "\x00" in entry.name:
            raise ManifestError(f"{label}: name must be a non-empty string")
        try:
            check_url(entry.url, "url")
            names = [name for name, _ in entry.remotes]
            for name, url in entry.remotes:
                check_ref(name, "remote name")
                check_url(url, f"remote {name!r}")
                if name == "origin" or names.count(name) > 1:
                    raise ValueError(f"remote {name!r} is the url or listed twice")
            if entry.branch is not None:
                check_ref(entry.branch, "branch")
        except ValueError as exc:
            raise ManifestError(f"{label}: {exc}") from None
        path = os.path.normpath(entry.path)
        out += ["", "[[repo]]", f"path = {_toml_str(_portable_path(path, base))}"]
        out.append(f"url = {_toml_str(_protect(entry.url))}")
        if entry.name != (os.path.basename(path) or path):
            out.append(f"name = {_toml_str(entry.name)}")
        if entry.branch is not None:
            out.append(f"branch = {_toml_str(entry.branch)}")
        if entry.remotes:
            out.append("[repo.remotes]")
            out += [f"{_toml_key(n)} = {_toml_str(_protect(u))}" for n, u in entry.remotes]
    return "\n".join(out) + "\n"


def _protect(url: str) -> str:
    """*url* with ``git+`` put in front if it would otherwise be read as a vcs prefix."""
    return "git+" + url if split_vcs(url)[0] is not None else url
