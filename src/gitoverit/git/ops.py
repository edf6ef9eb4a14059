"""Network and write operations: fetch, safe pull, safe push, clone.

The safety rules live here, in :func:`pull_blocker` and :func:`push_blocker`, as pure
functions of a :class:`~gitoverit.model.RepoStatus`:

- pull is a fast-forward only (``git merge --ff-only @{u}`` after our own fetch), and only
  on a branch that is behind and not ahead, with an upstream that exists, no operation in
  progress, and no staged, modified, deleted or conflicted paths. Untracked files do not
  block a pull: git refuses to overwrite them itself.
- push never forces: ``git push <remote> refs/heads/<branch>:<upstream ref>``, only for a
  branch (not a detached HEAD) that is ahead and not behind its existing upstream, with the
  same clean-worktree rule. The remote rejects anything that is not a fast-forward.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from gitoverit.git._run import NETWORK_TIMEOUT, GitError, git, network_env
from gitoverit.model import RepoRef, RepoStatus

ProgressCallback = Callable[[str], None]


def fetch(
    ref: RepoRef, *, timeout: float = NETWORK_TIMEOUT, on_progress: ProgressCallback | None = None
) -> None:
    """Fetch every remote with ``--prune``. Raises a ``GitError`` subclass on failure."""
    args = ["fetch", "--all", "--prune"]
    if on_progress is not None:
        args.append("--progress")
    git(
        *args,
        cwd=ref.path,
        read_only=False,
        timeout=timeout,
        on_progress=on_progress,
        env=network_env(ref.path),
    )


def _clean_worktree(st: RepoStatus) -> str | None:
    if st.operation is not None:
        return f"{st.operation.value} in progress"
    if st.conflicted:
        return "conflicted paths"
    if st.staged or st.modified or st.deleted:
        return "uncommitted changes"
    return None


def _branch_blocker(st: RepoStatus) -> str | None:
    """What makes any automatic change to this branch unsafe: the rules pull and push share."""
    if st.detached or st.branch is None:
        return "detached HEAD"
    if st.head is None:
        return "no commits"
    if st.upstream is None:
        return "no upstream"
    if st.upstream_gone:
        return "upstream gone"
    return _clean_worktree(st)


def pull_blocker(st: RepoStatus) -> str | None:
    """Why a fast-forward pull is not safe or not needed, or ``None`` when it is both."""
    if (reason := _branch_blocker(st)) is not None:
        return reason
    if st.ahead:
        return "diverged" if st.behind else "ahead of upstream"
    if not st.behind:
        return "up to date"
    return None


def push_blocker(st: RepoStatus) -> str | None:
    """Why a push is not safe or not needed, or ``None`` when it is both."""
    if (reason := _branch_blocker(st)) is not None:
        return reason
    if st.behind:
        return "diverged" if st.ahead else "behind upstream"
    if not st.ahead:
        return "nothing to push"
    return None


def merge_ff(ref: RepoRef, *, timeout: float = NETWORK_TIMEOUT) -> None:
    """Fast-forward the current branch to its upstream; never creates a merge commit.

    ``--no-autostash`` overrides a repo's ``merge.autoStash``: should the work tree have
    changed since the status check, git refuses to touch it instead of stashing the
    changes and leaving conflicts behind when it re-applies them.
    """
    git(
        "merge",
        "--ff-only",
        "--no-autostash",
        "--no-edit",
        "--quiet",
        "@{u}",
        cwd=ref.path,
        read_only=False,
        timeout=timeout,
    )


def upstream_of(ref: RepoRef, branch: str) -> tuple[str, str]:
    """*branch*'s upstream as ``(remote name, remote ref)``.

    For example ``("origin", "refs/heads/main")``.
    """
    res = git(
        "for-each-ref",
        "--format=%(upstream:remotename)%00%(upstream:remoteref)",
        f"refs/heads/{branch}",
        cwd=ref.path,
    )
    line = res.stdout.decode("utf-8", "surrogateescape").strip()
    remote, _, remote_ref = line.partition("\x00")
    if not remote or not remote_ref:
        raise GitError(res.argv, 0, message=f"cannot resolve the upstream of {branch}")
    return remote, remote_ref


def push(
    ref: RepoRef,
    branch: str,
    *,
    timeout: float = NETWORK_TIMEOUT,
    on_progress: ProgressCallback | None = None,
) -> None:
    """Push *branch* to its own upstream branch. Never forces."""
    remote, remote_ref = upstream_of(ref, branch)
    args = ["push", "--porcelain"]
    if on_progress is not None:
        args.append("--progress")
    args += [remote, f"refs/heads/{branch}:{remote_ref}"]
    git(
        *args,
        cwd=ref.path,
        read_only=False,
        timeout=timeout,
        on_progress=on_progress,
        env=network_env(ref.path),
    )


def clone(
    url: str,
    dest: str,
    *,
    branch: str | None = None,
    timeout: float = NETWORK_TIMEOUT,
    on_progress: ProgressCallback | None = None,
) -> None:
    """Clone *url* into *dest* (which must not exist or be empty)."""
    args = ["clone"]
    if on_progress is not None:
        args.append("--progress")
    if branch:
        args += ["--branch", branch]
    args += ["--", url, dest]
    # Outside any repository, so that only the user's and the system's config apply.
    env = network_env(os.sep)
    git(*args, read_only=False, timeout=timeout, on_progress=on_progress, env=env)


def add_remote(ref: RepoRef, name: str, url: str) -> None:
    git("remote", "add", "--", name, url, cwd=ref.path, read_only=False)
