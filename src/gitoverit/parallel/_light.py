"""The parts of :mod:`gitoverit.parallel` that need no thread pool: worker counts and the
exceptions that stand for a task that timed out or never ran. Importing them is cheap, so
a status scan, which has its own engine, does not load the pool."""

from __future__ import annotations

import os


class TaskSkipped(Exception):
    """The task never ran: an earlier task failed under ``fail_fast``."""

    def __init__(self, message: str = "skipped after an earlier failure") -> None:
        super().__init__(message)


class TaskTimeout(TimeoutError):
    """The task ran longer than the per-task ``timeout``."""

    def __init__(self, timeout: float) -> None:
        super().__init__(f"task timed out after {timeout:g}s")
        self.timeout = timeout


#: The most workers :func:`optimal_workers` gives tasks that mostly wait.
IO_BOUND_MAX = 100

#: Open files kept free for the rest of the program, and the most each worker may hold
#: at once (a child process keeps three pipe ends open and briefly more while it starts).
_FD_RESERVE = 64
_FD_PER_WORKER = 8


def optimal_workers(n_items: int | None = None, io_bound: bool = True) -> int:
    """A sensible number of workers for *n_items* tasks on this machine.

    - ``io_bound=True`` (tasks mostly wait: network, disk, subprocesses): ``min(100,
      n_items)``. A waiting thread costs almost no CPU, so concurrency far past the core
      count pays off.
    - ``io_bound=False`` (each task keeps a CPU busy): ``min(cpu_count(), n_items)``; more
      would only take turns on the same CPUs.

    *n_items* ``None`` means not known. Never fewer than 1, and never more than
    :func:`fd_budget` allows, so that the workers cannot run out of file descriptors.
    """
    n = IO_BOUND_MAX if io_bound else cpu_count()
    if n_items is not None:
        n = min(n, n_items)
    return max(1, min(n, fd_budget()))


def cpu_count() -> int:
    """The CPUs this process may run on: ``os.cpu_count()``, less any that CPU affinity
    (``taskset``, a container's cpuset) leaves out. At least 1."""
    process_cpu_count = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if process_cpu_count is not None:
        return int(process_cpu_count() or 1)
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def fd_budget() -> int:
    """The most workers that fit under the open-file limit (``RLIMIT_NOFILE``), with room
    left for the rest of the program: 64 descriptors kept free, 8 per worker. At least 1."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):
        return 256
    if soft == resource.RLIM_INFINITY:
        return 1024
    return max(1, (soft - _FD_RESERVE) // _FD_PER_WORKER)
