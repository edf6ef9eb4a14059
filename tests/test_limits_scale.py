"""Limits that must hold however many repositories a scan covers: open descriptors stay
bounded by the job count (whatever ``ulimit -n`` is), and the outputs that do not need
the records (``-o ndjson``, ``-p``) do not keep them."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import RepoFactory
from gitoverit.commands import _pipeline
from gitoverit.commands._output import OutputPlan, PrintedValues, _compile
from gitoverit.model import DiscoveryDone, RepoDone, RepoRecord, RepoRef, RepoStatus
from gitoverit.output.columns import DEFAULT_COLUMNS
from gitoverit.output.sorting import sort_records

#: More than the in-process reader's threshold (``readers.FORK_AT``), so that its workers
#: start and their descriptors count too.
N_REPOS = 70
#: Descriptors the gitoverit process holds whatever ``-j`` is: stdio (3), the engine's
#: wake-up eventfd (1), the one process start under way at a time (``/dev/null`` and
#: three pipes on both ends: 7, two of which stay), discovery's ``git check-ignore`` and
#: the folder it lists, the files being read, and with the in-process reader the two
#: wake-up eventfds of the git engine beside it and the workers' sockets (one each).
FIXED_FDS = 18
#: Descriptors per job at most (the issue's "about -j x 4").
FDS_PER_JOB = 4


def _many_repos(repos: RepoFactory, n: int) -> Path:
    """*n* repositories under ``repos.root``: copies of one, a few of them dirty."""
    first = repos.repo("r00", commits=2)
    for i in range(1, n):
        dest = repos.root / f"g{i % 4}" / f"r{i:02d}"
        shutil.copytree(first.path, dest, symlinks=True)
        if i % 10 == 3:
            (dest / "untracked.txt").write_text("new\n")
        if i % 10 == 7:
            (dest / "file.txt").write_text("changed\n")
    return repos.root


def _run_sampled(argv: list[str], nofile: int | None) -> tuple[int, str, str, int]:
    """Run *argv* under ``RLIMIT_NOFILE`` *nofile*, counting its open descriptors all the
    while; its exit code, stdout, stderr and the most descriptors it held at once."""

    def limit() -> None:
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=limit,
    )
    # Read the output on threads so that the child never blocks on a full pipe.
    chunks: dict[str, bytes] = {}

    def drain(name: str, stream: Any) -> None:
        chunks[name] = stream.read()

    readers = [
        threading.Thread(target=drain, args=("out", proc.stdout)),
        threading.Thread(target=drain, args=("err", proc.stderr)),
    ]
    for t in readers:
        t.start()
    peak = 0
    fd_dir = f"/proc/{proc.pid}/fd"
    while proc.poll() is None:
        with contextlib.suppress(OSError):
            peak = max(peak, len(os.listdir(fd_dir)))
        time.sleep(0.0005)
    for t in readers:
        t.join()
    return proc.returncode, chunks["out"].decode(), chunks["err"].decode(), peak


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
@pytest.mark.parametrize(("jobs", "nofile"), [(8, 64), (1, None)])
def test_open_descriptors_stay_bounded_by_jobs(
    repos: RepoFactory, jobs: int, nofile: int | None
) -> None:
    root = _many_repos(repos, N_REPOS)
    argv = [sys.executable, "-m", "gitoverit", "--no-progress", "-o", "ndjson", "-j", str(jobs)]
    code, out, err, peak = _run_sampled([*argv, str(root)], nofile)
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    records = [line for line in lines if line["type"] == "repo"]
    assert len(records) == N_REPOS
    assert [r["error"] for r in records if r["error"]] == []
    assert sum(1 for r in records if r["dirty"]) == sum(
        1 for i in range(1, N_REPOS) if i % 10 in (3, 7)
    )
    assert lines[-1]["readers"].get("libgit2", 0) > 0, "the in-process workers read too"
    assert 0 < peak <= FIXED_FDS + FDS_PER_JOB * jobs, f"{peak} descriptors open at -j {jobs}"


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_scan_finishes_under_a_limit_lower_than_the_repo_count(repos: RepoFactory) -> None:
    """``ulimit -n 32`` and 60 repos at the default job count: no error from the limit."""
    root = _many_repos(repos, N_REPOS)
    argv = [sys.executable, "-m", "gitoverit", "--no-progress", "-o", "ndjson", str(root)]
    code, out, err, _peak = _run_sampled([*argv], 32)
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    repo_lines = [x for x in lines if x.get("type") == "repo"]
    assert len(repo_lines) == N_REPOS
    assert [x["error"] for x in repo_lines if x["error"]] == []


# --------------------------------------------------------------------------- memory


class _Record(RepoRecord):
    """A record a weak reference can follow (slotted records have no ``__weakref__``)."""

    __slots__ = ("__weakref__",)


class _FakeScan:
    """Yields *n* records, watching which of them are still alive after the last one."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.refs: list[weakref.ref[_Record]] = []
        self.alive_at_end = -1

    def events(self) -> Iterator[Any]:
        for i in range(self.n):
            path = f"/scan/g{i % 7}/repo{i:04d}"
            status = RepoStatus(
                branch="main",
                head=f"{i:040x}",
                staged=0,
                modified=i % 3,
                deleted=0,
                untracked=i % 2,
                conflicted=0,
                stashes=0,
                mtime=float(1_700_000_000 + (i * 7919) % 1000),
                remote_url=f"https://example.com/team/repo{i}.git",
            )
            rec = _Record(RepoRef(path, path + "/.git", f"g{i % 7}/repo{i:04d}"), status)
            self.refs.append(weakref.ref(rec))
            yield RepoDone(rec)
            del rec
        yield DiscoveryDone(self.n)
        self.alive_at_end = sum(1 for r in self.refs if r() is not None)

    def stop(self) -> None:
        pass

    def found(self) -> list[RepoRef]:
        return []


