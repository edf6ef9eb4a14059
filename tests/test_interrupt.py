"""Ctrl-C during network work: prompt exit 130, every repo reported once, nothing left.

``gitoverit`` runs as a real subprocess in its own session, so SIGINT can go to the process
alone or to its whole process group, as a terminal would send it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import RepoFactory, sh
from test_actions import (
    by_name,
    lock_files,
    log_starts,
    procs_matching,
    unique_marker,
    uploadpack_wrapper,
    wait_no_procs,
)

FAST = ("a-fast0", "a-fast1")
SLOW = tuple(f"b-slow{i}" for i in range(6))


@dataclass
class Run:
    proc: subprocess.Popen[bytes]
    log: Path
    marker: str
    tmp: Path


def _ignore_sigterm() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def start_run(
    repos: RepoFactory,
    tmp_path: Path,
    fmt: str,
    *,
    ignore_term: bool = False,
    stdout: int = subprocess.PIPE,
) -> Run:
    """Start ``gitoverit -f`` over 2 fast and 6 hanging repos with 4 network slots, and
    return once both fast repos are done and 4 hanging fetches are in flight.

    With *ignore_term*, gitoverit (so every git it starts) and the hanging upload-pack
    ignore SIGTERM: only SIGKILL stops them."""
    log = tmp_path / "uploadpack.log"
    marker = unique_marker("30.")
    for name in FAST:
        repos.remote_and_clone(name)
    for name in SLOW:
        _remote, clone = repos.remote_and_clone(name)
        uploadpack_wrapper(clone, log, sleep=marker, ignore_term=ignore_term)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitoverit", "-f", "--net-jobs", "4", "-o", fmt, str(repos.root)],
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_ignore_sigterm if ignore_term else None,
        env={**os.environ, "COLUMNS": "400"},
    )
    end = time.monotonic() + 15
    while len(log_starts(log)) < 4:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, "the hanging fetches never started"
        time.sleep(0.02)
    # The fast repos took the first slots (discovery is sorted) and have finished, since
    # their slots now hold hanging fetches; give the main thread a moment to record them.
    time.sleep(0.3)
    return Run(proc, log, marker, tmp_path)


def interrupt(run: Run, *, group: bool = False) -> tuple[int, bytes, bytes, float]:
    """Send SIGINT; returns (exit code, stdout, stderr, seconds from signal to exit)."""
    start = time.monotonic()
    if group:
        os.killpg(run.proc.pid, signal.SIGINT)
    else:
        run.proc.send_signal(signal.SIGINT)
    try:
        out, err = run.proc.communicate(timeout=10)
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
    return run.proc.returncode, out, err, time.monotonic() - start


def assert_nothing_left(run: Run) -> None:
    left_sleep = wait_no_procs(run.marker)
    left_git = wait_no_procs(str(run.tmp))
    for pid in {*left_sleep, *left_git}:  # never leak them past this test
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    assert left_sleep == [], "a hanging upload-pack outlived gitoverit"
    assert left_git == [], "a git process outlived gitoverit"
    assert lock_files(run.tmp) == []


def assert_every_repo_once(records: list[dict[str, object]]) -> None:
    recs = by_name(records)  # type: ignore[arg-type]
    assert set(recs) == {*FAST, *SLOW}
    for name in FAST:
        assert recs[name]["error"] is None and recs[name]["fetched"] is True, recs[name]
    for name in SLOW:
        err = recs[name]["error"]
        assert isinstance(err, dict) and err["reason"] == "interrupted", recs[name]
        assert recs[name]["outcome"] == "interrupted"
    # Four hanging fetches held the four slots: the other two never started.
    notes = sorted(str(recs[name]["note"]) for name in SLOW)
    assert notes == ["None"] * 4 + ["not started"] * 2, notes


@pytest.mark.parametrize("group", [False, True], ids=["process", "group"])
def test_ctrl_c_json_reports_every_repo_and_exits_130_quickly(
    repos: RepoFactory, tmp_path: Path, group: bool
) -> None:
    run = start_run(repos, tmp_path, "json")
    code, out, err, elapsed = interrupt(run, group=group)
    assert code == 130, err
    assert elapsed < 2.0, f"exit took {elapsed:.2f}s"
    assert_every_repo_once(json.loads(out))
    last = err.splitlines()[-1].decode()
    assert last.endswith("0 errors, 4 stopped, 2 not started (interrupted)"), last
    assert_nothing_left(run)


def test_ctrl_c_ndjson_ends_with_an_interrupted_summary(repos: RepoFactory, tmp_path: Path) -> None:
    run = start_run(repos, tmp_path, "ndjson")
    code, out, _err, elapsed = interrupt(run)
    assert code == 130 and elapsed < 2.0
    lines = [json.loads(ln) for ln in out.splitlines()]
    assert lines[-1]["type"] == "summary" and lines[-1]["interrupted"] is True
    assert lines[-1]["repos"] == len(FAST) + len(SLOW)
    assert (lines[-1]["errors"], lines[-1]["stopped"], lines[-1]["not_started"]) == (0, 4, 2)
    assert_every_repo_once([ln for ln in lines[:-1] if ln["type"] == "repo"])
    assert_nothing_left(run)


def test_ctrl_c_table_shows_what_ran_and_counts_what_never_started(
    repos: RepoFactory, tmp_path: Path
) -> None:
    run = start_run(repos, tmp_path, "table")
    code, out, err, elapsed = interrupt(run, group=True)
    assert code == 130 and elapsed < 2.0
    rows = [ln for ln in out.decode().splitlines() if "/work/" in ln]
    # The repos that never started get no empty row: the summary counts them, not as
    # errors.
    assert len(rows) == len(FAST) + 4, rows
    for name in FAST:
        assert sum(f"/work/{name} " in r and "✓" in r for r in rows) == 1, rows
    assert sum("✗ interrupted" in r for r in rows) == 4, rows
    assert (
        err.splitlines()[-1].decode().endswith("0 errors, 4 stopped, 2 not started (interrupted)")
    )
    assert_nothing_left(run)


def test_ctrl_c_table_on_a_terminal_says_how_many_never_started(
    repos: RepoFactory, tmp_path: Path
) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    try:
        run = start_run(repos, tmp_path, "table", stdout=slave)
        os.close(slave)
        code, _out, err, _elapsed = interrupt(run, group=True)
        shown = b""
        with contextlib.suppress(OSError):
            while chunk := os.read(master, 65536):
                shown += chunk
    finally:
        os.close(master)
    assert code == 130
    lines = [
        ln.strip() for ln in re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", shown).decode().splitlines()
    ]
    assert sum("/work/" in ln for ln in lines) == len(FAST) + 4, lines
    # Below the table, with the legend, on stderr: stdout carries data only.
    assert "2 repos not started" in err.decode().splitlines(), err
    assert_nothing_left(run)


def test_ctrl_c_kills_in_flight_git_that_ignores_sigterm(
    repos: RepoFactory, tmp_path: Path
) -> None:
    """In-flight git and its helpers ignore SIGTERM; the interrupt escalates to SIGKILL."""
    run = start_run(repos, tmp_path, "json", ignore_term=True)
    code, out, err, elapsed = interrupt(run)
    assert code == 130, err
    assert elapsed < 2.0, f"exit took {elapsed:.2f}s"
    assert_every_repo_once(json.loads(out))
    assert_nothing_left(run)


def test_second_ctrl_c_exits_at_once_and_leaves_nothing_running(
    repos: RepoFactory, tmp_path: Path
) -> None:
    """While the first Ctrl-C waits for in-flight git processes that ignore SIGTERM, a
    second one exits at once; it must still kill every process group it started."""
    run = start_run(repos, tmp_path, "json", ignore_term=True)
    run.proc.send_signal(signal.SIGINT)
    time.sleep(0.15)
    assert run.proc.poll() is None, "the first Ctrl-C is still waiting for its children"
    code, _out, _err, elapsed = interrupt(run)
    assert code == 130
    assert elapsed < 0.5, f"second Ctrl-C took {elapsed:.2f}s"
    assert_nothing_left(run)


def _children(pid: int) -> list[int]:
    """The live child processes of *pid*."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def _is_gitoverit(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return b"gitoverit" in fh.read()
    except OSError:
        return False


