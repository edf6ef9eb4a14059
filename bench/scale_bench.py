"""The ``scale`` section of ``make bench``: 10,000 repositories (``--scale-repos``).

Over the corpus of ``bench/corpus_scale.py`` (hard-linked copies of a few templates, 1,000
to a part), in one run:

- time: ``gitoverit -o json`` over ``part-0`` (1,000 repos) and over the whole corpus,
  interleaved, each beside the floor (``xargs -P2 git status``) over the same repos; the
  time per repo of the whole against that of the 1,000;
- memory: peak RSS of the scan of the whole corpus with ``-o json``, the table and
  ``-o ndjson`` (GNU time when installed, else ``wait4`` rusage);
- open files: one scan of the whole corpus under ``RLIMIT_NOFILE`` 256 (as ``ulimit -n
  256``), which must exit 0 with one record per repo and no error record; and the most
  descriptors the gitoverit process held at once, sampled from ``/proc/PID/fd`` during
  that run and during one at the default limit.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import corpus as corpus_mod
import corpus_scale
from run import (
    TARGET_MEMORY_MB,
    Variant,
    _r,
    _validate_records,
    checking_warmup,
    default_jobs,
    floor_env,
    floor_variant,
    git_commands,
    gitoverit_bin,
    gitoverit_variants,
    measure,
    peak_rss,
    print_table,
    target_line,
)

#: Time per repo over the whole corpus against the 1,000-repo run.
TARGET_PER_REPO = 1.15
#: The ``ulimit -n`` the scan must finish under without an error record.
NOFILE = 256
#: Descriptors per job the gitoverit process may hold at most (the issue's "about -j x 4").
FDS_PER_JOB = 4


def sampled_run(
    argv: Sequence[str], env: dict[str, str], stdout: Path, nofile: int | None = None
) -> dict[str, Any]:
    """Run *argv* (under ``RLIMIT_NOFILE`` *nofile* if given) while counting the entries of
    its ``/proc/PID/fd`` every millisecond or so; return its exit code, wall time, stderr
    tail and the most descriptors it held at once."""

    def limit() -> None:  # runs in the child between fork and exec
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    with tempfile.TemporaryFile() as err, open(stdout, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            preexec_fn=limit if nofile is not None else None,
        )
        fd_dir = f"/proc/{proc.pid}/fd"
        peak = samples = 0
        while proc.poll() is None:
            try:
                n = len(os.listdir(fd_dir))
            except OSError:
                n = 0
            samples += 1
            peak = max(peak, n)
            time.sleep(0.001)
        elapsed = time.perf_counter() - t0
        err.seek(0)
        tail = err.read()[-600:].decode(errors="replace").strip()
    return {
        "returncode": proc.returncode,
        "seconds": round(elapsed, 3),
        "peak_fds": peak,
        "fd_samples": samples,
        "stderr_tail": tail,
    }


def scale_section(
    n_repos: int, rounds: int, base_env: dict[str, str], log: Callable[[str], None]
) -> dict[str, Any]:
    t0 = time.perf_counter()
    corpus = corpus_scale.load_or_build(n_repos, log=log)
    if corpus.build_seconds is not None:
        log(f"scale corpus: built {corpus.root} in {time.perf_counter() - t0:.1f} s")
    env = corpus_mod.isolated_env(corpus.home, base_env)
    git_env = floor_env(env)
    status_args = git_commands().status
    n_all, n_part = len(corpus.worktrees), corpus.part0_count
    part0 = [p for p in corpus.worktrees if p.is_relative_to(corpus.part0_dir)]

    def renamed(v: Variant, suffix: str, what: str) -> Variant:
        v.key = f"{v.key}-{suffix}"
        v.label = f"{v.label} ({what})"
        return v

    floor_1k = renamed(floor_variant(git_env, status_args, corpus.part0_list_nul), "1k", "1,000")
    floor_all = renamed(floor_variant(git_env, status_args, corpus.list_nul), "all", f"{n_all:,}")
    ours_1k = [
        renamed(v, "1k", "1,000") for v in gitoverit_variants("scale", corpus.part0_dir, env)
    ]
    ours_all = [
        renamed(v, "all", f"{n_all:,}") for v in gitoverit_variants("scale", corpus.repos_dir, env)
    ]
    checks_1k: dict[str, Any] = {}
    checks_all: dict[str, Any] = {}
    warm_1k = checking_warmup(part0, checks_1k)
    warm_all = checking_warmup(corpus.worktrees, checks_all)

    def warm(v: Variant) -> None:
        (warm_1k if v.key.endswith("-1k") else warm_all)(v)

    variants = [floor_1k, *ours_1k, floor_all, *ours_all]
    log(f"scale: {len(variants)} variants, 1 warm-up + {rounds} rounds each")
    measure(variants, rounds, on_warmup=warm, log=log)

    print(
        f"\nScale: {n_all:,} repos under {corpus.repos_dir}, and the {n_part:,} of part-0\n"
        f"  ({rounds} rounds after one warm-up each, interleaved; {os.cpu_count()} CPUs)"
    )
    print_table(variants, floor_all)
    print(f"  {'variant':<34}{'ms/repo (1k)':>14}{'ms/repo (all)':>15}{'all / 1k':>10}")
    per_repo: dict[str, Any] = {}
    for small, big in zip([floor_1k, *ours_1k], [floor_all, *ours_all], strict=True):
        a = None if small.median is None else small.median / n_part * 1000
        b = None if big.median is None else big.median / n_all * 1000
        r = None if a is None or b is None or a == 0 else b / a
        base = small.key.removesuffix("-1k")
        per_repo[base] = {"ms_per_repo_1k": _r(a), "ms_per_repo_all": _r(b), "ratio": _r(r)}
        cells = ["-" if x is None else f"{x:.3f}" for x in (a, b)]
        print(f"  {base:<34}{cells[0]:>14}{cells[1]:>15}{'-' if r is None else f'{r:.2f}x':>10}")
    for checks in (checks_1k, checks_all):
        for key, check in checks.items():
            if not check.get("ok"):
                print(f"  note: {key} output check: {json.dumps(check)[:600]}")
            else:
                print(f"  {key}: {check['records']} records as expected ({check['errors']} errors)")
    r_main = per_repo.get("gitoverit", {}).get("ratio")
    print(target_line("gitoverit time per repo, all / 1,000", r_main, TARGET_PER_REPO))

    # Peak memory of the whole scan, per output.
    gito = str(gitoverit_bin())
    table_env = {k: v for k, v in env.items() if k != "COLUMNS"}
    rss: dict[str, Any] = {}
    method = ""
    print(f"\n  Peak RSS over {n_all:,} repos")
    for label, args, e in (
        ("-o json", ["-o", "json"], env),
        ("table", [], table_env),
        ("-o ndjson", ["-o", "ndjson"], env),
    ):
        log(f"scale: peak RSS of gitoverit {label}")
        argv = [gito, "--no-progress", *args, str(corpus.repos_dir)]
        kb, method, error = peak_rss(argv, e, check_json=label == "-o json")
        mb = None if kb is None else kb / 1024
        rss[label] = {"mb": _r(mb, 1), "error": error}
        if error is not None:
            print(f"    gitoverit {label:<10} failed: {error.splitlines()[-1]}")
        else:
            print(f"    gitoverit {label:<10} {mb:8.1f} MB  ({method})")
    print(target_line("peak RSS -o json, MB", rss["-o json"]["mb"], TARGET_MEMORY_MB))

    # Open files: one run at the default limit, one under ulimit -n 256, both sampled.
    jobs = default_jobs()
    bound = jobs * FDS_PER_JOB
    fds: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, nofile in (("default", None), (f"nofile-{NOFILE}", NOFILE)):
            log(f"scale: open files, {name}")
            out = Path(tmp) / f"{name}.json"
            run = sampled_run(
                [gito, "--no-progress", "-o", "json", str(corpus.repos_dir)], env, out, nofile
            )
            check = _validate_records(out, corpus.worktrees)
            run["records"] = check.get("records")
            run["error_records"] = check.get("errors")
            run["ok"] = bool(
                run["returncode"] == 0 and check.get("ok") and check.get("errors") == 0
            )
            run["soft_limit"] = nofile or resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            fds[name] = run
    print(f"\n  Open files of the gitoverit process (default -j {jobs}; bound -j x 4 = {bound})")
    for name, run in fds.items():
        print(
            f"    {name:<12} limit {run['soft_limit']:>8}: exit {run['returncode']}, "
            f"{run['records']} records, {run['error_records']} error records, "
            f"peak {run['peak_fds']} descriptors ({run['fd_samples']} samples), "
            f"{run['seconds']:.1f} s"
        )
        if run["returncode"] != 0 and run["stderr_tail"]:
            print("      " + run["stderr_tail"].replace("\n", "\n      "))
    limited = fds[f"nofile-{NOFILE}"]
    print(
        f"  {'ulimit -n 256: exit 0, no error record':<40} "
        f"{'yes' if limited['ok'] else 'NO'}   target: yes: {'met' if limited['ok'] else 'MISSED'}"
    )
    peak = max(run["peak_fds"] for run in fds.values())
    print(target_line("peak descriptors", float(peak), float(bound)))
    return {
        "repos": n_all,
        "part0_repos": n_part,
        "corpus": str(corpus.root),
        "corpus_build_s": _r(corpus.build_seconds, 2),
        "rounds": rounds,
        "variants": {v.key: v.as_json() for v in variants},
        "output_checks": {**checks_1k, **checks_all},
        "per_repo": per_repo,
        "peak_rss": {"method": method, **rss},
        "open_files": {"jobs": jobs, "bound": bound, **fds},
    }
