"""A scan runs no command that a repository's own config names (README, "Safety").

Each trap is a command in a repository's own configuration that leaves a marker file
when it runs. Each test checks that a scan never runs it, and that plain ``git status``
on the same repository does: so the trap is real, and the test can fail.
"""

from __future__ import annotations

import json
import os
import shlex
import time
from pathlib import Path
from typing import Any

import pytest

from _tty import run_on_terminal
from conftest import Repo, RepoFactory, sh
from gitoverit.cli import branches_main, main
from gitoverit.git.gitconfig import read_config
from gitoverit.git.metadata import metadata_via_status
from gitoverit.git.status import read_status
from gitoverit.model import RepoRef


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    code = main(["-o", "json", "--no-progress", *args])
    out, _err = capsys.readouterr()
    assert code == 0, out
    records: list[dict[str, Any]] = json.loads(out)
    return records


def record_of(records: list[dict[str, Any]], path: Path) -> dict[str, Any]:
    (rec,) = [r for r in records if os.path.realpath(r["path"]) == os.path.realpath(path)]
    return rec


def ref_of(repo: Repo | Path) -> RepoRef:
    path = repo.path if isinstance(repo, Repo) else repo
    git_dir = sh("git", "rev-parse", "--absolute-git-dir", cwd=path)
    return RepoRef(path=str(path), git_dir=git_dir, display_path=str(path))


