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
    #: Leave submodules out (``--no-submodules``).
    no_submodules: bool = False


def roots_of(named: Sequence[str]) -> tuple[str, ...]:
    """The folders *named* (default: the current one) as absolute paths.

    Raises :class:`UsageError` for one that is not a folder, before any work starts.
    """
    for root in named:
        if not os.path.isdir(root):
            raise UsageError(f"not a folder: {root}")
    return tuple(os.path.abspath(r) for r in named or (".",))


def find(selection: Selection, listener: RepoFinderListener | None = None) -> Iterator[RepoRef]:
    """Every repository the selection names, each as soon as it is found.

    A folder below which the walk finds no repository, but that lies inside a work tree
    (the user stands in a repository's subfolder), stands for that repository.
    """
    from gitoverit.discovery import NullListener, find_repos

    events = listener if listener is not None else NullListener()
    walk = _HeldFinish(events, selection.no_submodules)
    found: set[str] = set()
    yielded = 0
    roots_with_repos: set[str] = set()
    for ref in find_repos(
        selection.roots,
        exclude=selection.exclude,
        max_depth=selection.max_depth,
        include_ignored=selection.include_ignored,
        listener=walk,
    ):
        found.add(ref.path)
        roots_with_repos.add(ref.root)
        if not (selection.no_submodules and ref.is_submodule):
            yielded += 1
            yield ref
    for root in selection.roots:
        if os.path.abspath(root) in roots_with_repos:
            continue
        enclosing = _enclosing_ref(root)
        if enclosing is not None and selection.no_submodules and enclosing.is_submodule:
            continue
        if enclosing is not None and enclosing.path not in found:
            found.add(enclosing.path)
            events.repo_found(enclosing)
            yielded += 1
            yield enclosing
    if walk.finished_with is not None:
        events.finished(yielded)


class _HeldFinish:
    """A discovery listener that passes every callback on but ``finished``, which the
    caller sends itself once it has added the enclosing repositories, and, with
    *no_submodules*, ``repo_found`` for a submodule."""

    def __init__(self, events: RepoFinderListener, no_submodules: bool) -> None:
        self._events = events
        self._no_submodules = no_submodules
        self.finished_with: int | None = None

    def started(self, roots: Sequence[str]) -> None:
        self._events.started(roots)

    def looking_at(self, path: str) -> None:
        self._events.looking_at(path)

    def repo_found(self, ref: RepoRef) -> None:
        if not (self._no_submodules and ref.is_submodule):
            self._events.repo_found(ref)

    def warning(self, path: str, message: str) -> None:
        self._events.warning(path, message)

    def finished(self, n_repos: int) -> None:
        self.finished_with = n_repos


def _enclosing_ref(folder: str) -> RepoRef | None:
    """The repository whose work tree holds *folder*, if any."""
    from gitoverit.discovery import display_function
    from gitoverit.errors import CommandError
    from gitoverit.git.command import git

    try:
        out = git(
            "rev-parse",
            "--show-toplevel",
            "--absolute-git-dir",
            "--show-superproject-working-tree",
            cwd=folder,
        ).stdout
    except CommandError:
        return None
    lines = os.fsdecode(out).splitlines()
    if len(lines) not in (2, 3) or not lines[0]:
        return None
    top, git_dir, *superproject = lines
    linked = os.path.isfile(os.path.join(top, ".git"))
    worktree = linked and os.path.basename(os.path.dirname(git_dir)) == "worktrees"
    return RepoRef(
        path=top,
        git_dir=git_dir,
        display_path=display_function()(top),
        root=os.path.abspath(folder),
        is_worktree=worktree,
        is_submodule=bool(superproject),
        superproject=superproject[0] if superproject else None,
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
