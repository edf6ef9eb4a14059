"""Starting one command in a new session with ``subprocess.Popen``, its start-up failures
as typed errors; and finding a program's full path once."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Mapping

from gitoverit.errors import CommandError, GitNotARepoError, GitPermissionError
from gitoverit.process._wait import Proc

_EXECUTABLES: dict[tuple[str, str], str] = {}

#: Held while a process starts, from its pipes' creation until the parent's copies of the
#: child's ends are closed: starts from several threads take turns, so that at most one
#: start at a time holds its extra descriptors (a ``Popen`` holds seven at its peak).
START_LOCK = threading.Lock()


def _new_start_lock() -> None:
    # A process forked while another thread was starting one must not inherit it held.
    global START_LOCK
    START_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_new_start_lock)


def executable(name: str, path: str | None = None) -> str:
    """*name* as found in *path* (default: ``$PATH``), looked up once and remembered.

    Starting a program by its bare name makes the C library try ``execve`` in every
    ``PATH`` folder before the right one, each try a failed system call in the new
    process while the caller waits; with the full path the first one succeeds. A name
    with a slash, or one that is not found, is returned as it is (starting it then
    fails with the usual error).
    """
    if os.sep in name:
        return name
    search = os.environ.get("PATH", os.defpath) if path is None else path
    key = (name, search)
    found = _EXECUTABLES.get(key)
    if found is None:
        found = name
        for folder in search.split(os.pathsep):
            candidate = os.path.join(folder or ".", name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                found = candidate
                break
        _EXECUTABLES[key] = found
    return found


def popen(
    argv: list[str],
    cwd: str | os.PathLike[str] | None,
    env: Mapping[str, str] | Mapping[bytes, bytes],
    start: float,
) -> Proc:
    """Start *argv* in a new session, mapping start-up failures to typed errors.

    ``subprocess.Popen`` rather than ``os.posix_spawn``: the latter is cheaper per call
    but holds the GIL while the child starts, which serialises the worker threads.
    """
    path = env.get("PATH") if isinstance(env, dict) and "PATH" in env else None
    if path is None and isinstance(env, dict) and b"PATH" in env:
        path = os.fsdecode(env[b"PATH"])
    try:
        with START_LOCK:
            return subprocess.Popen(
                argv,
                executable=executable(argv[0], path),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
    except OSError as exc:
        in_cwd = cwd is not None and exc.filename is not None and exc.filename == os.fspath(cwd)
        if not in_cwd and cwd is not None and not os.path.isdir(cwd):
            in_cwd = True
        raise _start_error(argv, cwd, exc, start, in_cwd=in_cwd) from exc


def _start_error(
    argv: list[str],
    cwd: str | os.PathLike[str] | None,
    exc: OSError,
    start: float,
    *,
    in_cwd: bool,
) -> CommandError:
    duration = time.monotonic() - start
    if isinstance(exc, PermissionError):
        what = f"directory {cwd}" if in_cwd else argv[0]
        return GitPermissionError(
            argv, None, duration=duration, message=f"permission denied: {what}"
        )
    if in_cwd or (cwd is not None and not os.path.isdir(cwd)):
        return GitNotARepoError(argv, None, duration=duration, message=f"no such directory: {cwd}")
    return CommandError(
        argv, None, duration=duration, message=f"cannot run {argv[0]}: {exc.strerror or exc}"
    )
