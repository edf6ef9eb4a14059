"""The per-repo task of ``gitoverit sync``, called as the library's API: it pulls and never
pushes, names the action of a failure, reports its events and its time, and stops the run
on a failure when asked."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from conftest import Repo, RepoFactory
from gitoverit.actions import ActionOptions
from gitoverit.errors import RepoFailed
from gitoverit.model import RepoDone, RepoProgress, RepoRef, RepoStarted
from gitoverit.sync import SyncTarget, sync_task
from test_actions import remote_heads


def _ref(path: Path) -> RepoRef:
    return RepoRef(str(path), str(path / ".git"), path.name)


def _target(path: Path, url: str) -> SyncTarget:
    return SyncTarget(ref=_ref(path), url=url)


def test_sync_pulls_but_never_pushes_even_when_the_options_say_push(
    repos: RepoFactory,
) -> None:
    remote, ahead = repos.remote_and_clone("ahead")
    ahead.commit("mine.txt")
    before = remote_heads(remote)
    r_behind, behind = repos.remote_and_clone("behind")
    repos.push_from_other(r_behind, 1)
    targets = {
        str(ahead.path): _target(ahead.path, remote.path.as_uri()),
        str(behind.path): _target(behind.path, r_behind.path.as_uri()),
    }
    # No SyncSettings: the defaults (no dry run, hooks on).
    task = sync_task(targets, ActionOptions(fetch=False, pull=False, push=True, timeout=30))
    done = task(_ref(ahead.path))
    assert remote_heads(remote) == before
    assert done.error is None and done.pushed is not True
    assert done.outcome == "unchanged"
    pulled = task(_ref(behind.path))
    assert pulled.outcome == "updated" and pulled.pulled is True
    assert behind.head == r_behind.git("rev-parse", "main")


def test_events_duration_and_the_action_of_a_failed_clone(repos: RepoFactory) -> None:
    remote, _seed = repos.remote_and_clone("seed")
    fresh = repos.root / "fresh"
    broken = repos.root / "broken"
    targets = {
        str(fresh): _target(fresh, remote.path.as_uri()),
        str(broken): _target(broken, (repos.aux / "no-such-remote.git").as_uri()),
    }
    events: list[Any] = []
    task = sync_task(targets, ActionOptions(timeout=30), sink=events.append)
    started = time.monotonic()
    cloned = task(_ref(fresh))
    failed = task(_ref(broken))
    elapsed = time.monotonic() - started

    assert cloned.outcome == "cloned" and cloned.action == "clone"
    assert Repo(fresh).head == remote.git("rev-parse", "main")
    assert failed.error is not None and failed.action == "clone"
    assert not broken.exists()
    for record in (cloned, failed):
        assert record.duration is not None and 0 < record.duration <= elapsed

    mine = [e for e in events if getattr(e, "ref", None) == _ref(fresh)]
    assert isinstance(mine[0], RepoStarted)
    assert any(isinstance(e, RepoProgress) for e in mine)
    dones = [e for e in events if isinstance(e, RepoDone)]
    assert [d.record for d in dones] == [cloned, failed]
    assert events.index(dones[0]) < events.index(RepoStarted(_ref(broken)))


def test_a_failure_in_an_existing_repo_is_a_sync_failure(repos: RepoFactory) -> None:
    remote, clone = repos.remote_and_clone("r")
    (clone.path / ".git" / "HEAD").write_text("garbage\n")
    task = sync_task({str(clone.path): _target(clone.path, remote.path.as_uri())}, ActionOptions())
    record = task(_ref(clone.path))
    assert record.error is not None
    assert record.action == "sync"


def test_a_failed_clone_into_an_empty_folder_is_a_clone_failure(repos: RepoFactory) -> None:
    empty = repos.root / "empty"
    empty.mkdir()
    task = sync_task(
        {str(empty): _target(empty, (repos.aux / "none.git").as_uri())}, ActionOptions()
    )
    record = task(_ref(empty))
    assert record.error is not None
    assert record.action == "clone"
    assert list(empty.iterdir()) == []


def test_fail_fast_stops_at_the_first_failure(repos: RepoFactory) -> None:
    broken = repos.root / "broken"
    targets = {str(broken): _target(broken, (repos.aux / "none.git").as_uri())}
    task = sync_task(targets, ActionOptions(timeout=30, fail_fast=True))
    with pytest.raises(RepoFailed) as info:
        task(_ref(broken))
    assert info.value.record.action == "clone"
    assert info.value.record.error is not None
