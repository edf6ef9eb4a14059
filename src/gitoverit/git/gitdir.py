"""What a repository's git dir says in plain files, read without a git process.

The operation left in progress (marker files, :func:`detect_operation`), the remote URL
(the config file, :func:`remote_url` and :func:`read_remote_url`), the stash count (the
stash reflog, :func:`count_stashes`) and the length of object names (:func:`hash_len`).

The remote URL is the first ``url`` of the current branch's ``branch.<name>.remote``; for
a detached HEAD, a branch without upstream, or a local upstream (remote ``.``) it is the
URL of ``origin``, git's default remote. ``include``/``includeIf`` and
``url.<base>.insteadOf`` are not applied, so the URL is shown as configured in the
repository.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from gitoverit.git.files import read_bytes
from gitoverit.git.gitconfig import ConfigEntry, _get, common_dir, read_config
from gitoverit.model import Operation
from gitoverit.text import redact_url


def detect_operation(git_dir: str, names: Iterable[str] | None = None) -> Operation | None:
    """The multi-step operation left in progress, read from marker files in *git_dir*
    (whose entries are *names*, when the caller has listed them already).

    For a linked worktree *git_dir* is that worktree's own git dir, where these
    per-worktree files live. When several apply, the outermost wins: rebase, merge,
    cherry-pick, revert, bisect.
    """
    if names is None:
        try:
            names = os.listdir(git_dir)
        except OSError:
            return None
    names = set(names)
    if "rebase-merge" in names or "rebase-apply" in names:
        return Operation.REBASE
    if "MERGE_HEAD" in names:
        return Operation.MERGE
    if "CHERRY_PICK_HEAD" in names:
        return Operation.CHERRY_PICK
    if "REVERT_HEAD" in names:
        return Operation.REVERT
    if "sequencer" in names:
        # A multi-commit cherry-pick or revert between steps: the todo list names it.
        op = _sequencer_operation(os.path.join(git_dir, "sequencer", "todo"))
        if op is not None:
            return op
    if "BISECT_LOG" in names:
        return Operation.BISECT
    return None


def _sequencer_operation(todo: str) -> Operation | None:
    try:
        with open(todo, "rb") as fh:
            lines = fh.read(4096).splitlines()
    except OSError:
        return None
    for line in lines:
        word = line.split(None, 1)[0] if line.strip() else b""
        if not word or word.startswith(b"#"):
            continue
        if word in (b"pick", b"p"):
            return Operation.CHERRY_PICK
        if word == b"revert":
            return Operation.REVERT
        return None
    return None


def remote_url(
    entries: Sequence[ConfigEntry], branch: str | None, upstream: str | None
) -> str | None:
    """The redacted URL of the remote that *branch* (whose upstream is *upstream*) pulls
    from, according to the config *entries*; ``None`` when it has none."""
    url = configured_remote_url(entries, branch, upstream)
    return redact_url(url) if url is not None else None


def configured_remote_url(
    entries: Sequence[ConfigEntry], branch: str | None, upstream: str | None
) -> str | None:
    """The URL of the remote that *branch* (whose upstream is *upstream*) pulls from, as
    the config *entries* give it (credentials included); ``None`` when it has none."""
    remotes = {e.subsection for e in entries if e.section == "remote" and e.subsection is not None}
    name: str | None = None
    if branch is not None:
        name = _get(entries, "branch", branch, "remote")
        if name is not None and name != "." and name not in remotes:
            # branch.<name>.remote may itself be a URL or a path.
            return name
    if (name is None or name == ".") and upstream is not None:
        # Longest configured remote name that prefixes the upstream ("a/b" before "a").
        for candidate in sorted(remotes, key=len, reverse=True):
            if upstream.startswith(candidate + "/"):
                name = candidate
                break
    if name is None or name == "." or name not in remotes:
        name = "origin"
    return _get(entries, "remote", name, "url")


def read_remote_url(git_dir: str, remote_name: str = "origin") -> str | None:
    """The fetch URL of *remote_name*, read from the config file (no process), redacted
    and on one line; ``None`` when that remote has no URL.
    """
    url = _get(read_config(git_dir), "remote", remote_name, "url")
    return redact_url(url) if url is not None else None


def hash_len(entries: Sequence[ConfigEntry]) -> int:
    """The length in bytes of an object name in the repository configured by *entries*."""
    fmt = _get(entries, "extensions", None, "objectformat")
    return 32 if fmt is not None and fmt.lower() == "sha256" else 20


def count_stashes(git_dir: str) -> int:
    """The number of stash entries (0 when the stash reflog cannot be read)."""
    # refs/stash is shared by all worktrees; each stash entry is one reflog line.
    try:
        return read_bytes(os.path.join(common_dir(git_dir), "logs", "refs", "stash")).count(b"\n")
    except OSError:
        return 0
