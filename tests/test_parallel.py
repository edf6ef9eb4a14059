"""Tests for ``gitoverit.parallel``: outcomes, limits, fail-fast, timeouts and interrupts."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
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
import gitoverit.parallel._light as light
from gitoverit.errors import CommandCancelledError, CommandError, CommandTimeoutError
from gitoverit.git.command import run
from gitoverit.parallel import (
    Outcome,
    TaskSkipped,
    TaskTimeout,
    batch_map,
    current_scope,
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
def test_optimal_workers_bounds(n_items: int | None, io_bound: bool) -> None:
    w = optimal_workers(n_items, io_bound=io_bound)
    assert w >= 1
    if n_items is not None:
        assert w <= max(1, n_items)
    cores = light._cpu_count()
    if io_bound:
        assert w <= 32
        wanted = 4 if n_items is None else min(4, max(1, n_items))
        assert w >= min(wanted, light._fd_budget())
    else:
        assert w <= min(8, 2 * cores)
    if n_items is None or n_items >= 32:
        assert optimal_workers(n_items, io_bound=True) >= optimal_workers(n_items, io_bound=False)


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


class _FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_desc_shows_a_progress_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeTerminal()
    monkeypatch.setattr(sys, "stderr", fake)
    monkeypatch.setenv("TERM", "xterm")

    def task(x: int) -> int:
        if x == 3:
            raise Boom("three")
        return x

    outcomes = list(run_parallel(task, range(8), max_workers=2, desc="Scanning"))
    assert len(outcomes) == 8
    shown = fake.getvalue()
    assert "Scanning" in shown
    assert "errors" in shown


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
