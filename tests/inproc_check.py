"""The differential check of the in-process reader against the git engine."""

from __future__ import annotations

import os
import shlex
import shutil
from dataclasses import replace
from pathlib import Path

from conftest import RepoFactory
from gitoverit.git import inproc
from gitoverit.git.extras import read_lines
from gitoverit.model import RepoRef, RepoStatus


def in_process(ref: RepoRef, *, lines: bool = False) -> RepoStatus:
    """*ref* read in-process, with this process's libgit2 set up as a scan sets it up;
    raises :class:`~gitoverit.git.inproc.NotExact` when it declines."""
    config = inproc.run_config()
    assert config.reason is None, config.reason
    inproc.prepare_libgit2(config)
    return inproc.read_inprocess(ref, lines=lines)


def assert_same_in_process(ref: RepoRef, by_git: RepoStatus) -> str | None:
    """Assert that the in-process reader gives *by_git* for *ref*, line totals included
    (compared with ``git diff``'s), or declines; returns why it declined, if it did."""
    try:
        mine = in_process(ref, lines=True)
    except inproc.NotExact as exc:
        return str(exc)
    if mine.lines_added is not None:
        added, removed = read_lines(ref, by_git, timeout=30)
        lines = (mine.lines_added, mine.lines_removed)
        assert lines == (added, removed), f"{ref.path}: libgit2 {lines}, git {(added, removed)}"
        mine = replace(mine, lines_added=None, lines_removed=None)
    assert mine == by_git, ref.path
    return None


# Whole scans: enough repositories for the workers to start ----------------------------

#: The name every filler repository starts with (they come first in discovery order).
FILLER = "a-fill-"


def add_fillers(f: RepoFactory) -> list[Path]:
    """``readers.FORK_AT`` repositories that come first in discovery order: with them a
    scan starts its in-process workers, which then read what comes after."""
    from gitoverit.git.readers import FORK_AT

    seed = f.repo(f"{FILLER}seed", aux=True)
    paths = []
    for i in range(FORK_AT):
        dest = f.root / f"{FILLER}{i:03d}"
        shutil.copytree(seed.path, dest, symlinks=True)
        paths.append(dest)
    return paths


def slow_filler_git(tmp_path: Path, *, calls: Path | None = None) -> dict[str, str]:
    """An environment whose ``git`` takes 0.2 s over a filler's status (and records each
    call's pid in *calls*, when given): git reads only a few fillers while the workers
    start, so that the repositories after them are the workers'."""
    real = shutil.which("git")
    assert real is not None
    bindir = tmp_path / "slow-git-bin"
    bindir.mkdir()
    record = f'echo "$$" >> {shlex.quote(os.fspath(calls))}\n' if calls is not None else ""
    script = bindir / "git"
    script.write_text(
        "#!/bin/sh\n"
        + record
        + f'case "$PWD $*" in *{FILLER}*) case " $* " in *" status "*) sleep 0.2;; esac;; esac\n'
        + f'exec {shlex.quote(real)} "$@"\n'
    )
    script.chmod(0o755)
    return {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
