"""The differential check of the in-process reader against the git engine."""

from __future__ import annotations

from dataclasses import replace

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
