"""The gitoverit benchmark: ``make bench`` (``python bench/run.py [options]``).

Sections (``--only`` picks some; ``net`` runs only with ``--net`` or ``--only net``):

status
    The status scan over the synthetic corpus (``bench/corpus.py``), several variants side by
    side in one run: one warm-up each, then ``--rounds`` rounds, interleaved (A B C, A B C,
    ...). Each variant gets its median, its minimum and its ratio to the floor measured in
    the same run, and the median CPU time (user + system) of its whole process tree, which
    shows how much of a difference is work and how much is waiting.

    - floor: ``xargs -0 -P2`` running one ``git status`` per repo over a precomputed list of
      the work trees a scan should report, with the flags, configuration and environment
      gitoverit uses for its single status call;
    - the same with xargs at gitoverit's default job count (for reference);
    - a serial shell loop running the same command (the serial floor);
    - ``bench/py_serial.py``: the same serial work as a minimal Python loop (no parsing, no
      output), the least any Python program pays for it (for reference);
    - the gitoverit variants of ``GITOVERIT_FLAVOURS`` (``-o json`` at default settings,
      the table, ``-j 1``, ...); add a ``Flavour`` there to time another one.

big
    ``gitoverit -o json`` and the table against the floor over real-world-sized repos
    (``bench/corpus_big.py``, ``bench/big_bench.py``).
version
    Wall time of ``gitoverit --version``, next to ``python -c pass``.
memory
    Peak resident memory of the end-to-end scan, measured with GNU time when installed
    (else ``wait4`` rusage, which cannot see below this runner's own peak).
ndjson
    ``gitoverit -o ndjson``: time to the first line against the time to exit.
exec
    ``gitoverit exec -- git rev-parse HEAD`` over the corpus, against ``xargs -P{cpus} git
    -C {} rev-parse HEAD`` over the same work trees, side by side (``bench/exec_bench.py``).
scale
    Only with ``--scale`` or ``--only scale``: 10,000 repos (``--scale-repos``), time per
    repo against the first 1,000, peak RSS, open descriptors and a run under ``ulimit -n
    256`` (``bench/corpus_scale.py``, ``bench/scale_bench.py``).
net
    Fetch over clones of local remotes whose upload-pack sleeps first (simulated latency):
    ``gitoverit -f`` at default settings, xargs running ``git fetch`` at ``--net-jobs``
    concurrency, and one serial fetch loop.

All commands run in the corpus's isolated git environment (``HOME``, ``GIT_CONFIG_GLOBAL``,
``GIT_CONFIG_NOSYSTEM=1``), never with the user's configuration, and without any
``GITOVERIT_*`` variables. Results are printed as a table and written to
``bench/.corpus/last-results.json``. A variant that fails is reported as failed, with the
tail of its stderr, and the others still run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus as corpus_mod

RESULTS_FILE = corpus_mod.CACHE_DIR / "last-results.json"
SECTIONS = ("status", "big", "version", "memory", "ndjson", "exec", "scale", "net")
DEFAULT_SECTIONS = ("status", "big", "version", "memory", "ndjson", "exec")

#: Used for the floors when gitoverit's own constants cannot be imported.
FALLBACK_CONFIG = ("-c", "core.fsmonitor=false", "-c", "gc.auto=0", "-c", "maintenance.auto=false")
FALLBACK_STATUS = (
    "status",
    "--porcelain=v2",
    "--branch",
    "-z",
    "--show-stash",
    "--untracked-files=normal",
)
FALLBACK_FETCH = ("fetch", "--all", "--prune")

TARGET_E2E = 1.0
TARGET_SERIAL = 1.10
TARGET_VERSION_MS = 80.0
TARGET_MEMORY_MB = 100.0
TARGET_NET_XARGS = 1.2
TARGET_NET_SERIAL = 10.0


def gitoverit_bin() -> Path:
    return Path(sys.executable).parent / "gitoverit"


@dataclass(frozen=True)
class GitCommands:
    """The git arguments of gitoverit's one status call and one fetch call per repo."""

    status: tuple[str, ...]
    fetch: tuple[str, ...]
    status_source: str
    fetch_source: str


def git_commands() -> GitCommands:
    """Take the floors' git arguments from gitoverit itself, so they do the same git work.

    ``-c`` options come from ``gitoverit.git.command.SAFE_CONFIG`` (and ``READ_ONLY_CONFIG``
    for status), the status arguments from
    ``gitoverit.git.status.STATUS_ARGS``; when either is missing, documented defaults are
    used instead.
    """
    try:
        from gitoverit.git.command import READ_ONLY_CONFIG, SAFE_CONFIG
        from gitoverit.git.status import STATUS_ARGS
    except ImportError:
        return GitCommands(
            (*FALLBACK_CONFIG, *FALLBACK_STATUS),
            (*FALLBACK_CONFIG, *FALLBACK_FETCH),
            "bench defaults",
            "bench defaults",
        )
    return GitCommands(
        (*SAFE_CONFIG, *READ_ONLY_CONFIG, *STATUS_ARGS),
        (*SAFE_CONFIG, *FALLBACK_FETCH),
        "gitoverit's SAFE_CONFIG, READ_ONLY_CONFIG and STATUS_ARGS",
        "gitoverit's SAFE_CONFIG; fetch arguments as in gitoverit.git.ops",
    )


