"""Running git: the process runner, status parsing and network operations."""

from __future__ import annotations

from gitoverit.errors import (
    CommandCancelledError,
    CommandError,
    CommandTimeoutError,
    GitAuthError,
    GitCorruptError,
    GitNotARepoError,
    GitPermissionError,
)
from gitoverit.git.command import git, git_env, run
from gitoverit.process import CommandResult

__all__ = [
    "CommandCancelledError",
    "CommandError",
    "CommandResult",
    "CommandTimeoutError",
    "GitAuthError",
    "GitCorruptError",
    "GitNotARepoError",
    "GitPermissionError",
    "git",
    "git_env",
    "run",
]