def test_ctrl_c_during_a_scan_ends_the_in_process_readers(
    repos: RepoFactory, tmp_path: Path
) -> None:
    """A scan big enough for the in-process workers, held open by one repository whose
    git hangs: Ctrl-C to the process group exits 130 at once and leaves no worker and no
    git behind."""
    from inproc_check import add_fillers

    add_fillers(repos)
    repos.repo("z-hang", commits=1)
    marker = unique_marker("30.")
    real = sh("sh", "-c", "command -v git")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "git").write_text(
        "#!/bin/sh\n"
        f'case "$PWD $*" in *z-hang*) case " $* " in *" status "*) sleep {marker};; esac;; esac\n'
        f'exec {real} "$@"\n'
    )
    (bindir / "git").chmod(0o755)
    # The hanging repository is read by git either way: its attributes send it there.
    (repos.root / "z-hang" / ".gitattributes").write_text("* text\n")
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitoverit", "--no-progress", "-o", "ndjson", str(repos.root)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env=env,
    )
    try:
        end = time.monotonic() + 20
        workers: list[int] = []
        while not (workers and procs_matching(marker)):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < end, "no worker, or the hanging git never started"
            workers = [p for p in _children(proc.pid) if _is_gitoverit(p)]
            time.sleep(0.05)
        start = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        elapsed = time.monotonic() - start
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert elapsed < 5, elapsed
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[-1]["type"] == "summary"
    for pid in workers:
        with pytest.raises(ProcessLookupError):  # ended and reaped
            os.kill(pid, 0)
    assert wait_no_procs(marker) == [], "the hanging git outlived gitoverit"
