"""How many local gits run at once, and CPU affinity for the status engine: its own
thread on one CPU, its gits on the others.

Only where the platform can set affinity (Linux); elsewhere :class:`CpuSplit` does nothing.
"""

from __future__ import annotations

import contextlib
import os

from gitoverit.parallel import cpu_count, fd_budget

#: Local git processes per CPU, and the most at once, by default (``-j``). A second git per
#: CPU hides process start-up and disk waits; measured ``git status`` over 1,000 small
#: repos is best at 2x the cores and gains nothing beyond 8.
LOCAL_JOBS_PER_CPU = 2
LOCAL_JOBS_MAX = 8


def local_jobs() -> int:
    """The default number of concurrent local gits: 2 per CPU, at most 8, and within
    what the open-file limit allows (each git holds pipes)."""
    return max(1, min(LOCAL_JOBS_PER_CPU * cpu_count(), LOCAL_JOBS_MAX, fd_budget()))


def _current_cpu(cpus: set[int]) -> int:
    """The CPU this thread runs on now (Linux), else the lowest allowed one."""
    try:
        with open("/proc/thread-self/stat", "rb") as fh:
            cpu = int(fh.read().rpartition(b")")[2].split()[36])
    except (OSError, ValueError, IndexError):
        return min(cpus)
    return cpu if cpu in cpus else min(cpus)


class CpuSplit:
    """Keep the engine's thread and its git processes on different CPUs.

    With fewer jobs than CPUs (``-j 1`` above all), the kernel tends to start each new
    git on the CPU of the thread that spawned it, where the two then take turns while
    another CPU idles; the file reads meant to overlap with git's work wait for it
    instead. So while the engine runs, its own thread stays on the CPU it is on and each
    git is allowed every other CPU. Nothing changes when there are at least as many jobs
    as CPUs, where the gits keep every CPU busy anyway.
    """

    def __init__(self, jobs: int) -> None:
        self.all: set[int] | None = None
        self.children: set[int] | None = None
        if not hasattr(os, "sched_getaffinity"):
            return
        try:
            cpus = os.sched_getaffinity(0)
            if len(cpus) <= jobs:
                return
            mine = _current_cpu(cpus)
            os.sched_setaffinity(0, {mine})
        except OSError:
            return
        self.all = cpus
        self.children = cpus - {mine}

    def child(self, pid: int) -> None:
        if self.children is not None:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(pid, self.children)

    def helper(self) -> None:
        """Called first on a helper thread: it may use every CPU."""
        if self.all is not None:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(0, self.all)

    def restore(self) -> None:
        if self.all is not None:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(0, self.all)
            self.all = self.children = None
