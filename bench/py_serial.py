"""A minimal serial loop in Python: the least any Python tool pays to run one command per
repository, one at a time.

Reads NUL-separated work trees on stdin; for each runs ``git -C DIR ARGS...`` (the
arguments after ``--``) with ``os.posix_spawnp``, reads its output through a pipe and waits
for it. Nothing is parsed and nothing is printed. ``bench/run.py`` runs it beside the
serial shell loop and ``gitoverit -j 1``.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    env = os.environ.copy()
    devnull = os.open(os.devnull, os.O_WRONLY)
    for path in sys.stdin.buffer.read().split(b"\0"):
        if not path:
            continue
        r, w = os.pipe()
        pid = os.posix_spawnp(
            "git",
            ["git", "-C", os.fsdecode(path), *args],
            env,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, w, 1),
                (os.POSIX_SPAWN_DUP2, devnull, 2),
            ],
        )
        os.close(w)
        while os.read(r, 65536):
            pass
        os.close(r)
        os.waitpid(pid, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
