"""``ops.fetch`` fetches every remote on its own and names the failure that decides
whether the repository was fetched; ``ops.merge_ff`` only fast-forwards, never stashes,
and stops at its time limit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import Repo, RepoFactory
from gitoverit.errors import CommandError
from gitoverit.git import ops
from gitoverit.model import RepoRef


def _ref(path: Path) -> RepoRef:
    return RepoRef(str(path), str(path / ".git"), path.name)


def _dead(repos: RepoFactory, name: str) -> str:
    return (repos.aux / f"{name}-gone.git").as_uri()


def test_a_repo_without_remotes_fetches_nothing_and_fails_nothing(repos: RepoFactory) -> None:
    repo = repos.repo("alone")
    report = ops.fetch(_ref(repo.path), timeout=30)
    assert report == ops.FetchReport((), (), None)


def test_without_upstream_one_dead_remote_of_two_is_not_decisive(repos: RepoFactory) -> None:
    _remote, clone = repos.remote_and_clone("r")
    clone.git("checkout", "-q", "-b", "local-only")
    clone.git("remote", "add", "zdead", _dead(repos, "z"))
    report = ops.fetch(_ref(clone.path), timeout=30)
    assert report.remotes == ("origin", "zdead")
    assert [name for name, _ in report.failed] == ["zdead"]
    assert report.decisive is None


def test_without_upstream_every_remote_dead_makes_the_first_failure_decisive(
    repos: RepoFactory,
) -> None:
    repo = repos.repo("r")
    repo.git("remote", "add", "adead", _dead(repos, "a"))
    repo.git("remote", "add", "bdead", _dead(repos, "b"))
    report = ops.fetch(_ref(repo.path), timeout=30)
    assert [name for name, _ in report.failed] == ["adead", "bdead"]
    assert report.decisive is report.failed[0][1]
    assert "a-gone" in str(report.decisive) or "a-gone" in report.decisive.stderr_text


def test_the_upstream_remote_decides(repos: RepoFactory) -> None:
    remote, clone = repos.remote_and_clone("r")
    repos.push_from_other(remote, 1)
    clone.git("remote", "add", "other", _dead(repos, "o"))
    report = ops.fetch(_ref(clone.path), timeout=30)
    assert [name for name, _ in report.failed] == ["other"]
    assert report.decisive is None
    assert clone.git("rev-parse", "origin/main") == remote.git("rev-parse", "main")
    # Now the upstream's own remote is the dead one.
    clone.git("remote", "set-url", "origin", _dead(repos, "origin"))
    clone.git("remote", "set-url", "other", remote.path.as_uri())
    report = ops.fetch(_ref(clone.path), timeout=30)
    assert [name for name, _ in report.failed] == ["origin"]
    assert report.decisive is report.failed[0][1]


def test_fetch_reports_progress_when_asked(repos: RepoFactory) -> None:
    remote, clone = repos.remote_and_clone("r")
    repos.push_from_other(remote, 2)
    lines: list[str] = []
    report = ops.fetch(_ref(clone.path), timeout=30, on_progress=lines.append)
    assert report.decisive is None
    assert any("objects" in line for line in lines), lines


def test_merge_ff_never_stashes_even_when_the_repo_asks_for_it(repos: RepoFactory) -> None:
    remote, clone = repos.remote_and_clone("r")
    other = repos.push_from_other(remote, 0)
    other.commit("file.txt", "theirs\n")
    other.git("push", "-q", "origin", "HEAD")
    clone.git("fetch", "-q")
    clone.git("config", "merge.autoStash", "true")
    clone.write("file.txt", "mine, not committed\n")
    head = clone.head
    with pytest.raises(CommandError):
        ops.merge_ff(_ref(clone.path), timeout=30)
    assert clone.head == head
    assert (clone.path / "file.txt").read_text() == "mine, not committed\n"
    assert clone.git("stash", "list") == ""


def test_merge_ff_refuses_a_merge_commit(repos: RepoFactory) -> None:
    remote, clone = repos.remote_and_clone("r")
    repos.push_from_other(remote, 1)
    clone.commit("mine.txt")
    clone.git("fetch", "-q")
    head = clone.head
    with pytest.raises(CommandError):
        ops.merge_ff(_ref(clone.path), timeout=30)
    assert clone.head == head


def test_merge_ff_fast_forwards_to_the_upstream(repos: RepoFactory) -> None:
    remote, clone = repos.remote_and_clone("r")
    repos.push_from_other(remote, 2)
    clone.git("fetch", "-q")
    ops.merge_ff(_ref(clone.path), timeout=30)
    assert clone.head == remote.git("rev-parse", "main")
    assert Repo(clone.path).git("status", "--porcelain") == ""


def test_merge_ff_stops_at_its_time_limit(repos: RepoFactory) -> None:
    remote, clone = repos.remote_and_clone("r")
    repos.push_from_other(remote, 1)
    clone.git("fetch", "-q")
    # A checkout filter of the repo's own config that hangs on the files the merge brings.
    clone.write(".git/info/attributes", "* filter=slow\n")
    clone.git("config", "filter.slow.smudge", "sleep 60")
    started = time.monotonic()
    with pytest.raises(CommandError):
        ops.merge_ff(_ref(clone.path), timeout=1)
    assert time.monotonic() - started < 40


def test_merge_ff_names_the_upstream_whatever_the_repo_config_says(repos: RepoFactory) -> None:
    remote, clone = repos.remote_and_clone("r")
    repos.push_from_other(remote, 1)
    clone.git("fetch", "-q")
    # Without a commit named, git merges the upstream only when this is true.
    clone.git("config", "merge.defaultToUpstream", "false")
    ops.merge_ff(_ref(clone.path), timeout=30)
    assert clone.head == remote.git("rev-parse", "main")


def test_a_remote_whose_name_looks_like_an_option_is_fetched(repos: RepoFactory) -> None:
    remote, clone = repos.remote_and_clone("r")
    repos.push_from_other(remote, 1)
    clone.git("remote", "add", "--", "-x", remote.path.as_uri())
    report = ops.fetch(_ref(clone.path), timeout=30)
    assert report.failed == ()
    assert clone.git("rev-parse", "refs/remotes/-x/main") == remote.git("rev-parse", "main")
