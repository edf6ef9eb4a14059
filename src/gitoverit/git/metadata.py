"""A repository's metadata alone (``--metadata-only``), never looking at the work tree.

Branch, head and stash count come from files in the git dir, and upstream plus
ahead/behind from a single ``git for-each-ref refs/heads/<branch>`` (no process at all for
a detached HEAD). A HEAD this reader does not understand (reftable, garbage) is left to
git: the branch headers of a ``git status`` (:func:`metadata_via_status`).

:func:`status_of` also builds the branch part of a full status's record.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

from gitoverit.git.command import READ_ONLY_CONFIG
from gitoverit.git.gitconfig import ConfigEntry, _get, read_config
from gitoverit.git.gitdir import count_stashes, detect_operation, hash_len, remote_url
from gitoverit.git.porcelain import ParsedStatus, parse_output
from gitoverit.git.repo_filters import NO_GUARD, filter_guard
from gitoverit.git.repo_git import git_checked
from gitoverit.git.tracked import count_gitlinks
from gitoverit.model import RepoRef, RepoStatus

_HEX_OID = re.compile(rb"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_TRACK = re.compile(r"(ahead|behind) (\d+)")


def read_metadata(ref: RepoRef, timeout: float, *, trust: bool = False) -> RepoStatus:
    """*ref*'s branch, head, upstream, stashes, operation, submodule count and remote URL;
    the work-tree counts and ``mtime`` are ``None``. *trust* lets the repository's own
    filter commands run, should git have to read the status (see :mod:`.repo_filters`)."""
    config = read_config(ref.git_dir)
    refstorage = _get(config, "extensions", None, "refstorage")
    try:
        with open(os.path.join(ref.git_dir, "HEAD"), "rb") as fh:
            head = fh.read(512).strip()
    except OSError:
        head = b""
    branch: str | None = None
    oid: str | None = None
    upstream: str | None = None
    ahead: int | None = None
    behind: int | None = None
    gone = False
    if head.startswith(b"ref:") and refstorage in (None, "files"):
        full = os.fsdecode(head[4:].strip())
        branch = full.removeprefix("refs/heads/")
        out = git_checked(
            ref,
            "for-each-ref",
            "--format=%(refname)%00%(objectname)%00%(upstream:short)%00%(upstream:track,nobracket)",
            full,
            timeout=timeout,
        )
        for line in out.split(b"\n"):
            fields = line.split(b"\0")
            if len(fields) != 4 or os.fsdecode(fields[0]) != full:
                continue
            oid = fields[1].decode("ascii", "replace")
            if fields[2]:
                upstream = fields[2].decode("utf-8", "surrogateescape")
                track = fields[3].decode("ascii", "replace")
                if track == "gone":
                    gone = True
                else:
                    counts = dict(_TRACK.findall(track))
                    ahead = int(counts.get("ahead", 0))
                    behind = int(counts.get("behind", 0))
    elif _HEX_OID.fullmatch(head):
        oid = head.decode("ascii")
    else:
        # Something this reader does not understand (reftable, garbage HEAD): ask git,
        # header lines only; this also turns a broken repository into git's own error.
        return metadata_via_status(ref, config, timeout, trust=trust)
    return RepoStatus(
        branch=branch,
        head=oid,
        detached=branch is None,
        upstream=upstream,
        upstream_gone=gone,
        ahead=ahead,
        behind=behind,
        stashes=count_stashes(ref.git_dir),
        operation=detect_operation(ref.git_dir),
        submodules=count_gitlinks(ref, hash_len=hash_len(config), timeout=timeout),
        remote_url=remote_url(config, branch, upstream),
    )


_HEADERS_ARGS = (
    "status",
    "--porcelain=v2",
    "--branch",
    "-z",
    "--show-stash",
    "--untracked-files=no",
    "--ahead-behind",
    "--ignore-submodules=all",
)


def metadata_via_status(
    ref: RepoRef, config: Sequence[ConfigEntry], timeout: float, *, trust: bool = False
) -> RepoStatus:
    """:func:`read_metadata` from the branch headers of a ``git status``
    (:data:`_HEADERS_ARGS`), for a HEAD :func:`read_metadata` cannot read itself. git
    still refreshes the tracked files' stat data, so the repository's own filter commands
    and hooks are kept from running as in a full status."""
    guard = NO_GUARD if trust else filter_guard(ref)
    out = git_checked(ref, *READ_ONLY_CONFIG, *guard.args, *_HEADERS_ARGS, timeout=timeout)
    return status_of(
        parse_output(out, _HEADERS_ARGS),
        config,
        operation=detect_operation(ref.git_dir),
        submodules=count_gitlinks(ref, hash_len=hash_len(config), timeout=timeout),
    )


def status_of(parsed: ParsedStatus, config: Sequence[ConfigEntry], **rest: Any) -> RepoStatus:
    """The :class:`RepoStatus` of *parsed*'s branch headers and stash count, the remote URL
    from *config*, and the fields in *rest*."""
    return RepoStatus(
        branch=parsed.branch,
        head=parsed.oid,
        detached=parsed.detached,
        upstream=parsed.upstream,
        upstream_gone=parsed.upstream_gone,
        ahead=parsed.ahead,
        behind=parsed.behind,
        stashes=parsed.stashes,
        remote_url=remote_url(config, parsed.branch, parsed.upstream),
        **rest,
    )
