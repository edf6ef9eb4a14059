"""Tests for ``gitoverit.parallel``: outcomes, limits, fail-fast, timeouts and interrupts."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gitoverit.parallel._core as core
from gitoverit.errors import CommandCancelledError, CommandError, CommandTimeoutError
from gitoverit.git.command import run
from gitoverit.parallel import (
    Outcome,
    TaskSkipped,
    TaskTimeout,
    batch_map,
    cpu_count,
    current_scope,
    fd_budget,
    optimal_workers,
    run_parallel,
)

# --------------------------------------------------------------------------- helpers


class Boom(Exception):
    """The error a test task raises on purpose."""


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll *predicate* until it holds or *timeout* seconds pass; return its last value."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def alive(pid: int) -> bool:
    """Whether process *pid* still exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


@dataclass
class Case:
    """One randomly drawn run: which items fail, how slow each is, and the options."""

    n: int
    failing: frozenset[int]
    delays: dict[int, float]
    max_workers: int
    ordered: bool
    fail_fast: bool
    backend: str  # "thread", "async" (an async def func) or "executor" (a foreign pool)


@dataclass
class Probe:
    """Instrumentation shared by the tasks of one run and its consumer."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    running: int = 0
    peak: int = 0
    started: list[int] = field(default_factory=list)
    raised: dict[int, BaseException] = field(default_factory=dict)
    observed_error: bool = False
    started_after_observed: list[int] = field(default_factory=list)
    raised_any: bool = False
    started_after_raised: list[int] = field(default_factory=list)

    def enter(self, item: int) -> None:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.started.append(item)
            if self.observed_error:
                self.started_after_observed.append(item)
            if self.raised_any:
                self.started_after_raised.append(item)

    def leave(self) -> None:
        with self.lock:
            self.running -= 1

    def fail(self, item: int) -> None:
        exc = Boom(f"item {item}")
        with self.lock:
            self.raised[item] = exc
            self.raised_any = True
        raise exc


@st.composite
def cases(draw: st.DrawFn) -> Case:
    n = draw(st.integers(min_value=0, max_value=24))
    failing = draw(st.frozensets(st.integers(min_value=0, max_value=max(0, n - 1)), max_size=n))
    delays = {i: draw(st.sampled_from([0.0, 0.0, 0.001, 0.003])) for i in range(n)}
    return Case(
        n=n,
        failing=failing if n else frozenset(),
        delays=delays,
        max_workers=draw(st.integers(min_value=1, max_value=4)),
        ordered=draw(st.booleans()),
        fail_fast=draw(st.booleans()),
        backend=draw(st.sampled_from(["thread", "async", "executor"])),
    )


def run_case(case: Case) -> tuple[list[Outcome[int, int]], Probe]:
    """Run *case*; the consumer marks the moment it first sees a real error.

    On that first error the consumer dwells briefly, as one that prints would: the workers
    keep running meanwhile, and must not pick up anything new under ``fail_fast``.
    """
    probe = Probe()

    def sync_task(item: int) -> int:
        probe.enter(item)
        try:
            if case.delays[item]:
                time.sleep(case.delays[item])
            if item in case.failing:
                probe.fail(item)
            return item * 10
        finally:
            probe.leave()

    async def async_task(item: int) -> int:
        probe.enter(item)
        try:
            await asyncio.sleep(case.delays[item])
            if item in case.failing:
                probe.fail(item)
            return item * 10
        finally:
            probe.leave()

    outcomes: list[Outcome[int, int]] = []
    pool = ThreadPoolExecutor(case.max_workers) if case.backend == "executor" else None
    try:
        func: Any = async_task if case.backend == "async" else sync_task
        for outcome in run_parallel(
            func,
            range(case.n),
            max_workers=case.max_workers,
            backend=pool or "thread",
            fail_fast=case.fail_fast,
            ordered=case.ordered,
        ):
            if outcome.error is not None and not outcome.skipped and not probe.observed_error:
                with probe.lock:
                    probe.observed_error = True
                time.sleep(0.003)
            outcomes.append(outcome)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return outcomes, probe


# --------------------------------------------------------------------------- properties

FAST = settings(max_examples=60, deadline=None)


@FAST
@given(cases())
def test_every_item_yields_exactly_one_outcome(case: Case) -> None:
    outcomes, probe = run_case(case)
    assert sorted(o.item for o in outcomes) == list(range(case.n))
    if case.ordered:
        assert [o.item for o in outcomes] == list(range(case.n))
    for o in outcomes:
        if o.ok:
            assert o.result == o.item * 10
            assert o.item not in case.failing
        elif o.skipped:
            assert case.fail_fast, "only fail_fast skips items"
            assert o.item not in probe.started, "a skipped item must never have run"
        else:
            assert o.item in case.failing
    assert sorted(probe.started) == sorted(o.item for o in outcomes if not o.skipped)


@FAST
@given(cases())
def test_never_more_than_max_workers_at_once(case: Case) -> None:
    _, probe = run_case(case)
    assert probe.peak <= case.max_workers
    assert probe.running == 0


@FAST
@given(cases().filter(lambda c: bool(c.failing)).map(lambda c: _with(c, fail_fast=True)))
def test_fail_fast_starts_nothing_after_the_first_error(case: Case) -> None:
    outcomes, probe = run_case(case)
    assert probe.started_after_observed == []
    if case.backend == "async":
        # One thread, so this is exact: nothing starts once any task has raised.
        assert probe.started_after_raised == []
    errors = [o for o in outcomes if o.error is not None and not o.skipped]
    assert errors, "a failing item that ran must report its error"
    skipped = {o.item for o in outcomes if o.skipped}
    assert skipped.isdisjoint(probe.started)
    assert skipped | set(probe.started) == set(range(case.n)), "no item may disappear"


def _with(case: Case, **changes: Any) -> Case:
    return Case(**{**case.__dict__, **changes})


@FAST
@given(cases().filter(lambda c: bool(c.failing)))
def test_error_outcome_carries_the_original_exception(case: Case) -> None:
    outcomes, probe = run_case(case)
    failed = [o for o in outcomes if o.error is not None and not o.skipped]
    assert failed
    for o in failed:
        assert o.error is probe.raised[o.item]
        assert o.result is None
        assert o.duration >= 0.0


@settings(max_examples=40, deadline=None)
@given(
    n_items=st.one_of(st.none(), st.integers(min_value=0, max_value=10_000)),
    io_bound=st.booleans(),
)
def test_optimal_workers_follows_the_guide(n_items: int | None, io_bound: bool) -> None:
    # The guide's table: min(100, n) for I/O-bound work, min(cpu_count, n) for CPU-bound,
    # never 0, and never past what the open-file limit allows.
    wanted = 100 if io_bound else cpu_count()
    if n_items is not None:
        wanted = min(wanted, n_items)
    assert optimal_workers(n_items, io_bound=io_bound) == max(1, min(wanted, fd_budget()))


# --------------------------------------------------------------------------- one per backend


def square_or_fail(x: int) -> tuple[int, int]:
    """Process-backend task: must live at module level so that it pickles."""
    if x == 3:
        raise ValueError("three is unlucky")
    return x * x, os.getpid()


def test_thread_backend_runs_tasks_on_worker_threads_with_a_scope() -> None:
    seen: list[tuple[str, bool]] = []

    def task(x: int) -> int:
        seen.append((threading.current_thread().name, current_scope() is not None))
        return x + 1

    outcomes = list(run_parallel(task, range(10), max_workers=3, ordered=True))
    assert [o.result for o in outcomes] == list(range(1, 11))
    assert all(o.ok and o.duration >= 0 for o in outcomes)
    assert all(name != threading.main_thread().name and scoped for name, scoped in seen)
    assert current_scope() is None  # the scope never leaks into the caller


def test_thread_backend_reaches_max_workers_concurrency() -> None:
    # Four tasks that can only finish together prove four really run at once, even after
    # earlier quick tasks left idle threads behind.
    barrier = threading.Barrier(4, timeout=10)

    def task(x: int) -> int:
        return barrier.wait() if x >= 8 else x

    outcomes = list(run_parallel(task, range(12), max_workers=4))
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    assert sorted(o.result for o in outcomes if o.item >= 8) == [0, 1, 2, 3]  # type: ignore[type-var]


def test_process_backend_runs_in_other_processes() -> None:
    outcomes = list(run_parallel(square_or_fail, range(6), max_workers=2, backend="process"))
    by_item = {o.item: o for o in outcomes}
    assert sorted(by_item) == list(range(6))
    assert isinstance(by_item[3].error, ValueError)
    assert str(by_item[3].error) == "three is unlucky"
    results = {i: o.result for i, o in by_item.items() if o.ok}
    assert {i: r[0] for i, r in results.items() if r} == {0: 0, 1: 1, 2: 4, 4: 16, 5: 25}
    assert all(r is not None and r[1] != os.getpid() for r in results.values())


def test_async_func_is_detected_even_with_thread_backend() -> None:
    state = {"running": 0, "peak": 0}
    threads: set[str] = set()

    async def task(x: int) -> int:
        asyncio.get_running_loop()  # raises outside a loop
        threads.add(threading.current_thread().name)
        state["running"] += 1
        state["peak"] = max(state["peak"], state["running"])
        await asyncio.sleep(0.05)
        state["running"] -= 1
        return x * 2

    outcomes = list(run_parallel(task, range(12), max_workers=4, backend="thread", ordered=True))
    assert [o.result for o in outcomes] == [x * 2 for x in range(12)]
    assert state["peak"] == 4  # the semaphore is max_workers, and it is reached
    assert threads == {threading.current_thread().name}  # one loop, on the caller's thread


def test_async_backend_accepts_a_plain_function() -> None:
    outcomes = list(run_parallel(lambda x: -x, range(5), backend="async", ordered=True))
    assert [o.result for o in outcomes] == [0, -1, -2, -3, -4]


def test_custom_executor_is_used_and_left_running() -> None:
    with ThreadPoolExecutor(2, thread_name_prefix="custom-pool") as pool:
        names: list[str] = []

        def task(x: int) -> int:
            names.append(threading.current_thread().name)
            if x == 2:
                raise Boom("two")
            return x

        outcomes = list(run_parallel(task, range(6), max_workers=2, backend=pool))
        assert sorted(o.item for o in outcomes) == list(range(6))
        assert [type(o.error) for o in outcomes if not o.ok] == [Boom]
        assert names and all(n.startswith("custom-pool") for n in names)
        assert pool.submit(lambda: 7).result(timeout=5) == 7  # not shut down by us


def test_invalid_arguments_are_rejected_before_anything_runs() -> None:
    with pytest.raises(ValueError, match="max_workers"):
        run_parallel(abs, [1], max_workers=0)
    with pytest.raises(ValueError, match="timeout"):
        run_parallel(abs, [1], timeout=0)
    with pytest.raises(ValueError, match="backend"):
        run_parallel(abs, [1], backend="fibers")  # type: ignore[call-overload]


# --------------------------------------------------------------------------- order and laziness


def test_ordered_yields_input_order_while_completion_order_differs() -> None:
    def task(x: int) -> int:
        time.sleep(0.02 * (5 - x))
        return x

    ordered = [o.item for o in run_parallel(task, range(6), max_workers=6, ordered=True)]
    assert ordered == list(range(6))
    unordered = [o.item for o in run_parallel(task, range(6), max_workers=6)]
    assert sorted(unordered) == list(range(6))
    assert unordered[0] != 0  # the slowest item cannot come first when nothing waits for it


@pytest.mark.parametrize("ordered", [False, True])
@pytest.mark.parametrize("kind", ["thread", "async"])
def test_generator_items_are_consumed_lazily(kind: str, ordered: bool) -> None:
    max_workers = 3
    produced = 0
    consumed = 0
    lead: list[int] = []

    def items() -> Iterator[int]:
        nonlocal produced
        for i in range(200):
            produced += 1
            lead.append(produced - consumed)
            yield i

    def task(x: int) -> int:
        time.sleep(0.004 if x % 7 == 0 else 0.0)
        return x

    async def atask(x: int) -> int:
        await asyncio.sleep(0.004 if x % 7 == 0 else 0.0)
        return x

    func: Any = atask if kind == "async" else task
    seen = []
    for outcome in run_parallel(func, items(), max_workers=max_workers, ordered=ordered):
        consumed += 1
        seen.append(outcome.item)
        if consumed == 1:
            assert produced <= 2 * max_workers
    assert sorted(seen) == list(range(200))
    assert max(lead) <= 2 * max_workers


def test_an_error_raised_by_items_reaches_the_caller() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise RuntimeError("discovery failed")

    with pytest.raises(RuntimeError, match="discovery failed"):
        list(run_parallel(lambda x: x, items(), max_workers=2))


# --------------------------------------------------------------------------- timeouts


def test_thread_timeout_kills_the_runner_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "sleep.pid"
    errors: list[BaseException] = []

    def task(item: str) -> str:
        try:
            # The sleep is a grandchild: only a kill of the whole group reaches it.
            run(["sh", "-c", f"sleep 30 & echo $! > {pidfile}; wait"], timeout=60)
        except CommandError as exc:
            errors.append(exc)
            raise
        return item

    start = time.monotonic()
    [outcome] = list(run_parallel(task, ["slow"], max_workers=1, timeout=0.5))
    elapsed = time.monotonic() - start
    assert outcome.timed_out
    assert isinstance(outcome.error, TaskTimeout)
    assert elapsed < 5.0
    assert wait_until(pidfile.exists)
    pid = int(pidfile.read_text())
    assert wait_until(lambda: not alive(pid)), "the sleep grandchild outlived its timeout"
    assert wait_until(lambda: bool(errors))
    assert isinstance(errors[0], CommandTimeoutError)


def test_thread_timeout_clock_starts_when_the_task_starts() -> None:
    # Four 0.4 s tasks through one worker: the last waits 1.2 s in the queue, longer than
    # the 1 s timeout, yet none of them times out.
    def task(x: int) -> int:
        time.sleep(0.4)
        return x

    outcomes = list(run_parallel(task, range(4), max_workers=1, timeout=1.0))
    assert [o.ok for o in outcomes] == [True] * 4


def test_thread_timeout_does_not_wait_for_pure_python_work() -> None:
    release = threading.Event()
    try:
        start = time.monotonic()
        [outcome] = list(run_parallel(lambda _: release.wait(30), ["x"], timeout=0.2))
        assert outcome.timed_out
        assert time.monotonic() - start < 5.0
        assert outcome.error is not None
        assert str(outcome.error) == "task timed out after 0.2s"
    finally:
        release.set()


def test_async_timeout_cancels_the_coroutine() -> None:
    cancelled: list[int] = []

    async def task(x: int) -> int:
        if x == 0:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.append(x)
                raise
        return x

    start = time.monotonic()
    outcomes = {o.item: o for o in run_parallel(task, range(3), timeout=0.2)}
    assert time.monotonic() - start < 5.0
    assert outcomes[0].timed_out
    assert outcomes[1].ok and outcomes[2].ok
    assert cancelled == [0]


def test_async_task_raising_its_own_timeout_error_is_not_a_timeout() -> None:
    own = TimeoutError("upstream timed out")

    async def task(_: int) -> int:
        raise own

    [outcome] = list(run_parallel(task, [1], timeout=5))
    assert outcome.error is own
    assert not outcome.timed_out


def sleep_and_record(job: tuple[str, str]) -> str:
    """Process-backend task: a quick one, or one that records its pid and never ends."""
    kind, pidfile = job
    if kind == "stuck":
        Path(pidfile).write_text(str(os.getpid()))
        time.sleep(600)
    return kind


@pytest.mark.parametrize("how", ["timeout", "close"])
def test_process_backend_terminates_stuck_workers(tmp_path: Path, how: str) -> None:
    pidfile = str(tmp_path / "worker.pid")
    jobs = [("stuck", pidfile), ("quick", pidfile)]
    if how == "timeout":
        outcomes = list(
            run_parallel(sleep_and_record, jobs, max_workers=2, backend="process", timeout=1.0)
        )
        assert {o.item[0]: o.timed_out for o in outcomes} == {"stuck": True, "quick": False}
    else:
        with closing(run_parallel(sleep_and_record, jobs, max_workers=2, backend="process")) as it:
            first = next(iter(it))
            assert first.item[0] == "quick"
            assert wait_until(lambda: os.path.exists(pidfile))
    assert wait_until(lambda: os.path.exists(pidfile))
    pid = int(Path(pidfile).read_text())
    assert pid != os.getpid()
    assert wait_until(lambda: not alive(pid)), "a stuck worker process was left running"


# --------------------------------------------------------------------------- interrupts


def test_keyboard_interrupt_stops_dispatch_and_reaches_the_caller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(core, "INTERRUPT_GRACE", 0.3)
    release = threading.Event()
    lock = threading.Lock()
    started: list[int] = []
    main = threading.main_thread().ident
    assert main is not None

    def task(x: int) -> int:
        with lock:
            started.append(x)
        if x == 0:
            # A real SIGINT delivered to the main thread, as Ctrl-C would be.
            signal.pthread_kill(main, signal.SIGINT)
            return x
        release.wait(30)
        return x

    try:
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            for _ in run_parallel(task, range(50), max_workers=3):
                pass
        elapsed = time.monotonic() - start
        with lock:
            at_interrupt = list(started)
        release.set()  # the blocked tasks finish; their threads must find nothing queued
        time.sleep(0.5)
        with lock:
            assert started == at_interrupt
    finally:
        release.set()
    assert elapsed < 5.0
    assert 0 in at_interrupt
    assert len(at_interrupt) <= 6


def test_keyboard_interrupt_in_async_task_cancels_the_others() -> None:
    started: list[int] = []
    cancelled: list[int] = []

    async def task(x: int) -> int:
        started.append(x)
        if x == 0:
            await asyncio.sleep(0.05)
            signal.raise_signal(signal.SIGINT)
            await asyncio.sleep(1)
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(x)
            raise
        return x

    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        list(run_parallel(task, range(20), max_workers=3))
    assert time.monotonic() - start < 5.0
    assert sorted(started) == [0, 1, 2]  # nothing beyond the semaphore ever started
    assert sorted(cancelled) == [1, 2]


def test_closing_early_cancels_running_tasks_and_drops_queued_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core, "INTERRUPT_GRACE", 1.0)
    release = threading.Event()
    lock = threading.Lock()
    started: list[int] = []
    errors: dict[int, BaseException] = {}
    pidfiles = {i: tmp_path / f"{i}.pid" for i in (1, 2)}

    def task(x: int) -> int:
        with lock:
            started.append(x)
        if x == 0:
            assert wait_until(lambda: all(p.exists() for p in pidfiles.values()))
            return x
        if x in pidfiles:
            try:
                run(["sh", "-c", f"sleep 30 & echo $! > {pidfiles[x]}; wait"], timeout=60)
            except CommandError as exc:
                errors[x] = exc
                raise
            return x
        release.wait(30)
        return x

    try:
        with closing(run_parallel(task, range(30), max_workers=3)) as outcomes:
            first = next(iter(outcomes))
            closed_at = time.monotonic()
        close_took = time.monotonic() - closed_at
        with lock:
            at_close = list(started)
        release.set()
        time.sleep(0.5)
        with lock:
            assert started == at_close, "a queued task started after the iterator was closed"
    finally:
        release.set()
    assert first.item == 0 and first.ok
    assert close_took < 5.0
    pids = [int(p.read_text()) for p in pidfiles.values()]
    assert wait_until(lambda: not any(alive(pid) for pid in pids))
    assert wait_until(lambda: len(errors) == 2)
    assert all(isinstance(e, CommandCancelledError) for e in errors.values())


# --------------------------------------------------------------------------- the atexit trap
#
# concurrent.futures.ThreadPoolExecutor registers an exit hook that joins every worker
# thread. A worker stuck in a blocking call (a hung network read, a wait on an event that
# never comes) therefore keeps the interpreter alive forever after the main thread has
# finished or been interrupted. run_parallel's thread workers are daemon threads that no
# hook joins, and its process workers are terminated, so the interpreter always exits.

_SCRIPT_HEAD = """
import threading, time
import gitoverit.parallel._core as core
from gitoverit.parallel import run_parallel
core.INTERRUPT_GRACE = 0.3
forever = threading.Event()
def task(item):
    if item == "stuck":
        {block}
    return item
