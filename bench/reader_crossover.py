"""Where git's own status gets faster than the in-process reader: ``make bench-crossover``
(``python bench/reader_crossover.py [--sizes 100,1000,...] [--rounds N]``).

Builds one repository per size (tracked files, a few folders deep, a history of a few
commits, a handful of modified and untracked files) under ``bench/.corpus/crossover-*``,
then reads each one, interleaved round by round, through :func:`read_status` (one ``git
status``, the git engine's reader) and through :func:`read_inprocess` (libgit2, with its file
limit lifted). Prints the median wall time of each, and their ratio: the in-process
reader is used up to :data:`gitoverit.git.inproc.MAX_FILES` tracked files, which should lie
below the size where the ratio passes 1.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import isolated_env, make_home  # noqa: E402
from gitoverit.git import inproc  # noqa: E402
from gitoverit.git.status import read_status  # noqa: E402
from gitoverit.model import RepoRef  # noqa: E402

CACHE = HERE / ".corpus" / "crossover-v2"


def _git(env: dict[str, str], *args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def build(size: int, env: dict[str, str]) -> Path:
    """A repository with *size* tracked files (cached)."""
    path = CACHE / f"files-{size}"
    if (path / ".git" / "bench-complete").exists():
        return path
    subprocess.run(["rm", "-rf", str(path)], check=True)
    path.mkdir(parents=True)
    _git(env, "init", "-q", "-b", "main", cwd=path)
    per_dir = 40
    for i in range(size):
        d = path / f"d{i // (per_dir * per_dir)}" / f"e{(i // per_dir) % per_dir}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i}.txt").write_text(f"line {i}\n" * 20)
    _git(env, "add", "-A", cwd=path)
    _git(env, "commit", "-q", "-m", "files", cwd=path)
    for n in range(3):
        for i in range(0, size, max(1, size // 20)):
            d = path / f"d{i // (per_dir * per_dir)}" / f"e{(i // per_dir) % per_dir}"
            with (d / f"f{i}.txt").open("a") as fh:
                fh.write(f"change {n}\n")
        _git(env, "commit", "-q", "-am", f"change {n}", cwd=path)
    for i in range(0, size, max(1, size // 5)):
        d = path / f"d{i // (per_dir * per_dir)}" / f"e{(i // per_dir) % per_dir}"
        with (d / f"f{i}.txt").open("a") as fh:
            fh.write("dirty\n")
        (d / f"new{i}.txt").write_text("new\n")
    # Files written in the second the index was are "racily clean": both readers would
    # hash every one of them. A second later, git writes the index again with their
    # stat data trusted, as in any work tree not edited this very second.
    time.sleep(1.1)
    _git(env, "update-index", "-q", "--really-refresh", cwd=path)
    (path / ".git" / "bench-complete").write_text("")
    return path


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,500,1000,2000,5000,10000,20000")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    home = make_home(CACHE)
    env = isolated_env(home)
    os.environ.clear()
    os.environ.update(env)
    refs = {}
    for size in sizes:
        path = build(size, env)
        refs[size] = RepoRef(str(path), str(path / ".git"), str(path))
    config = inproc.run_config()
    assert config.reason is None, config.reason
    inproc.prepare_libgit2(config)
    limit, inproc.MAX_FILES = inproc.MAX_FILES, 10**9
    times: dict[tuple[int, str], list[float]] = {}
    for _ in range(args.rounds + 1):  # the first round warms the caches and is dropped
        for size, ref in refs.items():
            for name, read in (
                ("git", lambda r=ref: read_status(r)),
                ("libgit2", lambda r=ref: inproc.read_inprocess(r)),
            ):
                start, cpu = time.perf_counter(), _cpu()
                read()
                times.setdefault((size, name), []).append(time.perf_counter() - start)
                times.setdefault((size, name + " cpu"), []).append(_cpu() - cpu)
    print("median milliseconds per read; cpu: user + system of this process and its gits")
    head = f"{'files':>7}  {'git':>8}  {'libgit2':>8}  {'ratio':>6}"
    print(f"{head}  {'git cpu':>8}  {'libgit2 cpu':>11}  {'ratio':>6}")
    for size in sizes:
        row = [f"{size:>7}"]
        for suffix, width in (("", 8), (" cpu", 8)):
            git = statistics.median(times[(size, "git" + suffix)][1:]) * 1000
            lib = statistics.median(times[(size, "libgit2" + suffix)][1:]) * 1000
            row += [
                f"{git:>{width}.2f}",
                f"{lib:>{width + 3 * bool(suffix)}.2f}",
                f"{lib / git:>6.2f}",
            ]
        print("  ".join(row))
    print(f"(the in-process reader takes repositories of up to {limit} tracked files)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
