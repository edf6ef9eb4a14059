"""The one place that starts git (and any other) processes.

Every call: an argv list, ``stdin=DEVNULL``, a new session (so a timeout or a cancel kills
the whole process group, including ssh and credential helpers), a timeout, and an
environment built explicitly for the child:

- prompts off: ``GIT_TERMINAL_PROMPT=0``, ``GCM_INTERACTIVE=never``, empty askpass programs,
  ssh in ``BatchMode``;
- ``LC_ALL=C`` so that messages can be recognised;
- ``GIT_OPTIONAL_LOCKS=0`` for read-only work;
- inherited ``GIT_DIR``, ``GIT_WORK_TREE``, ``GIT_INDEX_FILE`` and friends removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gitoverit.model import Reason
from gitoverit.parallel._cancel import current_scope

#: Default timeout for local, read-only git commands (status, rev-parse, ...).
LOCAL_TIMEOUT = 60.0
#: Default timeout for network commands (fetch, push, clone).
NETWORK_TIMEOUT = 120.0
#: After SIGTERM, how long a process group gets before SIGKILL.
KILL_GRACE = 0.5

GIT = "git"

# Variables that point git at a different repository, index or object store than the
# one we name explicitly; inheriting them would make us report on the wrong repo.
_LOCATION_VARS = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
        "GIT_QUARANTINE_PATH",
        "GIT_IMPLICIT_WORK_TREE",
        "GIT_INTERNAL_SUPER_PREFIX",
    }
)

_AUTH_PATTERNS = re.compile(
    r"terminal prompts disabled"
    r"|could not read (?:Username|Password)"
    r"|Authentication failed"
    r"|Permission denied \((?:publickey|password|keyboard-interactive)"
    r"|Host key verification failed"
    r"|No ECDSA host key is known|No RSA host key is known|No ED25519 host key is known"
    r"|REMOTE HOST IDENTIFICATION HAS CHANGED"
    r"|Enter passphrase"
    r"|HTTP Basic: Access denied"
    r"|The requested URL returned error: 40[13]"
    r"|invalid credentials"
    r"|access denied or repository not exported",
    re.IGNORECASE,
)
_NOT_A_REPO = re.compile(r"not a git repository", re.IGNORECASE)
_PERMISSION = re.compile(
    r"dubious ownership|Permission denied|unable to access '.*': Permission denied",
    re.IGNORECASE,
)
_CORRUPT = re.compile(
    r"index file corrupt|bad index file|bad signature|bad object|corrupt|unknown index entry"
    r"|invalid (?:sha1|object) pointer|unable to read tree|fatal: bad config"
    r"|unknown repository format|loose object .* is corrupt|packfile .* cannot be accessed"
    r"|invalid gitfile format|not a gitdir|bad numeric config value|expected format",
    re.IGNORECASE,
)


class GitError(Exception):
    """A git command failed. Carries the command, return code, output and duration."""

    reason: Reason = Reason.GIT_ERROR

    def __init__(
        self,
        argv: Sequence[str],
        returncode: int | None,
        stdout: bytes = b"",
        stderr: bytes = b"",
        duration: float = 0.0,
        message: str | None = None,
    ) -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.duration = duration
        super().__init__(message or self._default_message())

    @property
    def command(self) -> str:
        """The command as a short display string, without ``-c`` overrides."""
        shown: list[str] = []
        skip = False
        if not self.argv or os.path.basename(self.argv[0]) != "git":
            return " ".join(self.argv[:4])
        for arg in self.argv:
            if skip:
                skip = False
                continue
            if arg == "-c":
                skip = True
                continue
            shown.append(arg)
        return " ".join(shown[:4])

    @property
    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", "replace").strip()

    def _default_message(self) -> str:
        err = _last_meaningful_line(self.stderr_text)
        base = f"{self.command} exited with {self.returncode}"
        return f"{base}: {err}" if err else base


class GitTimeoutError(GitError):
    """The command outlived its timeout; its whole process group was killed."""

    reason = Reason.TIMEOUT

    def __init__(
        self, argv: Sequence[str], timeout: float, stdout: bytes, stderr: bytes, duration: float
    ) -> None:
        self.timeout = timeout
        super().__init__(
            argv,
            None,
            stdout,
            stderr,
            duration,
            message=f"Command timed out after {timeout:g}s: {_short(argv)}",
        )


class GitAuthError(GitError):
    """git needed credentials, a passphrase or a host-key decision, and prompts are off."""

    reason = Reason.AUTH


class GitCancelledError(GitError):
    """The command was killed because its task was cancelled (Ctrl-C or task timeout)."""

    reason = Reason.INTERRUPTED


class GitNotARepoError(GitError):
    reason = Reason.NOT_A_REPO


class GitCorruptError(GitError):
    reason = Reason.CORRUPT


class GitPermissionError(GitError):
    reason = Reason.PERMISSION


def _short(argv: Sequence[str]) -> str:
    return GitError(argv, 0, message="").command


def _last_meaningful_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in reversed(lines):
        if ln.startswith(("fatal:", "error:")):
            return ln
    return lines[-1] if lines else ""


def classify(stderr: bytes) -> type[GitError]:
    """Map git's stderr to the most specific error class."""
    text = stderr.decode("utf-8", "replace")
    if _AUTH_PATTERNS.search(text):
        return GitAuthError
    if _NOT_A_REPO.search(text):
        return GitNotARepoError
    if _CORRUPT.search(text):
        return GitCorruptError
    if _PERMISSION.search(text):
        return GitPermissionError
    return GitError


