"""``gitoverit sync`` and ``gitoverit freeze`` against real local remotes."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from _servers import http_401_server, silent_tcp_server
from conftest import Repo, RepoFactory
from gitoverit.manifest import load_manifest
from test_actions import json_records, remote_heads, run_cli, snapshot


def toml_manifest(path: Path, entries: list[dict[str, Any]]) -> Path:
    """Write our TOML manifest: one ``[[repo]]`` table per entry."""
    lines: list[str] = []
    for entry in entries:
        lines.append("[[repo]]")
        remotes = entry.pop("remotes", None)
        for key, value in entry.items():
            lines.append(f"{key} = {json.dumps(str(value))}")
        if remotes:
            lines.append("[repo.remotes]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in remotes.items()]
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def test_sync_clones_updates_and_skips_with_reasons(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    root = repos.root
    fresh_remote, _seed = repos.remote_and_clone("fresh-seed")
    _seed.git("push", "-q", "origin", "HEAD:refs/heads/dev")
    upstream_url = repos.aux.joinpath("upstream.git").as_uri()

    r_behind, behind = repos.remote_and_clone("behind")
    repos.push_from_other(r_behind, 2)
    r_dirty, dirty = repos.remote_and_clone("dirty")
    repos.push_from_other(r_dirty, 1)
    dirty.write("file.txt", "uncommitted\n")
    r_div, diverged = repos.remote_and_clone("diverged")
    diverged.commit("mine.txt")
    repos.push_from_other(r_div, 1)
    r_same, same = repos.remote_and_clone("same")
    r_stash, stashed = repos.remote_and_clone("stashed")
    stashed.write("file.txt", "stash me\n")
    stashed.git("stash", "-q")
    repos.push_from_other(r_stash, 1)

    plain = root / "plain-folder"
    plain.mkdir()
    (plain / "notes.txt").write_text("not a repo\n")
    empty = root / "empty-folder"
    empty.mkdir()

    kept = {name: snapshot(r) for name, r in {"dirty": dirty, "diverged": diverged}.items()}
    kept["stashed"] = snapshot(stashed)
    remote_before = remote_heads(r_div)

    manifest = toml_manifest(
        tmp_path / "manifest.toml",
        [
            {
                "path": root / "fresh",
                "url": fresh_remote.path.as_uri(),
                "branch": "dev",
                "remotes": {"upstream": upstream_url},
            },
            {"path": empty, "url": fresh_remote.path.as_uri()},
            {"path": behind.path, "url": r_behind.path.as_uri()},
            {"path": dirty.path, "url": r_dirty.path.as_uri()},
            {"path": diverged.path, "url": r_div.path.as_uri()},
            {"path": same.path, "url": r_same.path.as_uri()},
            {"path": stashed.path, "url": r_stash.path.as_uri()},
            {"path": plain, "url": fresh_remote.path.as_uri()},
            {"path": root / "broken", "url": (repos.aux / "no-such-remote.git").as_uri()},
        ],
    )

    code, out, err = run_cli(capsys, "sync", "-m", str(manifest), "-o", "json", "--no-progress")

    recs = json_records(out)
    assert code == 1, "the bad URL is a failure"
    outcomes = {name: rec["outcome"] for name, rec in recs.items()}
    assert outcomes == {
        "fresh": "cloned",
        "empty-folder": "cloned",
        "behind": "updated",
        "dirty": "skipped",
        "diverged": "skipped",
        "same": "unchanged",
        "stashed": "updated",
        "plain-folder": "skipped",
        "broken": "failed",
    }

    fresh = Repo(root / "fresh")
    assert fresh.git("rev-parse", "--abbrev-ref", "HEAD") == "dev"
    assert fresh.git("remote", "get-url", "upstream") == upstream_url
    assert recs["fresh"]["action"] == "clone" and recs["fresh"]["head_after"] == fresh.head
    assert Repo(empty).head == fresh_remote.git("rev-parse", "main")

    assert behind.head == r_behind.git("rev-parse", "main") == recs["behind"]["head_after"]
    assert recs["behind"]["pulled"] is True and recs["behind"]["action"] == "sync"
    assert recs["behind"]["behind"] == 0

    assert recs["dirty"]["note"] == "uncommitted changes"
    assert recs["diverged"]["note"] == "diverged"
    assert recs["same"]["note"] == "up to date"
    assert recs["plain-folder"]["note"] == "exists and is not a git repository"
    assert (plain / "notes.txt").read_text() == "not a repo\n"
    assert sorted(p.name for p in plain.iterdir()) == ["notes.txt"]
    assert recs["broken"]["error"]["reason"] == "git_error"
    assert not (root / "broken").exists()

    # Never rebases, stashes or merges: what it skipped is byte-identical, the remote
    # untouched. A stash alone does not block the fast-forward, and is kept.
    assert snapshot(dirty) == kept["dirty"]
    assert snapshot(diverged) == kept["diverged"]
    assert remote_heads(r_div) == remote_before
    assert stashed.git("stash", "list").count("stash@") == 1
    assert (stashed.path / "file.txt").read_text() != "stash me\n"
    assert "9 repos" in err.splitlines()[-1]


def test_sync_patterns_select_repos(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    remote, _ = repos.remote_and_clone("seed")
    entries = [
        {"path": repos.root / name, "url": remote.path.as_uri()}
        for name in ("api-one", "api-two", "web")
    ]
    manifest = toml_manifest(tmp_path / "m.toml", entries)
    code, out, _ = run_cli(capsys, "sync", "-m", str(manifest), "-o", "json", "api-*")
    assert code == 0
    assert sorted(json_records(out)) == ["api-one", "api-two"]
    assert (repos.root / "api-one/.git").is_dir() and (repos.root / "api-two/.git").is_dir()
    assert not (repos.root / "web").exists()

    code, _, err = run_cli(capsys, "sync", "-m", str(manifest), "nothing-matches")
    assert code == 2 and "no manifest entry matches" in err


def test_sync_reads_a_vcspull_yaml_manifest_unchanged(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    remote, behind = repos.remote_and_clone("behind")
    repos.push_from_other(remote, 1)
    other_remote, _ = repos.remote_and_clone("other-seed")
    workspace = repos.root
    yaml = tmp_path / ".vcspull.yaml"
    yaml.write_text(
        f"{workspace}/:\n"
        f'  behind: "git+{remote.path.as_uri()}"\n'
        f"  cloned:\n"
        f'    repo: "git+{other_remote.path.as_uri()}"\n'
        f"    remotes:\n"
        f'      mirror: "git+{remote.path.as_uri()}"\n'
        f"    shell_command_after: touch made\n"
    )
    code, out, _ = run_cli(capsys, "sync", "-m", str(yaml), "-o", "json")
    recs = json_records(out)
    assert code == 0
    assert recs["behind"]["outcome"] == "updated" and behind.head == remote.git("rev-parse", "main")
    assert recs["cloned"]["outcome"] == "cloned"
    cloned = Repo(workspace / "cloned")
    assert cloned.git("remote", "get-url", "origin") == other_remote.path.as_uri()
    assert cloned.git("remote", "get-url", "mirror") == remote.path.as_uri()
    assert (workspace / "cloned" / "made").exists()


def test_freeze_writes_a_manifest_that_loads_back_and_syncs_to_nothing(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    remotes = {}
    for name in ("alpha", "beta"):
        remote, _ = repos.remote_and_clone(name)
        remotes[name] = remote.path.as_uri()
    repos.repo("no-remote")

    code, out, err = run_cli(capsys, "freeze", str(repos.root))
    assert code == 0
    assert "2 repos written; left out: " in err and "no-remote (no remote)" in err
    frozen = tmp_path / "frozen.toml"
    frozen.write_text(out)
    entries = load_manifest(frozen)
    assert {e.name: e.url for e in entries} == remotes
    assert {Path(e.path) for e in entries} == {repos.root / "alpha", repos.root / "beta"}

    target = tmp_path / "written.toml"
    code, out, _ = run_cli(capsys, "freeze", "-O", str(target), str(repos.root))
    assert code == 0 and out == ""
    assert load_manifest(target) == entries

    # Recreate both repos elsewhere from the frozen manifest's URLs.
    for name in remotes:
        shutil.rmtree(repos.root / name)
    code, out, _ = run_cli(capsys, "sync", "-m", str(frozen), "-o", "json")
    assert code == 0
    assert {n: r["outcome"] for n, r in json_records(out).items()} == {
        "alpha": "cloned",
        "beta": "cloned",
    }
    code, out, _ = run_cli(capsys, "sync", "-m", str(frozen), "-o", "json")
    assert {n: r["outcome"] for n, r in json_records(out).items()} == {
        "alpha": "unchanged",
        "beta": "unchanged",
    }


def test_missing_or_invalid_manifest_is_a_usage_error_before_any_work(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    remote, _ = repos.remote_and_clone("seed")
    code, out, err = run_cli(capsys, "sync", "-m", str(tmp_path / "absent.toml"))
    assert code == 2 and out == "" and "manifest not found" in err

    bad = toml_manifest(
        tmp_path / "bad.toml",
        [
            {"path": repos.root / "would-clone", "url": remote.path.as_uri()},
            {"path": repos.root / "typo", "url": remote.path.as_uri(), "brnach": "main"},
        ],
    )
    code, out, err = run_cli(capsys, "sync", "-m", str(bad), "-o", "json")
    assert code == 2 and out == ""
    assert "bad.toml" in err
    assert not (repos.root / "would-clone").exists(), "nothing was cloned"

    broken = tmp_path / "broken.toml"
    broken.write_text("[[repo]\npath = 'x'\n")
    code, out, err = run_cli(capsys, "sync", "-m", str(broken))
    assert code == 2 and out == "" and "broken.toml" in err


def test_a_clone_that_times_out_or_needs_auth_leaves_no_partial_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with silent_tcp_server() as silent, http_401_server() as private:
        manifest = toml_manifest(
            tmp_path / "m.toml",
            [
                {"path": tmp_path / "hung", "url": f"{silent.url}/hung.git"},
                {"path": tmp_path / "private", "url": f"{private.url}/private.git"},
            ],
        )
        start = time.monotonic()
        code, out, _ = run_cli(capsys, "sync", "-m", str(manifest), "--timeout", "1", "-o", "json")
        elapsed = time.monotonic() - start
    recs = json_records(out)
    assert code == 1
    assert recs["hung"]["error"]["reason"] == "timeout" and recs["hung"]["action"] == "clone"
    assert recs["private"]["error"]["reason"] == "auth"
    assert elapsed < 2.0
    # Nothing half-cloned is left to be mistaken for a repository on the next run.
    assert not (tmp_path / "hung").exists() and not (tmp_path / "private").exists()