"""


def _run_script(code: str, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("ending", "returncode"),
    [("break", 0), ("raise SystemExit(3)", 3), ("raise KeyboardInterrupt", -signal.SIGINT)],
)
def test_interpreter_exits_with_a_thread_task_stuck_forever(
    tmp_path: Path, ending: str, returncode: int
) -> None:
    code = _SCRIPT_HEAD.format(block="forever.wait()") + textwrap.dedent(
        f"""
        for outcome in run_parallel(task, ["stuck", "quick"], max_workers=2):
            print("got", outcome.item, flush=True)
            {ending}
        """
    )
    proc = _run_script(code, tmp_path, timeout=20)
    assert proc.stdout == "got quick\n"
    assert proc.returncode == returncode, proc.stderr


def test_interpreter_exits_with_a_process_task_stuck_forever(tmp_path: Path) -> None:
    code = _SCRIPT_HEAD.format(block="time.sleep(600)") + textwrap.dedent(
        """
        for outcome in run_parallel(task, ["stuck", "quick"], max_workers=2, backend="process"):
            print("got", outcome.item, flush=True)
            break
        """
    )
    proc = _run_script(code, tmp_path, timeout=20)
    assert proc.stdout == "got quick\n"
    assert proc.returncode == 0, proc.stderr


# --------------------------------------------------------------------------- helpers and UI


def test_batch_map_returns_successful_results_in_order() -> None:
    def task(x: int) -> int:
        time.sleep(0.001 * (x % 3))
        if x % 4 == 1:
            raise Boom(str(x))
        return x * x

    assert batch_map(task, range(12), max_workers=4) == [0, 4, 9, 16, 36, 49, 64, 100, 121]


def test_batch_map_leaves_out_timeouts_and_skips() -> None:
    def task(x: int) -> int:
        if x == 0:
            raise Boom("first")
        return x

    assert batch_map(task, range(5), max_workers=1, fail_fast=True) == []


def test_outcome_flags() -> None:
    assert Outcome(1, 2).ok
    assert Outcome(1, error=TaskSkipped()).skipped
    assert Outcome(1, error=TaskTimeout(1.5)).timed_out
    assert not Outcome(1, error=Boom()).ok


def test_desc_writes_nothing_when_stderr_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    outcomes = list(run_parallel(lambda x: x, range(20), max_workers=2, desc="Scanning"))
    assert len(outcomes) == 20
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out == ""


def test_a_stalled_producer_does_not_hold_back_finished_outcomes() -> None:
    stalled = threading.Event()
    release = threading.Event()

    def items() -> Iterator[int]:
        yield 1
        stalled.set()
        release.wait(10)  # a producer that takes long to find the next item
        yield 2

    outcomes = run_parallel(lambda x: x * 10, items(), max_workers=2)
    first = next(outcomes)
    assert stalled.is_set() and not release.is_set()
    assert first.result == 10
    release.set()
    assert [o.result for o in outcomes] == [20]


# --------------------------------------------------------------------------- the guide's idioms


def test_an_outcome_unpacks_to_item_result_and_error() -> None:
    done = Outcome("a", 1, None, 0.25)
    item, result, error = done
    assert (item, result, error) == ("a", 1, None)
    assert done.duration == 0.25 and done.ok and not done.skipped and not done.timed_out
    boom = Boom("b")
    failed = Outcome("b", error=boom, duration=0.5)
    assert tuple(failed) == ("b", None, boom)
    assert failed.duration == 0.5 and not failed.ok
    _, _, reason = skipped = Outcome("c", error=TaskSkipped())
    assert isinstance(reason, TaskSkipped) and skipped.skipped
    _, _, reason = expired = Outcome("d", error=TaskTimeout(2.0))
    assert reason is expired.error and expired.timed_out
    with pytest.raises(ValueError, match="too many values"):
        _first, _second = done
    with pytest.raises(AttributeError):
        done.duration = 1.0  # type: ignore[misc]


@pytest.mark.parametrize("backend", ["thread", "async", "process"])
def test_the_guides_loop_gets_item_result_and_error(backend: Any) -> None:
    succeeded: dict[int, int] = {}
    failed: dict[int, BaseException] = {}
    results = run_parallel(square_or_fail, range(6), max_workers=2, backend=backend)
    for item, result, error in results:
        if error:
            failed[item] = error
        else:
            succeeded[item] = result[0]
    assert succeeded == {0: 0, 1: 1, 2: 4, 4: 16, 5: 25}
    assert list(failed) == [3] and isinstance(failed[3], ValueError)


def test_the_thread_default_is_the_guides_io_bound_count() -> None:
    # Every one of the first `wanted` tasks waits for all the others: only that many
    # threads at once get them through.
    wanted = optimal_workers(150, io_bound=True)
    assert wanted == min(100, fd_budget())
    barrier = threading.Barrier(wanted, timeout=20)
    probe = Probe()

    def task(x: int) -> int:
        probe.enter(x)
        try:
            return barrier.wait() if x < wanted else x
        finally:
            probe.leave()

    outcomes = list(run_parallel(task, range(150)))
    assert all(o.ok for o in outcomes), {type(o.error) for o in outcomes if not o.ok}
    assert probe.peak == wanted


def pid_after_a_while(_: int) -> int:
    """Process-backend task: long enough that every idle worker process gets one."""
    time.sleep(0.05)
    return os.getpid()


def test_the_process_default_is_one_worker_per_cpu() -> None:
    outcomes = list(run_parallel(pid_after_a_while, range(24), backend="process"))
    assert all(o.ok for o in outcomes)
    assert 1 <= len({o.result for o in outcomes}) <= cpu_count()


_LIMITS_SCRIPT = """
import json, os, resource, sys
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
from gitoverit.actions import net_jobs
from gitoverit.parallel import cpu_count, optimal_workers
from gitoverit.scan import default_jobs
print(json.dumps({
    "cpus": cpu_count(),
    "io": optimal_workers(1000, io_bound=True),
    "cpu": optimal_workers(1000, io_bound=False),
    "unknown": optimal_workers(None),
    "local": default_jobs(),
    "net": net_jobs(),
}))
"""


def _counts_under(limit: int, cwd: Path) -> dict[str, int]:
    """The worker counts a process on one CPU picks with at most *limit* open files."""
    proc = _run_script(_LIMITS_SCRIPT.replace("sys.argv[1]", str(limit)), cwd, timeout=30)
    assert proc.returncode == 0, proc.stderr
    counts: dict[str, int] = json.loads(proc.stdout)
    return counts


def test_worker_counts_with_plenty_of_files_and_one_cpu(tmp_path: Path) -> None:
    counts = _counts_under(4096, tmp_path)
    if hasattr(os, "sched_setaffinity"):
        assert counts["cpus"] == 1
    cpus = counts["cpus"]
    assert counts["io"] == counts["unknown"] == 100
    assert counts["cpu"] == cpus
    # The git layer keeps its own numbers: 2 local gits per CPU (at most 8), 16 fetches.
    assert counts["local"] == min(8, 2 * cpus)
    assert counts["net"] == 16


@pytest.mark.parametrize("limit", [100, 200, 400])
def test_worker_counts_stay_below_the_open_file_limit(tmp_path: Path, limit: int) -> None:
    counts = _counts_under(limit, tmp_path)
    for name in ("io", "cpu", "unknown", "local", "net"):
        # Room for 8 descriptors per worker and 64 for everything else.
        assert counts[name] >= 1 and 64 + 8 * counts[name] <= limit, (name, counts)
    assert counts["io"] == (limit - 64) // 8


# --------------------------------------------------------------------------- desc on a terminal

_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

_PROGRESS_SCRIPT = """
import time
from gitoverit.parallel import run_parallel

