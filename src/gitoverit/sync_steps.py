"""The pieces of one repo's sync (:mod:`gitoverit.sync`): its context, comparing its
remotes and branch with the manifest's, a worktree's state, and running the
``shell_command_after`` commands."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitoverit.actions import ActionOptions, CommonDirs, EventSink, emit, limited
from gitoverit.model import RepoProgress, RepoRecord, RepoRef, RepoStatus
from gitoverit.text import redact_url

if TYPE_CHECKING:
    from gitoverit.manifest import ManifestEntry

#: Time limit of each ``shell_command_after`` command, in seconds, when none is given
#: (``sync`` gives its ``--timeout``); the whole process group is killed when it runs out.
HOOK_TIMEOUT = 600.0


@dataclass(frozen=True, slots=True)
class Step:
    """Everything one target's sync needs."""

    ref: RepoRef
    target: Any  # SyncTarget
    actions: ActionOptions
    local_limit: threading.Semaphore | None
    sink: EventSink | None
    shared: CommonDirs
    dry_run: bool

    def on_progress(self, line: str) -> None:
        emit(self.sink, RepoProgress(self.ref, line))

    @property
    def common(self) -> str:
        return self.common_of(self.ref)

    def common_of(self, ref: RepoRef) -> str:
        from gitoverit.git.gitconfig import common_dir

        return common_dir(ref.git_dir)

    def status(self) -> RepoStatus:
        from gitoverit.git.status import read_status

        with limited(self.local_limit):
            return read_status(self.ref, trust=self.actions.trust_repo_config)

    def record(
        self,
        outcome: str,
        note: str | None,
        status: RepoStatus | None = None,
        *,
        fetched: bool | None = None,
    ) -> RepoRecord:
        """A record of this target; without a status, one that names the URL."""
        if status is None:
            status = RepoStatus(remote_url=redact_url(self.target.url))
        action = "clone" if outcome == "cloned" else "sync"
        return RepoRecord(
            self.ref, status=status, action=action, outcome=outcome, note=note, fetched=fetched
        )


def missing_remotes(ref: RepoRef, target: Any) -> tuple[list[tuple[str, str]], list[str]]:
    """The remotes the manifest lists and the repo lacks, as ``(name, url)``, and a note
    for each remote whose URL differs from the manifest's (which sync leaves alone)."""
    from gitoverit.git import ops

    have = ops.remote_urls(ref.git_dir)
    missing: list[tuple[str, str]] = []
    notes: list[str] = []
    for name, url in (("origin", target.url), *target.remotes):
        if name not in have:
            if name != "origin":
                missing.append((name, url))
            continue
        actual = have[name][0]
        if actual is not None and actual != url:
            notes.append(f"{name} is {redact_url(actual)}, manifest says {redact_url(url)}")
    return missing, notes


def branch_note(status: RepoStatus, entry: ManifestEntry) -> list[str]:
    """A note when the repo is on another branch than the manifest's (sync never
    switches it)."""
    wanted = entry.branch
    if entry.rev and not status.detached and status.branch != entry.rev and wanted is None:
        wanted = entry.rev
    if wanted is None or status.branch == wanted:
        return []
    current = status.branch if status.branch is not None else "a detached HEAD"
    return [f"on {current}, manifest says {wanted}"]


def worktree_state(ref: RepoRef, status: RepoStatus, kind: str, value: str) -> str | None:
    """Why an existing worktree is not at the manifest's branch, tag or commit (sync
    leaves it), or ``None`` when it is."""
    from gitoverit.git import ops

    if kind == "branch":
        if status.branch == value:
            return None
        current = status.branch if status.branch is not None else "a detached HEAD"
        return f"on {current}, manifest says {value}"
    wanted = ops.resolve(ref, value)
    if wanted is not None and wanted == status.head:
        return None
    return f"at {(status.head or 'no commit')[:12]}, manifest says {kind} {value}"


def run_hooks(ref: RepoRef, commands: tuple[str, ...], *, timeout: float) -> str | None:
    """Run each command with ``sh -c`` in the repo, in order, through the one process
    runner (time limit, output captured, whole process group killed). Returns the
    failure's message, or ``None`` when every command succeeded."""
    from gitoverit.errors import CommandError, one_line
    from gitoverit.process import executable, run

    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    for command in commands:
        try:
            run([executable("sh"), "-c", command], cwd=ref.path, timeout=timeout, env=env)
        except CommandError as exc:
            detail = one_line(exc.stderr_text)[-300:]
            code = "timed out" if exc.returncode is None else f"exited with {exc.returncode}"
            return f"shell_command_after {command!r} {code}" + (f": {detail}" if detail else "")
    return None
