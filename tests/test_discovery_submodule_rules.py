"""Which folders discovery reports as submodules: a git dir under ``modules/`` of another
git dir, or one whose config sets ``core.worktree`` (a submodule whose git dir was moved)."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import RepoFactory, sh
from gitoverit.discovery import find_repos
from gitoverit.model import RepoRef


def found(root: Path) -> dict[str, RepoRef]:
    return {r.path: r for r in find_repos([str(root)])}


def test_a_git_dir_whose_config_sets_core_worktree_is_a_submodule(repos: RepoFactory) -> None:
    store = repos.aux / "store" / "moved.git"
    work = repos.root / "moved"
    store.parent.mkdir(parents=True)
    sh("git", "init", "-q", f"--separate-git-dir={store}", str(work))
    sh("git", "config", "core.worktree", str(work), cwd=work)
    refs = found(repos.root)
    assert set(refs) == {str(work)}
    assert refs[str(work)].git_dir == str(store)
    assert refs[str(work)].is_submodule and not refs[str(work)].is_worktree


def test_core_worktree_in_another_section_makes_no_submodule(repos: RepoFactory) -> None:
    store = repos.aux / "store" / "plain.git"
    work = repos.root / "plain"
    store.parent.mkdir(parents=True)
    sh("git", "init", "-q", f"--separate-git-dir={store}", str(work))
    sh("git", "config", "extra.worktree", str(work), cwd=work)
    refs = found(repos.root)
    assert not refs[str(work)].is_submodule


def test_a_git_dir_under_modules_of_a_git_dir_at_any_depth_is_a_submodule(
    repos: RepoFactory,
) -> None:
    # A git dir at <store>/modules/a/b/deep.git, <store> holding a HEAD file.
    store = repos.aux / "super.git"
    (store / "modules" / "a" / "b").mkdir(parents=True)
    (store / "HEAD").write_text("ref: refs/heads/main\n")
    git_dir = store / "modules" / "a" / "b" / "deep.git"
    work = repos.root / "deep"
    sh("git", "init", "-q", f"--separate-git-dir={git_dir}", str(work))
    refs = found(repos.root)
    assert refs[str(work)].is_submodule
    assert refs[str(work)].git_dir == os.path.normpath(git_dir)
