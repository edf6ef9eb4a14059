"""The one place that starts child processes, git or any other program.

Every start has an argv list (never a shell unless the caller's argv starts one),
``stdin=DEVNULL``, a new session (so a timeout or a cancel kills the whole process group,
including ssh and credential helpers), a timeout, and the environment the caller built
for it, on the base every child gets (:func:`no_prompt_env`, from
:mod:`gitoverit.process._env`: no prompts, no inherited ``GIT_DIR``). The git layer
(:mod:`gitoverit.git.command`) adds git's environment, its ``-c`` overrides and the
reading of its error messages on top; ``gitoverit exec`` runs any command through the
same :func:`start`, keeping at most *max_output* bytes of each stream and passing each
line to *on_output* as it comes.

Waiting for a command, reading its output and killing its process group are the work of
:mod:`gitoverit.process._wait`, which also holds the constants that tune them
(:data:`KILL_GRACE`, :data:`DRAIN_GRACE`).

Because every command starts here, this is also where each is recorded, once it ends,
in the debug log: :func:`log_commands` turns that on. While it is off, the cost is one
test of a module variable per command.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitoverit.errors import (
    CommandCancelledError,
    CommandError,
    CommandTimeoutError,
    short_command,
)
from gitoverit.parallel._cancel import CancelScope, current_scope
from gitoverit.process import _popen
from gitoverit.process._env import (
    LOCATION_VARS,
    batch_ssh,
    inherited_ssh_command,
    no_prompt_env,
)
from gitoverit.process._popen import executable, popen
from gitoverit.process._wait import (
    DRAIN_GRACE,
    KILL_GRACE,
    OutputCallback,
    Proc,
    Reader,
    close_pipes,
    finish,
    signal_group,
    terminate,
)
from gitoverit.process._wakeup import Wakeup, drain_pipe

if TYPE_CHECKING:
    import logging

#: Where each command that ends is recorded (:func:`log_commands`); ``None``: nowhere.
_LOG: logging.Logger | None = None

#: The commands :func:`spawn` started while the log was on, until :func:`forget`:
#: pid -> (argv, folder, start time).
_SPAWNED: dict[int, tuple[Sequence[str], str | None, float]] = {}


def log_commands(logger: logging.Logger | None) -> None:
    """From now on, record each command that ends, with its folder, exit code and
    duration, to *logger* (one line each; see :mod:`gitoverit.process._log` for the line
    and its levels). ``None`` turns the record off again."""
    global _LOG
    _LOG = logger


def command_log() -> logging.Logger | None:
    """The logger :func:`log_commands` set, if any."""
    return _LOG


def _logged(
    argv: Sequence[str], folder: str | os.PathLike[str] | None, start: float, exit_: int | str
) -> None:
    """Record an ended command, when the log is on (the caller has checked ``_LOG``)."""
    log = _LOG
    if log is not None:
        from gitoverit.process._log import write

        write(log, argv, folder, time.monotonic() - start, exit_)


#: Called with each line a command writes to stderr (``\r`` counts as a line break), as it arrives.
ProgressCallback = Callable[[str], None]

#: Picks the error class for a failed command from its stderr.
Classifier = Callable[[bytes], type[CommandError]]


def unclassified(stderr: bytes) -> type[CommandError]:
    """The :data:`Classifier` for a program whose messages mean nothing to us."""
    return CommandError


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
        signal_group(pgid, signal.SIGKILL)
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


def _scope_error(
    scope: CancelScope, argv: Sequence[str], out: bytes, err: bytes, duration: float
) -> CommandError:
    if scope.reason == "timeout":
        return CommandTimeoutError(argv, duration, out, err, duration)
    return CommandCancelledError(
        argv, None, out, err, duration, message=f"interrupted: {short_command(argv)}"
    )


def _on_cancel(proc: Proc) -> None:
    """Scope callback, run on the cancelling thread: signal only, never wait.

    The thread waiting in :func:`run` notices the cancelled scope and escalates to SIGKILL.
    """
    if proc.returncode is None:
        signal_group(proc.pid, signal.SIGTERM)


class Running:
    """A command started by :func:`start`. Call :meth:`result` once, or :meth:`abort`.

    Between the two the caller may do other work while the command runs; the timeout
    keeps counting from the start.
    """

    def __init__(
        self,
        argv: list[str],
        proc: Proc,
        start: float,
        timeout: float,
        check: bool,
        on_progress: ProgressCallback | None,
        classify: Classifier = unclassified,
        cwd: str | os.PathLike[str] | None = None,
        max_output: int | None = None,
        on_output: OutputCallback | None = None,
    ) -> None:
        self.argv = argv
        self._cwd = cwd
        self._classify = classify
        self._proc = proc
        self._start = start
        self._timeout = timeout
        self._check = check
        self._scope = current_scope()
        self._handle: int | None = None
        self._reader: Reader | None = None
        self._done = False
        _LIVE_GROUPS.add(proc.pid)
        try:
            if self._scope is not None:
                self._handle = self._scope.add_callback(lambda: _on_cancel(proc))
            self._reader = Reader(proc, on_progress, limit=max_output, on_output=on_output)
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
            close_pipes(self._proc)
        _LIVE_GROUPS.discard(self._proc.pid)

    @property
    def truncated(self) -> bool:
        """Whether more than *max_output* bytes of a stream came, and the rest was dropped."""
        return self._reader is not None and self._reader.truncated

    def abort(self) -> None:
        """Kill the command's process group and release everything (idempotent)."""
        if self._done:
            return
        try:
            terminate(self._proc)
        finally:
            self._close()
            if _LOG is not None:
                _logged(self.argv, self._cwd, self._start, "killed")

    def result(self) -> CommandResult:
        """Wait for the command and return its result (see :func:`run` for errors)."""
        proc, reader, scope, argv = self._proc, self._reader, self._scope, self.argv
        assert reader is not None and not self._done
        try:
            stopped = finish(proc, reader, self._start + self._timeout, scope)
        except BaseException:
            self.abort()
            raise
        self._close()
        out, err = reader.stdout, reader.stderr
        duration = time.monotonic() - self._start
        if stopped == "timeout":
            if _LOG is not None:
                _logged(argv, self._cwd, self._start, "timeout")
            raise CommandTimeoutError(argv, self._timeout, out, err, duration)
        if scope is not None and scope.cancelled:
            if _LOG is not None:
                stop = "timeout" if scope.reason == "timeout" else "cancelled"
                _logged(argv, self._cwd, self._start, stop)
            raise _scope_error(scope, argv, out, err, duration)
        returncode = proc.returncode if proc.returncode is not None else proc.wait()
        if _LOG is not None:
            _logged(argv, self._cwd, self._start, returncode)
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


