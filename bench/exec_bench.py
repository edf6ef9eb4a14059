"""The ``exec`` section of ``make bench``: ``gitoverit exec -- git rev-parse HEAD`` over the
corpus, side by side with ``xargs -P{cpus} git -C {} rev-parse HEAD`` over the same work
trees, in the same run (see ``bench/run.py`` for how variants are measured)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import corpus as corpus_mod
from run import Variant, _r, gitoverit_bin, measure, print_table, ratio, target_line

#: ``gitoverit exec`` against xargs at the same concurrency.
TARGET_EXEC_XARGS = 1.3


def exec_section(
    corpus: corpus_mod.Corpus, rounds: int, env: dict[str, str], log: Callable[[str], None]
) -> dict[str, Any]:
    """Measure both, interleaved, and print their times and ratio."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpus = cpus or 1
    command = ["git", "rev-parse", "HEAD"]
    # xargs exits 123 when some command failed (the corpus's corrupt repos).
    xargs = Variant(
        f"xargs-P{cpus}",
        f"xargs -P{cpus} git rev-parse HEAD",
        ["xargs", "-0", f"-P{cpus}", "-I{}", "git", "-C", "{}", *command],
        env,
        corpus.list_nul,
        frozenset({0, 123}),
    )
    ours = Variant(
        "gitoverit-exec",
        "gitoverit exec -- git rev-parse HEAD",
        [str(gitoverit_bin()), "exec", "--no-progress", str(corpus.repos_dir), "--", *command],
        env,
        ok_codes=frozenset({0, 1}),
    )
    log(f"exec: 2 variants, 1 warm-up + {rounds} rounds each")
    measure([xargs, ours], rounds, log=log)
    print(
        f"\nexec: one git rev-parse HEAD in each of {len(corpus.worktrees)} work trees "
        f"({rounds} rounds after one warm-up each, interleaved; {cpus} CPUs; "
        f"gitoverit exec's default -j {cpus})"
    )
    print_table([xargs, ours], xargs)
    r = ratio(ours, xargs)
    print(target_line(f"gitoverit exec / xargs -P{cpus}", r, TARGET_EXEC_XARGS))
    return {
        "worktrees": len(corpus.worktrees),
        "rounds": rounds,
        "jobs": cpus,
        "variants": {v.key: v.as_json() for v in (xargs, ours)},
        "ratios": {"gitoverit_exec_vs_xargs": _r(r)},
    }