def _plan(fmt: str, print_expr: str | None = None, **kw: Any) -> OutputPlan:
    values: dict[str, Any] = {
        "fmt": fmt,
        "sort_key": "mtime",
        "reverse": False,
        "columns": DEFAULT_COLUMNS,
        "where": None,
        "print_expr": None if print_expr is None else _compile("--print", print_expr),
        "null_sep": False,
        "dirty_only": False,
        "show_errors": False,
        "no_progress": True,
    }
    values.update(kw)
    return OutputPlan(**values)


def _alive_after_scan(
    monkeypatch: pytest.MonkeyPatch, plan: OutputPlan, n: int = 400
) -> tuple[int, int]:
    scan = _FakeScan(n)
    monkeypatch.setattr(_pipeline, "_build", lambda *_a, **_k: (scan, None, False))
    code = _pipeline.run_pipeline(None, None, plan)
    return code, scan.alive_at_end


@pytest.mark.parametrize(
    ("fmt", "expr"), [("ndjson", None), ("table", "path"), ("table", "dir + ' ' + branch")]
)
def test_records_are_not_kept_when_the_output_does_not_need_them(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
    expr: str | None,
) -> None:
    code, alive = _alive_after_scan(monkeypatch, _plan(fmt, expr))
    out = capsys.readouterr().out
    assert code == 0
    # The last event may still be referenced by the loop that took it in; no more.
    assert alive <= 1, f"{alive} of 400 records still alive at the end of the scan"
    # NDJSON adds its discovery and summary lines.
    assert len(out.splitlines()) == 400 + (2 if fmt == "ndjson" else 0)


def test_json_keeps_the_records_it_sorts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The probe itself: JSON needs every record until the end, and it has them."""
    code, alive = _alive_after_scan(monkeypatch, _plan("json"))
    assert code == 0
    assert alive == 400
    assert len(json.loads(capsys.readouterr().out)) == 400


@pytest.mark.parametrize("key", ["mtime", "name", "status", "none"])
@pytest.mark.parametrize("reverse", [False, True])
def test_printed_values_come_in_the_order_of_the_sorted_records(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], key: str, reverse: bool
) -> None:
    plan = _plan("table", "path", sort_key=key, reverse=reverse)
    records = list(e.record for e in _FakeScan(50).events() if isinstance(e, RepoDone))
    printed = PrintedValues(plan)
    for rec in records:
        printed.add(rec)
    printed.write()
    want = [r.ref.path for r in sort_records(records, key, reverse)]
    assert capsys.readouterr().out.splitlines() == want
