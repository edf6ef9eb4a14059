"""``gitoverit sync``'s per-repo work: clone what a manifest lists and is missing,
fast-forward the rest under the same rules as ``-P`` (:mod:`gitoverit.actions`), add the
remotes a repo lacks, create worktrees, run ``shell_command_after``.

It never rebases, stashes or merges, never rewrites a URL and never switches a branch:
a remote or a branch that differs from the manifest gets a note instead. A parent folder's
repo is synced before the repos inside it, and a worktree after its main repo.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from gitoverit.actions import (
    ActionOptions,
    CommonDirs,
    EventSink,
    emit,
    finish,
    update_repo,
)
from gitoverit.errors import CommandError, error_from_exception
from gitoverit.manifest import ManifestEntry, WorktreeEntry
from gitoverit.model import Reason, RepoError, RepoRecord, RepoRef, RepoStarted, RepoStatus
from gitoverit.sync_steps import (
    HOOK_TIMEOUT,
    Step,
    branch_note,
    missing_remotes,
    run_hooks,
    worktree_state,
)

#: The outcome of a repo that ``sync --dry-run`` found under the manifest's folders but
#: that the manifest does not list.
NOT_IN_MANIFEST = "not in manifest"


@dataclass(frozen=True, slots=True)
class SyncTarget:
    """One manifest entry (or one of its worktrees), as the sync task needs it.

    *after* lists the paths whose sync must end first (the repos that hold this one, a
    worktree's main repo). *unlisted* marks a repo that is on disk but not in the
    manifest (reported by ``--dry-run`` only).
    """

    ref: RepoRef
    url: str
    branch: str | None = None
    remotes: tuple[tuple[str, str], ...] = ()
    entry: ManifestEntry | None = None
    worktree: WorktreeEntry | None = None
    main: str | None = None
    after: tuple[str, ...] = ()
    unlisted: bool = False


@dataclass(frozen=True, slots=True)
class SyncSettings:
    """How to sync: plan only (*dry_run*), run ``shell_command_after`` (*hooks*),
    initialise and update submodules (*recurse_submodules*)."""

    dry_run: bool = False
    hooks: bool = True
    recurse_submodules: bool = False
    hook_timeout: float = HOOK_TIMEOUT


def plan_targets(entries: Sequence[ManifestEntry], refs: Sequence[RepoRef]) -> list[SyncTarget]:
    """The targets of *entries* (whose refs are *refs*), in a safe order: each repo after
    the repos whose folders hold it, and each worktree after its main repo."""
    paths = {e.path for e in entries}
    targets: list[SyncTarget] = []
    for ref, entry in zip(refs, entries, strict=True):
        after = tuple(p for p in paths if p != entry.path and _inside(entry.path, p))
        targets.append(
            SyncTarget(ref, entry.url, entry.branch, entry.remotes, entry=entry, after=after)
        )
    targets.sort(key=lambda t: t.ref.path.split(os.sep))
    for ref, entry in zip(refs, entries, strict=True):
        for wt in entry.worktrees:
            wt_ref = replace(
                ref,
                path=wt.path,
                git_dir=os.path.join(wt.path, ".git"),
                display_path=_home(wt.path),
                is_worktree=True,
            )
            targets.append(
                SyncTarget(wt_ref, entry.url, worktree=wt, main=ref.path, after=(ref.path,))
            )
    return targets


def _inside(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip(os.sep) + os.sep)


def _home(path: str) -> str:
    home = os.path.expanduser("~")
    return "~" + path[len(home) :] if path == home or _inside(path, home) else path


class _Finished:
    """The paths whose sync has ended, for the targets that wait for them."""

    def __init__(self) -> None:
        self._events: dict[str, threading.Event] = {}
        self._guard = threading.Lock()

    def event(self, path: str) -> threading.Event:
        with self._guard:
            return self._events.setdefault(path, threading.Event())

    def wait(self, paths: Sequence[str]) -> None:
        """Wait until every path in *paths* has ended; stop waiting when the task is
        cancelled (Ctrl-C, ``-x``)."""
        from gitoverit.parallel import current_scope

        scope = current_scope()
        for path in paths:
            event = self.event(path)
            while not event.wait(0.05):
                if scope is not None and scope.cancelled:
                    raise CommandError(("sync",), None, message="interrupted")


def sync_task(
    targets: dict[str, SyncTarget],
    actions: ActionOptions,
    *,
    local_limit: threading.Semaphore | None = None,
    sink: EventSink | None = None,
    settings: SyncSettings | None = None,
) -> Callable[[RepoRef], RepoRecord]:
    """The per-repo task of ``gitoverit sync``: clone when missing, else a safe pull.

    Outcomes: ``cloned``, ``updated``, ``unchanged``, ``skipped`` (with a note) or a
    failure; with ``dry_run``, ``would clone``, ``would update``, ``unchanged`` or
    ``skipped``. It never rebases, stashes or merges.
    """
    conf = settings if settings is not None else SyncSettings()
    pull = replace(actions, fetch=True, pull=True, push=False)
    shared = CommonDirs()
    finished = _Finished()

    def task(ref: RepoRef) -> RepoRecord:
        emit(sink, RepoStarted(ref))
        target = targets[ref.path]
        start = time.monotonic()
        missing = not os.path.lexists(os.path.join(ref.path, ".git"))
        action = "clone" if missing and target.worktree is None else "sync"
        try:
            finished.wait(target.after)
            step = Step(ref, target, pull, local_limit, sink, shared, conf.dry_run)
            record = _run(step, conf)
        except Exception as exc:
            record = RepoRecord(ref, error=error_from_exception(exc), action=action)
        finally:
            finished.event(ref.path).set()
        record = replace(record, duration=time.monotonic() - start)
        return finish(record, sink, actions.fail_fast)

    return task


def _run(step: Step, conf: SyncSettings) -> RepoRecord:
    target = step.target
    if target.unlisted:
        return RepoRecord(step.ref, action="sync", outcome=NOT_IN_MANIFEST)
    if target.entry is not None and target.entry.pinned:
        return step.record("skipped", "pinned")
    for parent in target.after:
        if not os.path.lexists(os.path.join(parent, ".git")) and not step.dry_run:
            return step.record("skipped", f"{_home(parent)} is not there")
    if target.worktree is not None:
        record = _worktree(step)
    elif os.path.lexists(os.path.join(step.ref.path, ".git")):
        record = _existing(step, conf)
    elif os.path.exists(step.ref.path) and (
        not os.path.isdir(step.ref.path) or os.listdir(step.ref.path)
    ):
        return step.record("skipped", "exists and is not a git repository")
    else:
        record = _clone(step, conf)
    if record.error is None and record.outcome in ("cloned", "updated") and not step.dry_run:
        record = _after(step, record, conf)
    return record


def _clone(step: Step, conf: SyncSettings) -> RepoRecord:
    from gitoverit.git import ops

    target, entry = step.target, step.target.entry
    if step.dry_run:
        return step.record("would clone", None)
    rev = entry.rev if entry is not None else None
    # A shallow clone has only the history of what it checks out: a rev (a tag or a
    # branch) is cloned directly.
    direct = rev is not None and entry is not None and entry.depth is not None
    ops.clone(
        target.url,
        step.ref.path,
        branch=rev if direct else target.branch,
        depth=entry.depth if entry else None,
        timeout=step.actions.timeout,
        on_progress=step.on_progress,
    )
    if rev is not None and not direct:
        ops.checkout(step.ref, rev, timeout=step.actions.timeout)
    pushes = dict(entry.push_urls) if entry else {}
    if "origin" in pushes:
        ops.set_push_url(step.ref, "origin", pushes["origin"])
    for name, url in target.remotes:
        if name != "origin":
            ops.add_remote(step.ref, name, url, pushes.get(name))
    return step.record("cloned", None, fetched=True)


def _existing(step: Step, conf: SyncSettings) -> RepoRecord:
    from gitoverit.git import ops

    entry = step.target.entry
    status = step.status()
    notes: list[str] = []
    missing, differ = missing_remotes(step.ref, step.target)
    notes += differ
    if entry is not None:
        notes += branch_note(status, entry)
    if step.dry_run:
        notes = [f"would add remote {name}" for name, _ in missing] + notes
        blocker = ops.pull_blocker(status)
        if entry is not None and entry.rev and status.detached:
            return step.record("unchanged", "; ".join([f"at rev {entry.rev}", *notes]), status)
        if blocker is not None and blocker not in ("up to date", "ahead of upstream"):
            return step.record("skipped", "; ".join([blocker, *notes]), status)
        return step.record("would update", "; ".join(notes) or None, status)
    pushes = dict(entry.push_urls) if entry else {}
    for name, url in missing:
        with step.shared.lock(step.common):
            ops.add_remote(step.ref, name, url, pushes.get(name))
    added = [f"added remote {name}" for name, _ in missing]
    if entry is not None and entry.rev and status.detached:
        # Pinned to a tag or commit: left where it is.
        note = "; ".join([*added, f"at rev {entry.rev}", *notes])
        return step.record("updated" if added else "unchanged", note, status)
    record = update_repo(
        step.ref,
        step.actions,
        local_limit=step.local_limit,
        sink=step.sink,
        action_name="sync",
        shared=step.shared,
    )
    if record.error is not None:
        return record
    outcome: str | None = record.outcome
    if added and outcome == "unchanged":
        outcome = "updated"
    said = "; ".join([*added, *([record.note] if record.note else []), *notes]) or None
    return replace(record, outcome=outcome, note=said)


def _worktree(step: Step) -> RepoRecord:
    from gitoverit.git import ops

    wt = step.target.worktree
    assert wt is not None and step.target.main is not None
    kind, value = wt.ref
    main = replace(step.ref, path=step.target.main, git_dir=os.path.join(step.target.main, ".git"))
    if os.path.lexists(os.path.join(wt.path, ".git")):
        status = step.status()
        differs = worktree_state(step.ref, status, kind, value)
        if differs is not None:
            return step.record("unchanged", differs, status)
        if kind != "branch" or step.dry_run:
            return step.record("unchanged" if kind != "branch" else "would update", None, status)
        return update_repo(
            step.ref,
            step.actions,
            local_limit=step.local_limit,
            sink=step.sink,
            action_name="sync",
            shared=step.shared,
        )
    if os.path.exists(wt.path) and (not os.path.isdir(wt.path) or os.listdir(wt.path)):
        return step.record("skipped", "exists and is not a git repository")
    if step.dry_run:
        return step.record("would clone", f"worktree of {_home(main.path)}")
    if not os.path.isdir(os.path.join(main.path, ".git")):
        return step.record("skipped", f"main repo {_home(main.path)} is not there")
    with step.shared.lock(step.common_of(main)):
        ops.add_worktree(main, wt.path, kind, value, timeout=step.actions.timeout)
    return step.record("cloned", f"worktree of {_home(main.path)}")


def _after(step: Step, record: RepoRecord, conf: SyncSettings) -> RepoRecord:
    """Submodules (when asked) and ``shell_command_after`` of a repo that was cloned or
    updated; the record's status is read again."""
    from gitoverit.git import ops

    if conf.recurse_submodules and step.target.worktree is None:
        try:
            ops.update_submodules(
                step.ref, timeout=step.actions.timeout, on_progress=step.on_progress
            )
        except Exception as exc:
            return replace(record, error=error_from_exception(exc))
    entry = step.target.entry
    if conf.hooks and entry is not None and entry.hooks:
        failure = run_hooks(step.ref, entry.hooks, timeout=conf.hook_timeout)
        if failure is not None:
            return replace(record, error=RepoError(Reason.HOOK, failure))
    status: RepoStatus | None = record.status
    with contextlib.suppress(Exception):
        status = step.status()
    return replace(record, status=status)
