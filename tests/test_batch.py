"""The single-threaded status engine gives the same records as ``read_status``, and keeps
the runner's promises: timeouts, fail-fast, no process left behind."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import RepoFactory, git_dirs_snapshot, sh
from gitoverit.discovery import find_repos
from gitoverit.errors import error_from_exception
from gitoverit.git import batch
from gitoverit.git import cpus as git_cpus
from gitoverit.git.status import read_status
from gitoverit.model import RepoRecord, RepoRef
from shapes import build_shapes

END = object()


def engine_records(refs: list[RepoRef], **kw: object) -> list[RepoRecord]:
    q: queue.Queue[object] = queue.Queue()
    for ref in refs:
        q.put(ref)
    q.put(END)
    r, w = os.pipe()
    os.set_blocking(r, False)
    try:
        return list(batch.run_statuses(q, END, r, jobs=kw.pop("jobs", 3), **kw))  # type: ignore[arg-type]
    finally:
        os.close(r)
        os.close(w)


def comparable(rec: RepoRecord) -> dict[str, object]:
    data = rec.to_json()
    data.pop("duration_ms")
    return data


@pytest.mark.parametrize("big_index", [batch.BIG_INDEX, 0], ids=["inline", "helper-thread"])
def test_engine_matches_read_status_on_every_shape(
    repos: RepoFactory, monkeypatch: pytest.MonkeyPatch, big_index: int
) -> None:
    # With big_index 0 every repo's files are read on a helper thread.
    monkeypatch.setattr(batch, "BIG_INDEX", big_index)
    shapes = build_shapes(repos)
    split = repos.repo("split-index", commits=3)
    split.git("update-index", "--split-index")
    split.write("file.txt", "changed\n")
    refs = list(find_repos([str(repos.root)]))
    assert len(refs) == len(shapes) + 1
    got = {rec.ref.path: comparable(rec) for rec in engine_records(refs)}
    assert len(got) == len(refs)
    for ref in refs:
        try:
            expected = RepoRecord(ref, status=read_status(ref))
        except Exception as exc:
            expected = RepoRecord(ref, error=error_from_exception(exc))
        want = comparable(expected)
        if want["error"] is not None:
            # Messages name the command line, which differs (-C path); the reason may not.
            assert got[ref.path]["error"]["reason"] == want["error"]["reason"], ref.path  # type: ignore[index]
            got[ref.path]["error"] = want["error"] = None
        assert got[ref.path] == want, ref.path
    split_rec = got[str(split.path)]
    assert split_rec["modified"] == 1 and split_rec["error"] is None


def test_engine_times_out_and_kills_the_group(
    repos: RepoFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in for a git that hangs (this tests the engine's timeout, not git): it
    # starts a grandchild and sleeps; both must be gone afterwards.
    hang = tmp_path / "hanging-git"
    hang.write_text("#!/bin/sh\nsleep 37.4242 &\nexec sleep 37.4243\n")
    hang.chmod(0o755)
    monkeypatch.setattr(batch.command, "GIT", str(hang))
    refs = [RepoRef(str(repos.repo(f"r{i}").path), "", f"r{i}") for i in range(3)]
    start = time.monotonic()
    records = engine_records(refs, timeout=0.5)
    assert time.monotonic() - start < 3
    assert [r.error.reason.value for r in records if r.error] == ["timeout"] * 3
    assert all("timed out after 0.5s" in r.error.message for r in records if r.error)
    assert not batch.process._LIVE_GROUPS
    time.sleep(0.2)
    assert _alive_named("sleep 37.4243") == [], "the hung process is killed"
    assert _alive_named("sleep 37.4242") == [], "so is its grandchild"


def test_engine_fail_fast_skips_the_rest(repos: RepoFactory) -> None:
    bad = repos.repo("a-bad")
    (bad.path / ".git" / "index").write_bytes(b"DIRC garbage")
    refs = [RepoRef(str(bad.path), str(bad.path / ".git"), "a-bad")]
    refs += [RepoRef(str(repos.repo(f"b{i}").path), "", f"b{i}") for i in range(4)]
    records = engine_records(refs, jobs=1, fail_fast=True)
    assert len(records) == 5
    assert records[0].error is not None and records[0].error.reason.value == "corrupt"
    assert {r.error.reason.value for r in records[1:] if r.error} == {"skipped"}


def test_engine_reports_a_missing_git_and_a_vanished_folder(
    repos: RepoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok = repos.repo("ok")
    gone = RepoRef(str(repos.root / "vanished"), "", "vanished")
    records = engine_records([gone])
    assert records[0].error is not None and records[0].error.reason.value == "not_a_repo"
    monkeypatch.setattr(batch.command, "GIT", "git-that-does-not-exist")
    (rec,) = engine_records([RepoRef(str(ok.path), "", "ok")])
    assert rec.error is not None and "cannot run" in rec.error.message


def _alive_named(text: str) -> list[int]:
    return _alive_marked(text, argv=True)


def _alive_marked(marker: str, argv: bool = False) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        haystack = cmdline.replace(b"\0", b" ") if argv else cmdline
        if marker.encode() in haystack and state != "Z":
            pids.append(int(entry))
    return pids


def test_ctrl_c_during_a_status_scan_exits_130_with_every_repo_once(
    repos: RepoFactory, tmp_path: Path
) -> None:
    template = repos.repo("template", commits=2, aux=True)
    for i in range(600):
        sh("cp", "-r", template.path, repos.root / f"r{i:03}")
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gitoverit",
            "-o",
            "ndjson",
            "--no-progress",
            "-j",
            "1",
            str(repos.root),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
    )
    assert proc.stdout is not None
    # Interrupt once the scan is under way (a result is out), however slow start-up was.
    # Read the raw pipe: communicate() below reads it raw too, so a buffered readline
    # could keep lines from it.
    first = b""
    while b"\n" not in first:
        chunk = os.read(proc.stdout.fileno(), 65536)
        assert chunk, "the scan ended before it was interrupted"
        first += chunk
    proc.send_signal(signal.SIGINT)
    start = time.monotonic()
    rest, err = proc.communicate(timeout=10)
    assert time.monotonic() - start < 2
    assert proc.returncode == 130, err.decode()
    lines = [json.loads(line) for line in (first + rest).splitlines()]
    assert lines[-1]["type"] == "summary" and lines[-1]["interrupted"] is True
    records = [rec for rec in lines if rec["type"] == "repo"]
    paths = [r["path"] for r in records]
    # Discovery stops too: every repo found so far is reported once, finished or not.
    assert len(paths) == len(set(paths)) == lines[-1]["repos"] >= 2
    reasons = {r["error"]["reason"] for r in records if r["error"]}
    assert reasons == {"interrupted"}, "some repos were still to do"
    time.sleep(0.2)
    assert _alive_marked(str(repos.root)) == []
    assert list(runtime.iterdir()) == [], "the index copies are removed"


def test_kill_all_removes_the_index_copies_too(tmp_path: Path) -> None:
    # A second Ctrl-C leaves at once (os._exit), without the engine's own clean-up.
    private = tmp_path / "gitoverit-copies"
    private.mkdir()
    (private / "1").write_bytes(b"DIRC")
    (private / "1.lock").write_bytes(b"")
    batch.process.TEMP_DIRS.add(str(private))
    batch.process.kill_all()
    assert not private.exists()
    assert str(private) not in batch.process.TEMP_DIRS


@pytest.mark.parametrize("jobs", [1, 3])
def test_engine_runs_at_most_jobs_git_processes_at_once(
    repos: RepoFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    # A wrapper around the real git that logs when each call starts and ends.
    log = tmp_path / "calls.log"
    wrapper = tmp_path / "logging-git"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'echo "start $(date +%s.%N)" >> "{log}"\n'
        "sleep 0.05\n"
        'git "$@"\n'
        "rc=$?\n"
        f'echo "end $(date +%s.%N)" >> "{log}"\n'
        "exit $rc\n"
    )
    wrapper.chmod(0o755)
    monkeypatch.setattr(batch.command, "GIT", str(wrapper))
    refs = [RepoRef(str(repos.repo(f"r{i}").path), "", f"r{i}") for i in range(9)]
    records = engine_records(refs, jobs=jobs)
    assert [r.error for r in records] == [None] * 9
    events = sorted(
        (float(stamp), 1 if kind == "start" else -1)
        for kind, stamp in (line.split() for line in log.read_text().splitlines())
    )
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    assert peak == jobs


def _cpu_list(text: str) -> set[int]:
    cpus: set[int] = set()
    for part in text.strip().split(","):
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs Linux CPU affinity and at least two CPUs",
)
@pytest.mark.parametrize("spare", [True, False], ids=["fewer-jobs-than-cpus", "cpus-all-busy"])
def test_engine_keeps_its_thread_and_gits_on_different_cpus(
    repos: RepoFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spare: bool
) -> None:
    allowed = os.sched_getaffinity(0)
    jobs = 1 if spare else len(allowed)
    log = tmp_path / "cpus.log"
    wrapper = tmp_path / "cpu-logging-git"
    # The short sleep lets the engine set the new process's CPUs before it looks.
    wrapper.write_text(
        "#!/bin/sh\n"
        "sleep 0.05\n"
        f"sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/$$/status >> \"{log}\"\n"
        'exec git "$@"\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setattr(batch.command, "GIT", str(wrapper))
    engine_cpu = min(allowed)
    monkeypatch.setattr(git_cpus, "_current_cpu", lambda cpus: engine_cpu)
    refs = [RepoRef(str(repos.repo(f"r{i}").path), "", f"r{i}") for i in range(4)]
    records = engine_records(refs, jobs=jobs)
    assert [r.error for r in records] == [None] * 4
    seen = [_cpu_list(line) for line in log.read_text().splitlines()]
    assert len(seen) == 4
    if spare:
        # Every git may use every CPU but the one the engine's thread keeps.
        assert seen == [allowed - {engine_cpu}] * 4
    else:
        assert all(cpus == allowed for cpus in seen)
    assert os.sched_getaffinity(0) == allowed, "the engine gives its thread every CPU back"


# --- mtime from a refreshed copy of the index -------------------------------------------

AGE = 100_000  # seconds: files last changed well before their index was written


def _aged(repos: RepoFactory, name: str, files: int = 12) -> Any:
    """A repo whose index was written long after its files changed, as in any repository
    that has been around (its entries are not "racy")."""
    r = repos.repo(name, commits=1)
    for i in range(files):
        r.write(f"d{i % 3}/f{i}.txt", f"{name} {i}\n")
    r.git("add", "-A")
    r.git("commit", "-q", "-m", "files")
    old = time.time() - AGE
    for p in r.path.rglob("*"):
        if ".git" not in p.parts and p.is_file():
            os.utime(p, (old, old))
    r.git("update-index", "-q", "--refresh")
    # As if the index had been written a little later than those changes (utime set the
    # files' ctime to now), as it is in a repository someone has run git in since.
    index = r.path / ".git" / "index"
    later = time.time() + 2
    os.utime(index, (later, later))
    return r


def _mtime_cases(repos: RepoFactory) -> list[Any]:
    now = time.time()
    later = now - AGE / 2  # newer than every aged file, older than now
    cases = [_aged(repos, "m-clean")]
    touched = _aged(repos, "m-touched")  # stat-dirty: git refreshes the entry
    os.utime(touched.path / "d1" / "f4.txt", (later, later))
    edited = _aged(repos, "m-edited")  # content changed: git lists it
    edited.write("d2/f5.txt", "new content\n")
    set_back = _aged(repos, "m-set-back")  # changed, then its mtime set to the past
    set_back.write("d0/f3.txt", "other\n")
    os.utime(set_back.path / "d0" / "f3.txt", (now - 2 * AGE, now - 2 * AGE))
    assumed = _aged(repos, "m-assume-unchanged")  # git never looks at this file
    assumed.git("update-index", "--assume-unchanged", "d0/f0.txt")
    assumed.write("d0/f0.txt", "hidden change\n")
    os.utime(assumed.path / "d0" / "f0.txt", (later, later))
    skipped = _aged(repos, "m-skip-worktree")
    skipped.git("update-index", "--skip-worktree", "d1/f1.txt")
    os.utime(skipped.path / "d1" / "f1.txt", (later, later))
    ita = _aged(repos, "m-intent-to-add")
    ita.write("added.txt", "soon\n")
    os.utime(ita.path / "added.txt", (later, later))
    ita.git("add", "-N", "added.txt")
    deleted = _aged(repos, "m-deleted-staged")
    (deleted.path / "d2" / "f2.txt").unlink()
    deleted.write("d1/f7.txt", "staged\n")
    deleted.git("add", "d1/f7.txt")
    v4 = _aged(repos, "m-index-v4")
    v4.git("update-index", "--index-version", "4")
    os.utime(v4.path / "d2" / "f8.txt", (later, later))
    link = _aged(repos, "m-symlink")
    os.symlink("d0/f0.txt", link.path / "link")
    link.git("add", "link")
    link.git("commit", "-q", "-m", "link")
    conflicted = _aged(repos, "m-conflict")
    conflicted.git("checkout", "-q", "-b", "topic")
    conflicted.commit("d0/f0.txt", "topic\n")
    conflicted.git("checkout", "-q", "main")
    conflicted.commit("d0/f0.txt", "main\n")
    conflicted.git("merge", "-q", "topic", check=False)
    untracked_cache = _aged(repos, "m-untracked-cache")  # git rewrites the copy every time
    untracked_cache.git("config", "core.untrackedCache", "true")
    untracked_cache.git("update-index", "--untracked-cache")
    untracked_cache.write("d0/new.txt", "untracked\n")
    os.utime(untracked_cache.path / "d1" / "f1.txt", (later, later))
    split_config = _aged(repos, "m-split-config")  # would split the index on a write
    split_config.git("config", "core.splitIndex", "true")
    os.utime(split_config.path / "d1" / "f1.txt", (later, later))
    split = _aged(repos, "m-split-index")  # read with git ls-files, never copied
    split.git("update-index", "--split-index")
    os.utime(split.path / "d2" / "f2.txt", (later, later))
    sparse = _aged(repos, "m-sparse-index")  # its copy cannot be parsed: git lists the paths
    sparse.git("sparse-checkout", "set", "--cone", "--sparse-index", "d0")
    os.utime(sparse.path / "d0" / "f0.txt", (later, later))
    racy = repos.repo("m-racy", commits=3)  # files and index written in the same second
    racy.write("file.txt", "same size\n")
    cases += [touched, edited, set_back, assumed, skipped, ita, deleted, v4, link, conflicted]
    cases += [untracked_cache, split_config, split, sparse]
    return [*cases, racy]


def test_engine_mtime_from_the_index_copy_equals_a_stat_of_every_file(
    repos: RepoFactory,
) -> None:
    cases = _mtime_cases(repos)
    refs = list(find_repos([str(repos.root)]))
    assert len(refs) == len(cases)
    before = git_dirs_snapshot(repos.root)
    got = {rec.ref.path: rec for rec in engine_records(refs)}
    # git refreshed and rewrote copies of these indexes, never the indexes themselves.
    after = git_dirs_snapshot(repos.root)
    assert after.keys() == before.keys()
    changed = [p for p in before if after[p] != before[p]]
    # The one exception is git's own: any git reading a split index refreshes the time of
    # its shared part (so that it is not pruned); its bytes stay the same.
    assert [os.path.basename(p).split(".")[0] for p in changed] == ["sharedindex"]
    assert all(after[p][0] == before[p][0] for p in changed)
    for ref in refs:
        want = read_status(ref)  # one lstat per tracked and untracked file
        rec = got[ref.path]
        assert rec.error is None and rec.status is not None, ref.path
        assert rec.status.mtime == want.mtime, ref.path
        assert rec.status.mtime is not None


def test_engine_stats_only_the_files_git_did_not_vouch_for(
    repos: RepoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = _aged(repos, "many", files=60)
    touched = _aged(repos, "touched", files=60)
    for p in (touched.path / "d0").iterdir():
        os.utime(p, (time.time() - 10, time.time() - 10))
    stats: list[str] = []
    real = os.lstat

    def counting(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        stats.append(os.fsdecode(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "lstat", counting)
    records = engine_records(
        [RepoRef(str(r.path), str(r.path / ".git"), r.path.name) for r in (clean, touched)]
    )
    assert [r.error for r in records] == [None, None]
    assert not [p for p in stats if p.startswith(str(clean.path))]
    assert not [p for p in stats if p.startswith(str(touched.path))]
    monkeypatch.setattr(os, "lstat", real)
    for rec in records:
        assert rec.status is not None
        assert rec.status.mtime == read_status(rec.ref).mtime


def test_engine_leaves_no_index_copy_behind(
    repos: RepoFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private = tmp_path / "runtime"
    private.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(private))
    made = []
    real_make = batch.make_copy_dir

    def make() -> str | None:
        made.append(real_make())
        return made[-1]

    monkeypatch.setattr(batch, "make_copy_dir", make)
    for i in range(3):
        _aged(repos, f"r{i}")
    refs = list(find_repos([str(repos.root)]))
    assert [r.error for r in engine_records(refs)] == [None] * 3
    assert made and made[0] is not None and made[0].startswith(str(private))
    assert list(private.iterdir()) == []


def test_engine_never_runs_a_configured_fsmonitor(repos: RepoFactory, tmp_path: Path) -> None:
    marker = tmp_path / "fsmonitor-ran"
    hook = tmp_path / "fsmonitor.sh"
    hook.write_text(f"#!/bin/sh\ntouch '{marker}'\nexit 1\n")
    hook.chmod(0o755)
    r = _aged(repos, "fsmon")
    r.git("config", "core.fsmonitor", str(hook))
    r.write("d0/f0.txt", "changed\n")
    (rec,) = engine_records(list(find_repos([str(repos.root)])))
    assert rec.status is not None and rec.status.modified == 1
    assert not marker.exists()


def test_engine_reports_an_index_copy_removed_under_it(
    repos: RepoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = _aged(repos, "vanishing")
    real_env = batch.status_env

    def env_then_remove(ref: RepoRef, index_copy: str | None = None) -> dict[bytes, bytes]:
        if index_copy is not None:
            os.unlink(index_copy)  # as a cleaner of temporary files might
        return real_env(ref, index_copy)

    monkeypatch.setattr(batch, "status_env", env_then_remove)
    (rec,) = engine_records(list(find_repos([str(r.path)])))
    assert rec.status is None and rec.error is not None
    assert "index copy" in rec.error.message and "was removed" in rec.error.message


def test_an_index_with_racy_entries_is_not_copied(repos: RepoFactory, tmp_path: Path) -> None:
    from gitoverit.git.index_copy import copy_index

    fresh = repos.repo("fresh", commits=2)
    # Files and index written in the same second, as in a fresh clone.
    written = (fresh.path / "file.txt").stat().st_mtime
    os.utime(fresh.path / ".git" / "index", (written, written))
    aged = _aged(repos, "aged")
    refs = {ref.path: ref for ref in find_repos([str(repos.root)])}
    assert copy_index(refs[str(fresh.path)], str(tmp_path / "fresh.idx")) is None
    copy = copy_index(refs[str(aged.path)], str(tmp_path / "aged.idx"))
    assert copy is not None and os.path.exists(copy.path)


@pytest.mark.parametrize("setting", ["core.trustctime=false", "core.checkStat=minimal"])
def test_engine_mtime_sees_a_change_within_the_same_second_whatever_stat_checks_are_set(
    repos: RepoFactory, setting: str
) -> None:
    # A file's mtime moved within its recorded second. With either setting, a git that
    # compares whole seconds takes the entry as unchanged; the engine makes git compare
    # ctimes too (a later second here), so that the copy gets refreshed.
    r = _aged(repos, "nsec")
    r.git("config", *setting.split("="))
    f = r.path / "d0" / "f0.txt"
    recorded = f.stat().st_mtime_ns
    time.sleep(1.01 - time.time() % 1)  # the ctime utime sets is in a later second
    os.utime(f, ns=(recorded, recorded - recorded % 1_000_000_000 + 999_999_999))
    (rec,) = engine_records(list(find_repos([str(r.path)])))
    assert rec.status is not None and rec.status.mtime == read_status(rec.ref).mtime
