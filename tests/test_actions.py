"""``-f`` / ``-P`` / ``-U`` end to end, against real local remotes.

Remotes are bare repositories reached over ``file://`` URLs. A remote's
``remote.<name>.uploadpack`` can point at a wrapper script that logs each upload-pack
start and end (with timestamps) and may sleep or fail, so tests can count fetches,
measure how many run at once and play a slow or broken server.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from _servers import http_401_server, silent_tcp_server
from conftest import Repo, RepoFactory, sh
from gitoverit.actions import ActionOptions, update_repo
from gitoverit.cli import main
from gitoverit.model import (
    Event,
    Reason,
    RepoDone,
    RepoError,
    RepoProgress,
    RepoRecord,
    RepoRef,
    RepoStarted,
)
from gitoverit.ui.slots import SlotDisplay

# ---------------------------------------------------------------------------- helpers


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``gitoverit ARGS`` in-process; returns (exit code, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def by_name(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Records keyed by the repo folder's name; fails if a repo appears twice."""
    out: dict[str, dict[str, Any]] = {}
    for rec in records:
        name = os.path.basename(rec["path"])
        assert name not in out, f"repo reported twice: {name}"
        out[name] = rec
    return out


def json_records(out: str) -> dict[str, dict[str, Any]]:
    return by_name(json.loads(out))


def unique_marker(prefix: str) -> str:
    """Digits unique to this call, usable as a sleep duration that names its processes."""
    return f"{prefix}{os.getpid()}{time.monotonic_ns() % 10**7:07d}"


def uploadpack_wrapper(
    repo: Repo,
    log: Path,
    *,
    sleep: str = "0",
    fail: bool = False,
    remote: str = "origin",
    ignore_term: bool = False,
) -> Path:
    """Point *repo*'s *remote* at a logging upload-pack wrapper; returns the script.

    The wrapper appends ``start <repo> <time>`` before sleeping *sleep* seconds and
    ``end <repo> <time>`` after, then runs ``git upload-pack`` (or exits 1 with *fail*).
    Both log lines are written while the fetch that started the wrapper is still
    running, so the [start, end] windows never overstate how many fetches overlapped.
    With *ignore_term* the wrapper and its sleep ignore SIGTERM.
    """
    name = repo.path.name
    script = log.parent / f"upload-pack-{name}-{remote}-{unique_marker('')}.sh"
    tail = 'echo "fatal: remote is broken" >&2; exit 1' if fail else 'exec git upload-pack "$@"'
    script.write_text(
        "#!/bin/sh\n"
        + ("trap '' TERM\n" if ignore_term else "")
        + f'echo "start {name} $(date +%s.%N)" >> "{log}"\n'
        + f"sleep {sleep}\n"
        + f'echo "end {name} $(date +%s.%N)" >> "{log}"\n'
        + f"{tail}\n"
    )
    script.chmod(0o755)
    repo.git("config", f"remote.{remote}.uploadpack", str(script))
    return script


def log_starts(log: Path) -> list[str]:
    """Repo names, one per upload-pack invocation, in start order."""
    if not log.exists():
        return []
    return [ln.split()[1] for ln in log.read_text().splitlines() if ln.startswith("start ")]


def max_overlap(log: Path) -> int:
    """The most [start, end] windows in the wrapper log that were open at one moment."""
    points: list[tuple[float, int]] = []
    for ln in log.read_text().splitlines():
        kind, _name, stamp = ln.split()
        points.append((float(stamp), 1 if kind == "start" else -1))
    # At equal times an end sorts first, so touching windows do not count as overlapping.
    points.sort()
    best = cur = 0
    for _, delta in points:
        cur += delta
        best = max(best, cur)
    return best


def _alive(pid: int) -> bool:
    """True while *pid* runs; a zombie (left unreaped when PID 1 does not reap) is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in {"Z", "X"}


def procs_matching(marker: str) -> list[int]:
    """Live processes whose command line contains *marker*."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def wait_no_procs(marker: str, within: float = 2.0) -> list[int]:
    """Poll until no live process matches *marker*; returns those left after *within* s."""
    end = time.monotonic() + within
    while (left := procs_matching(marker)) and time.monotonic() < end:
        time.sleep(0.05)
    return left


def lock_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.lock") if ".git" in p.parts or p.parent.name.endswith(".git")]


