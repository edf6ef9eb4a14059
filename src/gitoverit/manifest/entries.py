"""A manifest's entries and errors, the checks every format applies to URLs and git names,
and selecting entries by pattern."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path


@dataclass(frozen=True, slots=True)
class WorktreeEntry:
    """A linked worktree of a manifest entry, created with ``git worktree add``.

    *path* is absolute; exactly one of *branch*, *tag* and *commit* is set: a branch is
    checked out (and fast-forwarded like any repo), a tag or commit is checked out
    detached and left there.
    """

    path: str
    branch: str | None = None
    tag: str | None = None
    commit: str | None = None

    @property
    def ref(self) -> tuple[str, str]:
        """``(kind, value)``: ``("branch", "dev")``, ``("tag", "v1")`` or ``("commit", sha)``."""
        for kind in ("branch", "tag", "commit"):
            value = getattr(self, kind)
            if value is not None:
                return kind, value
        raise ValueError("a worktree needs a branch, tag or commit")


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One repository of a manifest.

    *path* is absolute and normalised; *url* is the origin remote's URL; *remotes* holds
    the other remotes as ``(name, url)`` pairs in file order, and *push_urls* the push
    URL of each remote (``origin`` included) whose push URL differs from its fetch URL;
    *branch* is the branch a fresh clone checks out (``None``: the remote's default).

    vcspull's options: *rev* (a commit, tag or branch checked out after the clone),
    *depth* (a shallow clone; ``shallow: true`` is depth 1), *pinned* (sync leaves the
    entry alone), *hooks* (``shell_command_after``: shell commands run in the repo after
    a clone or an update). *worktrees* are created after the repo exists. *line* is where
    the entry starts in its file (not compared).
    """

    path: str
    url: str
    name: str
    remotes: tuple[tuple[str, str], ...] = ()
    branch: str | None = None
    push_urls: tuple[tuple[str, str], ...] = ()
    rev: str | None = None
    depth: int | None = None
    pinned: bool = False
    hooks: tuple[str, ...] = ()
    worktrees: tuple[WorktreeEntry, ...] = ()
    line: int | None = field(default=None, compare=False)


class ManifestError(Exception):
    """A manifest that cannot be used. The message starts with ``<file>:<line>:``.

    *file* and *line* are also kept as attributes (*line* is ``None`` when unknown).
    """

    def __init__(self, message: str, *, file: Path | str | None = None, line: int | None = None):
        self.file = None if file is None else str(file)
        self.line = line
        self.message = message
        where = "" if file is None else (f"{file}:{line}: " if line is not None else f"{file}: ")
        super().__init__(where + message)


# --- validation --------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_VCS_PREFIX = re.compile(r"^([A-Za-z][A-Za-z0-9]*)\+")
_OTHER_VCS = frozenset({"hg", "svn", "bzr", "cvs", "fossil", "darcs"})
#: git's ``ext::`` transport runs the command the URL names (``git+ext::`` too).
_UNSAFE_TRANSPORT = re.compile(r"^(?:git\+)?ext::", re.IGNORECASE)
_BAD_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")


def check_url(url: object, what: str) -> str:
    if not isinstance(url, str):
        raise ValueError(f"{what} must be a string, got {show(url)}")
    if not url.strip():
        raise ValueError(f"{what} is empty")
    if url.startswith("-"):
        raise ValueError(f"{what} must not start with '-', got {show(url)}")
    if _CONTROL.search(url):
        raise ValueError(f"{what} contains a control character: {show(url)}")
    if _UNSAFE_TRANSPORT.match(url):
        raise ValueError(f"{what} uses git's ext:: transport, which runs a command: {show(url)}")
    return url


def check_ref(value: object, what: str) -> str:
    """*value* if it is a plausible git branch or remote name (``git check-ref-format`` rules)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {show(value)}")
    if (
        value.startswith(("-", "/", "."))
        or value.endswith(("/", ".", ".lock"))
        or value == "@"
        or "/." in value
        or _BAD_REF.search(value)
    ):
        raise ValueError(f"{what} is not a valid git name: {show(value)}")
    return value


def show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def split_vcs(url: str) -> tuple[str | None, str]:
    """``("git", rest)`` for ``git+rest``, ``("hg", rest)`` for ``hg+rest``; ``(None, url)``."""
    m = _VCS_PREFIX.match(url)
    if m and (m.group(1).lower() == "git" or m.group(1).lower() in _OTHER_VCS):
        return m.group(1).lower(), url[m.end() :]
    return None, url


# --- selecting ---------------------------------------------------------------------------


def filter_entries(
    entries: Sequence[ManifestEntry], patterns: Sequence[str]
) -> list[ManifestEntry]:
    """The entries that match any of *patterns*, in their order; all of them if none is given.

    A pattern is an :mod:`fnmatch` glob (case-sensitive) tried against the entry's name,
    its absolute path, and for a path under the home folder ``~/rel`` and ``rel``. A
    pattern that starts with ``~/`` is also tried with the home folder expanded.
    """
    if not patterns:
        return list(entries)
    home = os.path.expanduser("~")
    expanded = [os.path.expanduser(p) if p.startswith("~/") else p for p in patterns]
    globs = list(dict.fromkeys([*patterns, *expanded]))
    chosen: list[ManifestEntry] = []
    for entry in entries:
        candidates = [entry.name, entry.path]
        rel = relative_to(entry.path, home)
        if rel is not None:
            candidates += [rel, "~" if rel == "." else f"~/{rel}"]
        if any(fnmatchcase(c, g) for g in globs for c in candidates):
            chosen.append(entry)
    return chosen


def relative_to(path: str, base: str) -> str | None:
    """*path* relative to *base* if it is *base* or inside it, else ``None``."""
    if not os.path.isabs(base) or os.path.dirname(base) == base:
        return None
    rel = os.path.relpath(path, base)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return None
    return rel