def time_bin() -> str | None:
    """GNU time, when installed: it reports its child's peak RSS (``%M``)."""
    path = shutil.which("time")
    if path is None:
        return None
    probe = subprocess.run([path, "-f", "%M", "true"], capture_output=True, text=True, check=False)
    return path if probe.returncode == 0 and probe.stderr.strip().isdigit() else None


def default_jobs() -> int:
    """gitoverit's documented default for local work: about 2x the cores, capped at 8."""
    return max(1, min(8, 2 * (os.cpu_count() or 1)))


# --------------------------------------------------------------------------- running


@dataclass
class Sample:
    seconds: float
    returncode: int
    #: CPU time (user + system) of the command and every descendant it waited for.
    cpu: float = 0.0


@dataclass
class Variant:
    """One command measured over several rounds."""

    key: str
    label: str
    argv: list[str]
    env: dict[str, str]
    stdin: Path | None = None
    ok_codes: frozenset[int] = frozenset({0})
    samples: list[Sample] = field(default_factory=list)
    error: str | None = None

    @property
    def times(self) -> list[float]:
        return [s.seconds for s in self.samples]

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.samples)

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.ok else None

    @property
    def minimum(self) -> float | None:
        return min(self.times) if self.ok else None

    @property
    def cpu(self) -> float | None:
        """Median CPU seconds per run: the command's own and its children's."""
        return statistics.median(s.cpu for s in self.samples) if self.ok else None

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "argv": self.argv,
            "ok": self.ok,
            "error": self.error,
            "times_s": [round(t, 4) for t in self.times],
            "median_s": _r(self.median),
            "min_s": _r(self.minimum),
            "cpu_s": [round(s.cpu, 4) for s in self.samples],
            "median_cpu_s": _r(self.cpu),
            "returncodes": sorted({s.returncode for s in self.samples}),
        }


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(x, nd)


def run_once(
    argv: Sequence[str], env: dict[str, str], stdin: Path | None = None, stdout: Path | None = None
) -> tuple[Sample, str]:
    """Run *argv* to completion; return its wall time and exit code, and its stderr tail."""
    with tempfile.TemporaryFile() as err, open(os.devnull, "wb") as null:
        fin = open(stdin, "rb") if stdin else open(os.devnull, "rb")  # noqa: SIM115
        fout = open(stdout, "wb") if stdout else null  # noqa: SIM115
        try:
            t0 = time.perf_counter()
            try:
                proc = subprocess.Popen(list(argv), stdin=fin, stdout=fout, stderr=err, env=env)
            except OSError as exc:
                return Sample(0.0, 127), str(exc)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - t0
            proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            fin.close()
            if fout is not null:
                fout.close()
        err.seek(0)
        tail = err.read()[-600:].decode(errors="replace").strip()
    return Sample(elapsed, proc.returncode, usage.ru_utime + usage.ru_stime), tail


def _failure(sample: Sample, tail: str) -> str:
    return f"exit {sample.returncode}: {tail[-400:] or '(no stderr)'}"