def stat_dirty(path: Path) -> None:
    """Change *path*'s stat data and nothing else: git must compare its content."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 7_000_000_000))


def marker_command(marker: Path, then: str = "cat") -> str:
    return f"sh -c {shlex.quote(f'touch {shlex.quote(str(marker))}; {then}')}"


def tracked_dat(repo: Repo, content: str = "hello\n") -> Path:
    """A committed ``a.dat`` under the attribute ``filter=evil``, made before the repo
    defines the driver (so its blob is the file as it is)."""
    repo.write(".gitattributes", "*.dat filter=evil\n")
    repo.write("a.dat", content)
    repo.git("add", ".gitattributes", "a.dat")
    repo.git("commit", "-q", "-m", "attributes")
    return repo.path / "a.dat"


def plain_git_status(path: Path) -> None:
    sh("git", "status", "--porcelain", cwd=path, check=False)


@pytest.mark.parametrize("key", ["clean", "process"])
def test_plain_repo_filter_never_runs(
    repos: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    marker = tmp_path / f"ran-{key}"
    r = repos.repo("trap", commits=1)
    txt = tracked_dat(r)
    r.git("config", f"filter.evil.{key}", marker_command(marker))
    r.git("config", "filter.evil.required", "true")
    stat_dirty(txt)
    (rec,) = scan(capsys, str(repos.root))
    assert not marker.exists()
    assert rec["error"] is None and rec["modified"] == 0
    assert rec["untrusted_config"] == []
    # The thread-pool reader (after -f, or without the engine) keeps it off too.
    assert read_status(ref_of(r)).modified == 0
    assert not marker.exists()
    plain_git_status(r.path)
    assert marker.exists()


@pytest.mark.parametrize("key", ["clean", "process"])
def test_linked_worktree_filter_never_runs(
    repos: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    marker = tmp_path / "ran-wt"
    main_repo = repos.repo("main", commits=1)
    tracked_dat(main_repo)
    wt = repos.root / "wt"
    main_repo.git("worktree", "add", "-q", str(wt))
    (wt / ".gitattributes").write_text("*.dat filter=evil\n*.md filter=other\n")
    (wt / "b.md").write_text("b\n")
    sh("git", "add", ".gitattributes", "b.md", cwd=wt)
    sh("git", "commit", "-q", "-m", "md", cwd=wt)
    # One driver in the shared config, one in the worktree's own config.worktree.
    main_repo.git("config", f"filter.evil.{key}", marker_command(marker))
    main_repo.git("config", "extensions.worktreeConfig", "true")
    sh("git", "config", "--worktree", f"filter.other.{key}", marker_command(marker), cwd=wt)
    stat_dirty(wt / "a.dat")
    stat_dirty(wt / "b.md")
    stat_dirty(main_repo.path / "a.dat")
    records = scan(capsys, str(repos.root))
    assert len(records) == 2
    assert not marker.exists()
    assert record_of(records, wt)["modified"] == 0
    plain_git_status(wt)
    assert marker.exists()


@pytest.mark.parametrize("key", ["clean", "process"])
def test_submodule_filter_never_runs(
    repos: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    marker = tmp_path / "ran-sub"
    lib = repos.repo("lib", commits=1, aux=True)
    tracked_dat(lib)
    sup = repos.repo("super", commits=1)
    sup.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib.path), "lib")
    sup.git("commit", "-q", "-m", "sub")
    sub = sup.path / "lib"
    sh("git", "config", f"filter.evil.{key}", marker_command(marker), cwd=sub)
    stat_dirty(sub / "a.dat")
    records = scan(capsys, str(repos.root))
    assert {os.path.basename(r["path"]) for r in records} == {"super", "lib"}
    assert record_of(records, sub)["modified"] == 0
    # The superproject alone: its status starts no nested status in the submodule.
    (rec,) = scan(capsys, "--exclude", "lib", str(repos.root))
    assert rec["modified"] == 0
    assert not marker.exists()
    sh("git", "status", "--porcelain", "--ignore-submodules=none", cwd=sup.path)
    assert marker.exists()


@pytest.mark.parametrize("how", ["include", "includeIf"])
def test_filter_from_an_included_file_never_runs(
    repos: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    marker = tmp_path / "ran-include"
    r = repos.repo("inc", commits=1)
    txt = tracked_dat(r)
    extra = tmp_path / "extra.cfg"
    sh("git", "config", "-f", extra, "filter.evil.clean", marker_command(marker))
    if how == "include":
        r.git("config", "include.path", str(extra))
    else:
        r.git("config", f"includeIf.gitdir:{r.path}/.path", str(extra))
    stat_dirty(txt)
    (rec,) = scan(capsys, str(repos.root))
    assert not marker.exists()
    assert rec["modified"] == 0
    plain_git_status(r.path)
    assert marker.exists()


def test_metadata_only_and_gitob_run_no_filter(
    repos: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "ran-meta"
    r = repos.repo("meta", commits=1)
    txt = tracked_dat(r)
    r.git("config", "filter.evil.clean", marker_command(marker))
    stat_dirty(txt)
    (rec,) = scan(capsys, "--metadata-only", str(repos.root))
    assert rec["error"] is None and rec["modified"] is None
    assert branches_main([str(r.path)]) == 0
    capsys.readouterr()
    # The metadata reader's fallback asks git status for the branch headers.
    ref = ref_of(r)
    assert metadata_via_status(ref, read_config(ref.git_dir), 30.0).branch == "main"
    assert not marker.exists()
    plain_git_status(r.path)
    assert marker.exists()


def test_hooks_never_run(
    repos: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "ran-hook"
    r = repos.repo("hooked", commits=2)
    # An index written well after its files changed, as in any repository in use: the
    # status engine gives git a copy of it to refresh, and git writes that copy.
    old = time.time() - 3600
    for name in ("file.txt", "file1.txt"):
        os.utime(r.path / name, (old, old))
    r.git("update-index", "-q", "--refresh")
    later = time.time() + 2
    os.utime(r.path / ".git" / "index", (later, later))
    hooks = r.path / ".git" / "myhooks"
    hooks.mkdir()
    hook = hooks / "post-index-change"
    hook.write_text(f"#!/bin/sh\ntouch '{marker}'\n")
    hook.chmod(0o755)
    r.git("config", "core.hooksPath", str(hooks))
    stat_dirty(r.path / "file.txt")
    (rec,) = scan(capsys, str(repos.root))
    assert rec["modified"] == 0
    assert not marker.exists()
    # git runs the hook when it writes the refreshed index.
    sh("git", "status", "--porcelain", cwd=r.path)
    assert marker.exists()


def test_a_global_filter_runs_and_keeps_the_status_true(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    sh("git", "config", "--global", "filter.up.clean", "tr a-z A-Z")
    sh("git", "config", "--global", "filter.up.smudge", "cat")
    r = repos.repo("lfs-like", commits=1)
    r.write(".gitattributes", "*.dat filter=up\n")
    txt = r.write("a.dat", "hello\n")
    r.git("add", ".")
    r.git("commit", "-q", "-m", "filtered")
    assert r.git("cat-file", "-p", "HEAD:a.dat") == "HELLO"
    stat_dirty(txt)
    # A repository that repeats the user's own driver (git lfs install --local) is
    # trusted: the command is the user's.
    r.git("config", "filter.up.clean", "tr a-z A-Z")
    (rec,) = scan(capsys, str(repos.root))
    assert rec["modified"] == 0 and rec["untrusted_config"] == []
    # Without the filter the file would count as modified: the filter really ran.
    out = r.git("-c", "filter.up.clean=", "status", "--porcelain")
    assert out == "M a.dat"


def _local_upper(repos: RepoFactory, marker: Path) -> tuple[Repo, Path]:
    """A repo whose own driver upper-cases ``*.dat`` (its blob is ``HELLO``) and leaves
    *marker* when it runs; ``a.dat`` (``hello``) is stat-dirty."""
    r = repos.repo("local-up", commits=1)
    r.write(".gitattributes", "*.dat filter=up\n")
    txt = r.write("a.dat", "hello\n")
    r.git("config", "filter.up.clean", "tr a-z A-Z")
    r.git("add", ".")
    r.git("commit", "-q", "-m", "filtered")
    r.git("config", "filter.up.clean", marker_command(marker, "tr a-z A-Z"))
    stat_dirty(txt)
    return r, txt


def test_an_untrusted_filter_makes_the_counts_uncertain(
    repos: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "ran-up"
    r, _txt = _local_upper(repos, marker)
    (rec,) = scan(capsys, str(repos.root))
    assert not marker.exists()
    assert rec["modified"] == 1
    assert rec["untrusted_config"] == ["filter.up"]
    assert read_status(ref_of(r)).untrusted_config == ("filter.up",)
    code, lines = run_on_terminal(
        "--no-progress", "-c", "-,repo,status", str(repos.root), cwd=repos.root, columns=200
    )
    out = "\n".join(lines)
    assert code == 0 and "1m?" in out and "--trust-repo-config" in out


def test_a_size_change_is_a_modification_whatever_the_filter(
    repos: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "ran-up"
    _r, txt = _local_upper(repos, marker)
    txt.write_text("hello, world\n")
    (rec,) = scan(capsys, str(repos.root))
    assert not marker.exists()
    assert rec["modified"] == 1 and rec["untrusted_config"] == []


def test_trust_repo_config_runs_the_local_driver(
    repos: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str], git_env: Path
) -> None:
    marker = tmp_path / "ran-up"
    _local_upper(repos, marker)
    (rec,) = scan(capsys, "--trust-repo-config", str(repos.root))
    assert marker.exists()
    assert rec["modified"] == 0 and rec["untrusted_config"] == []
    # The config key does the same.
    marker.unlink()
    config = git_env / ".config" / "gitoverit" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("trust_repo_config = true\n")
    (rec,) = scan(capsys, str(repos.root))
    assert marker.exists() and rec["modified"] == 0


def test_a_filter_only_in_config_worktree_never_runs(
    repos: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "ran-worktree-config"
    main_repo = repos.repo("main", commits=1)
    tracked_dat(main_repo)
    wt = repos.root / "wt"
    main_repo.git("worktree", "add", "-q", str(wt))
    main_repo.git("config", "extensions.worktreeConfig", "true")
    sh("git", "config", "--worktree", "filter.evil.clean", marker_command(marker), cwd=wt)
    stat_dirty(wt / "a.dat")
    records = scan(capsys, str(repos.root))
    assert record_of(records, wt)["modified"] == 0
    assert not marker.exists()
    plain_git_status(wt)
    assert marker.exists()
