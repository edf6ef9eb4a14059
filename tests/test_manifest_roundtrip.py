"""freeze → sync restores a machine: every repo, branch, remote and worktree."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import Repo, RepoFactory, sh
from gitoverit.manifest import load_manifest
from test_actions import run_cli

CRED_PUSH = "http://alice:s3cret@127.0.0.1:9/app.git"


def bare(repos: RepoFactory, name: str, *, branches: tuple[str, ...] = ()) -> Repo:
    """A bare remote with one commit on main and on each of *branches*."""
    seed = repos.repo(f"seed-{name}", aux=True)
    for branch in branches:
        seed.git("branch", branch)
    remote = repos.aux / "remotes" / f"{name}.git"
    remote.parent.mkdir(parents=True, exist_ok=True)
    sh("git", "clone", "-q", "--bare", seed.path, remote)
    return Repo(remote)


def build_tree(repos: RepoFactory) -> None:
    """app (on dev; a fork remote with its own push URL; a push URL with credentials; a
    worktree on feature), app/vendor/lib nested inside it, super with a submodule."""
    root = repos.root
    app_remote = bare(repos, "app", branches=("dev", "feature"))
    fork = bare(repos, "fork")
    sh("git", "clone", "-q", "-b", "dev", app_remote.path.as_uri(), root / "app")
    app = Repo(root / "app")
    app.git("remote", "add", "fork", fork.path.as_uri())
    app.git("remote", "set-url", "--push", "fork", "file:///nowhere/fork-push.git")
    app.git("remote", "set-url", "--push", "origin", CRED_PUSH)
    app.git("worktree", "add", "-q", str(root / "app-feature"), "feature")
    lib_remote = bare(repos, "lib")
    sh("git", "clone", "-q", lib_remote.path.as_uri(), root / "app" / "vendor" / "lib")
    sub_remote = bare(repos, "sub")
    super_remote = bare(repos, "super")
    sh("git", "clone", "-q", super_remote.path.as_uri(), root / "super")
    sup = Repo(root / "super")
    sup.git("submodule", "add", "-q", sub_remote.path.as_uri(), "sub")
    sup.git("commit", "-qm", "add sub")
    sup.git("push", "-q", "origin", "main")


def remotes_of(repo: Path) -> dict[str, tuple[str, str]]:
    names = sh("git", "remote", cwd=repo).split()
    return {
        n: (
            sh("git", "remote", "get-url", n, cwd=repo),
            sh("git", "remote", "get-url", "--push", n, cwd=repo),
        )
        for n in names
    }


def picture(root: Path) -> dict[str, Any]:
    """What a restore must bring back, per repo: branch and remotes; and the worktrees."""
    out: dict[str, Any] = {}
    for rel in ("app", "app/vendor/lib", "super", "app-feature"):
        path = root / rel
        out[rel] = (sh("git", "branch", "--show-current", cwd=path), remotes_of(path))
    out["worktrees"] = sh("git", "worktree", "list", "--porcelain", cwd=root / "app").count(
        "worktree "
    )
    return out


@pytest.mark.parametrize("fmt", ["toml", "vcspull"])
def test_freeze_then_sync_restores_every_repo_branch_remote_and_worktree(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path, fmt: str
) -> None:
    root = repos.root
    build_tree(repos)
    before = picture(root)
    manifest = tmp_path / ("m.toml" if fmt == "toml" else "m.yaml")

    code, out, err = run_cli(capsys, "freeze", "--format", fmt, "-O", str(manifest), str(root))
    assert code == 0 and out == ""
    text = manifest.read_text()
    assert "s3cret" not in text and "alice" not in text
    assert "http://127.0.0.1:9/app.git" in text
    assert "credentials removed" in err and "app" in err.split("credentials removed")[0]
    assert "3 repos written" in err and "submodule of" in err
    entries = {Path(e.path).name: e for e in load_manifest(manifest)}
    assert set(entries) == {"app", "lib", "super"}
    assert [w.path for w in entries["app"].worktrees] == [str(root / "app-feature")]

    shutil.move(root, tmp_path / "old")
    code, out, err = run_cli(
        capsys, "sync", "-m", str(manifest), "--recurse-submodules", "-o", "json"
    )
    assert code == 0, err
    outcomes = {Path(r["path"]).name: r["outcome"] for r in json.loads(out)}
    assert outcomes == {
        "app": "cloned",
        "lib": "cloned",
        "super": "cloned",
        "app-feature": "cloned",
    }
    after = picture(root)
    # The credential is gone from the push URL, which stays usable.
    before["app"][1]["origin"] = (before["app"][1]["origin"][0], "http://127.0.0.1:9/app.git")
    before["app-feature"] = (before["app-feature"][0], before["app"][1])
    assert after == before
    assert (root / "super" / "sub" / "file.txt").exists()

    code, out, err = run_cli(capsys, "sync", "-m", str(manifest), "-o", "json")
    assert code == 0, err
    records = json.loads(out)
    assert {r["outcome"] for r in records} == {"unchanged"}, records
    assert len(records) == 4


def test_freeze_refuses_to_overwrite_without_force(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    repos.remote_and_clone("a")
    target = tmp_path / "m.toml"
    target.write_text("# mine\n")
    code, _, err = run_cli(capsys, "freeze", "-O", str(target), str(repos.root))
    assert code == 2 and "exists" in err and "--force" in err
    assert target.read_text() == "# mine\n"
    code, _, err = run_cli(capsys, "freeze", "-O", str(target), "--force", str(repos.root))
    assert code == 0 and "[[repo]]" in target.read_text()
    assert err.strip().splitlines()[-1] == "1 repo written"
    code, _, err = run_cli(capsys, "freeze", "-O", str(tmp_path / "no" / "m.toml"), str(repos.root))
    assert code == 2 and err.count("cannot write") == 1


@pytest.mark.parametrize("name", ["m.toml", "m.yaml"])
def test_freeze_update_adds_new_repos_and_keeps_entries_order_and_comments(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path, name: str
) -> None:
    remote_a, a = repos.remote_and_clone("a")
    manifest = tmp_path / name
    if name.endswith(".toml"):
        text = (
            "# my machine\n[[repo]]\n# the first one\n"
            f'path = "{a.path}"\nurl = "{remote_a.path.as_uri()}"\n'
            '\n[[repo]]\npath = "/elsewhere/z"\nurl = "https://example.com/z.git"\n'
        )
    else:
        text = (
            "# my machine\n/elsewhere/:\n  z: git+https://example.com/z.git  # keep me\n"
            f"{repos.root}/:\n  a: git+{remote_a.path.as_uri()}\n"
        )
    manifest.write_text(text)
    repos.remote_and_clone("b")
    code, _, err = run_cli(capsys, "freeze", "--update", str(manifest), str(repos.root))
    assert code == 0, err
    assert "1 repo added" in err
    new = manifest.read_text()
    assert new.startswith(text)
    assert [Path(e.path).name for e in load_manifest(manifest)] == (
        ["a", "z", "b"] if name.endswith(".toml") else ["z", "a", "b"]
    )
    code, _, err = run_cli(capsys, "add", "-m", str(manifest), str(repos.root))
    assert code == 0 and "0 repos added" in err
    assert manifest.read_text() == new
