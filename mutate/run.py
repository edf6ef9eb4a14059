"""Mutation testing of the code that protects data: ``make mutate``.

mutmut changes one thing at a time (a comparison, a constant, a condition) in the
functions listed in :data:`TARGETS` and runs, for each such mutant, only the tests that
call the function it changed. A mutant is *killed* when a test fails (or runs out of
time), *equivalent* when ``mutate/equivalent.txt`` explains why it cannot change
behaviour, and *surviving* otherwise, including when no test calls it at all.

Usage: ``python mutate/run.py [MODULE ...]`` runs the named modules of :data:`TARGETS`
(all by default), prints the score of each and the surviving mutants' diffs, and exits 1
when any mutant survives. ``--report`` prints the score of the last run again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
EQUIVALENT = ROOT / "mutate" / "equivalent.txt"

#: What is mutated: module -> the functions (``Class.method`` for a method) whose
#: behaviour protects the user's data or the promises the README makes.
TARGETS: dict[str, tuple[str, ...]] = {
    # The safe pull/push rules, the fetch/fast-forward/push they guard, how an outcome is
    # named, and the network pool's bound.
    "gitoverit.git.ops": (
        "fetch",
        "fetch_remote",
        "_clean_worktree",
        "_branch_blocker",
        "pull_blocker",
        "push_blocker",
        "merge_ff",
        "upstream_of",
        "push",
    ),
    "gitoverit.actions": ("net_jobs", "_outcome"),
    # Which repos sync clones, updates or leaves alone.
    "gitoverit.sync": ("sync_task", "_run"),
    # The exit code of a run.
    "gitoverit.cli": ("run_click",),
    "gitoverit.commands._pipeline": ("run_pipeline",),
    # Escaping of untrusted text and redaction of credentials in URLs.
    "gitoverit.text": ("_escape_char", "safe_text", "redact_url", "redact_urls"),
    # Which folders are repositories: ignore rules and submodules.
    "gitoverit.discovery": ("_is_ignored", "_is_submodule_git_dir"),
    # Config precedence: flags over GITOVERIT_* over the config file.
    "gitoverit.config.loading": ("load_settings", "apply_flags"),
    # The status parser: entries, headers (branch, upstream, ahead/behind, stashes) and
    # the count of untracked entries.
    "gitoverit.git.porcelain": (
        "parse_porcelain_v2",
        "_Headers.read",
        "_parse_ab",
        "count_untracked",
    ),
    # The expression sandbox: size limits, arithmetic and comparisons, the regex guard,
    # the "only ExprError" promise.
    "gitoverit.query.values": (
        "measure",
        "bounded",
        "_numbers",
        "_add",
        "_sub",
        "_mul",
        "_nonzero",
        "_div",
        "_floordiv",
        "_mod",
        "_pow",
        "negate",
        "plus",
        "_ordered",
        "_contains",
    ),
    "gitoverit.query.functions": ("_risky_pattern",),
    "gitoverit.query.evaluator": ("Expr.evaluate",),
}

#: Tests that run gitoverit as a child process, by module they exercise. mutmut only sees
#: which functions a test calls in its own process, so these count as calling every
#: target of their modules (in a second run, for the mutants that survived the first).
CHILD_PROCESS_TESTS: dict[str, tuple[str, ...]] = {
    # test_cli.py: the progress display on a terminal, and the exit codes of real runs.
    "gitoverit.commands._pipeline": (
        "tests/test_interrupt.py",
        "tests/test_pipe.py",
        "tests/test_cli.py",
    ),
    "gitoverit.cli": (
        "tests/test_interrupt.py",
        "tests/test_pipe.py",
        "tests/test_branches.py",
        "tests/test_cli.py",
    ),
}

_QUERY_TESTS = ("tests/test_query.py", "tests/test_expression_operators.py")

#: For a module that nearly every test reaches (the status parser, redaction, the config,
#: the expression language), the test files whose tests count for its mutants: its own
#: tests and the command-line tests that read its results. The end-to-end tests of
#: pull, push and sync call it too but take seconds each and check nothing of it that
#: these do not.
FOCUS: dict[str, tuple[str, ...]] = {
    "gitoverit.git.porcelain": (
        "tests/test_status.py",
        "tests/test_metadata_only.py",
        "tests/test_where_you_stand.py",
        "tests/test_cli.py",
    ),
    "gitoverit.text": (
        "tests/test_text.py",
        "tests/test_status.py",
        "tests/test_network_failures.py",
        "tests/test_cli.py",
        "tests/test_config.py",
        "tests/test_config_compat.py",
        "tests/test_where_you_stand.py",
    ),
    "gitoverit.config.loading": (
        "tests/test_config.py",
        "tests/test_config_compat.py",
        "tests/test_cli.py",
        "tests/test_network_failures.py",
        "tests/test_where_you_stand.py",
    ),
    "gitoverit.query.values": _QUERY_TESTS,
    "gitoverit.query.functions": _QUERY_TESTS,
    "gitoverit.query.evaluator": _QUERY_TESTS,
}

#: mutmut's exit codes that mean a test noticed the mutant (failed, crashed or timed out).
_KILLED = {1, 3, 24, -24, 152, 255, 36, 37, -9, -11}
#: Those of them that mean "stopped for taking too long". A test process forked while
#: another thread of mutmut's holds a lock can hang without any fault of the mutant, so
#: such a mutant runs once more, alone, before it counts as killed.
_TIMED_OUT = {24, -24, 152, 36, -9}


def _pattern(module: str, function: str) -> str:
    cls, _, name = function.rpartition(".")
    mangled = f"xǁ{cls}ǁ{name}" if cls else f"x_{name}"
    return f"{module}.{mangled}__mutmut_*"


def _meta_path(module: str) -> Path:
    rel = Path("src", *module.split("."))
    package = MUTANTS / rel / "__init__.py.meta"
    return package if package.exists() else MUTANTS / rel.with_suffix(".py.meta")


def _results(module: str) -> dict[str, int | None]:
    """Every targeted mutant of *module* with mutmut's exit code for it."""
    import fnmatch

    path = _meta_path(module)
    if not path.exists():
        return {}
    codes: dict[str, int | None] = json.loads(path.read_text())["exit_code_by_key"]
    patterns = [_pattern(module, f) for f in TARGETS[module]]
    return {k: v for k, v in codes.items() if any(fnmatch.fnmatch(k, p) for p in patterns)}


