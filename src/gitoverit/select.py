"""What to work on: the one place that turns what the user named into repositories.

Every command takes its repositories from here:

- a scan, ``freeze`` and everything built on a scan: the folders named (checked before
  any work starts), walked by :mod:`gitoverit.discovery` with the excludes, the depth
  limit, and ignored nested repos and submodules as the user asked (:func:`find`);
- ``sync``: the entries of a manifest, each where it should be (:func:`manifest_refs`);
- ``gitob``: the repository that encloses a folder (:func:`enclosing_repo`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitoverit.errors import UsageError
from gitoverit.model import RepoRef

if TYPE_CHECKING:
    from gitoverit.discovery import RepoFinderListener
    from gitoverit.manifest import ManifestEntry


@dataclass(frozen=True, slots=True)
class Selection:
    """Folders to look in, and how to look. ``roots`` are absolute paths."""

    roots: tuple[str, ...] = (".",)
    exclude: tuple[str, ...] = ()
    max_depth: int | None = None
    include_ignored: bool = False


def roots_of(named: Sequence[str]) -> tuple[str, ...]:
    """The folders *named* (default: the current one) as absolute paths.

    Raises :class:`UsageError` for one that is not a folder, before any work starts.
    """
    for root in named:
        if not os.path.isdir(root):
            raise UsageError(f"not a folder: {root}")
    return tuple(os.path.abspath(r) for r in named or (".",))


def find(selection: Selection, listener: RepoFinderListener | None = None) -> Iterator[RepoRef]:
    """Every repository the selection names, each as soon as it is found."""
    from gitoverit.discovery import find_repos

    return find_repos(
        selection.roots,
        exclude=selection.exclude,
        max_depth=selection.max_depth,
        include_ignored=selection.include_ignored,
        listener=listener,
    )


def manifest_refs(entries: Sequence[ManifestEntry]) -> list[RepoRef]:
    """One repository for each manifest entry, at the path the entry gives it (which
    need not exist yet)."""
    return [
        RepoRef(path=e.path, git_dir=os.path.join(e.path, ".git"), display_path=_home(e.path))
        for e in entries
    ]


def _home(path: str) -> str:
    """*path* with the home folder shown as ``~``."""
    home = os.path.expanduser("~")
    if path == home or path.startswith(home + os.sep):
        return "~" + path[len(home) :]
    return path


def enclosing_repo(folder: str) -> str:
    """The top of the work tree that contains *folder*.

    Raises :class:`UsageError` when *folder* is not inside a git work tree; other git
    errors propagate.
    """
    from gitoverit.errors import CommandError, GitNotARepoError
    from gitoverit.git.command import git
    from gitoverit.text import safe_text

    shown = safe_text(os.path.abspath(folder))
    try:
        result = git("rev-parse", "--show-toplevel", cwd=folder)
    except GitNotARepoError:
        raise UsageError(f"not a git repository: {shown}") from None
    except CommandError as err:
        if "work tree" in err.stderr_text:
            raise UsageError(f"not inside a git work tree: {shown}") from None
        raise
    top = os.fsdecode(result.stdout.rstrip(b"\n"))
    if not top:
        raise UsageError(f"not inside a git work tree: {shown}")
    return top
