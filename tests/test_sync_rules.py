"""Which repos ``gitoverit sync`` clones, updates or leaves alone, and when it runs a
``shell_command_after``: a repo inside one that is not there waits for nothing and is
skipped; a file or a non-empty folder is never cloned over; the command runs after a clone
or an update only, never in a dry run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from conftest import RepoFactory
from test_actions import json_records, run_cli
from test_sync import toml_manifest


def _sync(
    capsys: pytest.CaptureFixture[str], manifest: Path, *args: str
) -> tuple[int, dict[str, dict[str, Any]]]:
    code, out, _err = run_cli(
        capsys, "sync", "-m", str(manifest), "-o", "json", "--no-progress", *args
    )
    return code, json_records(out)


def test_a_repo_inside_one_that_could_not_be_cloned_is_skipped(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    remote, _seed = repos.remote_and_clone("seed")
    app = repos.root / "app"
    lib = app / "vendor" / "lib"
    manifest = toml_manifest(
        tmp_path / "m.toml",
        [
            {"path": app, "url": (repos.aux / "no-such-remote.git").as_uri()},
            {"path": lib, "url": remote.path.as_uri()},
        ],
    )
    code, recs = _sync(capsys, manifest, "--dry-run")
    assert code == 0
    assert recs["app"]["outcome"] == "would clone"
    assert recs["lib"]["outcome"] == "would clone"

    code, recs = _sync(capsys, manifest)
    assert code == 1
    assert recs["app"]["error"] is not None
    assert recs["lib"]["outcome"] == "skipped"
    assert recs["lib"]["note"] == f"{app} is not there"
    assert not lib.exists()


def test_a_repo_inside_one_that_is_there_is_cloned(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    remote, app = repos.remote_and_clone("app")
    lib = app.path / "vendor" / "lib"
    manifest = toml_manifest(
        tmp_path / "m.toml",
        [
            {"path": app.path, "url": remote.path.as_uri()},
            {"path": lib, "url": remote.path.as_uri()},
        ],
    )
    code, recs = _sync(capsys, manifest)
    assert code == 0
    assert recs["lib"]["outcome"] == "cloned"
    assert (lib / ".git").is_dir()


def test_a_file_where_a_repo_should_be_is_left_alone(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    remote, _seed = repos.remote_and_clone("seed")
    occupied = repos.root / "occupied"
    occupied.write_text("mine\n")
    manifest = toml_manifest(tmp_path / "m.toml", [{"path": occupied, "url": remote.path.as_uri()}])
    code, recs = _sync(capsys, manifest)
    assert code == 0
    assert recs["occupied"]["outcome"] == "skipped"
    assert recs["occupied"]["note"] == "exists and is not a git repository"
    assert occupied.read_text() == "mine\n"


def test_shell_command_after_runs_after_a_clone_or_an_update_only(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    remote, _seed = repos.remote_and_clone("seed")
    r_behind, behind = repos.remote_and_clone("behind")
    repos.push_from_other(r_behind, 1)
    r_same, same = repos.remote_and_clone("same")
    r_dirty, dirty = repos.remote_and_clone("dirty")
    repos.push_from_other(r_dirty, 1)
    dirty.write("file.txt", "uncommitted\n")
    fresh = repos.root / "fresh"
    hook = "touch hook-ran"
    entries = [
        {"path": fresh, "url": remote.path.as_uri(), "shell_command_after": hook},
        {"path": behind.path, "url": r_behind.path.as_uri(), "shell_command_after": hook},
        {"path": same.path, "url": r_same.path.as_uri(), "shell_command_after": hook},
        {"path": dirty.path, "url": r_dirty.path.as_uri(), "shell_command_after": hook},
    ]
    manifest = toml_manifest(tmp_path / "m.toml", [dict(e) for e in entries])

    code, recs = _sync(capsys, manifest, "--dry-run")
    assert code == 0
    assert recs.pop("seed")["outcome"] == "not in manifest"
    assert {n: r["outcome"] for n, r in recs.items()} == {
        "fresh": "would clone",
        "behind": "would update",
        "same": "would update",
        "dirty": "skipped",
    }
    assert not fresh.exists()
    for repo in (behind, same, dirty):
        assert not (repo.path / "hook-ran").exists()

    code, recs = _sync(capsys, manifest)
    assert code == 0
    assert {n: r["outcome"] for n, r in recs.items()} == {
        "fresh": "cloned",
        "behind": "updated",
        "same": "unchanged",
        "dirty": "skipped",
    }
    assert (fresh / "hook-ran").exists()
    assert (behind.path / "hook-ran").exists()
    assert not (same.path / "hook-ran").exists()
    assert not (dirty.path / "hook-ran").exists()


def test_a_repo_not_in_the_manifest_is_named_in_a_dry_run_as_a_sync(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    remote, listed = repos.remote_and_clone("listed")
    repos.repo("stray")
    manifest = toml_manifest(
        tmp_path / "m.toml", [{"path": listed.path, "url": remote.path.as_uri()}]
    )
    code, recs = _sync(capsys, manifest, "--dry-run")
    assert code == 0
    assert recs["stray"]["outcome"] == "not in manifest"
    assert recs["stray"]["action"] == "sync"
    assert sorted(os.listdir(repos.root)) == ["listed", "stray"]


def test_a_repo_inside_a_plain_folder_that_should_be_a_repo_is_skipped(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    remote, _seed = repos.remote_and_clone("seed")
    app = repos.root / "app"
    (app / "vendor").mkdir(parents=True)
    (app / "notes.txt").write_text("not a repo\n")
    lib = app / "vendor" / "lib"
    manifest = toml_manifest(
        tmp_path / "m.toml",
        [
            {"path": app, "url": remote.path.as_uri()},
            {"path": lib, "url": remote.path.as_uri()},
        ],
    )
    code, recs = _sync(capsys, manifest)
    assert code == 0
    assert recs["app"]["outcome"] == "skipped"
    assert recs["app"]["note"] == "exists and is not a git repository"
    assert recs["lib"]["outcome"] == "skipped"
    assert recs["lib"]["note"] == f"{app} is not there"
    assert not lib.exists()
