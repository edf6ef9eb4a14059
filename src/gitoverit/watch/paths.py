"""Which repositories a changed path concerns, and which changes are noise.

A path inside a work tree concerns that repository (the deepest one, for nested repos and
submodules). A path inside a git dir concerns the repository of that git dir; a change in
a main repository's shared refs also concerns its linked worktrees. Lock files, object
files and reflogs are noise: git writes them on the way to the change that counts (the
ref, the index), which comes right after.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from gitoverit.model import RepoRef

#: Paths inside a git dir whose changes never change a status on their own.
_NOISE_DIRS = ("objects", "logs", "lfs", "fsmonitor--daemon")


def is_noise(git_dir_relative: str) -> bool:
    """Whether a change at *git_dir_relative* (a path inside a git dir) can be ignored."""
    if git_dir_relative.endswith(".lock"):
        return True
    head = git_dir_relative.split(os.sep, 1)[0]
    return head in _NOISE_DIRS or head.endswith(".lock")


class RepoMap:
    """The repositories being watched, looked up by any path inside them."""

    def __init__(self, refs: Iterable[RepoRef] = ()) -> None:
        self.refs: dict[str, RepoRef] = {}
        self._trees: dict[str, str] = {}
        self._git_dirs: dict[str, list[str]] = {}
        for ref in refs:
            self.add(ref)

    def add(self, ref: RepoRef) -> None:
        """Watch *ref* (again)."""
        self.refs[ref.path] = ref
        self._trees[ref.path] = ref.path
        self._git_dirs.setdefault(ref.git_dir, [])
        if ref.path not in self._git_dirs[ref.git_dir]:
            self._git_dirs[ref.git_dir].append(ref.path)
        marker = os.sep + "worktrees" + os.sep
        if ref.is_worktree and marker in ref.git_dir:
            # The main repository's refs are this worktree's refs too.
            common = ref.git_dir.rsplit(marker, 1)[0]
            owners = self._git_dirs.setdefault(common, [])
            if ref.path not in owners:
                owners.append(ref.path)

    def remove(self, path: str) -> RepoRef | None:
        """Stop watching the repository at *path*; returns it, if it was watched."""
        ref = self.refs.pop(path, None)
        if ref is None:
            return None
        self._trees.pop(path, None)
        for key in list(self._git_dirs):
            owners = [p for p in self._git_dirs[key] if p != path]
            if owners:
                self._git_dirs[key] = owners
            else:
                del self._git_dirs[key]
        return ref

    def owners(self, path: str) -> tuple[list[str], bool]:
        """The repositories a change at *path* concerns, and whether it may have created
        or removed a repository (so the folders need another look)."""
        probe = path
        while True:
            owners = self._git_dirs.get(probe)
            if owners is not None:
                rel = os.path.relpath(path, probe)
                # (A linked worktree's own git dir lies deeper, so it is found first.)
                return ([] if rel != "." and is_noise(rel) else list(owners)), False
            tree = self._trees.get(probe)
            if tree is not None:
                # A ``.git`` below a work tree is a new nested repository: the event may
                # name it, something inside it, or only the folder that holds it (inotify
                # can miss what a new folder held before it was watched). The work tree's
                # own folder going is a repository removed.
                rel = os.path.relpath(path, tree)
                created = (
                    path == tree
                    or ".git" in rel.split(os.sep)
                    or os.path.lexists(os.path.join(path, ".git"))
                )
                return [tree], created
            parent = os.path.dirname(probe)
            if parent == probe:
                return [], True
            probe = parent
