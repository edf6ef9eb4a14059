"""``gitoverit exec [DIRS]... -- CMD [ARGS]...``: run a command in every selected
repository, at most ``-j`` at a time, and show what each one wrote.

Repositories are selected as a scan selects them (the same settings and
:mod:`gitoverit.select`); ``-w`` and ``-d`` need a status, so then the selected
repositories are scanned first, on the status engine, and the command runs only in those
that match. The runs are :mod:`gitoverit.execute`'s; the output is
:mod:`gitoverit.output.exec_results`'.
"""

from __future__ import annotations

import os
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from gitoverit.commands import _interrupt
from gitoverit.commands._output import OutputOptions, resolve, warn
from gitoverit.errors import UsageError
from gitoverit.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from gitoverit.model import ExecResult, Reason


@dataclass(frozen=True, slots=True)
class ExecCommand:
    """``exec``'s flags, as given. *command* is what follows ``--`` (``None``: no ``--``)."""

    command: tuple[str, ...] | None
    dirs: tuple[str, ...] = ()
    shell: bool = False
    dirty_only: bool = False
    where: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_depth: int | None = None
    include_ignored: bool = False
    no_submodules: bool = False
    trust_repo_config: bool = False
    jobs: int | None = None
    timeout: float | None = None
    exit_on_error: bool = False
    fmt: str = "text"
    stream: bool = False
    ordered: bool = False
    no_progress: bool = False


def command_argv(c: ExecCommand) -> tuple[str, ...]:
    """The argv to run in each repository. Raises :class:`UsageError` without ``--``, for
    an empty command, or for a program that is not on ``PATH``."""
    if c.command is None:
        raise UsageError("missing '--' before the command, e.g. gito exec -- git status")
    if not c.command or not c.command[0]:
        raise UsageError("no command after '--'")
    if c.shell:
        # Words after the string are its positional parameters, $1 and on.
        return ("sh", "-c", c.command[0], "sh", *c.command[1:])
    from gitoverit.process import executable

    program = c.command[0]
    if os.sep not in program and executable(program) == program:
        raise UsageError(f"command not found: {program}")
    return c.command


def _check_modes(c: ExecCommand) -> None:
    if c.stream and c.fmt != "text":
        raise UsageError(
            f"--stream writes lines as they come; it cannot be combined with -o {c.fmt}"
        )
    if c.ordered and c.stream:
        raise UsageError("--ordered and --stream do not go together")


def _targets(c: ExecCommand, plan: Any, settings: Any) -> list[Any]:
    """The repositories to run in, sorted by their shown path: every one the selection
    names, or, with ``-w``/``-d``, those whose status matches."""
    from gitoverit.execute import ExecTarget
    from gitoverit.select import Selection, find, roots_of

    selection = Selection(
        roots=roots_of(settings.roots),
        exclude=settings.exclude,
        max_depth=c.max_depth,
        include_ignored=c.include_ignored,
        no_submodules=c.no_submodules,
    )
    if plan.where is None and not c.dirty_only:
        targets = [ExecTarget(ref) for ref in find(selection)]
    else:
        targets = _matching(selection, plan, settings)
    return sorted(targets, key=lambda t: (t.ref.display_path, t.ref.path))


def _matching(selection: Any, plan: Any, settings: Any) -> list[Any]:
    """The repositories of *selection* whose status, read by a scan, passes ``-d`` and
    ``-w``."""
    from gitoverit.execute import ExecTarget
    from gitoverit.model import RepoDone
    from gitoverit.query import ExprError, record_env, truthy
    from gitoverit.scan import Scan, ScanOptions, default_jobs

    names = plan.where.names if plan.where is not None else frozenset()
    extras = {"lines"} if names & {"lines_added", "lines_removed"} else set()
    if "ident" in names:
        extras.add("ident")
    options = ScanOptions(
        selection=selection,
        jobs=settings.jobs or default_jobs(),
        trust_repo_config=bool(settings.trust_repo_config),
        extras=frozenset(extras),
    )
    targets = []
    warned = False
    for event in Scan(options).events():
        if not isinstance(event, RepoDone):
            continue
        rec = event.record
        if plan.dirty_only and not (rec.dirty or rec.error is not None):
            continue
        try:
            if plan.where is not None and not truthy(plan.where.evaluate(record_env(rec))):
                continue
        except ExprError as exc:
            if not warned:
                warned = True
                warn(f"warning: --where: {exc} (such repos are left out)")
            continue
        targets.append(ExecTarget(rec.ref, rec.status))
    return targets


def run(command: ExecCommand) -> int:
    """Run the command in every selected repository and report; returns the exit code.
    Raises :class:`UsageError` first for bad input."""
    import math

    from gitoverit.execute import DEFAULT_TIMEOUT, ExecOptions
    from gitoverit.parallel import cpu_count

    c = command
    argv = command_argv(c)
    _check_modes(c)
    out = OutputOptions(where=c.where, no_progress=c.no_progress)
    settings, plan = resolve(
        out,
        dirty_only=c.dirty_only,
        roots=c.dirs,
        exclude=c.exclude,
        trust_repo_config=c.trust_repo_config,
        scans_roots=True,
    )
    timeout = DEFAULT_TIMEOUT if c.timeout is None else c.timeout
    options = ExecOptions(
        argv=argv,
        jobs=c.jobs or cpu_count(),
        timeout=None if timeout == 0 or math.isinf(timeout) else timeout,
        fail_fast=c.exit_on_error,
    )
    _interrupt.reset()
    with _interrupt.interrupt_handling():
        try:
            targets = _targets(c, plan, settings)
        except KeyboardInterrupt:
            warn("interrupted")
            return EXIT_INTERRUPTED
        return _Reporter(c, options, targets).run()


