"""Run a scan, with actions or as a sync, and report what it found.

The scan yields events; this module shows progress on a terminal, takes in one record
per repository (counting it, filtering it, streaming it as NDJSON), writes the results
at the end and picks the exit code. Ctrl-C stops the scan, and every repository found
and not yet reported gets its ``interrupted`` record.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from gitoverit.commands import _interrupt
from gitoverit.commands._output import OutputPlan, PrintedValues, finish_output, warn
from gitoverit.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from gitoverit.model import (
    DiscoveryDone,
    Reason,
    RepoDone,
    RepoError,
    RepoRecord,
    RepoRef,
    ScanWarning,
)
from gitoverit.text import safe_text

if TYPE_CHECKING:
    from gitoverit.scan import Scan


class _Collector:
    """Takes in each repository's record: counts it, and keeps or streams it if shown.

    Only the table, JSON and the reports keep the shown records: NDJSON writes each one
    as it comes, and ``-p/--print`` keeps only its sort key and printed text (see
    :class:`PrintedValues`). Records of errors are kept for ``--errors``.
    """

    def __init__(self, plan: OutputPlan) -> None:
        self.plan = plan
        self.shown: list[RepoRecord] = []
        self.errors: list[RepoRecord] = []
        #: Records that kept their status while some of their remotes failed to fetch.
        self.remote_failures: list[RepoRecord] = []
        self.reported: set[str] = set()
        self.total = self.dirty = 0
        #: Repositories whose work tree was not read: neither clean nor dirty.
        self.unchecked = 0
        #: Repositories a Ctrl-C stopped midway, and those it stopped before they started.
        self.stopped = self.not_started = 0
        #: How many statuses each reader read (``libgit2``, ``git``).
        self.readers: dict[str, int] = {}
        self.ndjson: Any = None
        self.printed: PrintedValues | None = None
        self._expr_warned = False
        if plan.print_expr is not None:
            self.printed = PrintedValues(plan)
        elif plan.fmt == "ndjson":
            from gitoverit.output.json import NdjsonWriter

            self.ndjson = NdjsonWriter(sys.stdout)

    def matches(self, rec: RepoRecord) -> bool:
        plan = self.plan
        if plan.dirty_only and not (rec.dirty or rec.error is not None):
            return False
        if plan.where is None:
            return True
        from gitoverit.query import ExprError, record_env, truthy

        try:
            return truthy(plan.where.evaluate(record_env(rec)))
        except ExprError as exc:
            if not self._expr_warned:
                self._expr_warned = True
                warn(f"warning: --where: {exc} (such repos are left out)")
            return False

    def accept(self, rec: RepoRecord) -> None:
        self.reported.add(rec.ref.path)
        self.total += 1
        if rec.reader is not None:
            self.readers[rec.reader] = self.readers.get(rec.reader, 0) + 1
        if rec.error is not None and rec.error.reason is Reason.INTERRUPTED:
            if rec.note == NOT_STARTED:
                self.not_started += 1
            else:
                self.stopped += 1
        elif rec.error is not None:
            self.errors.append(rec)
        if rec.fetch_errors:
            self.remote_failures.append(rec)
        elif rec.status is not None and rec.status.dirty is None:
            self.unchecked += 1
        elif rec.dirty:
            self.dirty += 1
        if not self.matches(rec):
            return
        if self.ndjson is not None:
            self.ndjson.repo(rec)
        elif self.printed is not None:
            self.printed.add(rec)
        else:
            self.shown.append(rec)

    def summary(self, interrupted: bool) -> str:
        total, errors = self.total, len(self.errors)
        unchecked = f"{self.unchecked} not checked, " if self.unchecked else ""
        text = (
            f"{total} repo{'s' if total != 1 else ''}, {self.dirty} dirty, {unchecked}"
            f"{errors} error{'s' if errors != 1 else ''}"
        )
        if self.stopped:
            text += f", {self.stopped} stopped"
        if self.not_started:
            text += f", {self.not_started} not started"
        if interrupted:
            text += " (interrupted)"
        elif errors and not self.plan.show_errors:
            text += " (--errors for details)"
        return text


def _build(
    options: Any,
    actions: Any,
    plan: OutputPlan,
    net_jobs: int | None,
    sync_targets: Any,
    sync_settings: Any = None,
) -> tuple[Any, Any, bool]:
    """The scan to run, its display (or ``None``), and whether that display shows the
    workers' slots (and so takes only their events)."""
    from gitoverit.scan import Scan

    live = not plan.no_progress and sys.stderr.isatty()
    if not (actions.any or sync_targets is not None):
        if not live:
            return Scan(options), None, False
        from gitoverit.ui.progress import ScanProgress

        return Scan(options), ScanProgress(), False
    from gitoverit.actions import action_task
    from gitoverit.actions import net_jobs as net_workers
    from gitoverit.ui.slots import SlotDisplay

    workers = net_workers(net_jobs)
    display = SlotDisplay(workers, live=live)
    local_limit = threading.BoundedSemaphore(options.jobs)
    if sync_targets is not None:
        from gitoverit.sync import sync_task

        task = sync_task(
            sync_targets,
            actions,
            local_limit=local_limit,
            sink=display.handle,
            settings=sync_settings,
        )
        refs = [t.ref for t in sync_targets.values()]
        return Scan(options, task, workers=workers, refs=refs, action="sync"), display, True
    task = action_task(actions, local_limit=local_limit, sink=display.handle)
    return Scan(options, task, workers=workers, action=actions.name), display, True


