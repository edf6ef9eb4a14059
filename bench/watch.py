"""``gitoverit watch`` on the 1,000-repo corpus of ``bench/corpus.py``.

Measures, against a plain scan of the same corpus (``gitoverit -o json``):

- the time to the first full picture: headless, from the start of the process to its
  ``ready`` line (every repository has its record); full screen, from the start of the
  app (Textual's pilot, in this process) to the table holding every repository;
- the CPU the headless watch spends over 5 s with nothing changing;
- the latency from a file edit to its record in headless mode, over 20 edits in 20
  repositories (median and max).

Every number is measured in the run that prints it. Usage::

    python bench/watch.py [--repos N] [--big-repos N] [--big-files N]
    make bench-watch
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import corpus as corpus_mod

GITO = str(Path(sys.executable).parent / "gitoverit")


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def plain_scan(repos_dir: Path, env: dict[str, str], rounds: int = 3) -> float:
    """Median wall time of ``gitoverit -o json`` over the corpus."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(
            [GITO, "-o", "json", "--no-progress", str(repos_dir)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def headless(repos_dir: Path, env: dict[str, str], edits: list[Path]) -> dict[str, Any]:
    """Start to ``ready``, idle CPU over 5 s, and the latency of each edit in *edits*."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [GITO, "watch", "-o", "ndjson", str(repos_dir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[tuple[float, dict[str, Any]]] = []
    arrived = threading.Condition()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with arrived:
                lines.append((time.perf_counter(), json.loads(line)))
                arrived.notify_all()

    threading.Thread(target=read, daemon=True).start()

    def wait_for(check: Any, since: int) -> tuple[float, int]:
        with arrived:
            while True:
                for i in range(since, len(lines)):
                    if check(lines[i][1]):
                        return lines[i][0], i + 1
                assert arrived.wait(60), "no line in 60 s"

    ready_at, seen = wait_for(lambda o: o["type"] == "ready", 0)
    time.sleep(1.0)
    before = _cpu(proc.pid)
    time.sleep(5.0)
    idle = (_cpu(proc.pid) - before) / 5.0
    latencies = []
    for path in edits:
        path.write_text(f"edit {time.time()}\n")
        edited = time.perf_counter()
        repo = str(path.parent)
        when, seen = wait_for(lambda o, r=repo: o["type"] == "repo" and o["path"] == r, seen)
        latencies.append(when - edited)
        time.sleep(0.3)
    proc.terminate()
    proc.wait(timeout=20)
    return {"ready": ready_at - start, "idle_cpu": idle, "latencies": latencies}


def full_screen(repos_dir: Path, count: int) -> float:
    """Seconds from the app's start to a table holding *count* repositories."""
    from gitoverit.commands._output import OutputOptions, resolve
    from gitoverit.scan import ScanOptions
    from gitoverit.select import Selection
    from gitoverit.watch import Filter, WatchOptions
    from gitoverit.watch.app import WatchApp

    _settings, plan = resolve(OutputOptions(), roots=(str(repos_dir),))
    options = WatchOptions(
        scan=ScanOptions(selection=Selection(roots=(str(repos_dir),)), extras=plan.extras())
    )

    async def main() -> float:
        from textual.widgets import DataTable

        start = time.perf_counter()
        app = WatchApp(options, plan, Filter())
        async with app.run_test(size=(160, 50)) as pilot:
            while app.query_one(DataTable).row_count < count:
                await pilot.pause(0.01)
            took = time.perf_counter() - start
            await pilot.press("q")
        return took

    return asyncio.run(main())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repos", type=int, default=1000)
    ap.add_argument("--big-repos", type=int, default=2)
    ap.add_argument("--big-files", type=int, default=20000)
    args = ap.parse_args(argv)
    corpus = corpus_mod.load_or_build(args.repos, args.big_repos, args.big_files, log=print)
    env = corpus_mod.isolated_env(corpus.home, dict(os.environ))
    os.environ.update({k: v for k, v in env.items() if k.startswith(("GIT_", "HOME", "XDG"))})
    trees = sorted(corpus.worktrees)
    step = max(1, len(trees) // 20)
    edits = [t / "watch-bench-edit.txt" for t in trees[::step][:20]]
    try:
        scan = plain_scan(corpus.repos_dir, env)
        head = headless(corpus.repos_dir, env, edits)
    finally:
        for path in edits:
            path.unlink(missing_ok=True)
    screen = full_screen(corpus.repos_dir, len(trees))
    lat = head["latencies"]
    print(f"\nwatch on {len(trees)} work trees under {corpus.repos_dir}")
    print(f"  plain scan (gitoverit -o json), median of 3   {scan:6.2f} s")
    print(f"  headless watch: start to ready line           {head['ready']:6.2f} s")
    print(f"  full screen: app start to every row drawn     {screen:6.2f} s")
    print(f"  idle CPU over 5 s (headless)                  {head['idle_cpu'] * 100:6.2f} %")
    print(
        f"  edit to record, {len(lat)} edits: median {statistics.median(lat) * 1000:.0f} ms, "
        f"max {max(lat) * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
