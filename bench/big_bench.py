"""The ``big`` section of ``make bench``: gitoverit against the floor over a corpus of
real-world-sized repositories (``bench/corpus_big.py``: a few hundred to 5,000 files each,
with histories of hundreds to thousands of commits, branches, merges, tags, stashes and a
few dirty work trees). Variants are measured as in ``bench/run.py``: one warm-up each,
then interleaved rounds; each gets its median and its ratio to the floor of the same run.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from typing import Any

import corpus as corpus_mod
import corpus_big
from run import (
    _r,
    checking_warmup,
    floor_env,
    floor_variant,
    git_commands,
    gitoverit_variants,
    measure,
    print_table,
    ratio,
    target_line,
)

#: gitoverit -o json and its table over the big corpus, against the floor.
TARGET_BIG = 1.0


def big_section(
    n_repos: int,
    max_files: int,
    rounds: int,
    base_env: dict[str, str],
    log: Callable[[str], None],
) -> dict[str, Any]:
    corpus = corpus_big.load_or_build(n_repos, max_files, log=log)
    if corpus.build_seconds is not None:
        log(f"big corpus: built {corpus.root} in {corpus.build_seconds:.1f} s")
    env = corpus_mod.isolated_env(corpus.home, base_env)
    cmds = git_commands()
    floor = floor_variant(floor_env(env), cmds.status, corpus.list_nul)
    ours = gitoverit_variants("big", corpus.repos_dir, env)
    variants = [floor, *ours]
    checks: dict[str, Any] = {}
    log(f"big: {len(variants)} variants, 1 warm-up + {rounds} rounds each")
    measure(variants, rounds, on_warmup=checking_warmup(corpus.worktrees, checks), log=log)

    files = sum(int(str(r.get("files", 0))) for r in corpus.repo_stats)
    commits = sum(int(str(r.get("commits", 0))) for r in corpus.repo_stats)
    states = ", ".join(f"{n} {s}" for s, n in sorted(corpus.shapes.items()))
    print(
        f"\nReal-world-sized repos: {len(corpus.worktrees)} repos under {corpus.repos_dir}\n"
        f"  ({files:,} tracked files, {commits:,} commits in all; {states}; "
        f"{rounds} rounds after one warm-up each, interleaved; {os.cpu_count()} CPUs)"
    )
    print_table(variants, floor)
    print(f"  per-repo command: git -C DIR {shlex.join(cmds.status)}")
    for key, check in checks.items():
        if not check.get("ok"):
            print(f"  note: {key} output check: {str(check)[:600]}")
        else:
            print(f"  {key}: {check['records']} records as expected ({check['errors']} errors)")
    by_key = {v.key: v for v in ours}
    ratios: dict[str, float | None] = {}
    for v in ours:
        ratios[f"{v.key}_vs_floor"] = _r(ratio(v, floor))
        print(target_line(f"{v.label} / floor", ratio(v, floor), TARGET_BIG))
    table, e2e = by_key.get("gitoverit-table"), by_key.get("gitoverit")
    if table is not None and e2e is not None:
        r = ratio(table, e2e)
        ratios["table_vs_json"] = _r(r)
        if r is not None:
            print(f"  {'gitoverit table / gitoverit -o json':<40} {r:>8.2f}")
    return {
        "repos": len(corpus.worktrees),
        "corpus": str(corpus.root),
        "corpus_build_s": _r(corpus.build_seconds, 2),
        "files": files,
        "commits": commits,
        "states": dict(corpus.shapes),
        "rounds": rounds,
        "variants": {v.key: v.as_json() for v in variants},
        "output_checks": checks,
        "ratios": ratios,
    }
