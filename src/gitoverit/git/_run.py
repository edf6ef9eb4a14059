"""The one place that starts git (and any other) processes.

Every call: an argv list, ``stdin=DEVNULL``, a new session (so a timeout or a cancel kills
the whole process group, including ssh and credential helpers), a timeout, and an
environment built explicitly for the child:

- prompts off: ``GIT_TERMINAL_PROMPT=0``, ``GCM_INTERACTIVE=never``, empty askpass programs,
  ssh in ``BatchMode``; the child also has no controlling terminal, so nothing can prompt;
- ``LC_ALL=C`` so that messages can be recognised;
- ``GIT_OPTIONAL_LOCKS=0`` for read-only work;
- inherited ``GIT_DIR``, ``GIT_WORK_TREE``, ``GIT_INDEX_FILE`` and friends removed.

Output is read by a selector loop rather than ``communicate()``, so that the loop can hand
progress lines to a callback as they arrive, notice a cancelled task within ``_TICK``
seconds, and stop waiting for a pipe that some escaped descendant keeps open after the
command itself has exited.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import selectors
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

from gitoverit.errors import (
    CommandCancelledError,
    CommandError,
    CommandTimeoutError,
    GitAuthError,
    GitCorruptError,
    GitNotARepoError,
    GitPermissionError,
    short_command,
)
from gitoverit.parallel._cancel import CancelScope, current_scope

#: Default timeout for local, read-only git commands (status, rev-parse, ...).
LOCAL_TIMEOUT = 60.0
#: Default timeout for network commands (fetch, push, clone).
NETWORK_TIMEOUT = 120.0
#: After SIGTERM, how long a process group gets before SIGKILL.
KILL_GRACE = 0.5
#: After the command has exited (or been killed), how long to keep reading pipes that are
#: still open because a descendant that left the process group holds them.
DRAIN_GRACE = 0.5

GIT = "git"

_EXECUTABLES: dict[tuple[str, str], str] = {}


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


# How often the wait loop wakes up with no output, to notice a cancelled scope or a
# command that exited while something else still holds its pipes.
_TICK = 0.1

#: Called with each line git writes to stderr (``\r`` counts as a line break), as it arrives.
ProgressCallback = Callable[[str], None]

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
    # git itself, over http(s), with prompts disabled or credentials rejected
    r"terminal prompts disabled"
    r"|could not read (?:Username|Password)"
    r"|Authentication failed"
    r"|HTTP Basic: Access denied"
    r"|The requested URL returned error: 40[13]\b"
    r"|(?:invalid|bad) (?:credentials|username or password)"
    r"|Permission to \S+ denied to"
    r"|access denied or repository not exported"
    # ssh: rejected keys or passwords (always followed by the list of methods tried)
    r"|Permission denied \([\w@.,-]+\)"
    r"|Too many authentication failures"
    r"|sign_and_send_pubkey: signing failed"
    r"|Load key .*: (?:bad permissions|incorrect passphrase)"
    r"|UNPROTECTED PRIVATE KEY FILE"
    r"|Enter passphrase"
    # ssh: host keys that would need a human decision
    r"|Host key verification failed"
    r"|No \S+ host key is known for"
    r"|REMOTE HOST IDENTIFICATION HAS CHANGED"
    r"|Host key for \S+ has changed",
    re.IGNORECASE,
)
_NOT_A_REPO = re.compile(r"not a git repository", re.IGNORECASE)
_PERMISSION = re.compile(
    r"dubious ownership|Permission denied|Operation not permitted",
    re.IGNORECASE,
)
_CORRUPT = re.compile(
    r"index file corrupt|index file smaller than expected|bad index file|bad signature 0x"
    r"|unknown index entry"
    r"|bad object|\bcorrupt|invalid (?:sha1|object) pointer|unable to read tree"
    r"|fatal: bad config|bad numeric config value|unknown repository format"
    r"|packfile .* cannot be accessed|invalid gitfile format|not a gitdir"
    r"|index uses .* extension, which we do not understand",
    re.IGNORECASE,
)


def classify(stderr: bytes) -> type[CommandError]:
    """Map git's stderr to the most specific error class.

    Authentication comes first: a rejected ssh key says "Permission denied (publickey)",
    which must not be read as a filesystem permission problem.
    """
    text = stderr.decode("utf-8", "replace")
    if _AUTH_PATTERNS.search(text):
        return GitAuthError
    if _NOT_A_REPO.search(text):
        return GitNotARepoError
    if _CORRUPT.search(text):
        return GitCorruptError
    if _PERMISSION.search(text):
        return GitPermissionError
    return CommandError


_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def _batch_ssh(command: str) -> str:
    """*command* (a shell string that starts ssh) with prompts turned off.

    The option goes right after the program name (past any leading ``VAR=value``
    assignments): ssh keeps the first value it sees for an option, so this overrides a
    ``-o BatchMode=no`` later in the user's command. PuTTY's plink takes ``-batch``.
    """
    command = command.strip()
    start = 0
    while True:
        end = start + _first_word_end(command[start:])
        word = command[start:end]
        rest = command[end:].lstrip()
        if not (_ASSIGNMENT.match(word) and rest):
            break
        start = len(command) - len(rest)
    try:
        program = shlex.split(word)[0]
    except (ValueError, IndexError):
        program = word
    name = os.path.basename(program).lower().removesuffix(".exe")
    flag = "-batch" if name in {"plink", "tortoiseplink"} else "-o BatchMode=yes"
    return f"{command[:end]} {flag}{command[end:]}"


def _first_word_end(command: str) -> int:
    """Index just past the first shell word of *command* (quotes and escapes respected)."""
    quote = ""
    escaped = False
    for i, ch in enumerate(command):
        if escaped:
            escaped = False
        elif ch == "\\" and quote != "'":
            escaped = True
        elif quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch.isspace():
            return i
    return len(command)


def git_env(
    *,
    read_only: bool,
    base: Mapping[str, str] | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Build the child environment for one git call (never touches ``os.environ``).

    *base* defaults to ``os.environ``; *extra* is applied last and wins.
    """
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
    ssh_command = env.get("GIT_SSH_COMMAND", "").strip()
    ssh_program = env.get("GIT_SSH", "").strip()
    if ssh_command:
        env["GIT_SSH_COMMAND"] = _batch_ssh(ssh_command)
    elif ssh_program:
        # GIT_SSH names a program, not a shell command; GIT_SSH_COMMAND takes precedence.
        env["GIT_SSH_COMMAND"] = _batch_ssh(shlex.quote(ssh_program))
    else:
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes -o ConnectTimeout=30"
    if read_only:
        env["GIT_OPTIONAL_LOCKS"] = "0"
    else:
        env.pop("GIT_OPTIONAL_LOCKS", None)
    if extra:
        env.update(extra)
    return env


