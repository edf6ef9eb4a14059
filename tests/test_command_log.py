"""The command log: every command the runner or the status engine starts is recorded once
when it ends, with its folder, exit code and duration; nothing is recorded, and nothing
kept, while the log is off."""

from __future__ import annotations

import logging
import os
import queue
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import RepoFactory
from gitoverit import process
from gitoverit.discovery import find_repos
from gitoverit.errors import CommandError, CommandTimeoutError
from gitoverit.git import batch
from gitoverit.git.command import git
from gitoverit.model import RepoRecord, RepoRef

LINE = re.compile(
    r"^command repo=(?P<repo>'[^']*'|\S+) exit=(?P<exit>\S+) duration_ms=(?P<ms>\d+\.\d) "
    r"cmd=(?P<cmd>.+)$"
)


class Collect(logging.Handler):
    """Keeps every record it is given."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self) -> list[re.Match[str]]:
        found = [LINE.match(r.getMessage()) for r in self.records]
        assert all(found), [r.getMessage() for r in self.records]
        return [m for m in found if m is not None]


@pytest.fixture
def logged() -> Iterator[Collect]:
    logger = logging.getLogger("test.gitoverit.commands")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    handler = Collect()
    logger.addHandler(handler)
    process.log_commands(logger)
    try:
        yield handler
    finally:
        process.log_commands(None)
        logger.removeHandler(handler)


def engine_records(refs: list[RepoRef], **kw: object) -> list[RepoRecord]:
    q: queue.Queue[object] = queue.Queue()
    end = object()
    for ref in refs:
        q.put(ref)
    q.put(end)
    r, w = os.pipe()
    os.set_blocking(r, False)
    try:
        return list(batch.run_statuses(q, end, r, jobs=2, **kw))  # type: ignore[arg-type]
    finally:
        os.close(r)
        os.close(w)


def test_a_git_command_is_recorded_with_its_repo_exit_and_duration(
    logged: Collect, repos: RepoFactory
) -> None:
    repo = repos.repo("app")
    git("rev-parse", "--git-dir", cwd=repo.path)
    git("rev-parse", "--verify", "--quiet", "no-such-ref", cwd=repo.path, check=False)
    first, second = logged.lines()
    assert first["repo"] == str(repo.path)
    assert first["exit"] == "0"
    assert first["cmd"] == "git rev-parse --git-dir", "without git's -c overrides"
    assert second["exit"] == "1"
    assert second["cmd"].endswith("--verify --quiet no-such-ref")
    assert [r.levelno for r in logged.records] == [logging.DEBUG, logging.DEBUG]


def test_a_timeout_is_a_warning_and_a_command_that_cannot_start_an_error(
    logged: Collect, tmp_path: Path
) -> None:
    with pytest.raises(CommandTimeoutError):
        process.run(["sleep", "30"], timeout=0.2, cwd=tmp_path)
    with pytest.raises(CommandError):
        process.run([str(tmp_path / "no-such-program")], timeout=5)
    timeout, missing = logged.lines()
    assert timeout["exit"] == "timeout" and timeout["cmd"] == "sleep 30"
    assert float(timeout["ms"]) >= 200
    assert missing["exit"] == "not_started" and missing["repo"] == "-"
    assert [r.levelno for r in logged.records] == [logging.WARNING, logging.ERROR]


def test_credentials_and_odd_folders_are_not_written_as_they_are(
    logged: Collect, tmp_path: Path
) -> None:
    folder = tmp_path / "my repos"
    folder.mkdir()
    process.run(["true", "https://me:s3cret@example.com/x.git"], timeout=5, cwd=folder)
    (line,) = logged.lines()
    assert "s3cret" not in line.string
    assert line["repo"] == f"'{folder}'", "a folder with a space is quoted"
    assert line["cmd"] == "true https://***@example.com/x.git"


def test_the_status_engine_records_one_line_per_repo(logged: Collect, repos: RepoFactory) -> None:
    for name in ("a", "b", "c"):
        repos.repo(name)
    refs = list(find_repos([str(repos.root)]))
    logged.records.clear()  # discovery's own commands, if any
    records = engine_records(refs)
    assert all(r.error is None for r in records)
    lines = logged.lines()
    assert sorted(m["repo"] for m in lines) == sorted(ref.path for ref in refs)
    assert all(m["exit"] == "0" and m["cmd"].startswith("git status ") for m in lines)
    assert not process._SPAWNED, "each command is forgotten once recorded"


def test_the_status_engine_records_a_timeout(
    logged: Collect, repos: RepoFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in for a git that hangs, to make the engine give up on it.
    hang = tmp_path / "hanging-git"
    hang.write_text("#!/bin/sh\nexec sleep 30\n")
    hang.chmod(0o755)
    monkeypatch.setattr(batch.command, "GIT", str(hang))
    ref = RepoRef(str(repos.repo("slow").path), "", "slow")
    (record,) = engine_records([ref], timeout=0.3)
    assert record.error is not None
    (line,) = logged.lines()
    assert line["repo"] == ref.path and line["exit"] == "timeout"
    assert logged.records[0].levelno == logging.WARNING


def test_nothing_is_recorded_or_kept_while_the_log_is_off(repos: RepoFactory) -> None:
    assert process._LOG is None
    refs = [RepoRef(str(repos.repo("r").path), "", "r")]
    engine_records(refs)
    git("rev-parse", "--git-dir", cwd=refs[0].path)
    assert not process._SPAWNED


def test_a_pid_forgotten_twice_is_recorded_once(logged: Collect, tmp_path: Path) -> None:
    pid, out_r, err_r = process.spawn(
        ["true"], {b"PATH": os.environ["PATH"].encode()}, "/bin/true", folder=str(tmp_path)
    )
    os.waitpid(pid, 0)
    os.close(out_r)
    os.close(err_r)
    process.forget(pid, 0)
    process.forget(pid, 0)
    (line,) = logged.lines()
    assert line["repo"] == str(tmp_path) and line["exit"] == "0"
