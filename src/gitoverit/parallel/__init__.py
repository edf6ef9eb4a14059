"""Run many independent tasks at once, never losing a result.

This module knows nothing about git. The main entry point is :func:`run_parallel`, which
yields one :class:`Outcome` per item; :func:`batch_map` returns just the successful results
and :func:`optimal_workers` picks a worker count.

Example::

    from gitoverit.parallel import run_parallel

    for outcome in run_parallel(fetch_one, urls, max_workers=16, timeout=30):
        if outcome.ok:
            print(outcome.item, outcome.result)
        else:
            print(outcome.item, "failed:", outcome.error)
"""

from __future__ import annotations

from gitoverit.parallel._cancel import CancelScope, current_scope
from gitoverit.parallel._core import (
    Backend,
    Outcome,
    TaskSkipped,
    TaskTimeout,
    batch_map,
    optimal_workers,
    run_parallel,
)
from gitoverit.parallel._pool import DaemonThreadPool

__all__ = [
    "Backend",
    "CancelScope",
    "DaemonThreadPool",
    "Outcome",
    "TaskSkipped",
    "TaskTimeout",
    "batch_map",
    "current_scope",
    "optimal_workers",
    "run_parallel",
]
