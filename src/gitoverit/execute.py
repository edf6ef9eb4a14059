"""``gitoverit exec``'s pipeline: one command run in each selected repository, at most
``jobs`` at a time, one :class:`~gitoverit.model.ExecResult` per repository.

Each run goes through the one process runner (:mod:`gitoverit.process`): an argv with no
shell (``--shell`` makes it ``sh -c STRING``), stdin ``/dev/null``, its own session, the
environment every child gets plus the ``GITO_*`` variables
(:class:`gitoverit.git.repo_env.ExecEnvironment`), and a timeout that kills the whole
process group. Ctrl-C cancels the running commands the same way (their groups get SIGTERM,
then SIGKILL) and :meth:`ExecRun.results` goes on to give every repository its result.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace

from gitoverit.errors import CommandCancelledError, CommandError, CommandTimeoutError
from gitoverit.git.repo_env import ExecEnvironment
from gitoverit.model import ExecResult, Reason, RepoError, RepoRef, RepoStatus
from gitoverit.process import start
from gitoverit.text import safe_text

#: At most this many bytes of a command's stdout, and as many of its stderr, are kept.
MAX_OUTPUT = 1 << 20
#: A command's time limit when none is given, in seconds.
DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True, slots=True)
class ExecOptions:
    """How to run the command: its argv (``sh -c STRING`` for ``--shell``), how many at
    once, each run's time limit (``None``: none), and whether the first failure stops
    the rest from starting (``-x``)."""

    argv: tuple[str, ...]
    jobs: int = 1
    timeout: float | None = DEFAULT_TIMEOUT
    fail_fast: bool = False


@dataclass(frozen=True, slots=True)
class ExecTarget:
    """A repository to run the command in, with its status when a scan read one."""

    ref: RepoRef
    status: RepoStatus | None = None


#: Called from a worker thread when a run starts: ``(ref)``.
StartCallback = Callable[[RepoRef], None]
#: Called from a worker thread with each line a run writes: ``(ref, 1 or 2, line)``.
LineCallback = Callable[[RepoRef, int, bytes], None]


class _Failed(Exception):
    """A run failed under ``fail_fast``: stops the pool from starting more; carries the
    result, which is kept."""

    def __init__(self, result: ExecResult) -> None:
        super().__init__(result.error.message if result.error else "failed")
        self.result = result


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _exit_result(ref: RepoRef, code: int, out: bytes, err: bytes, start: float) -> ExecResult:
    duration = time.monotonic() - start
    if code == 0:
        return ExecResult(ref, 0, out, err, duration)
    if code < 0:
        error = RepoError(Reason.EXIT, f"killed by {_signal_name(-code)}")
        return ExecResult(ref, None, out, err, duration, error)
    return ExecResult(ref, code, out, err, duration, RepoError(Reason.EXIT, f"exited with {code}"))


def _start_failure(ref: RepoRef, exc: CommandError, start: float) -> ExecResult:
    """The result of a command that could not start: 127 when the program is missing,
    126 when it may not run, as a shell reports them."""
    missing = "No such file" in str(exc) or "no such" in str(exc)
    return ExecResult(
        ref,
        127 if missing else 126,
        duration=time.monotonic() - start,
        error=RepoError(Reason.EXIT, safe_text(str(exc))),
    )


class ExecRun:
    """One ``exec`` over *targets*, in their order (``GITO_I`` counts in it). Iterate
    :meth:`results` once; after a Ctrl-C, :meth:`remaining` gives the results of the
    repositories it did not yield."""

    def __init__(
        self,
        targets: Sequence[ExecTarget],
        options: ExecOptions,
        *,
        on_start: StartCallback | None = None,
        on_line: LineCallback | None = None,
        environment: ExecEnvironment | None = None,
    ) -> None:
        self.targets = list(targets)
        self.options = options
        self._on_start = on_start
        self._on_line = on_line
        self._environment = environment or ExecEnvironment()
        self._index = {t.ref.path: i for i, t in enumerate(self.targets, 1)}
        self._lock = threading.Lock()
        self._started: set[str] = set()
        self._finished: dict[str, ExecResult] = {}
        self._yielded: set[str] = set()

    def _run(self, target: ExecTarget) -> ExecResult:
        ref, o = target.ref, self.options
        with self._lock:
            self._started.add(ref.path)
        if self._on_start is not None:
            self._on_start(ref)
        result = self._run_command(target)
        with self._lock:
            self._finished[ref.path] = result
        if o.fail_fast and not result.ok:
            raise _Failed(result)
        return result

    def _run_command(self, target: ExecTarget) -> ExecResult:
        ref, o = target.ref, self.options
        begin = time.monotonic()
        env = self._environment.build(ref, self._index[ref.path], len(self.targets), target.status)
        on_line = self._on_line
        output = None if on_line is None else (lambda fd, line: on_line(ref, fd, line))
        try:
            running = start(
                o.argv,
                timeout=math.inf if o.timeout is None else o.timeout,
                cwd=ref.path,
                env=env,
                check=False,
                max_output=MAX_OUTPUT,
                on_output=output,
            )
        except CommandError as exc:
            return _start_failure(ref, exc, begin)
        try:
            res = running.result()
        except CommandTimeoutError as exc:
            error = RepoError(Reason.TIMEOUT, f"timed out after {exc.timeout:g}s")
            return ExecResult(
                ref, None, exc.stdout, exc.stderr, exc.duration, error, running.truncated
            )
        except CommandCancelledError as exc:
            error = RepoError(Reason.INTERRUPTED, "interrupted")
            return ExecResult(
                ref, None, exc.stdout, exc.stderr, exc.duration, error, running.truncated
            )
        result = _exit_result(ref, res.returncode, res.stdout, res.stderr, begin)
        return replace(result, truncated=True) if running.truncated else result

    def results(self) -> Generator[ExecResult, None, None]:
        """Each repository's result as its command ends (completion order); under
        ``fail_fast``, after the first failure, the ones never started as ``skipped``."""
        from gitoverit.parallel import run_parallel

        outcomes = run_parallel(
            self._run,
            self.targets,
            max_workers=max(1, self.options.jobs),
            fail_fast=self.options.fail_fast,
        )
        with contextlib.closing(outcomes):
            for outcome in outcomes:
                result = self._outcome_result(outcome.item, outcome.result, outcome.error)
                self._yielded.add(result.ref.path)
                yield result

    def _outcome_result(
        self, target: ExecTarget, result: ExecResult | None, error: BaseException | None
    ) -> ExecResult:
        if result is not None:
            return result
        if isinstance(error, _Failed):
            return error.result
        with self._lock:
            started = target.ref.path in self._started
        if not started:
            return ExecResult(
                target.ref, None, error=RepoError(Reason.SKIPPED, "skipped after a failure")
            )
        message = safe_text(f"{type(error).__name__}: {error}")
        return ExecResult(target.ref, None, error=RepoError(Reason.EXIT, message))

    def remaining(self) -> list[ExecResult]:
        """After an interrupt: the result of every repository not yet yielded, in target
        order: what its cut-short command wrote, or ``interrupted`` before it started."""
        out = []
        with self._lock:
            finished = dict(self._finished)
            started = set(self._started)
        for target in self.targets:
            path = target.ref.path
            if path in self._yielded:
                continue
            result = finished.get(path)
            if result is None:
                message = "interrupted" if path in started else "interrupted before it started"
                result = ExecResult(target.ref, None, error=RepoError(Reason.INTERRUPTED, message))
            out.append(result)
        return out