def spawn(
    argv: Sequence[str], env: Mapping[bytes, bytes], path: str, *, folder: str | None = None
) -> tuple[int, int, int]:
    """Start *argv* (the program at *path*) in a new session with ``posix_spawn``, stdin
    from ``/dev/null``; returns its pid and the read ends of its stdout and stderr pipes.

    The cheapest way to start a process, for callers that run many short ones from one
    thread and wait on them themselves (the status engine). The process group is
    registered for :func:`kill_all`; call :func:`forget` once it has been reaped. Raises
    ``OSError`` when the program cannot be started (no pipe is left open then). *folder*
    is the one the command works on (git's ``-C``), for the command log.
    """
    started = time.monotonic() if _LOG is not None else 0.0
    with _popen.START_LOCK:
        pid, out_r, err_r = _spawn(argv, env, path, folder, started)
    _LIVE_GROUPS.add(pid)
    if _LOG is not None:
        _SPAWNED[pid] = (argv, folder, started)
    return pid, out_r, err_r


def _spawn(
    argv: Sequence[str], env: Mapping[bytes, bytes], path: str, folder: str | None, started: float
) -> tuple[int, int, int]:
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
        if _LOG is not None:
            _logged(argv, folder, started, "not_started")
        raise
    finally:
        os.close(out_w)
        os.close(err_w)
    return pid, out_r, err_r


def forget(pid: int, exit_: int | str | None = None) -> None:
    """*pid*, started by :func:`spawn`, has been reaped: :func:`kill_all` leaves it be.

    *exit_* is its exit code, or what stopped it (``"timeout"``, ``"cancelled"``), for the
    command log; a second call for the same pid records nothing.
    """
    _LIVE_GROUPS.discard(pid)
    if _SPAWNED:
        entry = _SPAWNED.pop(pid, None)
        if entry is not None:
            argv, folder, started = entry
            _logged(argv, folder, started, "unknown" if exit_ is None else exit_)


def start(
    argv: Sequence[str],
    *,
    timeout: float,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | Mapping[bytes, bytes] | None = None,
    check: bool = True,
    on_progress: ProgressCallback | None = None,
    classify: Classifier = unclassified,
    max_output: int | None = None,
    on_output: OutputCallback | None = None,
) -> Running:
    """Start *argv* like :func:`run` does, without waiting for it."""
    argv = list(argv)
    started = time.monotonic()
    scope = current_scope()
    if scope is not None and scope.cancelled:
        raise _scope_error(scope, argv, b"", b"", 0.0)
    try:
        proc = popen(argv, cwd, os.environ if env is None else env, started)
    except CommandError:
        if _LOG is not None:
            _logged(argv, cwd, started, "not_started")
        raise
    return Running(
        argv, proc, started, timeout, check, on_progress, classify, cwd, max_output, on_output
    )


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | Mapping[bytes, bytes] | None = None,
    check: bool = True,
    on_progress: ProgressCallback | None = None,
    classify: Classifier = unclassified,
    max_output: int | None = None,
    on_output: OutputCallback | None = None,
) -> CommandResult:
    """Run *argv* and return its result.

    *env*, when given, is the child's complete environment; otherwise it inherits ours.
    *timeout* may be ``math.inf``: no limit. *on_progress* receives each non-empty stderr
    line as it arrives (``\\r`` ends a line too); stderr is still captured in full, or up
    to *max_output* bytes (the same for stdout; :attr:`Running.truncated` tells). *on_output*
    receives ``(1 or 2, line)`` for every line of stdout or stderr as it arrives.

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
        max_output=max_output,
        on_output=on_output,
    ).result()


__all__ = [
    "DRAIN_GRACE",
    "KILL_GRACE",
    "LOCATION_VARS",
    "TEMP_DIRS",
    "Classifier",
    "CommandResult",
    "OutputCallback",
    "ProgressCallback",
    "Running",
    "Wakeup",
    "batch_ssh",
    "drain_pipe",
    "executable",
    "forget",
    "inherited_ssh_command",
    "kill_all",
    "log_commands",
    "no_prompt_env",
    "remove_temp_dir",
    "run",
    "sigint_held",
    "spawn",
    "start",
]