def task(x):
    time.sleep(0.01)
    if x == 3:
        raise ValueError(x)
    return x

for item, result, error in run_parallel(task, range(40), max_workers=4, desc="Checking [links]"):
    print("row", item, "failed" if error else "ok", flush=True)
"""


@dataclass
class Streams:
    """What a script wrote: to its stdout and stderr pipes, and to its terminal."""

    out: str
    err: str
    terminal: str


def _run_with_terminal(code: str, cwd: Path, on_terminal: set[str], **env: str) -> Streams:
    """``python -c CODE`` with the streams named in *on_terminal* (``stdout``, ``stderr``)
    on one pseudo-terminal 100 columns wide and the others on pipes."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    full_env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    full_env.update({"TERM": "xterm-256color", **env})
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)],
            cwd=cwd,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=slave if "stdout" in on_terminal else out,
            stderr=slave if "stderr" in on_terminal else err,
        )
        os.close(slave)
        chunks: list[bytes] = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # every end of the terminal is closed: the child has exited
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        assert proc.wait(timeout=60) == 0
        out.seek(0)
        err.seek(0)
        return Streams(
            out.read().decode(),
            err.read().decode(),
            _ESCAPE.sub("", b"".join(chunks).decode("utf-8", "replace")),
        )


def test_desc_shows_a_progress_bar_with_an_error_count_on_a_terminal(tmp_path: Path) -> None:
    shown = _run_with_terminal(_PROGRESS_SCRIPT, tmp_path, {"stderr"})
    assert "Checking [links]" in shown.terminal  # the label as given, not read as markup
    assert " 0/40 0 errors " in shown.terminal
    assert re.search(r" 40/40 1 error \d", shown.terminal), shown.terminal
    # The caller's own output stays on its stdout, a pipe here: none of it on the terminal.
    assert "row" not in shown.terminal
    rows = shown.out.splitlines()
    assert len(rows) == 40
    assert [r for r in rows if r.endswith("failed")] == ["row 3 failed"]