_ENV_CACHE: dict[tuple[bool, frozenset[tuple[bytes, bytes]]], dict[bytes, bytes]] = {}


def default_env(read_only: bool) -> dict[bytes, bytes]:
    """``git_env(read_only=...)`` for the current ``os.environ``, encoded for ``Popen``.

    Building and encoding the environment costs about 0.1 ms per call, which is a tenth of
    a small repo's ``git status``; the result is cached, keyed on the raw environment, so
    any change to ``os.environ`` still takes effect on the next call. Treat it as
    read-only.
    """
    data = getattr(os.environ, "_data", None)
    key = (read_only, frozenset(data.items())) if isinstance(data, dict) else None
    if key is not None:
        cached = _ENV_CACHE.get(key)
        if cached is not None:
            return cached
    env = {os.fsencode(k): os.fsencode(v) for k, v in git_env(read_only=read_only).items()}
    if key is not None:
        if len(_ENV_CACHE) >= 8:
            _ENV_CACHE.clear()
        _ENV_CACHE[key] = env
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
class CommandResult:
    """A finished command: argv, return code, raw output and wall-clock duration."""

    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes
    duration: float


#: Process groups started by :func:`run` that have not finished. Set operations are
#: atomic under the GIL, so a signal handler can read it without taking a lock.
_LIVE_GROUPS: set[int] = set()


#: Private folders of temporary files (the status engine's index copies), removed by
#: their owner when it ends, or by :func:`kill_all`.
TEMP_DIRS: set[str] = set()


def kill_all() -> None:
    """SIGKILL every process group :func:`run` started that is still running, and remove
    the private temporary folders (:data:`TEMP_DIRS`).

    For an immediate exit (a second Ctrl-C): there is no time to let git clean up, but no
    child may outlive us, and nothing of ours may stay behind. Safe to call from a signal
    handler.
    """
    for pgid in tuple(_LIVE_GROUPS):
        _signal_group(pgid, signal.SIGKILL)
    for path in tuple(TEMP_DIRS):
        remove_temp_dir(path)