def _diff(name: str) -> str:
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "mutmut"), "show", name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout


def fingerprint(diff: str) -> str:
    """A short hash of what a mutant changes (its diff's changed lines), so that an
    entry of the equivalents file no longer matches once the code under it changes."""
    changed = [
        line.strip()
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return hashlib.sha256("\n".join(changed).encode()).hexdigest()[:10]


def _equivalents() -> dict[str, tuple[str, str]]:
    """``mutant name -> (fingerprint, reason)`` from the equivalents file."""
    out: dict[str, tuple[str, str]] = {}
    if not EQUIVALENT.exists():
        return out
    for line in EQUIVALENT.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, digest, reason = line.split(maxsplit=2)
        out[name] = (digest, reason)
    return out


def report(modules: list[str]) -> int:
    """Print the score of each module and the diff of every surviving mutant; returns
    the number of surviving mutants."""
    equivalents = _equivalents()
    rows: list[tuple[str, int, int, int, int, int]] = []
    survivors: list[tuple[str, str, str]] = []
    for module in modules:
        count: Counter[str] = Counter()
        results = _results(module)
        for name, code in sorted(results.items()):
            if code is None:  # the run stopped before this mutant
                count["not run"] += 1
                continue
            if code in _KILLED:
                count["killed"] += 1
                if name in equivalents:
                    print(f"note: {name} is listed as equivalent but was killed")
                continue
            diff = _diff(name)
            listed = equivalents.get(name)
            if listed is not None and listed[0] == fingerprint(diff):
                count["equivalent"] += 1
                continue
            why = "no test calls it" if code in (5, 33) else f"exit {code}"
            if listed is not None:
                why += "; the equivalents entry no longer matches its diff"
            survivors.append((name, why, diff))
            count["surviving"] += 1
        rows.append(
            (
                module,
                len(results),
                count["killed"],
                count["equivalent"],
                count["surviving"],
                count["not run"],
            )
        )
    for name, why, diff in survivors:
        print(f"\nSURVIVED {name} ({why}), fingerprint {fingerprint(diff)}")
        print("\n".join(diff.splitlines()[1:]))
    width = max(len(m) for m in modules)
    not_run = any(r[5] for r in rows)
    head = "mutants  killed  equivalent  surviving" + ("  not run" if not_run else "")
    print(f"\n{'module':<{width}}  {head}")
    totals = ("total", *(sum(r[i] for r in rows) for i in range(1, 6)))
    for name, total, killed, equivalent, surviving, missing in [*rows, totals]:
        line = f"{name:<{width}}  {total:>7}  {killed:>6}  {equivalent:>10}  {surviving:>9}"
        print(line + (f"  {missing:>7}" if not_run else ""))
    return int(totals[4]) + int(totals[5])


def _mutmut(args: list[str], jobs: int, log: Path, temp: str, *, may_fail: bool = False) -> None:
    """``mutmut run`` with *args*, its output in *log*; exits when mutmut fails (unless
    *may_fail*)."""
    # Child processes started by the tests (``python -m gitoverit``) import the mutated
    # copy too, and their temporary folders go apart from any other pytest run's, outside
    # any repository (a scan of a folder inside one reports that repository).
    env = dict(os.environ, PYTHONPATH=str(MUTANTS / "src"), PYTEST_DEBUG_TEMPROOT=temp)
    mutmut = Path(sys.executable).parent / "mutmut"
    with log.open("w") as out:
        proc = subprocess.run(
            [str(mutmut), "run", "--max-children", str(jobs), *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if proc.returncode != 0 and not may_fail:
        shutil.rmtree(temp, ignore_errors=True)
        sys.exit(f"mutmut failed (exit {proc.returncode}); see {log}")


def _focus(modules: list[str]) -> None:
    """Keep, in mutmut's record of which test calls which function, only the tests of
    :data:`FOCUS` for the targets of its modules."""
    stats_path = MUTANTS / "mutmut-stats.json"
    stats = json.loads(stats_path.read_text())
    tests = stats["tests_by_mangled_function_name"]
    for module in modules:
        files = FOCUS.get(module)
        if files is None:
            continue
        for function in TARGETS[module]:
            key = _pattern(module, function).rpartition("__mutmut_")[0]
            if key in tests:
                tests[key] = [t for t in tests[key] if t.split("::")[0] in files]
    stats_path.write_text(json.dumps(stats))


def _add_child_process_tests(modules: list[str]) -> list[str]:
    """Count the tests of :data:`CHILD_PROCESS_TESTS` as calling every target of their
    modules, in mutmut's record of which test calls which function; returns the mutants
    of those modules that have survived so far."""
    stats_path = MUTANTS / "mutmut-stats.json"
    stats = json.loads(stats_path.read_text())
    tests = stats["tests_by_mangled_function_name"]
    again: list[str] = []
    for module in modules:
        files = CHILD_PROCESS_TESTS.get(module, ())
        extra = [t for t in stats["duration_by_test"] if t.split("::")[0] in files]
        survivors = [k for k, code in _results(module).items() if code not in _KILLED]
        for name in survivors:
            function = name.rpartition("__mutmut_")[0]
            tests[function] = sorted(set(tests.get(function, [])) | set(extra))
        again += survivors if extra else []
    stats_path.write_text(json.dumps(stats))
    return again


def run(modules: list[str], jobs: int) -> None:
    """A fresh mutmut run over *modules*; its output goes to ``mutants/mutmut.log``.

    The tests that count for the mutants of a module of :data:`FOCUS` are narrowed first.

    Mutants stopped for time run again, one at a time (``mutants/mutmut-timeouts.log``).
    Mutants that survive in a module of :data:`CHILD_PROCESS_TESTS` run again, with
    those tests added (``mutants/mutmut-child-processes.log``).
    """
    shutil.rmtree(MUTANTS, ignore_errors=True)
    # The folder must exist before Python starts, or its importer caches "nothing here".
    (MUTANTS / "src").mkdir(parents=True)
    temp = tempfile.mkdtemp(prefix="gitoverit-mutate-")
    patterns = [_pattern(m, f) for m in modules for f in TARGETS[m]]
    log = MUTANTS / "mutmut.log"
    print(f"mutmut: {len(modules)} modules, {jobs} workers; log in {log.relative_to(ROOT)}")
    # First only which test calls which function: a run for a mutant that does not exist
    # records that, then stops. The record is narrowed to FOCUS before any mutant runs.
    _mutmut(["gitoverit.x_none__mutmut_0"], jobs, MUTANTS / "mutmut-stats.log", temp, may_fail=True)
    if not (MUTANTS / "mutmut-stats.json").exists():
        shutil.rmtree(temp, ignore_errors=True)
        sys.exit(f"mutmut recorded no test calls; see {MUTANTS / 'mutmut-stats.log'}")
    _focus(modules)
    _mutmut(patterns, jobs, log, temp)
    slow = [k for m in modules for k, code in _results(m).items() if code in _TIMED_OUT]
    if slow:
        print(f"mutmut: {len(slow)} mutants stopped for time run again, one at a time")
        _mutmut(slow, 1, MUTANTS / "mutmut-timeouts.log", temp)
    again = _add_child_process_tests(modules)
    if again:
        print(f"mutmut: {len(again)} survivors again, with the tests of child processes")
        _mutmut(again, jobs, MUTANTS / "mutmut-child-processes.log", temp)
    shutil.rmtree(temp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="modules of TARGETS (default: all)")
    parser.add_argument("--report", action="store_true", help="score the last run again")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    unknown = set(args.modules) - set(TARGETS)
    if unknown:
        parser.error(f"not in TARGETS: {', '.join(sorted(unknown))}")
    modules = args.modules or list(TARGETS)
    start = time.monotonic()
    if not args.report:
        run(modules, args.jobs)
    surviving = report(modules)
    if not args.report:
        print(f"\nmake mutate took {time.monotonic() - start:.0f} s")
    return 1 if surviving else 0


if __name__ == "__main__":
    raise SystemExit(main())
