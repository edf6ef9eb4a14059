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
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gitoverit.errors import CommandCancelledError, CommandError, CommandTimeoutError, GitAuthError
from gitoverit.git.command import NETWORK_TIMEOUT, git, network_env
from gitoverit.git.gitconfig import _get, read_config
from gitoverit.model import RepoRef, RepoStatus
from gitoverit.parallel import current_scope
from gitoverit.process import CommandResult

ProgressCallback = Callable[[str], None]

#: What ssh says when a server drops a new connection it cannot take yet (sshd's
#: ``MaxStartups``, a connection rate limiter): worth another try after a short pause.
TRANSIENT = re.compile(
    r"kex_exchange_identification|ssh_exchange_identification"
    r"|Connection closed by remote host|Connection reset by peer",
    re.IGNORECASE,
)
#: Further attempts after a transient failure, and the pause before each (seconds, drawn
#: at random so that many repos on one host do not retry in step).
RETRIES = 2
RETRY_PAUSE = (0.5, 2.0)


def network_git(
    *args: str,
    cwd: str | None,
    timeout: float,
    on_progress: ProgressCallback | None = None,
    env: Mapping[str, str] | None = None,
) -> CommandResult:
    """Run a network git command; retry a transient connection failure.

    All attempts together stay within *timeout*. Timeouts, authentication failures,
    interrupts and every other error are raised at once.
    """
    deadline = time.monotonic() + timeout
    for attempt in range(RETRIES + 1):
        try:
            return git(
                *args,
                cwd=cwd,
                read_only=False,
                timeout=max(deadline - time.monotonic(), 0.001),
                on_progress=on_progress,
                env=env,
            )
        except (CommandTimeoutError, GitAuthError, CommandCancelledError):
            raise
        except CommandError as exc:
            pause = random.uniform(*RETRY_PAUSE)
            last = attempt == RETRIES or not TRANSIENT.search(exc.stderr_text)
            if last or time.monotonic() + pause >= deadline:
                raise
            _pause(pause, exc)
    raise AssertionError("unreachable")  # pragma: no cover


def _pause(seconds: float, exc: CommandError) -> None:
    """Sleep, but wake at once and stop when the task is cancelled (Ctrl-C, timeout)."""
    scope = current_scope()
    woken = threading.Event()
    handle = scope.add_callback(woken.set) if scope is not None else None
    try:
        woken.wait(seconds)
    finally:
        if scope is not None and handle is not None:
            scope.remove_callback(handle)
    if scope is not None and scope.cancelled:
        raise CommandCancelledError(exc.argv, None, message="interrupted") from exc


@dataclass(frozen=True, slots=True)
class FetchReport:
    """What fetching every remote of a repository came to.

    ``decisive`` is the failure that means the repository was not fetched: its
    upstream's remote failed (or, on a branch without an upstream, every remote did).
    A remote without a URL of its own cannot be told apart here and is fetched like any.
    """

    remotes: tuple[str, ...]
    failed: tuple[tuple[str, CommandError], ...] = ()
    decisive: CommandError | None = None


def fetch(
    ref: RepoRef, *, timeout: float = NETWORK_TIMEOUT, on_progress: ProgressCallback | None = None
) -> FetchReport:
    """Fetch each remote on its own, with ``--prune``, as ``git fetch --all`` would, but
    so that one dead remote does not fail the others (see :class:`FetchReport`).

    Each remote gets *timeout*. Only an interrupt (:class:`CommandCancelledError`) is
    raised; every other failure is in the report.
    """
    remotes = list_remotes(ref)
    failed: list[tuple[str, CommandError]] = []
    for name in remotes:
        try:
            fetch_remote(ref, name, timeout=timeout, on_progress=on_progress)
        except CommandCancelledError:
            raise
        except CommandError as exc:
            failed.append((name, exc))
    errors = dict(failed)
    upstream = upstream_remote(ref)
    decisive: CommandError | None = None
    if upstream in errors:
        decisive = errors[upstream]
    elif upstream not in remotes and failed and len(failed) == len(remotes):
        decisive = failed[0][1]
    return FetchReport(tuple(remotes), tuple(failed), decisive)


def fetch_remote(
    ref: RepoRef,
    remote: str,
    *,
    timeout: float = NETWORK_TIMEOUT,
    on_progress: ProgressCallback | None = None,
) -> None:
    """Fetch one remote with ``--prune``. Raises a ``CommandError`` subclass on failure."""
    args = ["fetch", "--prune"]
    if on_progress is not None:
        args.append("--progress")
    network_git(
        *args,
        "--",
        remote,
        cwd=ref.path,
        timeout=timeout,
        on_progress=on_progress,
        env=network_env(ref.path),
    )


def list_remotes(ref: RepoRef) -> list[str]:
    """The remotes ``git fetch --all`` fetches: every configured one, less those with
    ``remote.<name>.skipFetchAll``."""
    out = git("remote", cwd=ref.path).stdout.decode("utf-8", "surrogateescape")
    names = [line for line in out.splitlines() if line]
    config = read_config(ref.git_dir)
    return [n for n in names if _get(config, "remote", n, "skipfetchall") not in _TRUE]


_TRUE = ("true", "yes", "on", "1")


def upstream_remote(ref: RepoRef) -> str | None:
    """The remote the checked-out branch pulls from (``branch.<name>.remote``), read
    in-process; ``None`` when detached or without one."""
    try:
        with open(os.path.join(ref.git_dir, "HEAD"), "rb") as fh:
            head = fh.read(512).strip()
    except OSError:
        return None
    if not head.startswith(b"ref: refs/heads/"):
        return None
    branch = os.fsdecode(head[len(b"ref: refs/heads/") :])
    return _get(read_config(ref.git_dir), "branch", branch, "remote")


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
        raise CommandError(res.argv, 0, message=f"cannot resolve the upstream of {branch}")
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
    # Not ``--porcelain``: that moves the "! [remote rejected] ... (reason)" lines to
    # stdout, away from the hook messages on stderr that explain them.
    args = ["push"]
    if on_progress is not None:
        args.append("--progress")
    args += [remote, f"refs/heads/{branch}:{remote_ref}"]
    network_git(
        *args, cwd=ref.path, timeout=timeout, on_progress=on_progress, env=network_env(ref.path)
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
    network_git(*args, cwd=None, timeout=timeout, on_progress=on_progress, env=env)


def add_remote(ref: RepoRef, name: str, url: str) -> None:
    git("remote", "add", "--", name, url, cwd=ref.path, read_only=False)