def remove_temp_dir(path: str) -> None:
    """Remove *path*, a folder of plain files, and forget it."""
    with contextlib.suppress(OSError):
        for name in os.listdir(path):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(path, name))
        os.rmdir(path)
    TEMP_DIRS.discard(path)


def _signal_group(pgid: int, sig: int) -> bool:
    """Send *sig* to process group *pgid*; ``False`` when the group no longer exists."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _terminate(proc: _Proc) -> None:
    """SIGTERM the process group, wait up to ``KILL_GRACE`` for the leader, SIGKILL the rest.

    The child is a session leader, so its pid is the group id, and the group can be
    signalled even after the leader has exited while descendants live on. The leader (git)
    gets the grace to remove its lock files; whatever is left of the group afterwards is
    killed outright. An exception during the grace (a second Ctrl-C) goes straight to
    SIGKILL. The leader is always reaped.
    """
    pgid = proc.pid
    try:
        if _signal_group(pgid, signal.SIGTERM):
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=KILL_GRACE)
    finally:
        _signal_group(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5.0)


# poll(2) needs no extra file descriptor per call, unlike epoll.
_Selector: type[selectors.BaseSelector] = getattr(
    selectors, "PollSelector", selectors.DefaultSelector
)


class _Reader:
    """Collects a child's stdout and stderr, passing stderr lines to a progress callback."""

    def __init__(self, proc: _Proc, on_progress: ProgressCallback | None):
        self._proc = proc
        self._on_progress = on_progress
        self._chunks: dict[int, list[bytes]] = {}
        self._stdout_fd = -1
        self._stderr_fd = -1
        self._partial = b""
        self._sel = _Selector()
        pipes: list[IO[bytes] | None] = [proc.stdout, proc.stderr]
        for pipe in pipes:
            if pipe is not None:
                self._chunks[pipe.fileno()] = []
                self._sel.register(pipe.fileno(), selectors.EVENT_READ)
        if proc.stdout is not None:
            self._stdout_fd = proc.stdout.fileno()
        if proc.stderr is not None:
            self._stderr_fd = proc.stderr.fileno()

    @property
    def open(self) -> bool:
        return bool(self._sel.get_map())

    def pump(self, wait: float) -> None:
        """Read whatever arrives within *wait* seconds (returns early on any event)."""
        for key, _ in self._sel.select(max(wait, 0.0)):
            fd = int(key.fd)
            data = os.read(fd, 65536)
            if not data:
                self._sel.unregister(fd)
                if fd == self._stderr_fd:
                    self._progress(b"", final=True)
                continue
            self._chunks[fd].append(data)
            if fd == self._stderr_fd:
                self._progress(data, final=False)

    def drain(self, grace: float) -> None:
        """Read until every pipe is at EOF or *grace* seconds have passed."""
        end = time.monotonic() + grace
        while self.open:
            left = end - time.monotonic()
            if left <= 0:
                break
            self.pump(left)

    def _progress(self, data: bytes, *, final: bool) -> None:
        if self._on_progress is None:
            return
        *lines, self._partial = re.split(rb"[\r\n]", self._partial + data)
        if final:
            lines.append(self._partial)
            self._partial = b""
        for raw in lines:
            line = raw.decode("utf-8", "replace").strip()
            if line:
                self._on_progress(line)

    @property
    def stdout(self) -> bytes:
        return b"".join(self._chunks.get(self._stdout_fd, []))

    @property
    def stderr(self) -> bytes:
        return b"".join(self._chunks.get(self._stderr_fd, []))

    def close(self) -> None:
        self._sel.close()
        _close_pipes(self._proc)


def _close_pipes(proc: _Proc) -> None:
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def _scope_error(
    scope: CancelScope, argv: Sequence[str], out: bytes, err: bytes, duration: float
) -> CommandError:
    if scope.reason == "timeout":
        return CommandTimeoutError(argv, duration, out, err, duration)
    return CommandCancelledError(
        argv, None, out, err, duration, message=f"interrupted: {short_command(argv)}"
    )


_Proc = subprocess.Popen[bytes]


