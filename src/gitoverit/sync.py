"""``gitoverit sync``'s per-repo work: clone what a manifest lists and is missing,
fast-forward the rest under the same rules as ``-P`` (:mod:`gitoverit.actions`).

It never rebases, stashes or merges, never rewrites a URL and never switches a branch.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from gitoverit.actions import (
    ActionOptions,
    CommonDirs,
    EventSink,
    emit,
    finish,
    limited,
    update_repo,
)
from gitoverit.errors import error_from_exception
from gitoverit.model import RepoProgress, RepoRecord, RepoRef, RepoStarted


@dataclass(frozen=True, slots=True)
class SyncTarget:
    """One manifest entry, as the sync task needs it."""

    ref: RepoRef
    url: str
    branch: str | None = None
    remotes: tuple[tuple[str, str], ...] = ()


def sync_task(
    targets: dict[str, SyncTarget],
    actions: ActionOptions,
    *,
    local_limit: threading.Semaphore | None = None,
    sink: EventSink | None = None,
) -> Callable[[RepoRef], RepoRecord]:
    """The per-repo task of ``gitoverit sync``: clone when missing, else a safe pull.

    Outcomes: ``cloned``, ``updated``, ``unchanged``, ``skipped`` (with a note) or a failure.
    It never rebases, stashes or merges.
    """
    pull = replace(actions, fetch=True, pull=True, push=False)

    shared = CommonDirs()

    def task(ref: RepoRef) -> RepoRecord:
        from gitoverit.git import ops
        from gitoverit.git.status import read_status

        emit(sink, RepoStarted(ref))
        target = targets[ref.path]
        start = time.monotonic()
        on_progress = (lambda line: emit(sink, RepoProgress(ref, line))) if sink else None
        if os.path.lexists(os.path.join(ref.path, ".git")):
            record = update_repo(
                ref, pull, local_limit=local_limit, sink=sink, action_name="sync", shared=shared
            )
        elif os.path.exists(ref.path) and (not os.path.isdir(ref.path) or os.listdir(ref.path)):
            record = RepoRecord(
                ref, action="sync", outcome="skipped", note="exists and is not a git repository"
            )
        else:
            try:
                ops.clone(
                    target.url,
                    ref.path,
                    branch=target.branch,
                    timeout=actions.timeout,
                    on_progress=on_progress,
                )
                for name, url in target.remotes:
                    if name != "origin":
                        ops.add_remote(ref, name, url)
                with limited(local_limit):
                    status = read_status(ref, trust=actions.trust_repo_config)
                record = RepoRecord(
                    ref,
                    status=status,
                    duration=time.monotonic() - start,
                    fetched=True,
                    action="clone",
                    outcome="cloned",
                )
            except Exception as exc:
                record = RepoRecord(
                    ref,
                    error=error_from_exception(exc),
                    action="clone",
                    duration=time.monotonic() - start,
                )
        return finish(record, sink, actions.fail_fast)

    return task
