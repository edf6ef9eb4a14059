"""Find git work trees under a set of folders, yielding each one the moment it is found.

:func:`find_repos` walks the given roots with :func:`os.scandir`, iteratively (an explicit
stack, so depth is not limited by Python's recursion limit), and yields a
:class:`~gitoverit.model.RepoRef` for every folder that holds a ``.git`` entry:

- ``.git`` as a folder: an ordinary repository;
- ``.git`` as a file (``gitdir: <path>``): a linked worktree or a submodule with an absorbed
  git dir. The gitdir is resolved (relative to the folder holding the ``.git`` file) and the
  kind is decided from files in it: a linked worktree's gitdir holds a ``commondir`` file; a
  submodule's gitdir sits under ``modules/`` of another git dir, or its ``config`` sets
  ``core.worktree``. The path of the work tree never decides it.

What the walk does, and why:

- It does not report bare repositories, and it never enters a ``.git`` folder (or the
  metadata folders of other version-control systems), nor a folder that is itself a git dir
  (``HEAD`` file plus ``objects/`` and ``refs/``).
- It does enter repositories, so that repositories nested in them are found. A nested
  repository that its enclosing repository ignores (``.gitignore``, ``info/exclude``, the
  global excludes file) is skipped with everything below it, unless ``include_ignored``.
  Telling costs one ``git check-ignore`` process, spent only when a nested repository is
  actually found, or when the walk meets a folder whose name marks it as typically huge
  (``node_modules``, ``.venv`` ...) inside a repository: if that folder is ignored, nothing
  below it can be a reported repository, so it is not walked at all. A submodule of the
  enclosing repository needs no check (a tracked path is never ignored).
- Every folder is entered at most once, keyed by ``(st_dev, st_ino)``: a repository reachable
  through several symlinked paths is reported once and a symlink cycle ends. Symlinked
  folders are followed, but only after everything reachable without symlinks, so that a
  repository is reported under its own path when the roots also reach it directly.
- A folder that cannot be read is reported to the listener as a warning and skipped; the
  walk always finishes.
- A ``.git`` file with unreadable content or a ``.git`` folder without ``HEAD`` is still
  reported (``git_dir`` best effort), so that the status step records an error for it.

``path`` is absolute and built from the root as given (made absolute, symlinks kept), with
non-UTF-8 names as :func:`os.fsdecode` gives them (surrogate escapes). ``display_path`` is
the path relative to the current directory when the repository is at or below it (``.``
for the current directory itself), else the absolute path with the home directory shown as
``~``.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Protocol

from gitoverit.model import RepoRef

__all__ = ["NullListener", "RepoFinderListener", "find_repos"]

#: Folders never entered: git's own folder and other version-control systems' metadata.
SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".bzr", "_darcs", ".jj"})

#: Folder names that usually hold thousands of entries and are usually ignored. Inside a
#: repository, one ``git check-ignore`` (about 1 ms) decides whether such a folder is walked;
#: walking one costs far more. The list only affects cost, never which repos are found.
HEAVY_DIRS = frozenset(
    {"node_modules", "bower_components", ".venv", "venv", ".tox", ".nox", "target", ".gradle"}
)

# Largest .git file read; a real one is one short line.
_GITFILE_MAX = 4096


class RepoFinderListener(Protocol):
    """What :func:`find_repos` reports while it walks. Callbacks must not raise.

    ``started`` is called once with the absolute roots; ``looking_at`` for each folder
    entered; ``repo_found`` for each repository, just before it is yielded; ``warning``
    for a folder that could not be read (the walk goes on); ``finished`` once with the
    number of repositories yielded, when the walk is complete. ``finished`` is not called
    when the consumer stops iterating early or the walk raises.
    """

    def started(self, roots: Sequence[str]) -> None: ...

    def looking_at(self, path: str) -> None: ...

    def repo_found(self, ref: RepoRef) -> None: ...

    def warning(self, path: str, message: str) -> None: ...

    def finished(self, n_repos: int) -> None: ...


class NullListener:
    """A listener that ignores every event."""

    def started(self, roots: Sequence[str]) -> None:
        pass

    def looking_at(self, path: str) -> None:
        pass

    def repo_found(self, ref: RepoRef) -> None:
        pass

    def warning(self, path: str, message: str) -> None:
        pass

    def finished(self, n_repos: int) -> None:
        pass


class _Enclosing:
    """The nearest repository above a folder in the walk, for ignore checks."""

    __slots__ = ("git_dir", "path")

    def __init__(self, path: str, git_dir: str) -> None:
        self.path = path
        self.git_dir = git_dir


# One pending folder: path, depth below its root, path relative to the root ("/"-separated,
# "" for the root), index of the root, nearest enclosing repository.
_Item = tuple[str, int, str, int, _Enclosing | None]


def find_repos(
    roots: Sequence[str | os.PathLike[str]],
    *,
    exclude: Sequence[str] = (),
    max_depth: int | None = None,
    include_ignored: bool = False,
    listener: RepoFinderListener | None = None,
) -> Generator[RepoRef, None, None]:
    """Yield every git work tree at or below *roots*, each as soon as it is found.

    *exclude* holds glob patterns (:mod:`fnmatch`); a folder below a root whose name or
    whose path relative to the root (``/``-separated) matches one is not entered.
    *max_depth* limits how far below a root folders are looked at: the root is depth 0,
    its subfolders depth 1, and so on. *include_ignored* also reports nested repositories
    that their enclosing repository ignores. Roots are walked in the order given; a folder
    already walked (through an earlier root or a symlink) is not walked again. A root
    that is missing or not a folder produces a warning. Ignore rules are those of
    repositories met during the walk: a root that lies inside a repository without being
    one is walked as if that repository were not there.
    """
    if max_depth is not None and max_depth < 0:
        raise ValueError(f"max_depth must be 0 or more, not {max_depth}")
    events = listener if listener is not None else NullListener()
    abs_roots = tuple(os.path.abspath(os.fsdecode(r)) for r in roots)
    events.started(abs_roots)
    n_repos = 0
    walk = _Walk(
        abs_roots,
        excluded=_exclude_matcher(exclude),
        max_depth=max_depth,
        include_ignored=include_ignored,
        events=events,
        display=display_function(),
    )
    for ref in walk.repos():
        n_repos += 1
        events.repo_found(ref)
        yield ref
    events.finished(n_repos)


class _Walk:
    """One walk over the roots: its options, the folders still to enter, and those entered.

    Each folder costs a few method calls; the loops over a folder's entries stay inside
    them, never a call per entry, because a walk meets tens of thousands of entries.
    """

    __slots__ = (
        "deferred",
        "display",
        "events",
        "excluded",
        "include_ignored",
        "max_depth",
        "roots",
        "stack",
        "visited",
    )

    def __init__(
        self,
        roots: tuple[str, ...],
        *,
        excluded: Callable[[str], bool] | None,
        max_depth: int | None,
        include_ignored: bool,
        events: RepoFinderListener,
        display: Callable[[str], str],
    ) -> None:
        self.roots = roots
        self.excluded = excluded
        self.max_depth = max_depth
        self.include_ignored = include_ignored
        self.events = events
        self.display = display
        self.visited: set[tuple[int, int]] = set()
        self.stack: list[_Item] = [
            (root, 0, "", i, None) for i, root in reversed(list(enumerate(roots)))
        ]
        # Folders reached through a symlink wait until nothing else is left (see module doc).
        self.deferred: list[_Item] = []

    def repos(self) -> Iterator[RepoRef]:
        """Walk every root, yielding each repository as it is found."""
        max_depth = self.max_depth
        while self.stack or self.deferred:
            if not self.stack:
                self.deferred.reverse()
                self.stack, self.deferred = self.deferred, []
            path, depth, rel, root_index, enclosing = self.stack.pop()
            entries = self._enter(path)
            if entries is None:
                continue
            dot_git: os.DirEntry[str] | None = None
            has_head = False
            subdirs: list[os.DirEntry[str]] = []
            for entry in entries:
                name = entry.name
                if name in SKIP_DIRS:
                    if name == ".git":
                        dot_git = entry
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if is_dir:
                    subdirs.append(entry)
                elif name == "HEAD":
                    has_head = True
            if dot_git is not None:
                ref = self._repo(path, dot_git, root_index, enclosing)
                if ref is None:
                    continue
                yield ref
                enclosing = _Enclosing(path, ref.git_dir)
            elif has_head and _is_git_dir_listing(subdirs):
                continue
            if max_depth is not None and depth >= max_depth:
                continue
            self._push_children(subdirs, depth + 1, rel, root_index, enclosing)

    def _enter(self, path: str) -> list[os.DirEntry[str]] | None:
        """The entries of folder *path*, or ``None`` when it is not to be walked: already
        entered, not a folder, or unreadable (the last two are warnings)."""
        try:
            st = os.stat(path)
        except OSError as exc:
            self.events.warning(path, _describe(exc))
            return None
        key = (st.st_dev, st.st_ino)
        if key in self.visited:
            return None
        self.visited.add(key)
        if not stat.S_ISDIR(st.st_mode):
            self.events.warning(path, "not a folder")
            return None
        self.events.looking_at(path)
        try:
            with os.scandir(path) as it:
                return list(it)
        except OSError as exc:
            self.events.warning(path, _describe(exc))
            return None

    def _repo(
        self,
        path: str,
        dot_git: os.DirEntry[str],
        root_index: int,
        enclosing: _Enclosing | None,
    ) -> RepoRef | None:
        """The repository at *path*, or ``None`` when its enclosing repository ignores it."""
        git_dir, is_worktree, is_submodule = _resolve_git_dir(path, dot_git)
        if (
            enclosing is not None
            and not self.include_ignored
            and not (is_submodule and git_dir.startswith(enclosing.git_dir + os.sep))
            and _is_ignored(enclosing.path, path[len(enclosing.path) + 1 :], self.events)
        ):
            return None
        return RepoRef(
            path=path,
            git_dir=git_dir,
            display_path=self.display(path),
            root=self.roots[root_index],
            is_worktree=is_worktree,
            is_submodule=is_submodule,
            superproject=enclosing.path if is_submodule and enclosing is not None else None,
        )

    def _push_children(
        self,
        subdirs: list[os.DirEntry[str]],
        child_depth: int,
        rel: str,
        root_index: int,
        enclosing: _Enclosing | None,
    ) -> None:
        """Queue *subdirs* to be entered in name order, except excluded or ignored ones."""
        excluded = self.excluded
        check_heavy = not self.include_ignored
        events = self.events
        stack = self.stack
        deferred = self.deferred
        subdirs.sort(key=_entry_name)
        for entry in reversed(subdirs):
            name = entry.name
            child_rel = f"{rel}/{name}" if rel else name
            if excluded is not None and (excluded(name) or excluded(child_rel)):
                continue
            if (
                check_heavy
                and enclosing is not None
                and name in HEAVY_DIRS
                and _is_ignored(enclosing.path, entry.path[len(enclosing.path) + 1 :], events)
            ):
                continue
            item: _Item = (entry.path, child_depth, child_rel, root_index, enclosing)
            try:
                is_link = entry.is_symlink()
            except OSError:
                is_link = False
            (deferred if is_link else stack).append(item)


def _entry_name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _is_git_dir_listing(subdirs: list[os.DirEntry[str]]) -> bool:
    """True when a folder that has a ``HEAD`` file also has ``objects/`` and ``refs/``."""
    names = {e.name for e in subdirs}
    return "objects" in names and "refs" in names


def _describe(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _exclude_matcher(patterns: Sequence[str]) -> Callable[[str], bool] | None:
    """One compiled matcher for all *patterns*, or ``None`` when there are none."""
    cleaned = [p.rstrip("/") for p in patterns if p.rstrip("/")]
    if not cleaned:
        return None
    regex = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in cleaned))

    def matches(text: str) -> bool:
        return regex.match(text) is not None

    return matches


def display_function() -> Callable[[str], str]:
    """Map an absolute path to its display form (see the module docstring)."""
    try:
        cwd: str | None = os.getcwd()
    except OSError:
        cwd = None
    home = os.path.expanduser("~")
    if home in ("~", os.sep, ""):
        home = ""
    cwd_prefix = cwd.rstrip(os.sep) + os.sep if cwd else ""
    home_prefix = home.rstrip(os.sep) + os.sep if home else ""

    def display(path: str) -> str:
        if cwd is not None:
            if path == cwd:
                return "."
            if path.startswith(cwd_prefix):
                return path[len(cwd_prefix) :]
        if home:
            if path == home:
                return "~"
            if path.startswith(home_prefix):
                return "~" + os.sep + path[len(home_prefix) :]
        return path

    return display


def _resolve_git_dir(work_tree: str, dot_git: os.DirEntry[str]) -> tuple[str, bool, bool]:
    """Return ``(git_dir, is_worktree, is_submodule)`` for a folder's ``.git`` entry.

    A ``.git`` that is a folder, or a file that cannot be parsed, gives its own path.
    """
    try:
        is_dir = dot_git.is_dir()
    except OSError:
        is_dir = False
    if is_dir:
        return dot_git.path, False, False
    target = _read_gitfile(dot_git.path)
    if target is None:
        return dot_git.path, False, False
    git_dir = os.path.normpath(os.path.join(work_tree, target))
    if os.path.isfile(os.path.join(git_dir, "commondir")):
        return git_dir, True, False
    return git_dir, False, _is_submodule_git_dir(git_dir)


def _read_gitfile(path: str) -> str | None:
    """The target of a ``gitdir: <path>`` file, or ``None`` when it is not one."""
    try:
        with open(path, "rb") as f:
            data = f.read(_GITFILE_MAX + 1)
    except OSError:
        return None
    if len(data) > _GITFILE_MAX:
        return None
    data = data.rstrip()
    if not data.startswith(b"gitdir: "):
        return None
    target = data[len(b"gitdir: ") :]
    if not target or b"\n" in target or b"\0" in target:
        return None
    return os.fsdecode(target)


def _is_submodule_git_dir(git_dir: str) -> bool:
    """True when *git_dir* belongs to a submodule: it lives under ``modules/`` of another git
    dir (a folder with a ``HEAD`` file), or its ``config`` sets ``core.worktree``."""
    child = git_dir
    parent = os.path.dirname(child)
    while parent != child:
        if os.path.basename(parent) == "modules" and os.path.isfile(
            os.path.join(os.path.dirname(parent), "HEAD")
        ):
            return True
        child, parent = parent, os.path.dirname(parent)
    return _config_sets_core_worktree(os.path.join(git_dir, "config"))


def _config_sets_core_worktree(config_path: str) -> bool:
    try:
        with open(config_path, "rb") as f:
            text = f.read().decode("utf-8", "surrogateescape")
    except OSError:
        return False
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            end = line.find("]")
            head = line[1:end] if end > 0 else line[1:]
            section = head.split(None, 1)[0].lower() if head.strip() else ""
            line = line[end + 1 :].strip() if end > 0 else ""
        if section == "core" and line.split("=", 1)[0].strip().lower() == "worktree":
            return True
    return False


def _is_ignored(repo: str, rel: str, events: RepoFinderListener) -> bool:
    """Ask git whether the repository at *repo* ignores *rel* (a path inside it).

    When git cannot tell (a broken enclosing repository, git missing), the answer is "not
    ignored", so nothing disappears silently; the listener gets a warning.
    """
    from gitoverit.errors import CommandError
    from gitoverit.git.command import git

    try:
        result = git("check-ignore", "-q", "--", rel, cwd=repo, check=False)
    except CommandError as exc:
        events.warning(os.path.join(repo, rel), f"could not check ignore rules: {exc}")
        return False
    if result.returncode == 0:
        return True
    if result.returncode != 1:
        err = result.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = err[-1] if err else f"git check-ignore exited with {result.returncode}"
        events.warning(os.path.join(repo, rel), f"could not check ignore rules: {detail}")
    return False