def test_desc_prints_the_callers_lines_above_the_bar_on_a_shared_terminal(
    tmp_path: Path,
) -> None:
    shown = _run_with_terminal(_PROGRESS_SCRIPT, tmp_path, {"stdout", "stderr"})
    assert "40/40" in shown.terminal
    rows = re.findall(r"(.?)(row \d+ (?:ok|failed))", shown.terminal)
    assert len(rows) == 40
    # Each row starts a line of its own; none is appended to a drawn bar.
    assert all(before in ("", "\r", "\n") for before, _ in rows), rows


def test_desc_writes_nothing_when_stderr_is_a_pipe(tmp_path: Path) -> None:
    # Even when the rest is a terminal and Rich is told to treat anything as one.
    shown = _run_with_terminal(
        _PROGRESS_SCRIPT, tmp_path, {"stdout"}, FORCE_COLOR="1", TTY_COMPATIBLE="1"
    )
    assert shown.err == ""
    assert len(re.findall(r"row \d+", shown.terminal)) == 40
    assert "Checking" not in shown.terminal


# --------------------------------------------------------------------------- a distributed engine


def note_call(job: tuple[str, int]) -> str:
    """dask task: append the item to a file, fail on 3, and name the worker that ran it."""
    from distributed import get_worker

    path, x = job
    with open(path, "a") as fh:
        fh.write(f"{x}\n")
    if x == 3:
        raise ValueError("three is unlucky")
    return str(get_worker().address)


