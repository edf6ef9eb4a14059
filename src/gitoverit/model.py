"""Plain data passed between layers: repo references, status records and errors.

Everything here is a frozen, slotted dataclass or an Enum. Deep code builds these;
only the output layer turns them into text.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, replace
from typing import Any

#: Every value of a record's ``outcome``.
OUTCOMES = ("ok", "cloned", "updated", "unchanged", "skipped", "failed", "interrupted")

#: Version of the JSON record schema. Bump it when a field changes meaning or is removed.
FORMAT_VERSION = 1


class Reason(enum.StrEnum):
    """Why a repo produced an error record instead of a result."""

    TIMEOUT = "timeout"
    AUTH = "auth"
    NETWORK = "network"
    NOT_A_REPO = "not_a_repo"
    CORRUPT = "corrupt"
    PERMISSION = "permission"
    GIT_ERROR = "git_error"
    INTERRUPTED = "interrupted"
    SKIPPED = "skipped"
    #: A command run by ``gitoverit exec`` exited non-zero, or could not start.
    EXIT = "exit"
    #: A command the manifest asked to run after a sync (``shell_command_after``) failed.
    HOOK = "hook"


class Operation(enum.StrEnum):
    """A multi-step git operation left in progress in the repository."""

    MERGE = "merge"
    REBASE = "rebase"
    CHERRY_PICK = "cherry-pick"
    REVERT = "revert"
    BISECT = "bisect"


@dataclass(frozen=True, slots=True)
class RepoRef:
    """A repository found by discovery.

    ``path`` is the absolute work-tree path (bytes-safe: it may hold surrogate escapes for
    non-UTF-8 names). ``git_dir`` is the resolved git directory. ``display_path`` is how the
    path is shown to the user: relative to the current folder when the repo is under it,
    else with the home folder as ``~``, else absolute.
    """

    path: str
    git_dir: str
    display_path: str
    root: str = ""
    is_worktree: bool = False
    is_submodule: bool = False
    #: For a submodule, the work tree that contains it.
    superproject: str | None = None

    @property
    def kind(self) -> str:
        """``submodule``, ``worktree`` (a linked worktree) or ``repo``."""
        if self.is_submodule:
            return "submodule"
        return "worktree" if self.is_worktree else "repo"

    @property
    def name(self) -> str:
        return os.path.basename(self.path.rstrip(os.sep)) or self.path


@dataclass(frozen=True, slots=True)
class RepoError:
    """A per-repo failure: a reason code and a human-readable message.

    ``detail`` is everything the failed command wrote to stderr (escaped, credentials
    redacted), which ``--errors`` prints; it is not part of the JSON record.
    """

    reason: Reason
    message: str
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        return {"reason": self.reason.value, "message": self.message}


@dataclass(frozen=True, slots=True)
class RepoStatus:
    """The state of one repository, as read by a single ``git status`` call.

    Counts are ``None`` when they were not inspected (``--metadata-only``).
    """

    branch: str | None = None
    head: str | None = None
    detached: bool = False
    upstream: str | None = None
    upstream_gone: bool = False
    ahead: int | None = None
    behind: int | None = None
    staged: int | None = None
    modified: int | None = None
    deleted: int | None = None
    #: Paths whose work-tree file differs from the index (changes not staged), other than
    #: by deletion, and those deleted from the work tree; unmerged paths not counted.
    unstaged_modified: int | None = None
    unstaged_deleted: int | None = None
    untracked: int | None = None
    conflicted: int | None = None
    stashes: int | None = None
    operation: Operation | None = None
    submodules: int | None = None
    remote_url: str | None = None
    mtime: float | None = None
    #: Lines added and removed in tracked files since HEAD; ``None`` unless asked for.
    lines_added: int | None = None
    lines_removed: int | None = None
    #: The committer identity a commit here would get, ``Name <email>``; ``None`` unless
    #: asked for, or when git has none.
    ident: str | None = None
    #: The changed paths, each ``(XY, path)`` as ``git status --short`` shows them;
    #: ``None`` unless asked for (the HTML report). Not part of the JSON record.
    files: tuple[tuple[str, str], ...] | None = None
    #: Local branches other than HEAD's that are ahead of their upstream or have none
    #: configured; ``None`` unless asked for.
    branches_ahead: int | None = None
    #: ``filter.NAME`` for each of the repository's own filter drivers that did not run
    #: and may have made a file count as modified that is not (see
    #: :mod:`gitoverit.git.repo_filters`): the work-tree counts are uncertain.
    untrusted_config: tuple[str, ...] = ()

    @property
    def dirty(self) -> bool | None:
        counts = (self.staged, self.modified, self.deleted, self.untracked, self.conflicted)
        if all(c is None for c in counts):
            return None if self.operation is None else True
        return any(c for c in counts) or self.operation is not None


@dataclass(frozen=True, slots=True)
class RepoRecord:
    """Exactly one of these is produced for every discovered repository.

    ``status`` is ``None`` only when ``error`` is set and nothing could be read.
    ``fetched`` / ``pulled`` / ``pushed`` are ``None`` when that action was not requested.
    ``action`` names what was asked (``status``, ``fetch``, ``fetch+pull``, ``clone``, ...);
    ``outcome`` is what came of it (see :data:`OUTCOMES`); ``note`` says why a repo was
    skipped or left unchanged.
    """

    ref: RepoRef
    status: RepoStatus | None = None
    error: RepoError | None = None
    duration: float = 0.0
    fetched: bool | None = None
    pulled: bool | None = None
    pushed: bool | None = None
    head_before: str | None = None
    action: str = "status"
    outcome: str | None = None
    note: str | None = None
    #: Remotes that failed to fetch without failing the repository (not its upstream's).
    fetch_errors: tuple[tuple[str, RepoError], ...] = ()
    #: Which reader read the status: ``libgit2`` (in-process) or ``git``; ``None`` when
    #: no status read began. Not part of the JSON record.
    reader: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def final_outcome(self) -> str:
        """``outcome`` when set, else ``failed``/``skipped``/``interrupted``/``ok``."""
        if self.error is not None:
            if self.error.reason in (Reason.SKIPPED, Reason.INTERRUPTED):
                return self.error.reason.value
            return "failed"
        return self.outcome or "ok"

    @property
    def dirty(self) -> bool:
        return bool(self.status is not None and self.status.dirty)

    def with_error(self, error: RepoError) -> RepoRecord:
        return replace(self, error=error)

    def to_json(self) -> dict[str, Any]:
        """The documented JSON record (see README, "JSON fields")."""
        st = self.status if self.status is not None else _EMPTY_STATUS
        return {
            "path": self.ref.path,
            "display_path": self.ref.display_path,
            "kind": self.ref.kind,
            "superproject": self.ref.superproject,
            "branch": st.branch,
            "head": st.head,
            "detached": st.detached,
            "upstream": st.upstream,
            "upstream_gone": st.upstream_gone,
            "ahead": st.ahead,
            "behind": st.behind,
            "branches_ahead": st.branches_ahead,
            "staged": st.staged,
            "modified": st.modified,
            "deleted": st.deleted,
            "unstaged_modified": st.unstaged_modified,
            "unstaged_deleted": st.unstaged_deleted,
            "untracked": st.untracked,
            "conflicted": st.conflicted,
            "lines_added": st.lines_added,
            "lines_removed": st.lines_removed,
            "stashes": st.stashes,
            "operation": st.operation.value if st.operation else None,
            "submodules": st.submodules,
            "remote_url": st.remote_url,
            "ident": st.ident,
            "dirty": st.dirty if self.status is not None else None,
            "mtime": st.mtime,
            "untrusted_config": list(st.untrusted_config) if self.status is not None else None,
            "fetched": self.fetched,
            "fetch_errors": (
                [{"remote": name, **err.to_json()} for name, err in self.fetch_errors]
                if self.fetched is not None
                else None
            ),
            "pulled": self.pulled,
            "pushed": self.pushed,
            "action": self.action,
            "outcome": self.final_outcome,
            "note": self.note,
            "head_before": self.head_before,
            "head_after": st.head,
            "duration_ms": round(self.duration * 1000, 1),
            "error": self.error.to_json() if self.error else None,
            "format_version": FORMAT_VERSION,
        }


_EMPTY_STATUS = RepoStatus()


@dataclass(frozen=True, slots=True)
class ExecResult:
    """What came of running a command in one repository (``gitoverit exec``).

    ``exit_code`` is ``None`` when the command did not exit by itself (killed at its
    timeout, by Ctrl-C or by a signal) or never ran; ``error`` is ``None`` exactly when it
    exited 0. ``stdout`` and ``stderr`` are the bytes it wrote, the first
    ``MAX_OUTPUT`` of each at most; ``truncated`` says that more came.
    """

    ref: RepoRef
    exit_code: int | None
    stdout: bytes = b""
    stderr: bytes = b""
    duration: float = 0.0
    error: RepoError | None = None
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        """The documented JSON record (README, "exec"): undecodable bytes of the output
        as surrogate escapes (``\\udcff`` for the byte 0xff), as in paths."""
        return {
            "type": "repo",
            "path": self.ref.path,
            "display_path": self.ref.display_path,
            "exit_code": self.exit_code,
            "stdout": self.stdout.decode("utf-8", "surrogateescape"),
            "stderr": self.stderr.decode("utf-8", "surrogateescape"),
            "duration_ms": round(self.duration * 1000, 1),
            "error": self.error.to_json() if self.error else None,
            "truncated": self.truncated,
            "format_version": FORMAT_VERSION,
        }


# --------------------------------------------------------------------------- events
# The scan pipeline yields these, in order of occurrence; sinks and the progress display
# consume them. Deep code never prints.


@dataclass(frozen=True, slots=True)
class RepoFound:
    """Discovery found a repository (it is queued for work at once)."""

    ref: RepoRef


@dataclass(frozen=True, slots=True)
class RepoStarted:
    """Work on a repository began (used by the multi-slot network display)."""

    ref: RepoRef


@dataclass(frozen=True, slots=True)
class RepoProgress:
    """A line of git's own progress output for a repository being worked on."""

    ref: RepoRef
    line: str


@dataclass(frozen=True, slots=True)
class RepoDone:
    """A repository finished, successfully or not: its one record."""

    record: RepoRecord


@dataclass(frozen=True, slots=True)
class ScanWarning:
    """Something worth telling the user that is not a per-repo result."""

    path: str
    message: str


@dataclass(frozen=True, slots=True)
class DiscoveryDone:
    """Discovery walked every root; *count* repositories were found."""

    count: int


Event = RepoFound | RepoStarted | RepoProgress | RepoDone | ScanWarning | DiscoveryDone

#: Every key of :meth:`RepoRecord.to_json`, in order. The README documents each one.
RECORD_FIELDS: tuple[str, ...] = tuple(RepoRecord(RepoRef("", "", "")).to_json())

__all__ = [
    "FORMAT_VERSION",
    "RECORD_FIELDS",
    "DiscoveryDone",
    "Event",
    "ExecResult",
    "Operation",
    "Reason",
    "RepoDone",
    "RepoError",
    "RepoFound",
    "RepoProgress",
    "RepoRecord",
    "RepoRef",
    "RepoStarted",
    "RepoStatus",
    "ScanWarning",
]