def _consume(scan: Any, display: Any, slots: bool, collector: _Collector) -> None:
    """Take in the scan's events until it ends."""
    with display if display is not None else nullcontext():
        for event in scan.events():
            if display is not None and not slots:
                display.handle(event)
            elif isinstance(event, ScanWarning):
                text = f"warning: {safe_text(event.path)}: {safe_text(event.message)}"
                if display is not None and hasattr(display, "message"):
                    display.message(text)
                else:
                    warn(text)
            if isinstance(event, RepoDone):
                with _interrupt.holding_interrupts():
                    collector.accept(event.record)
                if _interrupt.held_interrupt():
                    raise KeyboardInterrupt
            elif isinstance(event, DiscoveryDone) and collector.ndjson is not None:
                collector.ndjson.discovery(event.count)


def _report(collector: _Collector, plan: OutputPlan, interrupted: bool) -> None:
    """Write the results, the errors when asked, and the summary line."""
    rows, notes = collector.shown, []
    if plan.fmt == "table" and plan.print_expr is None and collector.not_started:
        # Rows of repos that never started would say nothing: one line counts them.
        rows = [r for r in rows if r.note != NOT_STARTED or r.error is None]
        waiting = len(collector.shown) - len(rows)
        notes = [f"{waiting} repo{'s' if waiting != 1 else ''} not started"] if waiting else []
    if collector.printed is not None:
        collector.printed.write()
    else:
        finish_output(rows, plan, notes=notes)
    if collector.ndjson is not None:
        collector.ndjson.summary(
            repos=collector.total,
            dirty=collector.dirty,
            unchecked=collector.unchecked,
            errors=len(collector.errors),
            stopped=collector.stopped,
            not_started=collector.not_started,
            readers=collector.readers,
            interrupted=interrupted,
        )
    if plan.show_errors:
        for rec in collector.errors:
            for line in _error_lines(rec):
                warn(line)
        for rec in collector.remote_failures:
            for name, error in rec.fetch_errors:
                warn(
                    f"{safe_text(rec.ref.display_path)}: remote {safe_text(name)}: "
                    f"{error.reason.value}: {safe_text(error.message)}"
                )
                warn_detail(error.detail)
    warn(collector.summary(interrupted))


#: The note of a repository that a Ctrl-C stopped before its work began.
NOT_STARTED = "not started"


def _interrupted_record(scan: Scan, ref: RepoRef) -> RepoRecord:
    """The record of *ref*, found but not finished when a Ctrl-C came."""
    if scan.was_started(ref):
        return scan.failed_record(ref, RepoError(Reason.INTERRUPTED, "interrupted"))
    error = RepoError(Reason.INTERRUPTED, "interrupted before it started")
    return scan.failed_record(ref, error, note=NOT_STARTED)


def warn_detail(detail: str) -> None:
    """Each line of a failed command's stderr, indented."""
    for line in detail.splitlines():
        warn(f"    {safe_text(line)}")


def _error_lines(rec: RepoRecord) -> list[str]:
    """What ``--errors`` prints for a failed repo: ``path: reason: message``, then
    everything the failed command wrote to stderr, indented."""
    assert rec.error is not None
    error = rec.error
    head = f"{safe_text(rec.ref.display_path)}: {error.reason.value}: {safe_text(error.message)}"
    return [head, *(f"    {safe_text(line)}" for line in error.detail.splitlines())]


def run_pipeline(
    options: Any,
    actions: Any,
    plan: OutputPlan,
    *,
    net_jobs: int | None = None,
    sync_targets: Any = None,
    sync_settings: Any = None,
) -> int:
    """Run a scan (with actions, or a sync) and write its output; returns the exit code."""
    scan, display, slots = _build(options, actions, plan, net_jobs, sync_targets, sync_settings)
    collector = _Collector(plan)
    interrupted = False
    _interrupt.reset()
    try:
        with _interrupt.interrupt_handling():
            try:
                _consume(scan, display, slots, collector)
            except KeyboardInterrupt:
                interrupted = True
                scan.stop()
                # Every repo found and not yet shown gets its one record, whatever stage
                # its work had reached.
                for ref in scan.found():
                    if ref.path not in collector.reported:
                        collector.accept(_interrupted_record(scan, ref))
            # The work is done: a first Ctrl-C now lets the results be written whole.
            with _interrupt.holding_interrupts():
                _report(collector, plan, interrupted)
            interrupted = _interrupt.held_interrupt() or interrupted
    except BrokenPipeError:
        # Whatever read our output stopped reading (``| head -1``): stop the work and
        # leave quietly, as a command in a pipe does.
        scan.stop()
        _silence_stdout()
        return EXIT_OK
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if collector.errors else EXIT_OK


def _silence_stdout() -> None:
    """Point stdout at ``/dev/null``, so that nothing more, not even the flush at exit,
    writes to the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)
