"""The one place that starts child processes, git or any other program.

Every start has an argv list (never a shell unless the caller's argv starts one),
``stdin=DEVNULL``, a new session (so a timeout or a cancel kills the whole process group,
including ssh and credential helpers), a timeout, and the environment the caller built
for it. The git layer (:mod:`gitoverit.git._run`) adds git's environment, its ``-c``
overrides and the reading of its error messages on top.

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
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

from gitoverit.errors import (
    CommandCancelledError,
    CommandError,
    CommandTimeoutError,
    GitNotARepoError,
    GitPermissionError,
    short_command,
)
from gitoverit.parallel._cancel import CancelScope, current_scope

#: After SIGTERM, how long a process group gets before SIGKILL.
KILL_GRACE = 0.5
#: After the command has exited (or been killed), how long to keep reading pipes that are
#: still open because a descendant that left the process group holds them.
DRAIN_GRACE = 0.5

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

#: Called with each line a command writes to stderr (``\r`` counts as a line break), as it arrives.
ProgressCallback = Callable[[str], None]

#: Picks the error class for a failed command from its stderr.
Classifier = Callable[[bytes], type[CommandError]]


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
        classify: Classifier = lambda stderr: CommandError,
    ) -> None:
        self.argv = argv
        self._classify = classify
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
            raise self._classify(err)(argv, returncode, out, err, duration)
        return CommandResult(tuple(argv), returncode, out, err, duration)


_DEFAULT_SIGNALS = tuple(
    sig for sig in (getattr(signal, "SIGPIPE", None), getattr(signal, "SIGXFSZ", None)) if sig
)


def _mask_sigint() -> object:
    """Hold back SIGINT on this thread; returns what :func:`_unmask` restores."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _unmask(previous: object) -> None:
    if previous is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)  # type: ignore[arg-type]


@contextlib.contextmanager
def sigint_held() -> Iterator[None]:
    """Hold back a Ctrl-C on this (main) thread until the block ends.

    Around :func:`spawn` and the caller's bookkeeping of the new process, so that an
    interrupt never falls between the two: every process started is then known to the
    code that kills them.
    """
    masked = _mask_sigint()
    try:
        yield
    finally:
        _unmask(masked)


def spawn(argv: Sequence[str], env: Mapping[bytes, bytes], path: str) -> tuple[int, int, int]:
    """Start *argv* (the program at *path*) in a new session with ``posix_spawn``, stdin
    from ``/dev/null``; returns its pid and the read ends of its stdout and stderr pipes.

    The cheapest way to start a process, for callers that run many short ones from one
    thread and wait on them themselves (the status engine). The process group is
    registered for :func:`kill_all`; call :func:`forget` once it has been reaped. Raises
    ``OSError`` when the program cannot be started (no pipe is left open then).
    """
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        pid = os.posix_spawn(
            path,
            list(argv),
            env,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, out_w, 1),
                (os.POSIX_SPAWN_DUP2, err_w, 2),
            ],
            setsid=True,
            # Python ignores SIGPIPE; an ignored signal would stay ignored in the child.
            setsigdef=_DEFAULT_SIGNALS,
            setsigmask=(),
        )
    except OSError:
        os.close(out_r)
        os.close(err_r)
        raise
    finally:
        os.close(out_w)
        os.close(err_w)
    _LIVE_GROUPS.add(pid)
    return pid, out_r, err_r


def forget(pid: int) -> None:
    """*pid*, started by :func:`spawn`, has been reaped: :func:`kill_all` leaves it be."""
    _LIVE_GROUPS.discard(pid)


def start(
    argv: Sequence[str],
    *,
    timeout: float,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | Mapping[bytes, bytes] | None = None,
    check: bool = True,
    on_progress: ProgressCallback | None = None,
    classify: Classifier | None = None,
) -> Running:
    """Start *argv* like :func:`run` does, without waiting for it."""
    argv = list(argv)
    started = time.monotonic()
    scope = current_scope()
    if scope is not None and scope.cancelled:
        raise _scope_error(scope, argv, b"", b"", 0.0)
    proc = _start(argv, cwd, os.environ if env is None else env, started)
    if classify is None:
        return Running(argv, proc, started, timeout, check, on_progress)
    return Running(argv, proc, started, timeout, check, on_progress, classify)


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | Mapping[bytes, bytes] | None = None,
    check: bool = True,
    on_progress: ProgressCallback | None = None,
    classify: Classifier | None = None,
) -> CommandResult:
    """Run *argv* and return its result.

    *env*, when given, is the child's complete environment; otherwise it inherits ours.
    *on_progress* receives each non-empty stderr line as it arrives (``\\r`` ends a line
    too); stderr is still captured in full.

    Raises :class:`CommandTimeoutError` when *timeout* seconds pass (the whole process
    group is killed first), :class:`CommandCancelledError` (or
    :class:`CommandTimeoutError` for a task timeout) when the current task's scope is
    cancelled, and with ``check=True`` on a non-zero exit the :class:`CommandError`
    subclass that *classify* picks from stderr (plain :class:`CommandError` by default).
    Any other exception while waiting (KeyboardInterrupt, or one raised by
    *on_progress*) kills the process group and propagates.
    """
    return start(
        argv,
        cwd=cwd,
        timeout=timeout,
        env=env,
        check=check,
        on_progress=on_progress,
        classify=classify,
    ).result()