def measure(
    variants: Sequence[Variant],
    rounds: int,
    warmup: int = 1,
    on_warmup: Callable[[Variant], None] | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> None:
    """Warm up each variant, then run *rounds* interleaved rounds of the ones that work."""
    for v in variants:
        for _ in range(warmup):
            if on_warmup is not None:
                on_warmup(v)
                if v.error:
                    break
                continue
            sample, tail = run_once(v.argv, v.env, v.stdin)
            if sample.returncode not in v.ok_codes:
                v.error = _failure(sample, tail)
                break
    live = [v for v in variants if v.error is None]
    for r in range(rounds):
        for v in live:
            if v.error:
                continue
            sample, tail = run_once(v.argv, v.env, v.stdin)
            if sample.returncode not in v.ok_codes:
                v.error = _failure(sample, tail)
                continue
            v.samples.append(sample)
        log(f"  round {r + 1}/{rounds}: " + "  ".join(_short(v) for v in live))


def _short(v: Variant) -> str:
    if v.error:
        return f"{v.key}=failed"
    return f"{v.key}={v.samples[-1].seconds:.2f}s" if v.samples else f"{v.key}=-"


# --------------------------------------------------------------------------- output


def _fmt_s(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f} s"


def _fmt_ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


def ratio(a: Variant, b: Variant) -> float | None:
    if a.median is None or b.median is None or b.median == 0:
        return None
    return a.median / b.median


def print_table(variants: Sequence[Variant], baseline: Variant) -> None:
    width = max(len(v.label) for v in variants) + 2
    rw = max(10, len(baseline.key) + 5)
    print(
        f"  {'variant':<{width}}{'median':>10}{'min':>10}{'vs ' + baseline.key:>{rw}}{'CPU s':>9}"
    )
    for v in variants:
        if not v.ok:
            print(f"  {v.label:<{width}}failed: {(v.error or 'no samples').splitlines()[-1]}")
            continue
        line = f"  {v.label:<{width}}{_fmt_s(v.median):>10}{_fmt_s(v.minimum):>10}"
        line += f"{_fmt_ratio(ratio(v, baseline)):>{rw}}"
        line += f"{v.cpu:>9.3f}" if v.cpu is not None else ""
        print(line)
    for v in variants:
        if v.error and "\n" in v.error:
            print(f"\n  {v.label} stderr tail:\n    " + v.error.replace("\n", "\n    "))


def target_line(
    name: str, value: float | None, target: float, higher_is_better: bool = False
) -> str:
    if value is None:
        return f"  {name:<40} not measured"
    met = value >= target if higher_is_better else value <= target
    op = ">=" if higher_is_better else "<="
    return f"  {name:<40} {value:>8.2f}   target {op} {target:g}: {'met' if met else 'MISSED'}"


# --------------------------------------------------------------------------- sections


def _validate_records(out: Path, expected: Sequence[Path]) -> dict[str, Any]:
    """Compare the repos in gitoverit's JSON output with the work trees the corpus holds."""
    try:
        data = json.loads(out.read_bytes())
    except (OSError, ValueError) as exc:
        return {"ok": False, "problem": f"output is not JSON: {exc}"}
    if isinstance(data, dict):
        data = data.get("repos") or data.get("records") or []
    if not isinstance(data, list):
        return {"ok": False, "problem": "output is not a JSON array"}
    got = {os.path.realpath(r["path"]) for r in data if isinstance(r, dict) and "path" in r}
    want = {os.path.realpath(p) for p in expected}
    errors = sum(1 for r in data if isinstance(r, dict) and r.get("error"))
    missing = sorted(want - got)
    extra = sorted(got - want)
    return {
        "ok": not missing and not extra,
        "records": len(data),
        "expected": len(want),
        "errors": errors,
        "missing": missing[:10],
        "extra": extra[:10],
        "missing_count": len(missing),
        "extra_count": len(extra),
    }


@dataclass(frozen=True)
class Flavour:
    """One way of running gitoverit that the scan sections time against their floor.

    The command is ``gitoverit --no-progress ARGS FOLDER``, in the corpus's isolated
    environment; *sections* names the sections that run it (``status``, ``big``,
    ``peers``). A table's rows are counted in the warm-up run; JSON output is checked
    against the work trees the corpus holds.
    """

    key: str
    label: str
    args: tuple[str, ...]
    table: bool = False
    sections: frozenset[str] = frozenset({"status"})
    #: Added to the environment (e.g. a ``GITOVERIT_*`` setting under test).
    env: tuple[tuple[str, str], ...] = ()


_EVERYWHERE = frozenset({"status", "big", "peers"})

#: The gitoverit variants, in the order they are printed. To time another way of running
#: gitoverit, add a :class:`Flavour` here (e.g. ``Flavour("gitoverit-reader-git",
#: "gitoverit -o json --reader git", ("-o", "json", "--reader", "git"), sections=...)``):
#: every section named in its *sections* then runs it beside the others, interleaved,
#: and prints its median and its ratio to that section's floor.
GITOVERIT_FLAVOURS: list[Flavour] = [
    Flavour("gitoverit", "gitoverit -o json", ("-o", "json"), sections=_EVERYWHERE | {"scale"}),
    # The default table into a pipe, as wide as it needs: what the table adds over JSON.
    Flavour("gitoverit-table", "gitoverit (table)", (), table=True, sections=_EVERYWHERE),
    # The table without the status column reads no line totals; with -c +ident it also
    # reads each repo's committer identity: what those two extras cost.
    Flavour("gitoverit-table-nolines", "gitoverit (table, -c -status)", ("-c", "-status"), True),
    Flavour("gitoverit-table-ident", "gitoverit (table, -c +ident)", ("-c", "+ident"), True),
    Flavour("gitoverit-j1", "gitoverit -o json -j 1", ("-o", "json", "-j", "1")),
    # Every repository read by git: what the in-process reader saves.
    Flavour(
        "gitoverit-git",
        "gitoverit -o json --reader git",
        ("-o", "json", "--reader", "git"),
        sections=_EVERYWHERE,
    ),
]


def gitoverit_variants(section: str, folder: Path, env: dict[str, str]) -> list[Variant]:
    """The variants of :data:`GITOVERIT_FLAVOURS` that *section* runs, over *folder*."""
    gito = str(gitoverit_bin())
    out = []
    for f in GITOVERIT_FLAVOURS:
        if section not in f.sections:
            continue
        venv = dict(env, **dict(f.env))
        if f.table:
            venv.pop("COLUMNS", None)
        out.append(
            Variant(
                f.key,
                f.label,
                [gito, "--no-progress", *f.args, str(folder)],
                venv,
                ok_codes=frozenset({0, 1}),
            )
        )
    return out


def _is_table(v: Variant) -> bool:
    return any(f.key == v.key and f.table for f in GITOVERIT_FLAVOURS)


def checking_warmup(worktrees: Sequence[Path], checks: dict[str, Any]) -> Callable[[Variant], None]:
    """A warm-up run for :func:`measure` that also checks gitoverit's output: a table
    has one row per work tree; JSON records name exactly *worktrees* (result in
    *checks*). Other commands only have to exit with one of their codes."""

    def warm(v: Variant) -> None:
        if not v.key.startswith("gitoverit"):
            sample, tail = run_once(v.argv, v.env, v.stdin)
            if sample.returncode not in v.ok_codes:
                v.error = _failure(sample, tail)
            return
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out.json"
            sample, tail = run_once(v.argv, v.env, v.stdin, stdout=out)
            if sample.returncode not in v.ok_codes:
                v.error = _failure(sample, tail)
                return
            if _is_table(v):
                rows = len(out.read_text("utf-8").splitlines()) - 1
                if rows != len(worktrees):
                    v.error = f"table has {rows} rows, expected {len(worktrees)}"
                return
            checks[v.key] = check = _validate_records(out, worktrees)
            if "problem" in check:
                v.error = f"exit {sample.returncode}, {check['problem']}: {tail or '(no stderr)'}"

    return warm


def floor_env(env: dict[str, str]) -> dict[str, str]:
    """The environment of the floors' git commands: gitoverit's read-only one."""
    return dict(env, GIT_OPTIONAL_LOCKS="0", LC_ALL="C")


def floor_variant(
    git_env: dict[str, str], status_args: Sequence[str], list_nul: Path, jobs: int = 2
) -> Variant:
    """``xargs -0 -P{jobs}`` running one ``git status`` per listed work tree."""
    # git exits 128 on a corrupt repo; xargs goes on (it stops only on 255 or a signal) and
    # exits 123 at the end. No shell per repo: one git process per repo and nothing else.
    return Variant(
        "floor" if jobs == 2 else f"xargs-P{jobs}",
        "floor: xargs -P2 git status" if jobs == 2 else f"xargs -P{jobs} git status",
        ["xargs", "-0", f"-P{jobs}", "-I{}", "git", "-C", "{}", *status_args],
        git_env,
        list_nul,
        frozenset({0, 123}),
    )


def status_section(
    corpus: corpus_mod.Corpus, rounds: int, env: dict[str, str], log: Callable[[str], None]
) -> dict[str, Any]:
    # gitoverit's read-only environment; each work tree's parent as the ceiling, as
    # gitoverit sets it, changes nothing here: every listed path holds its own .git.
    git_env = floor_env(env)
    jobs = default_jobs()
    cmds = git_commands()
    status_args = cmds.status
    loop = (
        'while IFS= read -r d; do git -C "$d" '
        + shlex.join(status_args)
        + " >/dev/null 2>&1; done; exit 0"
    )
    # xargs exits 123 when some command failed (the corrupt repos); that is expected.
    floor = floor_variant(git_env, status_args, corpus.list_nul)
    variants = [floor]
    if jobs != 2:
        variants.append(floor_variant(git_env, status_args, corpus.list_nul, jobs))
    serial = Variant("serial", "serial shell loop", ["sh", "-c", loop], git_env, corpus.list_lines)
    # The least a Python program pays for the same serial work (start-up included).
    py_serial = Variant(
        "py-serial",
        "serial Python spawn loop",
        [sys.executable, str(Path(__file__).resolve().parent / "py_serial.py"), "--", *status_args],
        git_env,
        corpus.list_nul,
    )
    ours = gitoverit_variants("status", corpus.repos_dir, env)
    variants += [serial, py_serial, *ours]
    by_key = {v.key: v for v in ours}
    e2e = by_key.get("gitoverit")
    table = by_key.get("gitoverit-table")
    no_lines = by_key.get("gitoverit-table-nolines")
    with_ident = by_key.get("gitoverit-table-ident")
    j1 = by_key.get("gitoverit-j1")
    by_git = by_key.get("gitoverit-git")

    checks: dict[str, Any] = {}
    warm = checking_warmup(corpus.worktrees, checks)

    log(f"status: {len(variants)} variants, 1 warm-up + {rounds} rounds each")
    measure(variants, rounds, on_warmup=warm, log=log)

    print(
        f"\nStatus scan: {len(corpus.worktrees)} work trees under {corpus.repos_dir}\n"
        f"  ({rounds} rounds after one warm-up each, interleaved; {os.cpu_count()} CPUs; "
        f"gitoverit default -j {jobs})"
    )
    print_table(variants, floor)
    print(
        "  CPU s: user + system time of the command and all its processes (median); "
        f"on {os.cpu_count()} CPUs no run can take less than CPU s / {os.cpu_count()}"
    )
    print(f"  per-repo command: git -C DIR {shlex.join(status_args)}")
    print(f"  (arguments from {cmds.status_source}; env GIT_OPTIONAL_LOCKS=0 LC_ALL=C)")
    for key, check in checks.items():
        if not check.get("ok"):
            print(f"  note: {key} output check: {json.dumps(check)[:600]}")
        else:
            print(f"  {key}: {check['records']} records as expected ({check['errors']} errors)")
    r_e2e = ratio(e2e, floor) if e2e else None
    r_j1 = ratio(j1, serial) if j1 else None
    for label, a, b in (
        ("gitoverit table / gitoverit -o json", table, e2e),
        ("table / table -c -status", table, no_lines),
        ("table -c +ident / table", with_ident, table),
        ("-o json / -o json --reader git", e2e, by_git),
    ):
        r = ratio(a, b) if a is not None and b is not None else None
        if r is not None:
            print(f"  {label:<40} {r:>8.2f}")
    print(target_line("gitoverit / floor (xargs -P2)", r_e2e, TARGET_E2E))
    print(target_line("gitoverit -j 1 / serial shell loop", r_j1, TARGET_SERIAL))
    r_py = ratio(py_serial, serial)
    if r_py is not None:
        print(f"  {'serial Python spawn loop / shell loop':<40} {r_py:>8.2f}   (reference)")
    return {
        "worktrees": len(corpus.worktrees),
        "rounds": rounds,
        "default_jobs": jobs,
        "git_args": list(status_args),
        "git_args_source": cmds.status_source,
        "variants": {v.key: v.as_json() for v in variants},
        "output_checks": checks,
        "ratios": {
            "gitoverit_vs_floor": _r(r_e2e),
            "gitoverit_j1_vs_serial": _r(r_j1),
            "python_loop_vs_serial": _r(r_py),
            "serial_vs_floor": _r(ratio(serial, floor)),
            "gitoverit_vs_reader_git": _r(ratio(e2e, by_git) if e2e and by_git else None),
        },
    }


def version_section(runs: int, env: dict[str, str], log: Callable[[str], None]) -> dict[str, Any]:
    gito = Variant("version", "gitoverit --version", [str(gitoverit_bin()), "--version"], env)
    py = Variant("python", "python -c pass", [sys.executable, "-c", "pass"], env)
    log(f"version: {runs} runs each")
    measure([py, gito], runs, warmup=2)
    print(f"\nStartup ({runs} runs each, interleaved)")
    print_table([py, gito], py)
    ms = None if gito.median is None else gito.median * 1000
    print(target_line("gitoverit --version median, ms", ms, TARGET_VERSION_MS))
    return {"runs": runs, "variants": {v.key: v.as_json() for v in (py, gito)}, "median_ms": ms}


def peak_rss(
    argv: Sequence[str], env: dict[str, str], check_json: bool = True
) -> tuple[int | None, str, str | None]:
    """Peak RSS of one run of *argv* in KiB, the method used, and an error if it failed.

    With GNU time the value is the child's own peak. Without it, ``wait4`` rusage is used;
    a child forked from this process starts with this process's peak, so that value can
    only say "at most what the runner itself uses" when the two are equal.
    """
    tbin = time_bin()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "stdout"
        if tbin is not None:
            rss = Path(tmp) / "rss"
            sample, tail = run_once([tbin, "-f", "%M", "-o", str(rss), *argv], env, stdout=out)
            method = "GNU time"
        else:
            with open(out, "wb") as fout:
                proc = subprocess.Popen(
                    list(argv),
                    stdin=subprocess.DEVNULL,
                    stdout=fout,
                    stderr=subprocess.DEVNULL,
                    env=env,
                )
                _, status, usage = os.wait4(proc.pid, 0)
            sample, tail = Sample(0.0, os.waitstatus_to_exitcode(status)), ""
            method = "wait4"
        if sample.returncode not in (0, 1):
            return None, method, _failure(sample, tail)
        try:
            if check_json:
                json.loads(out.read_bytes())
        except (OSError, ValueError) as exc:
            return None, method, f"exit {sample.returncode}, output is not JSON ({exc}): {tail}"
        if tbin is None:
            return usage.ru_maxrss, method, None
        try:
            return int(rss.read_text().split()[-1]), method, None
        except (OSError, ValueError, IndexError):
            return None, method, f"unreadable GNU time output: {tail}"


def memory_section(
    corpus: corpus_mod.Corpus, runs: int, env: dict[str, str], log: Callable[[str], None]
) -> dict[str, Any]:
    argv = [str(gitoverit_bin()), "-o", "json", "--no-progress", str(corpus.repos_dir)]
    log(f"memory: {runs} runs of the end-to-end scan")
    values: list[int] = []
    method = ""
    error: str | None = None
    for _ in range(runs):
        kb, method, error = peak_rss(argv, env)
        if kb is None:
            break
        values.append(kb)
    py_kb, _, _ = peak_rss([sys.executable, "-c", "pass"], env)
    own_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"\nPeak memory (peak RSS, measured with {method or 'nothing'})")
    mb: float | None = None
    if error is not None or not values:
        print(f"  gitoverit -o json: failed: {(error or 'no runs').splitlines()[-1]}")
    else:
        mb = max(values) / 1024
        print(f"  gitoverit -o json: {mb:.1f} MB (largest of {len(values)} runs)")
    if py_kb is not None:
        print(f"  python -c pass:    {py_kb / 1024:.1f} MB")
    if method == "wait4":
        print(
            f"  note: without GNU time, a value equal to this runner's own peak "
            f"({own_kb / 1024:.1f} MB) means 'at most that much'"
        )
    print(target_line("peak RSS, MB", mb, TARGET_MEMORY_MB))
    return {
        "method": method,
        "gitoverit_peak_rss_mb": _r(mb, 1),
        "runs_kib": values,
        "python_pass_rss_mb": None if py_kb is None else round(py_kb / 1024, 1),
        "runner_rss_mb": round(own_kb / 1024, 1),
        "error": error,
    }


