"""A failed network step adds its error to the record and keeps the local status; one dead
remote fails only itself; a repository with no remote is skipped, never ``ok``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from conftest import RepoFactory, sh
from gitoverit.cli import main


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]]]:
    code = main(["--no-progress", "-o", "json", *args])
    out, _err = capsys.readouterr()
    records: list[dict[str, Any]] = json.loads(out)
    return code, records


def test_a_dead_extra_remote_fails_only_itself(
    repos: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote, clone = repos.remote_and_clone("app")
    repos.push_from_other(remote, n=1)
    clone.git("remote", "add", "dead", str(tmp_path / "no-such-remote.git"))
    code, (rec,) = run_json(capsys, "-P", str(repos.root))
    assert code == 0
    assert rec["error"] is None and rec["fetched"] is True
    assert rec["pulled"] is True and rec["outcome"] == "updated"
    (failure,) = rec["fetch_errors"]
    assert failure["remote"] == "dead" and failure["reason"] == "git_error"
    assert "no-such-remote" in failure["message"]


def test_a_dead_upstream_remote_keeps_the_local_status(
    repos: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _remote, clone = repos.remote_and_clone("app")
    clone.git("remote", "set-url", "origin", str(tmp_path / "gone.git"))
    clone.write("file.txt", "edited\n")
    code, (rec,) = run_json(capsys, "-f", str(repos.root))
    assert code == 1
    assert rec["error"] is not None and rec["fetched"] is False
    assert rec["error"]["reason"] == "git_error"
    # What the local status knows is all there.
    assert rec["branch"] == "main" and rec["head"] == clone.head
    assert rec["upstream"] == "origin/main" and rec["modified"] == 1
    assert [f["remote"] for f in rec["fetch_errors"]] == ["origin"]


@pytest.mark.parametrize("flag", ["-f", "-P", "-U"])
def test_a_repo_without_a_remote_is_skipped(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    r = repos.repo("local", commits=1)
    code, (rec,) = run_json(capsys, flag, str(repos.root))
    assert code == 0
    assert rec["outcome"] == "skipped" and rec["note"] == "no remote"
    assert rec["error"] is None and rec["fetched"] is False
    assert rec["head"] == r.head and rec["fetch_errors"] == []


def test_a_rejected_push_keeps_the_local_status(
    repos: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote, clone = repos.remote_and_clone("app")
    hooks = tmp_path / "remote-hooks"
    hooks.mkdir()
    hook = hooks / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are closed today' >&2\nexit 1\n")
    hook.chmod(0o755)
    sh("git", "config", "core.hooksPath", str(hooks), cwd=remote.path)
    clone.commit("new.txt")
    code, (rec,) = run_json(capsys, "-U", str(repos.root))
    assert code == 1
    assert rec["error"] is not None and rec["pushed"] is False
    assert rec["fetched"] is True
    assert rec["ahead"] == 1 and rec["branch"] == "main" and rec["head"] == clone.head
    assert os.path.isdir(clone.path)


def test_fetch_errors_is_null_without_a_fetch(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repos.repo("plain", commits=1)
    _code, (rec,) = run_json(capsys, str(repos.root))
    assert rec["fetch_errors"] is None


def test_linked_worktrees_share_one_fetch_and_never_write_at_once(
    repos: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote, clone = repos.remote_and_clone("app")
    log = tmp_path / "upload-pack.log"
    wrapper = tmp_path / "upload-pack"
    wrapper.write_text(f'#!/bin/sh\necho run >> "{log}"\nexec git-upload-pack "$@"\n')
    wrapper.chmod(0o755)
    clone.git("config", "remote.origin.uploadpack", str(wrapper))
    for name in ("wt1", "wt2"):
        clone.git("worktree", "add", "-q", "-b", name, str(repos.root / name), "origin/main")
    repos.push_from_other(remote, n=1)
    (repos.root / "wt2" / "file.txt").write_text("local edit\n")
    code, records = run_json(capsys, "-P", str(repos.root))
    assert code == 0, records
    assert len(records) == 3
    assert all(r["error"] is None and r["fetched"] is True for r in records)
    assert log.read_text().splitlines() == ["run"]
    # Each worktree decides on its own branch, from the one shared fetch.
    by_name = {os.path.basename(r["path"]): r for r in records}
    assert by_name["app"]["pulled"] is True and by_name["app"]["behind"] == 0
    assert by_name["wt1"]["pulled"] is True and by_name["wt1"]["behind"] == 0
    assert by_name["wt2"]["pulled"] is False and by_name["wt2"]["note"] == "uncommitted changes"
    assert by_name["wt2"]["behind"] == 1


@pytest.mark.parametrize(
    "stderr",
    [
        "ssh: connect to host example.invalid port 22: Connection refused\n"
        "fatal: Could not read from remote repository.",
        "fatal: unable to access 'https://example.invalid/x.git/': Could not resolve host: "
        "example.invalid",
        "ssh: Could not resolve hostname example.invalid: Name or service not known",
        "fatal: unable to access 'http://10.0.0.1/x/': Failed to connect to 10.0.0.1 port 80: "
        "Network is unreachable",
        "Connection reset by peer\nfatal: the remote end hung up unexpectedly",
    ],
)
def test_unreachable_remotes_are_a_network_error(stderr: str) -> None:
    from gitoverit.git.command import classify
    from gitoverit.model import Reason

    assert classify(stderr.encode()).reason is Reason.NETWORK
    # A rejected key is still an authentication problem.
    assert classify(b"git@host: Permission denied (publickey).").reason is Reason.AUTH


def test_a_refused_connection_is_reported_as_network(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    _remote, clone = repos.remote_and_clone("app")
    clone.git("remote", "set-url", "origin", f"http://127.0.0.1:{port}/app.git")
    code, (rec,) = run_json(capsys, "-f", "--timeout", "20", str(repos.root))
    assert code == 1
    assert rec["error"]["reason"] == "network"
    assert rec["fetch_errors"][0]["reason"] == "network"


def test_errors_flag_reports_a_failed_remote_of_a_repo_that_did_not_fail(
    repos: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _remote, clone = repos.remote_and_clone("app")
    clone.git("remote", "add", "dead", str(tmp_path / "no-such-remote.git"))
    code = main(["--no-progress", "-f", "--errors", "-o", "json", str(repos.root)])
    _out, err = capsys.readouterr()
    assert code == 0
    lines = err.splitlines()
    head = next(i for i, line in enumerate(lines) if ": remote dead: git_error: " in line)
    assert lines[head].endswith("Could not read from remote repository.")
    # Then git's own stderr, indented.
    assert lines[head + 1].startswith("    ") and "no-such-remote" in lines[head + 1]
