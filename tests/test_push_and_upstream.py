"""``ops.push``: a branch goes to its own upstream, never forced, with progress when asked,
through the repository's ssh command; a branch without an upstream is refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import RepoFactory, sh
from gitoverit.errors import CommandError, GitAuthError
from gitoverit.git import ops
from gitoverit.model import RepoRef
from test_ssh_command import fake_ssh


def _ref(path: Path) -> RepoRef:
    return RepoRef(str(path), str(path / ".git"), path.name)


def test_push_sends_the_branch_to_its_upstream_and_reports_progress(repos: RepoFactory) -> None:
    remote, clone = repos.remote_and_clone("r")
    head = clone.commit("new.txt")
    lines: list[str] = []
    ops.push(_ref(clone.path), "main", timeout=30, on_progress=lines.append)
    assert sh("git", "rev-parse", "refs/heads/main", cwd=remote.path) == head
    assert any("Writing objects" in line or "Total" in line for line in lines), lines


def test_push_without_progress_reports_none(repos: RepoFactory) -> None:
    remote, clone = repos.remote_and_clone("r")
    head = clone.commit("new.txt")
    ops.push(_ref(clone.path), "main", timeout=30)
    assert sh("git", "rev-parse", "refs/heads/main", cwd=remote.path) == head


def test_push_goes_to_the_upstream_branch_of_another_name(repos: RepoFactory) -> None:
    remote, clone = repos.remote_and_clone("r")
    clone.git("checkout", "-q", "-b", "topic", "--track", "origin/main")
    head = clone.commit("topic.txt")
    ops.push(_ref(clone.path), "topic", timeout=30)
    assert sh("git", "rev-parse", "refs/heads/main", cwd=remote.path) == head
    assert sh("git", "branch", "--list", "topic", cwd=remote.path) == ""


def test_upstream_of_a_branch_whose_name_is_not_utf8(repos: RepoFactory) -> None:
    remote, clone = repos.remote_and_clone("r")
    name = os.fsdecode(b"caf\xe9")
    sh("git", "push", "-q", "origin", f"HEAD:refs/heads/{name}", cwd=clone.path)
    sh("git", "fetch", "-q", "origin", cwd=clone.path)
    sh("git", "branch", "-q", "--track", name, f"origin/{name}", cwd=clone.path)
    assert ops.upstream_of(_ref(clone.path), name) == ("origin", f"refs/heads/{name}")
    sh("git", "checkout", "-q", name, cwd=clone.path)
    head = clone.commit("accent.txt")
    ops.push(_ref(clone.path), name, timeout=30)
    assert sh("git", "rev-parse", f"refs/heads/{name}", cwd=remote.path) == head


def test_push_of_a_branch_without_upstream_is_refused_with_a_clear_error(
    repos: RepoFactory,
) -> None:
    remote, clone = repos.remote_and_clone("r")
    clone.git("checkout", "-q", "-b", "alone")
    clone.commit("alone.txt")
    with pytest.raises(CommandError) as info:
        ops.push(_ref(clone.path), "alone", timeout=30)
    err = info.value
    assert str(err) == "cannot resolve the upstream of alone"
    assert err.returncode == 0
    assert err.argv[0] == "git"
    assert "for-each-ref" in err.argv
    assert sh("git", "branch", "--list", "alone", cwd=remote.path) == ""


def test_push_uses_the_repository_ssh_command_in_batch_mode(
    repos: RepoFactory, tmp_path: Path
) -> None:
    script, log = fake_ssh(tmp_path)
    repo = repos.repo("r")
    repo.git("remote", "add", "origin", "ssh://git@example.invalid/x.git")
    repo.git("config", "branch.main.remote", "origin")
    repo.git("config", "branch.main.merge", "refs/heads/main")
    repo.git("config", "core.sshCommand", f"{script} -i /keys/id_for_this_repo")
    with pytest.raises(GitAuthError):
        ops.push(_ref(repo.path), "main", timeout=20)
    args = log.read_text().splitlines()
    assert args[:4] == ["-o", "BatchMode=yes", "-i", "/keys/id_for_this_repo"], args