def _start(
    argv: list[str],
    cwd: str | os.PathLike[str] | None,
    env: Mapping[str, str] | Mapping[bytes, bytes],
    start: float,
) -> _Proc:
    """Start *argv* in a new session, mapping start-up failures to typed errors.

    ``subprocess.Popen`` rather than ``os.posix_spawn``: the latter is cheaper per call
    but holds the GIL while the child starts, which serialises the worker threads.
    """
    path = env.get("PATH") if isinstance(env, dict) and "PATH" in env else None
    if path is None and isinstance(env, dict) and b"PATH" in env:
        path = os.fsdecode(env[b"PATH"])
    try:
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


def _on_cancel(proc: _Proc) -> None:
    """Scope callback, run on the cancelling thread: signal only, never wait.

    The thread waiting in :func:`run` notices the cancelled scope and escalates to SIGKILL.
    """
    if proc.returncode is None:
        _signal_group(proc.pid, signal.SIGTERM)


def _wait(proc: _Proc, reader: _Reader, deadline: float, scope: CancelScope | None) -> str | None:
    """Collect output until the command is done; ``"timeout"`` or ``"cancelled"`` if not.

    Done means: every pipe is at EOF and the leader has exited, or the leader exited
    ``DRAIN_GRACE`` seconds ago and something outside its group still holds a pipe.
    """
    exited_at: float | None = None
    while reader.open:
        now = time.monotonic()
        if scope is not None and scope.cancelled:
            return "cancelled"
        if now >= deadline:
            return "timeout"
        if exited_at is None and proc.poll() is not None:
            exited_at = now
        if exited_at is not None and now - exited_at >= DRAIN_GRACE:
            return None
        reader.pump(min(deadline - now, _TICK))
    # The pipes are closed; a leader that closed them itself may still be running.
    if proc.poll() is None and not _wait_exit(proc, deadline):
        return "timeout"
    return None


def _wait_exit(proc: _Proc, deadline: float) -> bool:
    """Wait for *proc* to exit by *deadline*; ``False`` on timeout.

    ``Popen.wait(timeout=...)`` polls with sleeps, which costs about a millisecond per
    command, as much as a whole ``git status``. A pidfd wakes us the moment the process
    exits; without one (old kernels), fall back to polling.
    """
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        delay = 0.0005
        while proc.poll() is None:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(delay, left))
            delay = min(delay * 2, 0.05)
        return True
    try:
        ready, _, _ = select.select([pidfd], [], [], max(deadline - time.monotonic(), 0.0))
    finally:
        os.close(pidfd)
    if not ready:
        return False
    proc.wait()
    return True


class Running:
    """A command started by :func:`start`. Call :meth:`result` once, or :meth:`abort`.

    Between the two the caller may do other work while the command runs; the timeout
    keeps counting from the start.
    """

    def __init__(
        self,
        argv: list[str],
        proc: _Proc,
        start: float,
        timeout: float,
        check: bool,
        on_progress: ProgressCallback | None,
    ) -> None:
        self.argv = argv
        self._proc = proc
        self._start = start
        self._timeout = timeout
        self._check = check
        self._scope = current_scope()
        self._handle: int | None = None
        self._reader: _Reader | None = None
        self._done = False
        _LIVE_GROUPS.add(proc.pid)
        try:
            if self._scope is not None:
                self._handle = self._scope.add_callback(lambda: _on_cancel(proc))
            self._reader = _Reader(proc, on_progress)
        except BaseException:
            self.abort()
            raise

    def _close(self) -> None:
        self._done = True
        if self._scope is not None and self._handle is not None:
            self._scope.remove_callback(self._handle)
        if self._reader is not None:
            self._reader.close()
        else:
            _close_pipes(self._proc)
        _LIVE_GROUPS.discard(self._proc.pid)

    def abort(self) -> None:
        """Kill the command's process group and release everything (idempotent)."""
        if self._done:
            return
        try:
            _terminate(self._proc)
        finally:
            self._close()

    def result(self) -> CommandResult:
        """Wait for the command and return its result (see :func:`run` for errors)."""
        proc, reader, scope, argv = self._proc, self._reader, self._scope, self.argv
        assert reader is not None and not self._done
        try:
            stopped = _wait(proc, reader, self._start + self._timeout, scope)
            if stopped is not None:
                _terminate(proc)
                reader.drain(DRAIN_GRACE)
        except BaseException:
            self.abort()
            raise
        self._close()
        out, err = reader.stdout, reader.stderr
        duration = time.monotonic() - self._start
        if stopped == "timeout":
            raise CommandTimeoutError(argv, self._timeout, out, err, duration)
        if scope is not None and scope.cancelled:
            raise _scope_error(scope, argv, out, err, duration)
        returncode = proc.returncode if proc.returncode is not None else proc.wait()
        if self._check and returncode != 0:
            raise classify(err)(argv, returncode, out, err, duration)
        return CommandResult(tuple(argv), returncode, out, err, duration)


