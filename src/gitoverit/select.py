"""What to work on: the one place that turns what the user named into repositories.

Every command takes its repositories from here:

- a scan, ``freeze`` and everything built on a scan: the folders named (checked before
  any work starts), walked by :mod:`gitoverit.discovery` with the excludes, the depth
  limit, and ignored nested repos and submodules as the user asked (:func:`find`);
- ``sync``: the entries of a manifest, each where it should be (:func:`manifest_refs`);
- ``gitob``: the repositories under the folders named, as for a scan, and the one that
  encloses a folder (:func:`enclosing_repo`).

Wherever a folder is named, ``@NAME`` names a group of the configuration's ``[groups]``
table: its folders, and the folders its globs match (:func:`roots_of`); in ``sync``'s
patterns, the manifest entries at or below them (:func:`pick_entries`).
"""

from __future__ import annotations

import fnmatch
import glob
import os
from collections.abc import Iterator, Mapping, Sequence
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


#: What ``@NAME`` stands for: each group's folders and globs, as the config file gives them.
Groups = Mapping[str, Sequence[str]]


def roots_of(named: Sequence[str], groups: Groups | None = None) -> tuple[str, ...]:
    """The folders *named* (default: the current one) as absolute paths, each ``@NAME``
    replaced by the folders of that group (:func:`group_folders`); a folder named twice
    is kept once, where it first came.

    *groups* defaults to the configuration's, read only when a group is named. Raises
    :class:`UsageError` for a name that is not a folder, or an unknown group, before any
    work starts.
    """
    if not named:
        return (os.path.abspath("."),)
    if groups is None and any(is_group(n) for n in named):
        groups = configured_groups()
    roots: list[str] = []
    for name in named:
        if is_group(name):
            roots += group_folders(name, groups or {})
        elif not os.path.isdir(name):
            raise UsageError(f"not a folder: {name}")
        else:
            roots.append(os.path.abspath(name))
    return tuple(dict.fromkeys(roots))


def is_group(name: str) -> bool:
    """Whether *name* names a group (``@work``) rather than a folder."""
    return name.startswith("@")


def configured_groups() -> dict[str, tuple[str, ...]]:
    """The groups of the configuration (``[groups]``). Raises :class:`UsageError` for a
    configuration that cannot be used."""
    from gitoverit.config import ConfigError, load_settings

    try:
        settings, _sources = load_settings()
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    return dict(settings.groups)


def group_patterns(name: str, groups: Groups) -> tuple[str, ...]:
    """The folders and globs of group *name* (``@work`` or ``work``), ``~`` expanded and
    made absolute. Raises :class:`UsageError` for a group the configuration lacks, listing
    those it has."""
    from gitoverit.text import safe_text

    key = name.removeprefix("@")
    if key not in groups:
        known = ", ".join("@" + g for g in groups)
        hint = (
            f"known groups: {known}"
            if known
            else "no group is defined (add one with: gitoverit group add NAME PATH...)"
        )
        raise UsageError(f"unknown group '@{safe_text(key)}'; {safe_text(hint)}")
    return tuple(os.path.abspath(os.path.expanduser(p)) for p in groups[key])


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def group_folders(name: str, groups: Groups) -> list[str]:
    """The folders group *name* stands for: each folder it lists, which must exist, and
    each existing folder that one of its globs matches (``~/code/api-*``; ``**`` crosses
    folders), in order. Raises :class:`UsageError` for an unknown group or a listed
    folder that is not one."""
    from gitoverit.text import safe_text

    folders: list[str] = []
    for pattern in group_patterns(name, groups):
        if _is_glob(pattern):
            folders += [p for p in sorted(glob.glob(pattern, recursive=True)) if os.path.isdir(p)]
        elif os.path.isdir(pattern):
            folders.append(pattern)
        else:
            raise UsageError(f"{safe_text(name)}: not a folder: {safe_text(pattern)}")
    return folders


def pick_entries(
    entries: Sequence[ManifestEntry], patterns: Sequence[str], groups: Groups | None = None
) -> list[ManifestEntry]:
    """The manifest entries that *patterns* select, in their order; all without any.

    A pattern is a glob matched against each entry's name and path
    (:func:`~gitoverit.manifest.filter_entries`), or ``@NAME``: the entries at or below a
    folder of that group, or whose path one of its globs matches (the folders need not
    exist yet: sync clones into them). *groups* defaults to the configuration's.
    """
    from gitoverit.manifest import filter_entries

    named = [p for p in patterns if is_group(p)]
    if not named:
        return filter_entries(entries, patterns)
    if groups is None:
        groups = configured_groups()
    plain = [p for p in patterns if not is_group(p)]
    chosen = {id(e) for e in filter_entries(entries, plain)} if plain else set()
    specs = [spec for name in named for spec in group_patterns(name, groups)]
    for entry in entries:
        path = os.path.abspath(entry.path)
        if any(_within(path, spec) for spec in specs):
            chosen.add(id(entry))
    return [e for e in entries if id(e) in chosen]


def _within(path: str, spec: str) -> bool:
    """Whether *path* is folder *spec* or below it, or matches glob *spec*."""
    if _is_glob(spec):
        return fnmatch.fnmatchcase(path, spec)
    return path == spec or path.startswith(spec.rstrip(os.sep) + os.sep)


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


def one_per_repository(refs: Sequence[RepoRef]) -> list[RepoRef]:
    """*refs* with one work tree per repository: a main work tree and its linked
    worktrees share their refs, so only one of them is kept, the main one when it is
    there, else the first found. Order is kept."""
    from gitoverit.git.gitconfig import common_dir

    chosen: dict[str, RepoRef] = {}
    for ref in refs:
        key = os.path.realpath(common_dir(ref.git_dir)) if ref.git_dir else ref.path
        have = chosen.get(key)
        if have is None:
            chosen[key] = ref
        elif have.is_worktree and not ref.is_worktree:
            # Keep the first one's place, with the main work tree in it.
            chosen[key] = ref
    return list(chosen.values())


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
