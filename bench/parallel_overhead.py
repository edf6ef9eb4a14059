"""Per-task overhead of ``run_parallel`` against a bare ``ThreadPoolExecutor.map``.

Both sides run the same trivial task (``lambda x: x``) over the same items with the same
number of workers, and both create and shut down their pool inside the timed region. The
variants run interleaved, round after round, so that machine noise hits them alike; the
report gives the median of each, the ratio to the bare pool, and microseconds per task.

Run: ``.venv/bin/python bench/parallel_overhead.py [--tasks N] [--workers W] [--rounds R]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from gitoverit.parallel import run_parallel


def identity(x: int) -> int:
    return x


def bare_map(n: int, workers: int) -> int:
    with ThreadPoolExecutor(workers) as pool:
        return len(list(pool.map(identity, range(n))))


def parallel_unordered(n: int, workers: int) -> int:
    return sum(1 for o in run_parallel(identity, range(n), max_workers=workers) if o.ok)


def parallel_ordered(n: int, workers: int) -> int:
    outcomes = run_parallel(identity, range(n), max_workers=workers, ordered=True)
    return sum(1 for o in outcomes if o.ok)


VARIANTS: dict[str, Callable[[int, int], int]] = {
    "ThreadPoolExecutor.map": bare_map,
    "run_parallel": parallel_unordered,
    "run_parallel(ordered=True)": parallel_ordered,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)

    for fn in VARIANTS.values():  # warm up imports, thread start-up and caches
        fn(min(args.tasks, 500), args.workers)

    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.rounds):
        for name, fn in VARIANTS.items():
            start = time.perf_counter()
            done = fn(args.tasks, args.workers)
            times[name].append(time.perf_counter() - start)
            if done != args.tasks:
                raise SystemExit(f"{name} completed {done} of {args.tasks} tasks")

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"{args.tasks:,} trivial tasks, max_workers={args.workers}, {args.rounds} rounds "
        f"interleaved, {cores} cores, Python {sys.version.split()[0]}"
    )
    base = statistics.median(times["ThreadPoolExecutor.map"])
    print(f"{'variant':<28} {'median':>9} {'min':>9} {'µs/task':>8} {'ratio':>6}")
    for name, samples in times.items():
        med = statistics.median(samples)
        print(
            f"{name:<28} {med * 1e3:>7.1f}ms {min(samples) * 1e3:>7.1f}ms "
            f"{med / args.tasks * 1e6:>8.2f} {med / base:>5.2f}x"
        )
    extra = (statistics.median(times["run_parallel"]) - base) / args.tasks * 1e6
    print(f"run_parallel overhead over the bare pool: {extra:+.2f} µs/task (median)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