class _Reporter:
    """Runs the command over the targets and writes what comes of it."""

    def __init__(self, c: ExecCommand, options: Any, targets: list[Any]) -> None:
        from gitoverit.execute import ExecRun
        from gitoverit.output.exec_results import ExecWriter

        self.c = c
        live = not c.no_progress and sys.stderr.isatty() and c.fmt == "text"
        self.display: Any = None
        if live:
            from gitoverit.ui.slots import SlotDisplay

            self.display = SlotDisplay(max(1, min(options.jobs, len(targets) or 1)), live=True)
        emit = self._emit_above if self.display is not None else None
        self.writer = ExecWriter(
            sys.stdout,
            sys.stderr,
            emit_out=emit if sys.stdout.isatty() else None,
            emit_err=emit,
        )
        self.writer.width = max((len(t.ref.display_path) for t in targets), default=0)
        self.run_ = ExecRun(
            targets,
            options,
            on_start=self._started if self.display is not None else None,
            on_line=self._line if (c.stream or self.display is not None) else None,
        )
        self.results: list[ExecResult] = []
        self._order = [t.ref.path for t in targets]
        self._next = 0
        self._held: dict[str, ExecResult] = {}

    def _emit_above(self, text: str) -> None:
        self.display.message(text, style="")

    def _started(self, ref: Any) -> None:
        self.display.started(ref.path, ref.display_path)

    def _line(self, ref: Any, fd: int, line: bytes) -> None:
        if self.c.stream:
            self.writer.line(ref, fd, line)
        if self.display is not None and line.strip():
            self.display.progress(ref.path, line.decode("utf-8", "replace"))

    def run(self) -> int:
        results = self.run_.results()
        try:
            return self._run(results)
        except BrokenPipeError:
            # Whatever read our output stopped reading (``| head -1``): stop the commands
            # and leave quietly, as a command in a pipe does.
            results.close()
            from gitoverit.commands._pipeline import _silence_stdout

            _silence_stdout()
            return EXIT_OK

    def _run(self, results: Any) -> int:
        interrupted = False
        with self.display if self.display is not None else nullcontext():
            try:
                for result in results:
                    with _interrupt.holding_interrupts():
                        self._accept(result)
                    if _interrupt.held_interrupt():
                        raise KeyboardInterrupt
            except KeyboardInterrupt:
                interrupted = True
                # Stops the running commands (their process groups are killed) and waits
                # for their workers, so that what they wrote is in their results.
                results.close()
            with _interrupt.holding_interrupts():
                if interrupted:
                    for result in self.run_.remaining():
                        self._accept(result)
                self._finish()
        interrupted = _interrupt.held_interrupt() or interrupted
        warn(self._summary(interrupted))
        if interrupted:
            return EXIT_INTERRUPTED
        return EXIT_OK if all(r.ok for r in self.results) else EXIT_FAILED

    def _accept(self, result: ExecResult) -> None:
        from gitoverit.output.exec_results import finished_line, write_ndjson

        self.results.append(result)
        if self.display is not None:
            self.display.done(result.ref.path, *finished_line(result))
        if self.c.fmt == "ndjson":
            write_ndjson(result, sys.stdout)
        elif self.c.fmt == "text" and self.c.stream:
            self.writer.note(result)
        elif self.c.fmt == "text" and not self.c.ordered:
            self.writer.block(result)
        elif self.c.fmt == "text":
            self._held[result.ref.path] = result
            while self._next < len(self._order) and self._order[self._next] in self._held:
                self.writer.block(self._held.pop(self._order[self._next]))
                self._next += 1

    def _finish(self) -> None:
        from gitoverit.output.exec_results import write_json

        if self.c.fmt == "json":
            order = {path: i for i, path in enumerate(self._order)}
            write_json(sorted(self.results, key=lambda r: order[r.ref.path]), sys.stdout)
        for path in self._order[self._next :]:
            held = self._held.pop(path, None)
            if held is not None:
                self.writer.block(held)

    def _summary(self, interrupted: bool) -> str:
        counts: dict[str, int] = {}
        for r in self.results:
            key = "ok" if r.error is None else r.error.reason.value
            counts[key] = counts.get(key, 0) + 1
        n = len(self.results)
        words = {
            Reason.EXIT.value: "failed",
            Reason.TIMEOUT.value: "timed out",
            Reason.INTERRUPTED.value: "interrupted",
            Reason.SKIPPED.value: "skipped",
        }
        parts = [f"{n} repo{'s' if n != 1 else ''}", f"{counts.get('ok', 0)} ok"]
        parts += [f"{counts[k]} {w}" for k, w in words.items() if counts.get(k)]
        return ", ".join(parts) + (" (interrupted)" if interrupted else "")
