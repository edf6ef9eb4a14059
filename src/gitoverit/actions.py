"""Per-repo network work: fetch, safe pull, safe push (``-f/-P/-U``).

Each task runs in the network pool. Its local steps (status, the fast-forward merge) take
a token from a shared local limiter, so local and network work keep separate concurrency
limits. Tasks report progress through an event callback (``RepoStarted``,
``RepoProgress``, then ``RepoDone`` just before returning, which frees the display slot in
the same step as the worker) and return exactly one record; they never raise, except
``RepoFailed`` under ``fail_fast`` so that the pool stops starting new work.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from gitoverit.errors import RepoFailed, error_from_exception
from gitoverit.git.command import NETWORK_TIMEOUT
from gitoverit.model import (
    Event,
    RepoDone,
    RepoError,
    RepoProgress,
    RepoRecord,
    RepoRef,
    RepoStarted,
    RepoStatus,
)

EventSink = Callable[[Event], None]

#: Default network concurrency. ``gitoverit -f`` over the 100 repos behind a 300 ms link
#: that ``make bench BENCH_ARGS=--net`` builds took 7.9 s at 4, 4.1 s at 8, 2.3 s at 16 and
#: 1.4 s at 32; a serial fetch loop took 30.5 s. Of those, 16 is the smallest that is ten
#: times faster than serial; 32 opens twice as many connections to one host for 0.9 s more.
#: A stock OpenSSH server starts refusing unauthenticated connections beyond 10 at a time
#: (``MaxStartups 10:30:100``), so a self-hosted ssh remote may want ``--net-jobs 8``.
DEFAULT_NET_JOBS = 16


def net_jobs(requested: int | None = None) -> int:
    """Network concurrency: *requested* (default ``DEFAULT_NET_JOBS``), never more than
    the open-file limit allows, since each operation holds pipes and sockets."""
    from gitoverit.parallel import fd_budget

    return max(1, min(requested or DEFAULT_NET_JOBS, fd_budget()))


#: The note of a repository with nothing to fetch from.
NO_REMOTE = "no remote"

#: Blockers that mean "nothing to do" rather than "not safe to do".
_NOTHING_TO_DO = frozenset(
    {"up to date", "nothing to push", "ahead of upstream", "behind upstream"}
)


@dataclass(frozen=True, slots=True)
class ActionOptions:
    """Which actions to run on each repo. Pull and push imply a fetch first."""

    fetch: bool = False
    pull: bool = False
    push: bool = False
    timeout: float = NETWORK_TIMEOUT
    fail_fast: bool = False
    #: Let the repositories' own filter commands run in their status reads.
    trust_repo_config: bool = False
    #: Read no work tree after the fetch (``-f --metadata-only``).
    metadata_only: bool = False

    @property
    def any(self) -> bool:
        return self.fetch or self.pull or self.push

    @property
    def name(self) -> str:
        parts = ["fetch"]
        if self.pull:
            parts.append("pull")
        if self.push:
            parts.append("push")
        return "+".join(parts)


def emit(sink: EventSink | None, event: Event) -> None:
    if sink is not None:
        sink(event)


def finish(record: RepoRecord, sink: EventSink | None, fail_fast: bool) -> RepoRecord:
    emit(sink, RepoDone(record))
    if fail_fast and record.error is not None:
        raise RepoFailed(record)
    return record


def limited(limit: threading.Semaphore | None) -> AbstractContextManager[object]:
    return limit if limit is not None else nullcontext()


def _status(ref: RepoRef, actions: ActionOptions) -> RepoStatus:
    from gitoverit.git.status import read_status

    return read_status(ref, metadata_only=actions.metadata_only, trust=actions.trust_repo_config)


class CommonDirs:
    """What the worktrees of one repository share during a run: one lock and one fetch.

    A main work tree and its linked worktrees share refs and objects (one common git
    dir). Two gits writing them at once fail (``cannot lock ref``), and fetching them
    twice is work done twice. So each common dir is fetched once per run, the others
    reuse that fetch, and its worktrees take their turns, each with its own pull and push
    decision. Different repositories do not wait for each other.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._fetches: dict[str, Any] = {}

    def lock(self, common: str) -> threading.Lock:
        """The lock to hold while running git that writes *common*."""
        with self._guard:
            return self._locks.setdefault(common, threading.Lock())

    def fetch_once(self, common: str, fetch: Callable[[], Any]) -> Any:
        """*fetch*'s report for *common*, run by the first caller only (hold
        :meth:`lock` around this)."""
        if common not in self._fetches:
            self._fetches[common] = fetch()
        return self._fetches[common]


@dataclass
class _Progress:
    """What one repository's actions have done so far; the record is built from it."""

    pulled: bool | None
    pushed: bool | None
    fetched: bool = False
    status: RepoStatus | None = None
    head_before: str | None = None
    blockers: list[str] = field(default_factory=list)
    fetch_errors: tuple[tuple[str, RepoError], ...] = ()