def ndjson_section(
    corpus: corpus_mod.Corpus, runs: int, env: dict[str, str], log: Callable[[str], None]
) -> dict[str, Any]:
    """Time the NDJSON stream: when the first repo line arrives, and whether it comes
    before the ``{"type": "discovery"}`` line that gitoverit writes when its walk ends."""
    argv = [str(gitoverit_bin()), "-o", "ndjson", "--no-progress", str(corpus.repos_dir)]
    log(f"ndjson: {runs} runs")
    firsts: list[float] = []
    discoveries: list[float] = []
    before: list[int] = []
    totals: list[float] = []
    lines: list[int] = []
    error: str | None = None
    for _ in range(runs):
        with tempfile.TemporaryFile() as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, env=env
            )
            assert proc.stdout is not None
            first: float | None = None
            discovery: float | None = None
            repo_lines_before = 0
            count = 0
            for raw in proc.stdout:
                now = time.perf_counter() - t0
                count += 1
                try:
                    kind = json.loads(raw).get("type")
                except (ValueError, AttributeError):
                    kind = None
                if kind == "repo":
                    if first is None:
                        first = now
                    if discovery is None:
                        repo_lines_before += 1
                elif kind == "discovery" and discovery is None:
                    discovery = now
            rc = proc.wait()
            total = time.perf_counter() - t0
            if rc not in (0, 1) or first is None or discovery is None:
                err.seek(0)
                tail = err.read()[-600:].decode(errors="replace").strip()
                error = f"exit {rc}: {tail or '(no stderr, or no discovery line)'}"
                break
        firsts.append(first)
        discoveries.append(discovery)
        before.append(repo_lines_before)
        totals.append(total)
        lines.append(count)
    print(f"\nNDJSON streaming ({runs} runs)")
    if error:
        print(f"  gitoverit -o ndjson: failed: {error.splitlines()[-1]}")
        return {"ok": False, "error": error}
    f_med, d_med, t_med = (
        statistics.median(firsts),
        statistics.median(discoveries),
        statistics.median(totals),
    )
    print(
        f"  first repo line after   {f_med * 1000:8.1f} ms (median; min {min(firsts) * 1000:.1f})"
    )
    print(f"  discovery line after    {d_med * 1000:8.1f} ms (median)")
    print(
        f"  exit after              {t_med * 1000:8.1f} ms (median; min {min(totals) * 1000:.1f})"
    )
    print(f"  repo lines before the discovery line: {before} (per run)")
    ok = all(n > 0 for n in before)
    print(f"  first line printed before discovery finished in every run: {'yes' if ok else 'NO'}")
    return {
        "ok": True,
        "first_line_s": [round(x, 4) for x in firsts],
        "discovery_line_s": [round(x, 4) for x in discoveries],
        "repo_lines_before_discovery": before,
        "total_s": [round(x, 4) for x in totals],
        "lines": lines,
        "first_before_discovery": ok,
    }