def start(
    argv: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = LOCAL_TIMEOUT,
    read_only: bool = True,
    env: Mapping[str, str] | Mapping[bytes, bytes] | None = None,
    check: bool = True,
    on_progress: ProgressCallback | None = None,
) -> Running:
    """Start *argv* like :func:`run` does, without waiting for it."""
    argv = list(argv)
    child_env: Mapping[str, str] | Mapping[bytes, bytes] = (
        env if env is not None else default_env(read_only)
    )
    started = time.monotonic()
    scope = current_scope()
    if scope is not None and scope.cancelled:
        raise _scope_error(scope, argv, b"", b"", 0.0)
    proc = _start(argv, cwd, child_env, started)
    return Running(argv, proc, started, timeout, check, on_progress)


def run(
    argv: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = LOCAL_TIMEOUT,
    read_only: bool = True,
    env: Mapping[str, str] | Mapping[bytes, bytes] | None = None,
    check: bool = True,
    on_progress: ProgressCallback | None = None,
) -> CommandResult:
    """Run *argv* (any program, usually git) and return its result.

    *env*, when given, is the child's complete environment (build it with
    :func:`git_env`); otherwise ``git_env(read_only=read_only)`` is used. *on_progress*
    receives each non-empty stderr line as it arrives (``\\r`` ends a line too); stderr is
    still captured in full.

    Raises :class:`CommandTimeoutError` when *timeout* seconds pass (the whole process group is
    killed first), :class:`CommandCancelledError` (or :class:`CommandTimeoutError` for a task
    timeout) when the current task's scope is cancelled, and with ``check=True`` a
    :class:`CommandError` subclass chosen by :func:`classify` on a non-zero exit. Any other
    exception while waiting (KeyboardInterrupt, or one raised by *on_progress*) kills the
    process group and propagates.
    """
    return start(
        argv,
        cwd=cwd,
        timeout=timeout,
        read_only=read_only,
        env=env,
        check=check,
        on_progress=on_progress,
    ).result()


def git(
    *args: str,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = LOCAL_TIMEOUT,
    read_only: bool = True,
    check: bool = True,
    env: Mapping[str, str] | Mapping[bytes, bytes] | None = None,
    on_progress: ProgressCallback | None = None,
) -> CommandResult:
    """Run ``git <SAFE_CONFIG> <args>`` through :func:`run`."""
    return run(
        [GIT, *SAFE_CONFIG, *args],
        cwd=cwd,
        timeout=timeout,
        read_only=read_only,
        check=check,
        env=env,
        on_progress=on_progress,
    )


def start_git(
    *args: str,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = LOCAL_TIMEOUT,
    read_only: bool = True,
    check: bool = True,
    env: Mapping[str, str] | Mapping[bytes, bytes] | None = None,
) -> Running:
    """Start ``git <SAFE_CONFIG> <args>`` without waiting (see :class:`Running`)."""
    return start(
        [GIT, *SAFE_CONFIG, *args],
        cwd=cwd,
        timeout=timeout,
        read_only=read_only,
        check=check,
        env=env,
    )


def network_env(cwd: str | os.PathLike[str] | None = None) -> dict[str, str] | None:
    """The child environment for a network command run in *cwd*, or ``None`` for the
    default one.

    The default environment sets ``GIT_SSH_COMMAND`` (ssh in batch mode), which would take
    precedence over a ``core.sshCommand`` that the repository or the user configured (a
    per-repository key, a jump host). When git config names one, and neither
    ``GIT_SSH_COMMAND`` nor ``GIT_SSH`` is set, that command is used, in batch mode. Costs
    one ``git config`` call, next to a network operation.
    """
    if os.environ.get("GIT_SSH_COMMAND", "").strip() or os.environ.get("GIT_SSH", "").strip():
        return None
    res = git("config", "--get", "core.sshCommand", cwd=cwd, check=False)
    command = res.stdout.decode("utf-8", "surrogateescape").strip()
    if res.returncode != 0 or not command:
        return None
    env = git_env(read_only=False)
    env["GIT_SSH_COMMAND"] = _batch_ssh(command)
    return env
