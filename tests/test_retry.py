"""A server that drops new ssh connections while busy (sshd's MaxStartups) costs a short
pause and another try, not a failed fetch; other failures are never retried."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest

from conftest import RepoFactory, sh
from gitoverit.errors import CommandError, GitAuthError
from gitoverit.git import ops
from gitoverit.model import RepoRef

DROPPED = "kex_exchange_identification: Connection closed by remote host"


def flaky_ssh(tmp_path: Path, drops: int, message: str = DROPPED) -> Path:
    """An ssh stand-in: drops the first *drops* connections with *message*, then runs the
    requested git command locally, as the server would. Returns its attempt log."""
    log = tmp_path / "attempts.log"
    script = tmp_path / "flaky-ssh"
    script.write_text(
        "#!/bin/sh\n"
        # git first probes an unknown ssh command with -G (is it OpenSSH?): not a connection.
        'for a; do [ "$a" = "-G" ] && exit 0; done\n'
        f'echo attempt >> "{log}"\n'
        f'n=$(wc -l < "{log}")\n'
        f'if [ "$n" -le {drops} ]; then echo "{message}" >&2; exit 255; fi\n'
        "for last; do :; done\n"
        'exec sh -c "$last"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.fixture(autouse=True)
def short_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ops, "RETRY_PAUSE", (0.01, 0.02))


def ssh_clone(repos: RepoFactory, script: Path) -> RepoRef:
    remote, clone = repos.remote_and_clone("r")
    repos.push_from_other(remote, 1)
    clone.git("remote", "set-url", "origin", f"ssh://fakehost{remote.path}")
    clone.git("config", "core.sshCommand", str(script))
    return RepoRef(str(clone.path), str(clone.path / ".git"), "r")


def remote_path(ref: RepoRef) -> str:
    return sh("git", "-C", ref.path, "remote", "get-url", "origin").removeprefix("ssh://fakehost")


def attempts(tmp_path: Path) -> int:
    return len((tmp_path / "attempts.log").read_text().splitlines())


def test_a_dropped_connection_is_retried_and_the_fetch_succeeds(
    repos: RepoFactory, tmp_path: Path
) -> None:
    ref = ssh_clone(repos, flaky_ssh(tmp_path, drops=2))
    ops.fetch_remote(ref, "origin", timeout=30)
    assert attempts(tmp_path) == 3
    fetched = sh("git", "-C", ref.path, "rev-parse", "origin/main")
    assert fetched == sh("git", "-C", remote_path(ref), "rev-parse", "main")


def test_retries_give_up_with_the_original_error(repos: RepoFactory, tmp_path: Path) -> None:
    ref = ssh_clone(repos, flaky_ssh(tmp_path, drops=10))
    with pytest.raises(CommandError) as info:
        ops.fetch_remote(ref, "origin", timeout=30)
    assert attempts(tmp_path) == ops.RETRIES + 1
    assert DROPPED in info.value.stderr_text


def test_an_auth_failure_is_not_retried(repos: RepoFactory, tmp_path: Path) -> None:
    denied = "git@fakehost: Permission denied (publickey)."
    ref = ssh_clone(repos, flaky_ssh(tmp_path, drops=10, message=denied))
    start = time.monotonic()
    with pytest.raises(GitAuthError):
        ops.fetch_remote(ref, "origin", timeout=30)
    assert attempts(tmp_path) == 1
    assert time.monotonic() - start < 3


def test_retries_stay_within_the_timeout(
    repos: RepoFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ops, "RETRY_PAUSE", (5.0, 5.0))
    ref = ssh_clone(repos, flaky_ssh(tmp_path, drops=10))
    start = time.monotonic()
    with pytest.raises(CommandError):
        ops.fetch_remote(ref, "origin", timeout=2)
    assert time.monotonic() - start < 2.5
    assert attempts(tmp_path) == 1, "no retry when the pause would outlast the timeout"