def net_section(
    n_repos: int,
    latency: float,
    net_jobs: int,
    rounds: int,
    base_env: dict[str, str],
    log: Callable[[str], None],
) -> dict[str, Any]:
    t0 = time.perf_counter()
    net = corpus_mod.load_or_build_net(n_repos, latency, log=log)
    build = None if net.build_seconds is None else time.perf_counter() - t0
    env = corpus_mod.isolated_env(net.home, base_env)
    git_env = dict(env, LC_ALL="C", GIT_TERMINAL_PROMPT="0")
    gito = str(gitoverit_bin())
    cmds = git_commands()
    fetch_args = cmds.fetch
    loop = f'while IFS= read -r d; do git -C "$d" {shlex.join(fetch_args)} 2>&1; done; exit 0'
    ours = Variant(
        "gitoverit-f",
        "gitoverit -f -o json",
        [gito, "-f", "-o", "json", "--no-progress", str(net.repos_dir)],
        env,
        ok_codes=frozenset({0, 1}),
    )
    xargs = Variant(
        f"xargs-P{net_jobs}",
        f"xargs -P{net_jobs} git fetch",
        ["xargs", "-0", f"-P{net_jobs}", "-I{}", "git", "-C", "{}", *fetch_args],
        git_env,
        net.list_nul,
    )
    serial = Variant("serial", "serial fetch loop", ["sh", "-c", loop], git_env, net.list_lines)
    checks: dict[str, Any] = {}

    def warm(v: Variant) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out"
            sample, tail = run_once(v.argv, v.env, v.stdin, stdout=out)
            if sample.returncode not in v.ok_codes:
                v.error = _failure(sample, tail)
            elif v is ours:
                checks[v.key] = check = _validate_records(out, net.worktrees)
                if "problem" in check:
                    v.error = (
                        f"exit {sample.returncode}, {check['problem']}: {tail or '(no stderr)'}"
                    )

    log(f"net: {n_repos} repos, {latency * 1000:.0f} ms latency, {rounds} rounds")
    measure([xargs, ours], rounds, on_warmup=warm, log=log)
    log("net: one serial round")
    measure([serial], 1, warmup=0, log=log)
    print(
        f"\nFetch: {n_repos} clones of local remotes with {latency * 1000:.0f} ms latency "
        f"({rounds} rounds after one warm-up, interleaved; serial: 1 round)"
    )
    print_table([xargs, ours, serial], xargs)
    print(f"  per-repo command: git -C DIR {shlex.join(fetch_args)}")
    print(f"  (arguments from {cmds.fetch_source})")
    for key, check in checks.items():
        if not check.get("ok"):
            print(f"  note: {key} output check: {json.dumps(check)[:600]}")
        else:
            print(f"  {key}: {check['records']} records as expected ({check['errors']} errors)")
    r_x = ratio(ours, xargs)
    r_s = ratio(serial, ours)
    print(target_line(f"gitoverit -f / xargs -P{net_jobs}", r_x, TARGET_NET_XARGS))
    print(target_line("serial loop / gitoverit -f (speed-up)", r_s, TARGET_NET_SERIAL, True))
    return {
        "repos": n_repos,
        "latency_s": latency,
        "net_jobs": net_jobs,
        "rounds": rounds,
        "corpus": str(net.root),
        "corpus_build_s": _r(build, 2),
        "git_args": list(fetch_args),
        "git_args_source": cmds.fetch_source,
        "variants": {v.key: v.as_json() for v in (xargs, ours, serial)},
        "output_checks": checks,
        "ratios": {
            "gitoverit_vs_xargs": _r(r_x),
            "serial_vs_gitoverit": _r(r_s),
            "serial_vs_xargs": _r(ratio(serial, xargs)),
        },
    }


