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

import pytest

from conftest import RepoFactory, sh
from gitoverit.discovery import find_repos
from gitoverit.git import batch
from gitoverit.git.status import read_status
from gitoverit.model import RepoRecord, RepoRef
from gitoverit.scan import error_from_exception
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
    monkeypatch.setattr(batch._run, "GIT", str(hang))
    refs = [RepoRef(str(repos.repo(f"r{i}").path), "", f"r{i}") for i in range(3)]
    start = time.monotonic()
    records = engine_records(refs, timeout=0.5)
    assert time.monotonic() - start < 3
    assert [r.error.reason.value for r in records if r.error] == ["timeout"] * 3
    assert all("timed out after 0.5s" in r.error.message for r in records if r.error)
    assert not batch._run._LIVE_GROUPS
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
    monkeypatch.setattr(batch._run, "GIT", "git-that-does-not-exist")
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
    )
    assert proc.stdout is not None
    # Interrupt once the scan is under way (a result is out), however slow start-up was.
    first = proc.stdout.readline()
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
    monkeypatch.setattr(batch._run, "GIT", str(wrapper))
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
    monkeypatch.setattr(batch._run, "GIT", str(wrapper))
    engine_cpu = min(allowed)
    monkeypatch.setattr(batch, "_current_cpu", lambda cpus: engine_cpu)
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
