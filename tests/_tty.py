"""Run the command line with its stdout on a pseudo-terminal of a given width."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_on_terminal(
    *args: str, cwd: Path, columns: int, env: dict[str, str] | None = None, raw: bool = False
) -> tuple[int, list[str]]:
    """``python -m gitoverit ARGS`` with stdout and stderr on a terminal *columns* wide:
    its exit code and the lines it wrote there, without carriage returns, and without
    colour codes unless *raw*."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    full_env = {**os.environ, **(env or {})}
    full_env.pop("COLUMNS", None)
    full_env.pop("LINES", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitoverit", *args],
        cwd=cwd,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the terminal's other end is closed: the child has exited
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    code = proc.wait(timeout=60)
    text = b"".join(chunks).decode("utf-8", "replace")
    if not raw:
        text = _ESCAPE.sub("", text)
    return code, [line.rstrip("\r") for line in text.split("\n") if line.rstrip("\r")]