# --------------------------------------------------------------------------- main


def _git_version() -> str:
    try:
        out = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False)
    except OSError:
        return "unknown"
    return out.stdout.strip()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="bench/run.py", description="Benchmark gitoverit against plain git."
    )
    ap.add_argument("--repos", type=int, help="repositories in the corpus (default 1000)")
    ap.add_argument("--big-files", type=int, help="files in each big repo (default 20000)")
    ap.add_argument("--big-repos", type=int, default=2, help="big repos (default 2)")
    ap.add_argument("--rounds", type=int, help="measured rounds per variant (default 5)")
    ap.add_argument("--version-runs", type=int, default=20, help="runs of --version (default 20)")
    ap.add_argument("--memory-runs", type=int, default=3, help="runs for peak memory (default 3)")
    ap.add_argument(
        "--quick", action="store_true", help="200 repos, 2,000-file big repos, 3 rounds"
    )
    ap.add_argument(
        "--only",
        action="append",
        metavar="SECTION",
        help=f"run only these sections, comma-separated or repeated: {', '.join(SECTIONS)}",
    )
    ap.add_argument(
        "--big-corpus-repos", type=int, help="real-world-sized repos (default 16; --quick 6)"
    )
    ap.add_argument(
        "--big-corpus-files", type=int, help="files in the largest of them (default 5000)"
    )
    ap.add_argument("--scale", action="store_true", help="also run the scale section")
    ap.add_argument(
        "--scale-repos", type=int, help="repos in the scale corpus (default 10000; --quick 2000)"
    )
    ap.add_argument("--scale-rounds", type=int, help="scale rounds (default 3; --quick 2)")
    ap.add_argument("--net", action="store_true", help="also run the fetch benchmark")
    ap.add_argument("--net-repos", type=int, default=100, help="fetch corpus size (default 100)")
    ap.add_argument("--latency", type=float, default=0.3, help="simulated latency, s (0.3)")
    ap.add_argument(
        "--net-jobs", type=int, default=16, help="xargs concurrency for the fetch floor (16)"
    )
    ap.add_argument("--net-rounds", type=int, help="fetch rounds (default 3; --quick 2)")
    ap.add_argument("--results", type=Path, default=RESULTS_FILE, help="JSON results file")
    args = ap.parse_args(argv)
    if args.only:
        chosen = {s.strip() for item in args.only for s in item.split(",") if s.strip()}
        unknown = chosen - set(SECTIONS)
        if unknown:
            ap.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    else:
        chosen = set(DEFAULT_SECTIONS)
    if args.net:
        chosen.add("net")
    if args.scale:
        chosen.add("scale")
    args.sections = [s for s in SECTIONS if s in chosen]
    args.repos = args.repos or (200 if args.quick else 1000)
    args.big_files = (
        args.big_files if args.big_files is not None else (2000 if args.quick else 20000)
    )
    args.rounds = args.rounds or (3 if args.quick else 5)
    args.net_rounds = args.net_rounds or (2 if args.quick else 3)
    args.big_corpus_repos = args.big_corpus_repos or (6 if args.quick else 16)
    args.big_corpus_files = args.big_corpus_files or (1500 if args.quick else 5000)
    args.scale_repos = args.scale_repos or (2000 if args.quick else 10_000)
    args.scale_rounds = args.scale_rounds or (2 if args.quick else 3)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "git": _git_version(),
        },
        "gitoverit": str(gitoverit_bin()),
        "sections": args.sections,
    }
    base_env = dict(os.environ)
    needs_corpus = any(s in args.sections for s in ("status", "memory", "ndjson", "exec"))
    corpus: corpus_mod.Corpus | None = None
    env: dict[str, str] = {}
    if needs_corpus:
        t0 = time.perf_counter()
        corpus = corpus_mod.load_or_build(args.repos, args.big_repos, args.big_files, log=log)
        if corpus.build_seconds is None:
            log(f"corpus: reusing {corpus.root}")
        else:
            log(f"corpus: built {corpus.root} in {time.perf_counter() - t0:.1f} s")
        results["corpus"] = {
            "path": str(corpus.root),
            "repos": args.repos,
            "big_repos": args.big_repos,
            "big_files": args.big_files,
            "worktrees": len(corpus.worktrees),
            "shapes": dict(corpus.shapes),
            "build_s": _r(corpus.build_seconds, 2),
        }
        env = corpus_mod.isolated_env(corpus.home, base_env)
    elif "version" in args.sections:
        home = Path(tempfile.mkdtemp(prefix="gitoverit-bench-home-"))
        corpus_mod.make_home(home)
        env = corpus_mod.isolated_env(home / "home", base_env)

    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    if "status" in args.sections and corpus is not None:
        results["status"] = status_section(corpus, args.rounds, env, log)
    if "big" in args.sections:
        from big_bench import big_section

        results["big"] = big_section(
            args.big_corpus_repos, args.big_corpus_files, args.rounds, base_env, log
        )
    if "version" in args.sections:
        results["version"] = version_section(args.version_runs, env, log)
    if "memory" in args.sections and corpus is not None:
        results["memory"] = memory_section(corpus, args.memory_runs, env, log)
    if "ndjson" in args.sections and corpus is not None:
        results["ndjson"] = ndjson_section(corpus, args.rounds, env, log)
    if "exec" in args.sections and corpus is not None:
        from exec_bench import exec_section

        results["exec"] = exec_section(corpus, args.rounds, env, log)
    if "scale" in args.sections:
        from scale_bench import scale_section

        results["scale"] = scale_section(args.scale_repos, args.scale_rounds, base_env, log)
    if "net" in args.sections:
        results["net"] = net_section(
            args.net_repos, args.latency, args.net_jobs, args.net_rounds, base_env, log
        )
    usage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    results["children_cpu_s"] = round(
        (usage_after.ru_utime + usage_after.ru_stime)
        - (usage_before.ru_utime + usage_before.ru_stime),
        2,
    )

    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nResults written to {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
