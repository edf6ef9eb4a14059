"""Run many independent tasks at once, never losing a result.

This module knows nothing about git. The main entry point is :func:`run_parallel`, which
yields one :class:`Outcome` per item; :func:`batch_map` returns just the successful results
and :func:`optimal_workers` picks a worker count (:func:`cpu_count` and :func:`fd_budget`
are what it weighs).

Example::

    from gitoverit.parallel import run_parallel

    for item, result, error in run_parallel(fetch_one, urls, max_workers=50, timeout=30):
        if error is not None:
            print(item, "failed:", error)
        else:
            print(item, result)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitoverit.parallel._cancel import CancelScope, current_scope
from gitoverit.parallel._light import (
    TaskSkipped,
    TaskTimeout,
    cpu_count,
    fd_budget,
    optimal_workers,
)

if TYPE_CHECKING:
    from gitoverit.parallel._core import Backend, batch_map, run_parallel
    from gitoverit.parallel._outcome import Outcome
    from gitoverit.parallel._pool import DaemonThreadPool

# The runner needs only the cancel scopes; the pool and its imports (concurrent.futures,
# logging) load on first use, so that a status scan, which never uses them, starts sooner.
_CORE = {"Backend", "batch_map"}


def __getattr__(name: str) -> Any:
    if name in _CORE or name == "run_parallel":
        from gitoverit.parallel import _core

        return getattr(_core, name)
    if name == "Outcome":
        from gitoverit.parallel._outcome import Outcome

        return Outcome
    if name == "DaemonThreadPool":
        from gitoverit.parallel._pool import DaemonThreadPool

        return DaemonThreadPool
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Backend",
    "CancelScope",
    "DaemonThreadPool",
    "Outcome",
    "TaskSkipped",
    "TaskTimeout",
    "batch_map",
    "cpu_count",
    "current_scope",
    "fd_budget",
    "optimal_workers",
    "run_parallel",
]