def update_repo(
    ref: RepoRef,
    actions: ActionOptions,
    *,
    local_limit: threading.Semaphore | None,
    sink: EventSink | None,
    action_name: str | None = None,
    shared: CommonDirs | None = None,
) -> RepoRecord:
    """Fetch, then fast-forward and/or push when safe. Returns the repo's record.

    A failure keeps what the local status knows: the record has the status as well as
    the error. Remotes other than the upstream's that failed to fetch are listed in
    ``fetch_errors`` and fail nothing else. With *shared*, worktrees of one repository
    share one fetch and never write it at once (see :class:`CommonDirs`).
    """
    from gitoverit.git.gitconfig import common_dir

    start = time.monotonic()
    common = common_dir(ref.git_dir)
    shared = shared if shared is not None else CommonDirs()
    done = _Progress(pulled=False if actions.pull else None, pushed=False if actions.push else None)
    error: RepoError | None = None
    try:
        with shared.lock(common):
            fetch_once = functools.partial(shared.fetch_once, common)
            _run_actions(ref, actions, local_limit, sink, done, fetch_once)
    except Exception as exc:
        error = error_from_exception(exc)
        if done.status is None:
            done.status = _local_status(ref, actions, local_limit)
    return RepoRecord(
        ref,
        status=done.status,
        error=error,
        duration=time.monotonic() - start,
        fetched=done.fetched,
        pulled=done.pulled,
        pushed=done.pushed,
        head_before=done.head_before,
        action=action_name or actions.name,
        outcome=None if error is not None else _outcome(actions, done),
        note="; ".join(done.blockers) or None if error is None else None,
        fetch_errors=done.fetch_errors,
    )


def _run_actions(
    ref: RepoRef,
    actions: ActionOptions,
    local_limit: threading.Semaphore | None,
    sink: EventSink | None,
    done: _Progress,
    fetch_once: Callable[[Callable[[], Any]], Any],
) -> None:
    """Fetch, pull and push *ref* as *actions* ask, recording each step in *done*.
    *fetch_once* runs the fetch unless another worktree of the repository did."""
    from gitoverit.git import ops

    on_progress = (lambda line: emit(sink, RepoProgress(ref, line))) if sink else None
    report: ops.FetchReport = fetch_once(
        lambda: ops.fetch(ref, timeout=actions.timeout, on_progress=on_progress)
    )
    done.fetch_errors = tuple((name, error_from_exception(e)) for name, e in report.failed)
    if report.decisive is not None:
        raise report.decisive
    if not report.remotes:
        done.status = _local_status(ref, actions, local_limit, check=True)
        done.blockers.append(NO_REMOTE)
        return
    done.fetched = True
    with limited(local_limit):
        status = done.status = _status(ref, actions)
    done.head_before = status.head
    if actions.pull:
        blocker = ops.pull_blocker(status)
        if blocker is None:
            with limited(local_limit):
                ops.merge_ff(ref, timeout=actions.timeout)
                status = done.status = _status(ref, actions)
            done.pulled = True
        else:
            done.blockers.append(f"pull: {blocker}" if actions.push else blocker)
    if actions.push:
        blocker = ops.push_blocker(status)
        if blocker is None and status.branch is not None:
            ops.push(ref, status.branch, timeout=actions.timeout, on_progress=on_progress)
            done.pushed = True
            with limited(local_limit):
                done.status = _status(ref, actions)
        elif blocker is not None:
            done.blockers.append(f"push: {blocker}" if actions.pull else blocker)


def _local_status(
    ref: RepoRef,
    actions: ActionOptions,
    local_limit: threading.Semaphore | None,
    *,
    check: bool = False,
) -> RepoStatus | None:
    """The local status, read after a network step failed (``None`` if even that
    fails, unless *check*)."""
    try:
        with limited(local_limit):
            return _status(ref, actions)
    except Exception:
        if check:
            raise
        return None


def _outcome(actions: ActionOptions, done: _Progress) -> str:
    if done.pulled or done.pushed:
        return "updated"
    if NO_REMOTE in done.blockers:
        return "skipped"
    if not (actions.pull or actions.push):
        return "ok"
    if any(b.split(": ", 1)[-1] not in _NOTHING_TO_DO for b in done.blockers):
        return "skipped"
    return "unchanged"


def action_task(
    actions: ActionOptions,
    *,
    local_limit: threading.Semaphore | None = None,
    sink: EventSink | None = None,
) -> Callable[[RepoRef], RepoRecord]:
    """The per-repo task for ``-f``/``-P``/``-U``."""
    shared = CommonDirs()

    def task(ref: RepoRef) -> RepoRecord:
        emit(sink, RepoStarted(ref))
        record = update_repo(ref, actions, local_limit=local_limit, sink=sink, shared=shared)
        return finish(record, sink, actions.fail_fast)

    return task