def snapshot(repo: Repo) -> dict[str, bytes]:
    """Everything a safe action must not touch: the work tree, index, HEAD, local branches,
    in-progress operation files and the stash. Remote-tracking refs, FETCH_HEAD and
    objects are left out, because a fetch legitimately changes them."""
    snap: dict[str, bytes] = {}
    for p in sorted(repo.path.rglob("*")):
        rel = p.relative_to(repo.path)
        if rel.parts[0] == ".git" or not p.is_file():
            continue
        snap[f"wt/{rel}"] = p.read_bytes()
    git_dir = repo.path / ".git"
    for p in sorted(git_dir.rglob("*")):
        rel = p.relative_to(git_dir)
        top = rel.parts[0]
        if not p.is_file() or top in {"objects", "FETCH_HEAD", "logs", "hooks"}:
            continue
        if rel.parts[:2] == ("refs", "remotes"):
            continue
        data = p.read_bytes()
        if top == "packed-refs":
            data = b"\n".join(ln for ln in data.splitlines() if b"refs/remotes/" not in ln)
        snap[f"git/{rel}"] = data
    for ref in ("refs/heads", "refs/stash", "refs/tags"):
        snap[f"refs/{ref}"] = repo.git("for-each-ref", ref).encode()
    return snap


def remote_heads(remote: Repo) -> dict[str, str]:
    """``{branch: sha}`` for every branch of a bare remote."""
    out = remote.git("for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads")
    return dict(ln.split() for ln in out.splitlines())


# ------------------------------------------------------------------------------- fetch


def test_fetch_prunes_fetches_every_remote_and_records_it(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory
) -> None:
    remote, clone = repos.remote_and_clone("multi")
    other = repos.push_from_other(remote, 1)
    other.git("push", "-q", "origin", "HEAD:refs/heads/doomed")
    clone.git("fetch", "-q")
    assert clone.git("branch", "-r", "--list", "origin/doomed")
    remote.git("branch", "-D", "doomed")
    new_main = repos.push_from_other(remote, 1).head
    second_remote, _ = repos.remote_and_clone("second-remote")
    clone.git("remote", "add", "second", second_remote.path.as_uri())
    assert not clone.git("branch", "-r", "--list", "second/*")

    code, out, _err = run_cli(capsys, "-f", "-o", "json", "--no-progress", str(repos.root))

    rec = json_records(out)["multi"]
    assert code == 0
    assert rec["fetched"] is True and rec["pulled"] is None and rec["pushed"] is None
    assert rec["action"] == "fetch" and rec["outcome"] == "ok" and rec["error"] is None
    assert rec["behind"] == 2, "ahead/behind are read after the fetch"
    assert clone.git("branch", "-r", "--list", "origin/doomed") == "", "pruned"
    assert clone.git("rev-parse", "origin/main") == new_main
    assert clone.git("rev-parse", "second/main") == second_remote.git("rev-parse", "main")
    assert clone.head == rec["head_before"] == rec["head_after"], "fetch never moves HEAD"