def test_runs_on_a_dask_distributed_executor(tmp_path: Path) -> None:
    from distributed import Client, LocalCluster
    from distributed.core import Status

    calls = tmp_path / "calls"
    jobs: list[Any] = [(str(calls), x) for x in (0, 1, 2, 3, 1, 1)]
    unpicklable = (str(calls), threading.Lock())
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=2,
            processes=False,
            dashboard_address=None,
            local_directory=str(tmp_path / "dask"),
        ) as cluster,
        Client(cluster) as client,
    ):
        addresses = {worker.address for worker in cluster.workers.values()}
        seen = list(
            run_parallel(
                note_call, [*jobs, unpicklable], backend=client.get_executor(), ordered=True
            )
        )
        assert [o.item for o in seen] == [*jobs, unpicklable]
        for (_, x), (item, result, error) in zip(jobs, seen, strict=False):
            if x == 3:
                assert isinstance(error, ValueError) and str(error) == "three is unlucky"
            else:
                assert error is None and result in addresses, (item, error)
        assert seen[-1].error is not None, "an item that cannot be sent fails on its own"
        assert all(o.duration >= 0 for o in seen)
        # Equal items are separate calls, each run once: dask would otherwise merge them.
        assert sorted(calls.read_text().split()) == ["0", "1", "1", "1", "2", "3"]
    assert cluster.status == Status.closed
    assert client.status == "closed"


def test_an_item_the_executor_refuses_fails_on_its_own() -> None:
    pool = ThreadPoolExecutor(2)
    pool.shutdown()
    outcomes = list(run_parallel(abs, [-1, -2], backend=pool, ordered=True))
    assert [o.item for o in outcomes] == [-1, -2]
    assert all(isinstance(o.error, RuntimeError) for o in outcomes)
