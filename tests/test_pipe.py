"""A reader that closes the pipe (``gito -o ndjson | head -1``) ends the scan quietly:
exit 0, no traceback, whatever the output format."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import RepoFactory


@pytest.mark.parametrize(
    "args",
    [["-o", "ndjson"], ["-o", "json"], ["-o", "table"], ["-p", "path"], ["-p", "path", "-0"]],
)
def test_a_closed_pipe_ends_quietly(repos: RepoFactory, args: list[str]) -> None:
    for i in range(12):
        repos.repo(f"r{i:02}", commits=1)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitoverit", "--no-progress", *args, str(repos.root)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "Exception ignored" not in err


def test_a_pipe_closed_mid_scan_ends_the_in_process_readers_too(repos: RepoFactory) -> None:
    """A scan big enough for the in-process workers: the reader takes one line and goes;
    gitoverit exits 0, quietly, and no worker or git of it is left."""
    from inproc_check import add_fillers
    from test_actions import wait_no_procs

    add_fillers(repos)
    for i in range(40):
        repos.repo(f"r{i:02}", commits=1)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitoverit", "--no-progress", "-o", "ndjson", str(repos.root)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        assert proc.stdout.readline().startswith(b'{"type":')
        proc.stdout.close()
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Traceback" not in err and "Exception ignored" not in err
    assert wait_no_procs(str(repos.root)) == [], "a worker or a git outlived gitoverit"