def git_env(
    *,
    read_only: bool,
    base: Mapping[str, str] | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Build the child environment for one git call (never touches ``os.environ``)."""
    env = {
        k: v for k, v in (os.environ if base is None else base).items() if k not in _LOCATION_VARS
    }
    env["LC_ALL"] = "C"
    env["LANGUAGE"] = "C"
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GCM_INTERACTIVE"] = "never"
    # Set but empty: git skips an empty askpass and falls back to the (disabled) terminal.
    env["GIT_ASKPASS"] = ""
    env["SSH_ASKPASS"] = ""
    env["SSH_ASKPASS_REQUIRE"] = "never"
    env["GIT_PAGER"] = "cat"
    env["GIT_EDITOR"] = "false"
    env["GIT_MERGE_AUTOEDIT"] = "no"
    ssh = env.get("GIT_SSH_COMMAND")
    if ssh:
        if "BatchMode" not in ssh:
            env["GIT_SSH_COMMAND"] = f"{ssh} -o BatchMode=yes"
    elif not env.get("GIT_SSH"):
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes -o ConnectTimeout=30"
    if read_only:
        env["GIT_OPTIONAL_LOCKS"] = "0"
    if extra:
        env.update(extra)
    return env


#: ``-c`` options for every call: no hooks that could run on read-only commands, no
#: fsmonitor daemon or command, no automatic gc/maintenance after network operations.
SAFE_CONFIG: tuple[str, ...] = (
    "-c",
    "core.fsmonitor=false",
    "-c",
    "gc.auto=0",
    "-c",
    "maintenance.auto=false",
    "-c",
    "color.ui=false",
    "-c",
    "core.pager=cat",
)


@dataclass(frozen=True, slots=True)
class GitResult:
    """A finished command: argv, return code, raw output and wall-clock duration."""

    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes
    duration: float


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL it if it is still there after a grace."""
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            return
        if sig == signal.SIGTERM:
            try:
                proc.wait(KILL_GRACE)
            except subprocess.TimeoutExpired:
                continue
            # The leader is gone; make sure nothing else in the group survives it.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
            return


def run(
    argv: Sequence[str],
    *,
    cwd: str | None = None,
    timeout: float = LOCAL_TIMEOUT,
    read_only: bool = True,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    on_output: object = None,
) -> GitResult:
    """Run *argv* (any program, usually git) and return its result.

    Raises :class:`GitTimeoutError` on timeout (the whole process group is killed first),
    :class:`GitCancelledError` when the current task's scope was cancelled, and with
    ``check=True`` a :class:`GitError` subclass chosen from stderr on a non-zero exit.
    """
    argv = list(argv)
    child_env = dict(env) if env is not None else git_env(read_only=read_only)
    start = time.monotonic()
    scope = current_scope()
    if scope is not None and scope.cancelled:
        raise GitCancelledError(argv, None, message=f"cancelled before start: {_short(argv)}")
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env,
            start_new_session=True,
            close_fds=True,
        )
    except FileNotFoundError as exc:
        if cwd is not None and not os.path.isdir(cwd):
            raise GitNotARepoError(argv, None, message=f"no such directory: {cwd}") from exc
        raise GitError(argv, None, message=f"cannot run {argv[0]}: {exc}") from exc
    except PermissionError as exc:
        raise GitPermissionError(argv, None, message=f"permission denied: {exc}") from exc
    handle = scope.add_callback(lambda: _kill_group(proc)) if scope is not None else None
    try:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err = proc.communicate()
            raise GitTimeoutError(argv, timeout, out, err, time.monotonic() - start) from None
        except BaseException:
            # KeyboardInterrupt (or anything else) while waiting: never leave the group.
            _kill_group(proc)
            proc.wait()
            raise
    finally:
        if scope is not None and handle is not None:
            scope.remove_callback(handle)
    duration = time.monotonic() - start
    if scope is not None and scope.cancelled:
        if scope.reason == "timeout":
            raise GitTimeoutError(argv, duration, out, err, duration)
        raise GitCancelledError(
            argv, proc.returncode, out, err, duration, message=f"interrupted: {_short(argv)}"
        )
    if check and proc.returncode != 0:
        cls = classify(err)
        raise cls(argv, proc.returncode, out, err, duration)
    return GitResult(tuple(argv), proc.returncode, out, err, duration)


def git(
    *args: str,
    cwd: str | None = None,
    timeout: float = LOCAL_TIMEOUT,
    read_only: bool = True,
    check: bool = True,
    env: Mapping[str, str] | None = None,
) -> GitResult:
    """Run ``git <SAFE_CONFIG> <args>`` through :func:`run`."""
    return run(
        [GIT, *SAFE_CONFIG, *args],
        cwd=cwd,
        timeout=timeout,
        read_only=read_only,
        check=check,
        env=env,
    )
