"""A configured ``core.sshCommand`` (a per-repository key, a jump host) is honoured by
network operations, in batch mode, instead of being replaced by our default ssh."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from conftest import RepoFactory, sh
from gitoverit.errors import GitAuthError
from gitoverit.git import ops
from gitoverit.model import RepoRef


def fake_ssh(tmp_path: Path) -> tuple[Path, Path]:
    """An ssh stand-in that records its arguments and refuses the key, as ssh does."""
    log = tmp_path / "ssh-args.log"
    script = tmp_path / "fake-ssh"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{log}"\n'
        'echo "git@example.invalid: Permission denied (publickey)." >&2\n'
        "exit 255\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, log


def test_fetch_uses_the_repository_ssh_command_in_batch_mode(
    repos: RepoFactory, tmp_path: Path
) -> None:
    script, log = fake_ssh(tmp_path)
    repo = repos.repo("r")
    repo.git("remote", "add", "origin", "ssh://git@example.invalid/x.git")
    repo.git("config", "core.sshCommand", f"{script} -i /keys/id_for_this_repo")
    ref = RepoRef(str(repo.path), str(repo.path / ".git"), "r")
    with pytest.raises(GitAuthError):
        ops.fetch_remote(ref, "origin", timeout=20)
    args = log.read_text().splitlines()
    assert args[:2] == ["-o", "BatchMode=yes"], args
    assert args[2:4] == ["-i", "/keys/id_for_this_repo"], args


def test_clone_uses_the_user_ssh_command_in_batch_mode(repos: RepoFactory, tmp_path: Path) -> None:
    script, log = fake_ssh(tmp_path)
    sh("git", "config", "--global", "core.sshCommand", f"{script} -F /dev/null")
    with pytest.raises(GitAuthError):
        ops.clone("ssh://git@example.invalid/x.git", str(repos.root / "clone"), timeout=20)
    args = log.read_text().splitlines()
    assert args[:4] == ["-o", "BatchMode=yes", "-F", "/dev/null"], args
    assert not (repos.root / "clone").exists()
