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
