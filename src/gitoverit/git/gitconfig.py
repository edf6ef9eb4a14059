"""A repository's own git config files, parsed in-process (no ``git config`` process).

Sections, subsections, quoting, escapes, continuation lines and comments are handled as
git handles them. :func:`read_config` does not follow ``include``/``includeIf`` (the
values it serves, the remote URL and the object format, are not set that way in
practice); :func:`local_config` follows every one, for the safety checks that must see
all of the repository's own configuration.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from gitoverit.git.files import read_bytes


def common_dir(git_dir: str) -> str:
    """The repository's common dir: *git_dir* itself, or what its ``commondir`` names."""
    try:
        rel = os.fsdecode(read_bytes(os.path.join(git_dir, "commondir")).strip())
    except OSError:
        return git_dir
    return os.path.normpath(os.path.join(git_dir, rel)) if rel else git_dir


@dataclass(frozen=True, slots=True)
class ConfigEntry:
    """One ``key = value`` of a git config file; section and key lower-cased."""

    section: str
    subsection: str | None
    key: str
    value: str | None


_SECTION = re.compile(r'\[\s*([A-Za-z0-9.-]+)\s*(?:"((?:[^"\\\n]|\\.)*)"\s*)?\]')
_KEY = re.compile(r"([A-Za-z][A-Za-z0-9-]*)[ \t]*")
_ESCAPES = {"n": "\n", "t": "\t", "b": "\b", "\\": "\\", '"': '"'}


def parse_config(text: str) -> list[ConfigEntry]:
    """Parse git config syntax: sections, subsections, quoting, escapes, continuations and
    comments. A line git would reject ends the parse; what came before is kept.
    """
    entries: list[ConfigEntry] = []
    section = ""
    sub: str | None = None
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
            continue
        if c in "#;":
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if c == "[":
            m = _SECTION.match(text, i)
            if m is None:
                break
            name = m.group(1)
            if m.group(2) is not None:
                section = name.lower()
                sub = re.sub(r"\\(.)", r"\1", m.group(2))
            elif "." in name:
                # Deprecated [section.sub] form: the subsection is lower-cased too.
                section, _, rest = name.lower().partition(".")
                sub = rest
            else:
                section, sub = name.lower(), None
            i = m.end()
            continue
        m = _KEY.match(text, i)
        if m is None or not section:
            break
        key = m.group(1).lower()
        i = m.end()
        if i < n and text[i] == "=":
            value, i = _parse_value(text, i + 1)
            if value is None:
                break
            entries.append(ConfigEntry(section, sub, key, value))
        elif i >= n or text[i] in "\r\n#;":
            entries.append(ConfigEntry(section, sub, key, None))
        else:
            break
    return entries


# A value without quotes, escapes, comments or inner tabs: the common case, parsed in one
# step. Leading and trailing blanks are dropped, inner spaces kept, as git does.
_PLAIN_VALUE = re.compile(r"[ \t]*([^\"\\#;\t\r\n]*?)[ \t\r]*(?:\n|\Z)")


def _parse_value(text: str, i: int) -> tuple[str | None, int]:
    m = _PLAIN_VALUE.match(text, i)
    if m is not None:
        return m.group(1), m.end()
    out: list[str] = []
    spaces = 0
    quote = False
    comment = False
    n = len(text)
    while i < n:
        c = text[i]
        i += 1
        if c == "\n":
            if quote:
                return None, i
            return "".join(out), i
        if comment:
            continue
        if c in " \t\r" and not quote:
            if out:
                spaces += 1
            continue
        if not quote and c in "#;":
            comment = True
            continue
        if spaces:
            out.append(" " * spaces)
            spaces = 0
        if c == "\\":
            if i >= n:
                return None, i
            c = text[i]
            i += 1
            if c == "\n":
                continue
            if c == "\r" and i < n and text[i] == "\n":
                i += 1
                continue
            esc = _ESCAPES.get(c)
            if esc is None:
                return None, i
            out.append(esc)
            continue
        if c == '"':
            quote = not quote
            continue
        out.append(c)
    if quote:
        return None, i
    return "".join(out), i


def read_config(git_dir: str) -> list[ConfigEntry]:
    """The repository's own config: the common dir's ``config``, then ``config.worktree``
    when ``extensions.worktreeConfig`` is on. Unreadable files count as empty.
    """
    entries = _read_config_file(os.path.join(common_dir(git_dir), "config"))
    if _get(entries, "extensions", None, "worktreeconfig") in ("true", "yes", "on", "1"):
        entries += _read_config_file(os.path.join(git_dir, "config.worktree"))
    return entries


def _read_config_file(path: str) -> list[ConfigEntry]:
    try:
        data = read_bytes(path)
    except OSError:
        return []
    return parse_config(data.decode("utf-8", "surrogateescape"))


def _get(entries: Iterable[ConfigEntry], section: str, sub: str | None, key: str) -> str | None:
    """The first value of ``section.sub.key`` (the first ``url`` is git's fetch URL)."""
    for e in entries:
        if e.key == key and e.section == section and e.subsection == sub:
            return e.value if e.value is not None else "true"
    return None


#: How deep includes may nest, as in git.
MAX_INCLUDE_DEPTH = 10


def local_config(git_dir: str) -> list[ConfigEntry]:
    """Everything the repository's own configuration says: the common dir's ``config``,
    the worktree's ``config.worktree`` when there is one, and every file they include.

    Each ``include.path`` and ``includeIf.<condition>.path`` is followed whatever its
    condition, since what may apply must be seen: a relative path is taken from the
    including file's folder, ``~/`` from the home folder. Unreadable files count as empty.
    """
    entries = _with_includes(os.path.join(common_dir(git_dir), "config"), 0)
    worktree = os.path.join(git_dir, "config.worktree")
    if os.path.exists(worktree):
        entries += _with_includes(worktree, 0)
    return entries


def _with_includes(path: str, depth: int) -> list[ConfigEntry]:
    entries: list[ConfigEntry] = []
    for entry in _read_config_file(path):
        entries.append(entry)
        if (
            depth < MAX_INCLUDE_DEPTH
            and entry.key == "path"
            and entry.value
            and (entry.section == "include" or entry.section == "includeif")
        ):
            target = os.path.expanduser(entry.value)
            target = os.path.join(os.path.dirname(path), target)
            entries += _with_includes(target, depth + 1)
    return entries
