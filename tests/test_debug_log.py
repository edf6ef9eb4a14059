"""The debug log (``log_file``, ``GITO_DEBUG_LOG``): every git command of a run, with its
repo, exit code and duration, appended to the file and never shown on the console."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import RepoFactory, sh
from gitoverit import process
from gitoverit.cli import branches_main, main
from gitoverit.config import config_path
from inproc_check import add_fillers, slow_filler_git

COMMAND = re.compile(
    r"^\d\d:\d\d:\d\d\.\d{3} (?P<level>[A-Z]+) command repo=(?P<repo>'[^']*'|\S+) "
    r"exit=(?P<exit>\S+) duration_ms=(?P<ms>\d+\.\d) cmd=(?P<cmd>git .*)$"
)
START = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} INFO start date=\d{4}-\d\d-\d\d gitoverit=\S+ pid=\d+ ")


def run_proc(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``python -m gitoverit ARGS`` in a child process, with *env* added."""
    return subprocess.run(
        [sys.executable, "-m", "gitoverit", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=120,
    )


def recording_git(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A PATH whose ``git`` writes each call's folder-free arguments to a file, then runs
    the real git: to count the git commands a run starts."""
    real = sh("sh", "-c", "command -v git")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    calls = tmp_path / "git-calls"
    script = bindir / "git"
    script.write_text(f'#!/bin/sh\necho "$$" >> {shlex.quote(str(calls))}\nexec {real} "$@"\n')
    script.chmod(0o755)
    return {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}, calls


def commands(log: Path) -> list[re.Match[str]]:
    lines = [line for line in log.read_text().splitlines() if " command " in line]
    found = [COMMAND.match(line) for line in lines]
    assert all(found), lines
    return [m for m in found if m is not None]


def test_every_git_command_of_a_scan_is_logged_and_the_output_is_unchanged(
    tmp_path: Path, repos: RepoFactory
) -> None:
    for name in ("one", "two", "three"):
        repos.repo(name, commits=2)
    repos.repo("dirty").write("new.txt")
    env, calls = recording_git(tmp_path)
    args = ("--no-progress", "--reader", "git", "-p", "path + ' ' + status", str(repos.root))
    quiet = run_proc(*args, env=env)
    calls.unlink()
    log = tmp_path / "debug.log"
    logged = run_proc(*args, env={**env, "GITO_DEBUG_LOG": str(log)})
    assert logged.returncode == quiet.returncode == 0
    assert logged.stdout == quiet.stdout and logged.stdout.count("\n") == 4
    assert logged.stderr == quiet.stderr, "nothing of the log reaches the console"
    text = log.read_text()
    assert START.match(text.splitlines()[0])
    lines = commands(log)
    runs = calls.read_text().splitlines()
    assert len(runs) == len(lines) >= 4, "as many git commands as the log has lines"
    status = [m for m in lines if m["cmd"].startswith("git status ")]
    assert sorted(m["repo"] for m in status) == sorted(
        str(repos.root / n) for n in ("dirty", "one", "three", "two")
    )
    assert all(m["exit"] == "0" and m["level"] == "DEBUG" for m in lines)


READ = re.compile(
    r"^\d\d:\d\d:\d\d\.\d{3} DEBUG read repo=(?P<repo>'[^']*'|\S+) reader=libgit2 "
    r"duration_ms=\d+\.\d$"
)


def test_in_process_reads_and_the_workers_gits_are_logged(
    tmp_path: Path, repos: RepoFactory
) -> None:
    """With the in-process reader, each repository is in the log once: read in-process
    by a worker, or by git (a scan's first repositories, and a conflicted repo), and the
    workers' lines are whole."""
    fillers = add_fillers(repos)
    for name in ("one", "two"):
        repos.repo(name, commits=2)
    conflicted = repos.repo("conflicted", commits=1)
    conflicted.git("checkout", "-q", "-b", "side")
    conflicted.commit("file.txt", "side\n")
    conflicted.git("checkout", "-q", "main")
    conflicted.commit("file.txt", "main\n")
    conflicted.git("merge", "-q", "side", check=False)
    calls = tmp_path / "git-calls"
    env = slow_filler_git(tmp_path, calls=calls)
    log = tmp_path / "debug.log"
    proc = run_proc("--no-progress", str(repos.root), env={**env, "GITO_DEBUG_LOG": str(log)})
    assert proc.returncode == 0, proc.stderr
    lines = log.read_text().splitlines()
    reads = [m["repo"] for m in map(READ.match, lines) if m is not None]
    status = [m["repo"] for m in commands(log) if m["cmd"].startswith("git status ")]
    every = [*map(str, fillers), *(str(repos.root / n) for n in ("one", "two", "conflicted"))]
    assert sorted(reads + status) == sorted(every), "each repository once"
    assert {str(repos.root / n) for n in ("one", "two")} <= set(reads)
    assert str(repos.root / "conflicted") in status
    assert all(READ.match(line) or " command " in line for line in lines[1:]), "whole lines"
    assert len(calls.read_text().splitlines()) == len(commands(log)), "every git is logged"


def test_network_work_is_logged_per_repo_and_runs_append(
    tmp_path: Path, repos: RepoFactory
) -> None:
    _, clone = repos.remote_and_clone("app")
    log = tmp_path / "debug.log"
    for _ in range(2):
        proc = run_proc("--no-progress", "-f", str(repos.root), env={"GITO_DEBUG_LOG": str(log)})
        assert proc.returncode == 0, proc.stderr
    text = log.read_text()
    assert len([line for line in text.splitlines() if START.match(line)]) == 2
    fetches = [m for m in commands(log) if m["cmd"].startswith("git fetch")]
    assert len(fetches) == 2 and all(m["repo"] == str(clone.path) for m in fetches)


def test_log_level_keeps_lower_lines_out(tmp_path: Path, repos: RepoFactory) -> None:
    repos.repo("r")
    log = tmp_path / "debug.log"
    env = {"GITOVERIT_DEBUG_LOG": str(log), "GITO_LOG_LEVEL": "warning"}
    assert run_proc("--no-progress", str(repos.root), env=env).returncode == 0
    assert log.read_text() == ""


def test_gitob_and_freeze_log_their_git_commands(
    tmp_path: Path,
    repos: RepoFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo = repos.repo("r")
    log = tmp_path / "debug.log"
    config_path().parent.mkdir(parents=True)
    config_path().write_text(f'log_file = "{log}"\n')
    assert branches_main([str(repo.path)]) == 0
    assert any(m["cmd"].startswith("git for-each-ref") for m in commands(log))
    assert process._LOG is not None
    assert main(["freeze", str(repos.root)]) == 0
    assert any(m["repo"] == str(repo.path) for m in commands(log)[1:])
    capsys.readouterr()


def test_a_log_file_that_cannot_be_opened_exits_2_before_any_work(
    tmp_path: Path, repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repos.repo("r")
    env, calls = recording_git(tmp_path)
    bad = tmp_path / "missing" / "debug.log"
    proc = run_proc("--no-progress", str(repos.root), env={**env, "GITO_DEBUG_LOG": str(bad)})
    assert proc.returncode == 2 and proc.stdout == ""
    assert f"GITO_DEBUG_LOG: cannot open {bad} for appending: No such file" in proc.stderr
    assert not calls.exists(), "nothing ran"

    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text(f"jobs = 2\nlog_file = '{tmp_path}'\n")
    code = main(["--no-progress", str(repos.root)])
    _, err = capsys.readouterr()
    assert code == 2 and f"{path}:2: log_file: cannot open {tmp_path} for appending" in err


def test_no_log_without_a_setting(repos: RepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    repos.repo("r")
    assert main(["--no-progress", str(repos.root)]) == 0
    assert process._LOG is None
    capsys.readouterr()


def test_gitob_and_freeze_refuse_a_bad_config_file(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = repos.repo("r")
    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text('log_level = "chatty"\n')
    assert branches_main([str(repo.path)]) == 2
    assert f"{path}:1: log_level: must be one of" in capsys.readouterr().err
    assert main(["freeze", str(repos.root)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and f"{path}:1: log_level:" in err
