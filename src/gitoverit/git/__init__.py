"""Running git: the process runner, status parsing and network operations."""

from __future__ import annotations

from gitoverit.git._run import (
    GitAuthError,
    GitCancelledError,
    GitCorruptError,
    GitError,
    GitNotARepoError,
    GitPermissionError,
    GitResult,
    GitTimeoutError,
    git,
    git_env,
    run,
)

__all__ = [
    "GitAuthError",
    "GitCancelledError",
    "GitCorruptError",
    "GitError",
    "GitNotARepoError",
    "GitPermissionError",
    "GitResult",
    "GitTimeoutError",
    "git",
    "git_env",
    "run",
]
