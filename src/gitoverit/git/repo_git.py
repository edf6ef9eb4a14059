"""git run inside one repository to read its state: environment, output and failures.

Every git a status starts gets :func:`status_env`: the read-only environment of
:mod:`gitoverit.git.command` (``GIT_OPTIONAL_LOCKS=0``, ``core.fsmonitor=false``) with
``GIT_CEILING_DIRECTORIES`` set to the repository's parent, so that git never reports on
an enclosing repository instead. A failure that says "not a git repository" about a repo
whose git dir is there is a corrupt repository (:func:`status_error`).
"""

from __future__ import annotations

import os

from gitoverit.errors import CommandError, GitCorruptError, GitNotARepoError
from gitoverit.git.command import default_env, start_git
from gitoverit.model import RepoRef
from gitoverit.process import Running


def status_env(ref: RepoRef, index_copy: str | None = None) -> dict[bytes, bytes]:
    """The child environment for git in *ref*: read-only, with a ceiling.

    With *index_copy* (see :func:`~gitoverit.git.index_copy.copy_index`) git reads and may
    rewrite that file instead of the repository's index, and nothing else: optional locks
    stay on, so that git writes the stat data it refreshes there.
    """
    # git must not walk up from the work tree and report on an enclosing repository. git
    # resolves symlinks in ceiling entries itself.
    parent = os.path.dirname(ref.path.rstrip(os.sep)) or os.sep
    env = dict(default_env(read_only=index_copy is None))
    env[b"GIT_CEILING_DIRECTORIES"] = os.fsencode(parent)
    if index_copy is not None:
        env[b"GIT_INDEX_FILE"] = os.fsencode(index_copy)
    return env


def status_error(ref: RepoRef, exc: CommandError) -> CommandError:
    """*exc* from ``git status``, as corrupt when git no longer recognises a repo whose git
    dir is there (garbage ``HEAD``, missing ``objects``...)."""
    if isinstance(exc, GitNotARepoError) and ref.git_dir and os.path.isdir(ref.git_dir):
        return GitCorruptError(
            exc.argv,
            exc.returncode,
            exc.stdout,
            exc.stderr,
            exc.duration,
            message=f"repository is unreadable (corrupt git dir?): {exc}",
        )
    return exc


def git_checked(ref: RepoRef, *args: str, timeout: float) -> bytes:
    """Run git in the repo and return its stdout (see :func:`checked_output`)."""
    return checked_output(ref, start_git(*args, cwd=ref.path, timeout=timeout, env=status_env(ref)))


def checked_output(ref: RepoRef, running: Running) -> bytes:
    """Wait for git and return its stdout; see :func:`status_error` for failures."""
    try:
        return running.result().stdout
    except CommandError as exc:
        mapped = status_error(ref, exc)
        if mapped is exc:
            raise
        raise mapped from exc
