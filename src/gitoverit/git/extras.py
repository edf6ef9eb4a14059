"""What a status does not say and some outputs ask for: line totals and the committer.

``lines``: what ``git diff HEAD --numstat`` counts, lines added and removed in the
tracked files (binary files count 0), against the empty tree when HEAD is unborn. A
repository with no tracked change has 0 of each, and no git runs for it.

``branches``: how many local branches other than the one HEAD points at are ahead of
their upstream or have none configured (``branches_ahead``), from one ``git
for-each-ref``. A branch whose upstream is configured but gone is not counted: as for
``gitob -w 'ahead > 0 or upstream is None'``, git cannot say it holds unpushed work.

``ident``: the committer identity a commit in the repository would get, ``Name
<email>``, as ``git var GIT_COMMITTER_IDENT`` gives it without the date, with includes
and ``includeIf`` applied. It is asked of git once per run outside any repository, and
again in a repository only when the answer can differ there: the user's configuration
has an ``includeIf``, or the repository's own configuration sets ``user``, ``author``,
``committer`` or includes another file.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from dataclasses import replace
from typing import Any

from gitoverit.errors import CommandError
from gitoverit.git.command import READ_ONLY_CONFIG, git
from gitoverit.git.repo_filters import NO_GUARD, filter_guard, own_config_bytes
from gitoverit.git.repo_git import git_checked, status_env
from gitoverit.model import RepoRecord, RepoRef, RepoStatus

#: The names of the extras a scan can be asked for.
EXTRAS = frozenset({"lines", "ident", "files", "branches"})

_BRANCHES_FORMAT = "--format=%(HEAD)%00%(upstream)%00%(upstream:track)"
_AHEAD = re.compile(rb"\bahead [1-9]")

_DIFF_ARGS = (
    "--numstat",
    "-z",
    "--no-textconv",
    "--no-ext-diff",
    "--no-color",
    "--ignore-submodules=dirty",
)


def has_tracked_changes(st: RepoStatus) -> bool:
    """Whether the status shows a change to a tracked file (else its line totals are 0)."""
    return bool(st.staged or st.unstaged_modified or st.unstaged_deleted or st.conflicted)


def read_lines(
    ref: RepoRef, st: RepoStatus, *, timeout: float, trust: bool = False
) -> tuple[int, int]:
    """Lines added and removed in the tracked files of *ref* since HEAD (see module)."""
    if not has_tracked_changes(st):
        return 0, 0
    guard = NO_GUARD if trust else filter_guard(ref)
    base = "HEAD"
    if st.head is None:
        # Unborn: against the empty tree, named in the repository's own hash.
        tree = git_checked(ref, "hash-object", "-t", "tree", os.devnull, timeout=timeout)
        base = tree.decode("ascii").strip()
    out = git_checked(
        ref, *READ_ONLY_CONFIG, *guard.args, "diff", base, *_DIFF_ARGS, timeout=timeout
    )
    return parse_numstat(out)


def read_files(
    ref: RepoRef, st: RepoStatus, *, timeout: float, trust: bool = False
) -> tuple[tuple[str, str], ...]:
    """The changed paths of *ref*, each ``(XY, path)`` as ``git status --short`` shows
    them (untracked folders once, as the status counts them)."""
    if not st.dirty:
        return ()
    guard = NO_GUARD if trust else filter_guard(ref)
    out = git_checked(
        ref,
        *READ_ONLY_CONFIG,
        *guard.args,
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=normal",
        "--ignore-submodules=dirty",
        timeout=timeout,
    )
    files: list[tuple[str, str]] = []
    fields = out.split(b"\0")
    i = 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if len(entry) < 4:
            continue
        code = entry[:2].decode("ascii", "replace")
        files.append((code, os.fsdecode(entry[3:])))
        if code[0] in "RC":
            i += 1  # the original path of a rename or copy follows
    return tuple(files)


def read_branches_ahead(ref: RepoRef, *, timeout: float) -> int:
    """How many local branches of *ref*, other than the one its HEAD points at, are ahead
    of their upstream or have none configured (see module)."""
    out = git_checked(ref, "for-each-ref", _BRANCHES_FORMAT, "refs/heads", timeout=timeout)
    return count_branches_ahead(out)


def count_branches_ahead(data: bytes) -> int:
    """The count of :func:`read_branches_ahead` from its ``git for-each-ref`` output."""
    count = 0
    for line in data.splitlines():
        head, _, rest = line.partition(b"\0")
        upstream, _, track = rest.partition(b"\0")
        if head == b"*":
            continue
        if not upstream or _AHEAD.search(track):
            count += 1
    return count


def parse_numstat(data: bytes) -> tuple[int, int]:
    """Totals of ``git diff --numstat -z`` output; a binary file (``-``) counts 0."""
    added = removed = 0
    fields = data.split(b"\0")
    i = 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if not entry:
            continue
        parts = entry.split(b"\t", 2)
        if len(parts) < 3:
            continue
        if parts[2] == b"":
            i += 2  # a rename: the old and new paths follow as fields of their own
        if parts[0].isdigit():
            added += int(parts[0])
        if parts[1].isdigit():
            removed += int(parts[1])
    return added, removed


_DATE = re.compile(rb" \d+ [+-]\d{4}\s*$")
#: A section of a repository's own config that can change the identity: ``[user]``,
#: ``[author]``, ``[committer]``, or an ``[include]``/``[includeIf ...]`` of another file.
_IDENT_SECTION = re.compile(rb"^[ \t]*\[[ \t]*(?:user|author|committer|include(?:if)?)\b", re.M)
_lock = threading.Lock()


def _new_lock() -> None:
    """In a forked process (a reader worker): a lock of its own, since the thread that
    held the inherited one, if any, is not there."""
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock)

_USER: dict[tuple[str, ...], tuple[str | None, bool]] = {}
_USER_ENV = (
    "HOME",
    "XDG_CONFIG_HOME",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "EMAIL",
)


def read_ident(ref: RepoRef, *, timeout: float) -> str | None:
    """The committer identity of a commit made in *ref*, or ``None`` when git has none
    (``user.useConfigOnly`` without a name, say)."""
    known, ident = known_ident(ref, timeout=timeout)
    return ident if known else _var(ref.path, status_env(ref), timeout)


def known_ident(ref: RepoRef, *, timeout: float) -> tuple[bool, str | None]:
    """``(True, ident)`` when *ref*'s identity is the one outside any repository, known
    without running git in it; else ``(False, None)``: :func:`read_ident` must ask."""
    outside, conditional = user_ident(timeout)
    # One read of the repository's config, no parse: this runs for every repository.
    if conditional or _IDENT_SECTION.search(own_config_bytes(ref.git_dir)):
        return False, None
    return True, outside


def with_extras(
    record: RepoRecord, extras: frozenset[str], *, timeout: float, trust: bool = False
) -> RepoRecord:
    """*record* with the *extras* it lacks filled in; a field git could not give stays
    ``None``. Never raises."""
    st = record.status
    if st is None:
        return record
    changes: dict[str, Any] = {}
    try:
        if "lines" in extras and st.lines_added is None and st.dirty is not None:
            changes["lines_added"], changes["lines_removed"] = read_lines(
                record.ref, st, timeout=timeout, trust=trust
            )
        if "ident" in extras and st.ident is None:
            changes["ident"] = read_ident(record.ref, timeout=timeout)
        if "files" in extras and st.files is None and st.dirty is not None:
            changes["files"] = read_files(record.ref, st, timeout=timeout, trust=trust)
    except (CommandError, OSError):
        pass
    if "branches" in extras and st.branches_ahead is None:
        with contextlib.suppress(CommandError, OSError):
            changes["branches_ahead"] = read_branches_ahead(record.ref, timeout=timeout)
    return replace(record, status=replace(st, **changes)) if changes else record


def extras_in_process(
    record: RepoRecord, extras: frozenset[str], *, timeout: float
) -> tuple[RepoRecord, bool]:
    """*record* with what needs no git run in its repository filled in, and whether
    :func:`with_extras` must still run for it."""
    st = record.status
    if st is None:
        return record, False
    changes: dict[str, Any] = {}
    pending = False
    if "lines" in extras and st.dirty is not None and st.lines_added is None:
        if has_tracked_changes(st):
            pending = True
        else:
            changes["lines_added"] = changes["lines_removed"] = 0
    if "files" in extras and st.dirty is not None:
        if st.dirty:
            pending = True
        else:
            changes["files"] = ()
    if "ident" in extras and st.ident is None:
        try:
            known, ident = known_ident(record.ref, timeout=timeout)
        except OSError:
            known, ident = True, None
        if known:
            changes["ident"] = ident
        else:
            pending = True
    if "branches" in extras and st.branches_ahead is None:
        pending = True
    if changes:
        record = replace(record, status=replace(st, **changes))
    return record, pending


def user_ident(timeout: float) -> tuple[str | None, bool]:
    """The identity outside any repository, and whether the user's configuration has an
    ``includeIf`` (then it can differ from one repository to another). Cached per
    environment."""
    key = tuple(os.environ.get(k, "") for k in _USER_ENV)
    with _lock:
        cached = _USER.get(key)
        if cached is None:
            try:
                found = git("config", "--get-regexp", r"^includeif\.", cwd=os.sep, check=False)
                conditional = found.returncode == 0 and bool(found.stdout.strip())
            except CommandError:
                conditional = True
            cached = _USER[key] = (_var(os.sep, None, timeout), conditional)
    return cached


def _var(cwd: str, env: dict[bytes, bytes] | None, timeout: float) -> str | None:
    try:
        result = git("var", "GIT_COMMITTER_IDENT", cwd=cwd, env=env, check=False, timeout=timeout)
    except CommandError:
        return None
    if result.returncode != 0:
        return None
    return _DATE.sub(b"", result.stdout.strip()).decode("utf-8", "surrogateescape")