def test_our_fetch_and_pull_trigger_no_maintenance_while_plain_git_fetch_does(
    capsys: pytest.CaptureFixture[str],
    repos: RepoFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    remote, clone = repos.remote_and_clone("maint")
    repos.push_from_other(remote, 2)
    # The repo asks for maintenance after every fetch and for gc at the first loose object.
    clone.git("config", "maintenance.auto", "true")
    clone.git("config", "gc.auto", "1")
    clone.git("config", "gc.autoDetach", "false")
    control_repo = repos.repo("control-clone", aux=True)
    shutil.rmtree(control_repo.path)
    sh("git", "clone", "-q", remote.path.as_uri(), control_repo.path)
    control_repo.git("config", "maintenance.auto", "true")
    control_repo.git("config", "gc.auto", "1")
    repos.push_from_other(remote, 2)

    control_trace = tmp_path / "control.trace"
    sh("env", f"GIT_TRACE2={control_trace}", "git", "fetch", "-q", cwd=control_repo.path)
    assert "maintenance run --auto" in control_trace.read_text(), "the check can see it"

    trace = tmp_path / "ours.trace"
    monkeypatch.setenv("GIT_TRACE2", str(trace))
    loose_before = sorted((clone.git_dir / "objects").glob("??/*"))
    packs_before = sorted((clone.git_dir / "objects/pack").iterdir())
    code, out, _ = run_cli(capsys, "-P", "-o", "json", str(repos.root))
    assert code == 0 and json_records(out)["maint"]["pulled"] is True
    text = trace.read_text()
    # git runs auto-maintenance after both a fetch and a merge.
    assert "fetch --prune" in text and "merge --ff-only" in text
    assert "maintenance run" not in text and "gc --auto" not in text
    assert "cmd_name maintenance" not in text and "cmd_name gc" not in text
    loose_after = sorted((clone.git_dir / "objects").glob("??/*"))
    assert set(loose_before) <= set(loose_after), "no loose object was packed away"
    assert not (clone.git_dir / "gc.log").exists()
    assert sorted((clone.git_dir / "objects/pack").iterdir()) == packs_before, "no repack"


# -------------------------------------------------------------------------------- pull


def _pull_fixture(repos: RepoFactory, log: Path) -> tuple[dict[str, Repo], dict[str, Repo]]:
    """One clone per state -P must handle, each with a logging upload-pack; the remote of
    every clone has moved on since it was cloned. Returns (clones, remotes) by name."""
    clones: dict[str, Repo] = {}
    remotes: dict[str, Repo] = {}

    def make(name: str, *, advance: bool = True) -> Repo:
        remote, clone = repos.remote_and_clone(name)
        if advance:
            repos.push_from_other(remote, 2)
        uploadpack_wrapper(clone, log)
        clones[name], remotes[name] = clone, remote
        return clone

    make("behind")
    make("behind-untracked").write("scratch-note.txt", "mine\n")
    make("dirty").write("file.txt", "local edit\n")
    # A deleted tracked file is a change too; git itself would fast-forward over it.
    (make("deleted").path / "file.txt").unlink()
    make("diverged").commit("local.txt")
    make("detached").git("checkout", "-q", "--detach")
    make("no-upstream").git("branch", "-q", "--unset-upstream")
    make("ahead", advance=False).commit("local.txt")

    c = make("mid-merge")
    c.git("checkout", "-q", "-b", "topic")
    c.commit("topic.txt")
    c.git("checkout", "-q", "main")
    c.git("merge", "-q", "--no-ff", "--no-commit", "topic")
    assert (c.git_dir / "MERGE_HEAD").exists()

    c = make("gone", advance=False)
    c.git("checkout", "-q", "-b", "feature")
    c.commit("feature.txt")
    c.git("push", "-q", "-u", "origin", "feature")
    c.git("reset", "-q", "--hard", "HEAD~1")
    remotes["gone"].git("branch", "-D", "feature")
    return clones, remotes


def test_pull_fast_forwards_only_what_is_safe_and_leaves_the_rest_byte_identical(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    log = tmp_path / "uploadpack.log"
    clones, remotes = _pull_fixture(repos, log)
    before = {name: snapshot(c) for name, c in clones.items()}

    code, out, _ = run_cli(capsys, "-P", "-o", "json", "--no-progress", str(repos.root))

    recs = json_records(out)
    assert set(recs) == set(clones)
    assert code == 0, "leaving a repo alone is not a failure"
    for name in ("behind", "behind-untracked"):
        rec, clone = recs[name], clones[name]
        assert rec["pulled"] is True and rec["fetched"] is True
        assert rec["outcome"] == "updated" and rec["action"] == "fetch+pull"
        assert rec["head_after"] == clone.head == remotes[name].git("rev-parse", "main")
        assert rec["head_before"] != rec["head_after"]
        assert rec["behind"] == 0 and rec["ahead"] == 0
        assert clone.git("status", "--porcelain", "--untracked-files=no") == ""
    assert (clones["behind-untracked"].path / "scratch-note.txt").read_text() == "mine\n"

    left_alone = {
        "dirty": "uncommitted changes",
        "deleted": "uncommitted changes",
        "diverged": "diverged",
        "detached": "detached HEAD",
        "no-upstream": "no upstream",
        "gone": "upstream gone",
        "mid-merge": "merge in progress",
    }
    for name, note in left_alone.items():
        rec = recs[name]
        assert rec["pulled"] is False and rec["fetched"] is True, name
        assert rec["outcome"] == "skipped" and rec["note"] == note, name
        assert rec["error"] is None, name
        assert snapshot(clones[name]) == before[name], f"{name} was modified"
        assert rec["head_before"] == rec["head_after"] == clones[name].head
    assert recs["diverged"]["ahead"] == 1 and recs["diverged"]["behind"] == 2
    assert recs["gone"]["upstream_gone"] is True

    ahead = recs["ahead"]
    assert ahead["pulled"] is False and ahead["outcome"] == "unchanged"
    assert ahead["note"] == "ahead of upstream"
    assert snapshot(clones["ahead"]) == before["ahead"]

    # Exactly one fetch per repo: the pull merges the fetched upstream, it never refetches.
    starts = log_starts(log)
    assert sorted(starts) == sorted(clones), starts


def test_pull_refuses_to_overwrite_an_untracked_file_and_keeps_it(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory
) -> None:
    remote, clone = repos.remote_and_clone("collide")
    other = repos.push_from_other(remote, 0)
    other.commit("incoming.txt", "from upstream\n")
    other.git("push", "-q", "origin", "HEAD")
    clone.write("incoming.txt", "my untracked work\n")
    head = clone.head

    code, out, _ = run_cli(capsys, "-P", "-o", "json", str(repos.root))

    rec = json_records(out)["collide"]
    assert code == 1 and rec["outcome"] == "failed"
    assert rec["error"]["reason"] == "git_error" and rec["pulled"] is False
    assert rec["fetched"] is True
    assert (clone.path / "incoming.txt").read_text() == "my untracked work\n"
    assert clone.head == head


# -------------------------------------------------------------------------------- push


def test_push_sends_a_clean_ahead_branch_to_its_own_upstream_only(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory
) -> None:
    remote, ahead = repos.remote_and_clone("ahead")
    ahead.git("push", "-q", "origin", "HEAD:refs/heads/side")
    ahead.git("branch", "-q", "local-only")
    new_head = ahead.commit("mine.txt")

    r_div, diverged = repos.remote_and_clone("diverged")
    diverged.commit("mine.txt")
    repos.push_from_other(r_div, 1)

    r_named, named = repos.remote_and_clone("renamed")
    named.git("push", "-q", "origin", "HEAD:refs/heads/other")
    named.git("checkout", "-q", "-b", "local-name", "--track", "origin/other")
    assert named.git("config", "branch.local-name.merge") == "refs/heads/other"
    named_head = named.commit("mine.txt")

    blocked: dict[str, tuple[Repo, Repo, str]] = {}
    r, c = repos.remote_and_clone("detached")
    c.commit("mine.txt")
    c.git("checkout", "-q", "--detach")
    blocked["detached"] = (r, c, "detached HEAD")
    r, c = repos.remote_and_clone("dirty")
    c.commit("mine.txt")
    c.write("file.txt", "uncommitted\n")
    blocked["dirty"] = (r, c, "uncommitted changes")
    r, c = repos.remote_and_clone("no-upstream")
    c.commit("mine.txt")
    c.git("branch", "-q", "--unset-upstream")
    blocked["no-upstream"] = (r, c, "no upstream")

    before = {
        name: remote_heads(rem)
        for name, rem in {"ahead": remote, "diverged": r_div, "renamed": r_named}.items()
    }
    before.update({name: remote_heads(rem) for name, (rem, _, _) in blocked.items()})

    code, out, _ = run_cli(capsys, "-U", "-o", "json", "--no-progress", str(repos.root))
    recs = json_records(out)
    assert code == 0

    rec = recs["ahead"]
    assert rec["pushed"] is True and rec["outcome"] == "updated" and rec["action"] == "fetch+push"
    assert rec["ahead"] == 0 and rec["behind"] == 0 and rec["pulled"] is None
    after = remote_heads(remote)
    assert after["main"] == new_head
    assert after["side"] == before["ahead"]["side"], "other remote branches untouched"
    assert "local-only" not in after

    rec = recs["renamed"]
    assert rec["pushed"] is True
    after = remote_heads(r_named)
    assert after["other"] == named_head, "pushed to the upstream branch, not a same-name one"
    assert "local-name" not in after
    assert after["main"] == before["renamed"]["main"]

    rec = recs["diverged"]
    assert rec["pushed"] is False and rec["outcome"] == "skipped" and rec["note"] == "diverged"
    assert remote_heads(r_div) == before["diverged"], "never forced"

    for name, (rem, _clone, note) in blocked.items():
        rec = recs[name]
        assert rec["pushed"] is False and rec["outcome"] == "skipped", name
        assert rec["note"] == note, name
        assert remote_heads(rem) == before[name], name


def test_pull_then_push_in_one_run(capsys: pytest.CaptureFixture[str], repos: RepoFactory) -> None:
    r_behind, behind = repos.remote_and_clone("behind")
    repos.push_from_other(r_behind, 1)
    r_ahead, ahead = repos.remote_and_clone("ahead")
    mine = ahead.commit("mine.txt")
    _r_same, same = repos.remote_and_clone("same")

    code, out, _ = run_cli(capsys, "-P", "-U", "-o", "json", str(repos.root))

    recs = json_records(out)
    assert code == 0
    b = recs["behind"]
    assert (b["pulled"], b["pushed"], b["outcome"]) == (True, False, "updated")
    assert behind.head == r_behind.git("rev-parse", "main") == b["head_after"]
    assert b["note"] == "push: nothing to push"
    a = recs["ahead"]
    assert (a["pulled"], a["pushed"], a["outcome"]) == (False, True, "updated")
    assert r_ahead.git("rev-parse", "main") == mine
    assert a["note"] == "pull: ahead of upstream"
    s = recs["same"]
    assert (s["pulled"], s["pushed"], s["outcome"]) == (False, False, "unchanged")
    assert same.head == s["head_after"]


def test_each_reason_to_leave_a_repo_alone_is_named(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory
) -> None:
    remote, _same = repos.remote_and_clone("same")
    r_behind, _behind = repos.remote_and_clone("behind")
    repos.push_from_other(r_behind, 1)
    unborn = repos.repo("unborn", commits=0)
    unborn.git("remote", "add", "origin", remote.path.as_uri())
    unborn.git("config", "branch.main.remote", "origin")
    unborn.git("config", "branch.main.merge", "refs/heads/main")
    # A conflict that no merge, rebase or other operation is in the middle of.
    _r, conflicted = repos.remote_and_clone("conflicted")
    conflicted.write("file.txt", "stashed\n")
    conflicted.git("stash", "-q")
    conflicted.commit("file.txt", "committed\n")
    conflicted.git("stash", "pop", "-q", check=False)
    assert conflicted.git("status", "--porcelain").startswith("UU ")

    code, out, _ = run_cli(capsys, "-U", "-o", "json", str(repos.root))
    recs = json_records(out)
    assert (recs["behind"]["note"], recs["behind"]["outcome"]) == ("behind upstream", "unchanged")
    assert recs["behind"]["pushed"] is False and recs["behind"]["pulled"] is None

    code, out, _ = run_cli(capsys, "-P", "-U", "-o", "json", str(repos.root))
    recs = json_records(out)
    assert code == 0
    assert recs["same"]["note"] == "pull: up to date; push: nothing to push"
    assert recs["same"]["outcome"] == "unchanged"
    assert recs["unborn"]["note"] == "pull: no commits; push: no commits"
    assert recs["conflicted"]["note"] == "pull: conflicted paths; push: conflicted paths"
    for name in ("unborn", "conflicted"):
        assert recs[name]["outcome"] == "skipped", name


def test_pull_and_push_of_a_behind_clean_repo_pulls_first(
    repos: RepoFactory, tmp_path: Path
) -> None:
    """With both flags a repo that was behind is pulled and then has nothing to push."""
    remote, clone = repos.remote_and_clone("both")
    repos.push_from_other(remote, 1)
    ref = RepoRef(str(clone.path), str(clone.git_dir), "both")
    events: list[Event] = []
    rec = update_repo(
        ref, ActionOptions(fetch=True, pull=True, push=True), local_limit=None, sink=events.append
    )
    assert rec.pulled is True and rec.pushed is False and rec.outcome == "updated"
    assert rec.status is not None and rec.status.behind == 0 and rec.status.ahead == 0


# ------------------------------------------------------------------- network concurrency


def _slow_repos(repos: RepoFactory, log: Path, n: int, sleep: str) -> list[Repo]:
    out = []
    for i in range(n):
        _remote, clone = repos.remote_and_clone(f"r{i:02d}")
        uploadpack_wrapper(clone, log, sleep=sleep)
        out.append(clone)
    return out


def test_net_jobs_caps_and_reaches_the_number_of_concurrent_fetches(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    log = tmp_path / "uploadpack.log"
    _slow_repos(repos, log, 8, "0.5")
    # -j 1: the network pool must not be limited by the local job count.
    code, out, _ = run_cli(
        capsys, "-f", "--net-jobs", "4", "-j", "1", "-o", "json", str(repos.root)
    )
    assert code == 0 and len(json_records(out)) == 8
    assert len(log_starts(log)) == 8
    assert max_overlap(log) == 4


def test_net_jobs_from_the_environment(
    capsys: pytest.CaptureFixture[str],
    repos: RepoFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = tmp_path / "uploadpack.log"
    _slow_repos(repos, log, 5, "0.4")
    monkeypatch.setenv("GITOVERIT_NET_JOBS", "2")
    code, out, _ = run_cli(capsys, "-f", "-o", "json", str(repos.root))
    assert code == 0 and len(json_records(out)) == 5
    assert max_overlap(log) == 2


def test_one_network_job_fetches_one_repo_at_a_time(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    log = tmp_path / "uploadpack.log"
    _slow_repos(repos, log, 3, "0.2")
    code, out, _ = run_cli(capsys, "-f", "--net-jobs", "1", "-o", "json", str(repos.root))
    assert code == 0 and len(json_records(out)) == 3
    assert max_overlap(log) == 1


def test_the_network_pool_stays_below_the_open_file_limit(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    import resource

    log = tmp_path / "uploadpack.log"
    _slow_repos(repos, log, 5, "0.4")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # 64 descriptors kept for the process itself, then 8 per network operation: room for 2.
    resource.setrlimit(resource.RLIMIT_NOFILE, (64 + 2 * 8, hard))
    try:
        code, out, _ = run_cli(capsys, "-f", "--net-jobs", "16", "-o", "json", str(repos.root))
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert code == 0 and len(json_records(out)) == 5
    assert max_overlap(log) == 2


# -------------------------------------------------------------------- failing remotes


def test_timeout_kills_the_fetch_and_bounds_the_run(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    log = tmp_path / "uploadpack.log"
    _remote, hung = repos.remote_and_clone("hung")
    marker = unique_marker("30.")
    script = uploadpack_wrapper(hung, log, sleep=marker)
    repos.remote_and_clone("fine")
    with silent_tcp_server() as server:
        _remote, silent = repos.remote_and_clone("silent")
        silent.git("remote", "set-url", "origin", f"{server.url}/repo.git")
        start = time.monotonic()
        code, out, err = run_cli(capsys, "-f", "--timeout", "1", "-o", "json", str(repos.root))
        elapsed = time.monotonic() - start
        assert server.connections >= 1

    recs = json_records(out)
    assert code == 1
    for name in ("hung", "silent"):
        assert recs[name]["error"]["reason"] == "timeout", recs[name]
        assert recs[name]["outcome"] == "failed" and recs[name]["fetched"] is False
    assert recs["fine"]["error"] is None and recs["fine"]["fetched"] is True
    assert "⏱" in err
    assert elapsed < 1 + 1.0, f"run took {elapsed:.2f}s with --timeout 1"
    assert wait_no_procs(marker) == [] and wait_no_procs(script.name) == []
    assert lock_files(hung.path) == []


def test_auth_prompt_fails_fast_as_auth(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory
) -> None:
    _remote, clone = repos.remote_and_clone("private")
    with http_401_server() as server:
        clone.git("remote", "set-url", "origin", f"{server.url}/private.git")
        start = time.monotonic()
        code, out, _ = run_cli(capsys, "-f", "-o", "json", str(repos.root))
        elapsed = time.monotonic() - start
        assert server.requests, "the fetch reached the server"
    rec = json_records(out)["private"]
    assert code == 1
    assert rec["error"]["reason"] == "auth" and rec["fetched"] is False
    assert elapsed < 3


def test_remote_that_no_longer_exists_is_a_git_error(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory
) -> None:
    remote, _clone = repos.remote_and_clone("vanished")
    shutil.rmtree(remote.path)
    start = time.monotonic()
    code, out, _ = run_cli(capsys, "-f", "-o", "json", str(repos.root))
    elapsed = time.monotonic() - start
    rec = json_records(out)["vanished"]
    assert code == 1 and rec["error"]["reason"] == "git_error"
    assert "fatal:" in rec["error"]["message"]
    assert elapsed < 3


def test_exit_on_error_starts_nothing_new_and_skips_the_rest(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    log = tmp_path / "uploadpack.log"
    # Discovery is sorted: a-broken and b-slow start together; the rest wait for a slot.
    _r, broken = repos.remote_and_clone("a-broken")
    uploadpack_wrapper(broken, log, sleep="0.2", fail=True)
    _r, in_flight = repos.remote_and_clone("b-slow")
    uploadpack_wrapper(in_flight, log, sleep="0.8")
    rest = []
    for i in range(4):
        _r, c = repos.remote_and_clone(f"c-later{i}")
        uploadpack_wrapper(c, log, sleep="0.3")
        rest.append(c.path.name)

    code, out, err = run_cli(
        capsys, "-f", "-x", "--net-jobs", "2", "-o", "json", "--no-progress", str(repos.root)
    )

    recs = json_records(out)
    assert code == 1
    assert set(recs) == {"a-broken", "b-slow", *rest}, "every repo exactly once"
    assert recs["a-broken"]["error"]["reason"] == "git_error"
    assert recs["b-slow"]["error"] is None and recs["b-slow"]["fetched"] is True
    for name in rest:
        assert recs[name]["error"]["reason"] == "skipped", recs[name]
        assert recs[name]["outcome"] == "skipped"
    assert sorted(log_starts(log)) == ["a-broken", "b-slow"], "nothing new started"
    assert "6 repos" in err


# ------------------------------------------------------------------ events and output


def test_ndjson_events_carry_the_schema_and_arrive_in_completion_order(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    log = tmp_path / "uploadpack.log"
    _r, slow = repos.remote_and_clone("a-slow")
    uploadpack_wrapper(slow, log, sleep="0.6")
    for name in ("b-fast", "c-fast"):
        repos.remote_and_clone(name)
    code, out, _ = run_cli(capsys, "-f", "--net-jobs", "4", "-o", "ndjson", str(repos.root))
    assert code == 0
    lines = [json.loads(ln) for ln in out.splitlines()]
    repo_lines = [ln for ln in lines if ln["type"] == "repo"]
    order = [os.path.basename(ln["path"]) for ln in repo_lines]
    assert order[-1] == "a-slow", "discovered first, finished last"
    assert sorted(order) == ["a-slow", "b-fast", "c-fast"]
    for ln in repo_lines:
        assert ln["action"] == "fetch" and ln["outcome"] == "ok" and ln["error"] is None
        assert ln["format_version"] == 1
        assert isinstance(ln["duration_ms"], float)
        assert ln["head_before"] == ln["head_after"] and len(ln["head_after"]) == 40
    assert repo_lines[-1]["duration_ms"] >= 600
    assert lines[-1]["type"] == "summary" and lines[-1]["interrupted"] is False


def test_fetch_without_a_terminal_prints_one_line_per_repo_and_a_summary(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory
) -> None:
    for name in ("one", "two", "three"):
        repos.remote_and_clone(name)
    code, out, err = run_cli(capsys, "-f", "--no-progress", str(repos.root))
    assert code == 0
    lines = err.splitlines()
    assert len(lines) == 4
    assert sorted(ln.rsplit("/", 1)[-1] for ln in lines[:-1]) == ["one: ok", "three: ok", "two: ok"]
    assert all(ln.startswith("✓ ") for ln in lines[:-1])
    assert lines[-1] == "3 repos, 0 dirty, 0 errors"
    assert "\x1b[" not in err and "\r" not in err
    for name in ("one", "two", "three"):
        assert name in out


def test_fetch_progress_reaches_the_sink_split_on_carriage_returns(repos: RepoFactory) -> None:
    remote, clone = repos.remote_and_clone("progress", commits=3)
    repos.push_from_other(remote, 30)
    ref = RepoRef(str(clone.path), str(clone.git_dir), "progress")
    events: list[Event] = []
    record = update_repo(ref, ActionOptions(fetch=True), local_limit=None, sink=events.append)
    assert record.fetched is True and record.error is None
    lines = [e.line for e in events if isinstance(e, RepoProgress)]
    assert lines, "git's progress reached the sink"
    assert all("\r" not in ln and "\n" not in ln and ln for ln in lines)
    # git redraws a counter in place with '\r'; each redraw arrives as a line of its own.
    counting = [ln for ln in lines if "Counting objects:" in ln]
    assert len(counting) > 1 and counting[-1].endswith("done.")

    stream = io.StringIO()
    display = SlotDisplay(2, live=False, stream=stream)
    for e in events:
        display.handle(e)
    display.handle(RepoStarted(ref))
    for e in events:
        display.handle(e)
    assert display.rows()[0] == ("progress", lines[-1]), "the latest line is shown"


# ------------------------------------------------------------------------ slot display


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def _ref(name: str) -> RepoRef:
    return RepoRef(f"/x/{name}", f"/x/{name}/.git", name)


def _done(name: str, error: RepoError | None = None) -> RepoDone:
    return RepoDone(RepoRecord(_ref(name), error=error, action="fetch", fetched=error is None))


def test_slot_display_without_a_terminal_writes_one_line_per_finished_repo() -> None:
    stream = io.StringIO()
    display = SlotDisplay(3, live=False, stream=stream)
    with display:
        for name in ("a", "b", "c"):
            display.handle(RepoStarted(_ref(name)))
            display.handle(RepoProgress(_ref(name), "Receiving objects:  50% (1/2)"))
        display.handle(_done("a"))
        display.handle(_done("b", RepoError(Reason.AUTH, "terminal prompts disabled")))
        display.handle(_done("c", RepoError(Reason.TIMEOUT, "Command timed out after 1s")))
        stopped = RepoError(Reason.INTERRUPTED, "interrupted: git fetch --all --prune")
        display.handle(RepoStarted(_ref("d")))
        display.handle(_done("d", stopped))
    assert stream.getvalue().splitlines() == [
        "✓ a: ok",
        "✗ b: auth: terminal prompts disabled",
        "⏱ c: Command timed out after 1s",
        "✗ d: interrupted: git fetch --all --prune",
    ]
    assert display.busy == 0


def test_slot_display_live_rows_match_the_slots_and_free_on_finish() -> None:
    from rich.console import Console

    stream = _TTY()
    display = SlotDisplay(3, stream=stream)
    assert display.live, "a terminal stream turns the live rows on"

    def rendered_rows() -> list[str]:
        plain = io.StringIO()
        Console(file=plain, width=120, color_system=None).print(display._progress.get_renderable())
        return [ln for ln in plain.getvalue().splitlines() if ln.strip()]

    with display:
        assert rendered_rows() == []
        for name in ("a", "b", "c", "d"):
            display.handle(RepoStarted(_ref(name)))
        assert display.busy == 3, "never more rows than slots; a fourth start is no error"
        assert [r[0] for r in display.rows() if r] == ["a", "b", "c"]
        display.handle(RepoProgress(_ref("b"), "Counting objects: 1"))
        display.handle(RepoProgress(_ref("b"), "Receiving objects: 100% (9/9), done."))
        rows = rendered_rows()
        assert len(rows) == 3
        assert "Receiving objects: 100% (9/9), done." in rows[1]
        assert "Counting objects" not in rows[1]

        display.handle(_done("b"))
        assert display.busy == 2
        assert len(rendered_rows()) == 2
        assert display.rows()[1] is None, "the slot is free at once"
        display.handle(RepoStarted(_ref("e")))
        assert display.rows()[1] == ("e", ""), "a freed slot is reused"
        for name in ("a", "c", "e"):
            display.handle(_done(name))
        assert rendered_rows() == []
    text = stream.getvalue()
    for name in ("a", "b", "c", "e"):
        assert f"✓ {name}: ok" in text


def test_slot_display_with_one_slot_shows_a_single_spinner() -> None:
    display = SlotDisplay(1, stream=_TTY())
    with display:
        display.handle(RepoStarted(_ref("a")))
        display.handle(RepoStarted(_ref("b")))
        assert display.busy == 1 and display.rows() == [("a", "")]
        display.handle(_done("a"))
        display.handle(RepoStarted(_ref("b")))
        assert display.rows() == [("b", "")]
        display.handle(_done("b"))


def test_fast_forward_never_autostashes_even_when_the_repo_asks_for_it(
    repos: RepoFactory,
) -> None:
    """The clean-worktree check runs before the merge; should the tree change in between,
    the merge must refuse rather than stash the user's edits."""
    from gitoverit.errors import CommandError
    from gitoverit.git import ops

    remote, clone = repos.remote_and_clone("autostash")
    other = repos.push_from_other(remote, 0)
    other.commit("file.txt", "upstream edit\n")
    other.git("push", "-q", "origin", "HEAD")
    clone.git("fetch", "-q")
    clone.git("config", "merge.autoStash", "true")
    clone.write("file.txt", "my edit\n")
    head = clone.head
    ref = RepoRef(str(clone.path), str(clone.git_dir), "autostash")
    with pytest.raises(CommandError):
        ops.merge_ff(ref)
    assert clone.git("stash", "list") == ""
    assert (clone.path / "file.txt").read_text() == "my edit\n"
    assert clone.head == head


def test_live_display_on_a_terminal_end_to_end(repos: RepoFactory, tmp_path: Path) -> None:
    """stderr on a pseudo-terminal: spinner rows while fetching, then a permanent line per
    repo and the summary; stdout (a pipe) still gets only the table."""
    import fcntl
    import pty
    import re
    import struct
    import subprocess
    import sys
    import termios

    log = tmp_path / "uploadpack.log"
    _slow_repos(repos, log, 3, "0.6")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitoverit", "-f", "--net-jobs", "2", str(repos.root)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env={**os.environ, "TERM": "xterm", "COLUMNS": "120"},
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every writer has closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    out = proc.stdout.read() if proc.stdout else b""
    assert proc.wait(10) == 0
    os.close(master)
    screen = b"".join(chunks).decode("utf-8", "replace")
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    for name in ("r00", "r01", "r02"):
        assert re.search(rf"✓ \S*{name}: ok", plain), plain
        assert name in out.decode()
    assert "0:00:0" in plain, "a slot row with its elapsed time was drawn"
    assert "\x1b[" in screen, "rows are redrawn in place"
    assert plain.rstrip().splitlines()[-1].strip() == "3 repos, 0 dirty, 0 errors"
    assert "\x1b" not in out.decode()
