"""The two status readers side by side on real repositories: ``make reader-diff
REPOS="PATH ..."`` (``python bench/reader_diff.py PATH ... [--dest DIR]``).

Each PATH is a git repository with real history (a clone or a bare mirror). From each
one this clones, under an isolated git configuration, the shapes a work tree is most
often in: clean and tracking; dirty without and with a staged rename (changes staged
and not, a deletion, untracked files and folders, an executable bit, a symlink, an
ignored file); behind with two stashes; diverged; detached; mid-merge with a conflict;
on a branch whose upstream is gone. Then it compares, for every clone:

- the in-process reader's status with the git engine's (``lines`` included), where the
  in-process reader does not decline; and
- two whole scans of all the clones (copied enough times for the in-process workers to
  start), ``--reader git`` against ``--reader auto``, record by record, ``duration_ms``
  aside.

It prints what each shape gave and exits 1 on any difference. Nothing here touches the
network: clones are made from the paths given.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from corpus import isolated_env, make_home  # noqa: E402
from gitoverit.git.readers import FORK_AT  # noqa: E402
from gitoverit.model import RepoRef  # noqa: E402

Env = dict[str, str]


def _git(env: Env, cwd: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=check, capture_output=True, text=True
    )
    return proc.stdout


def _files(env: Env, repo: Path, n: int) -> list[str]:
    """The first *n* tracked files that are neither hidden nor symlinks."""
    out = []
    for name in _git(env, repo, "ls-files").splitlines():
        p = repo / name
        if not name.startswith(".") and p.is_file() and not p.is_symlink():
            out.append(name)
        if len(out) == n:
            break
    if len(out) < n:
        raise SystemExit(f"{repo}: fewer than {n} plain tracked files")
    return out


def _dirty(env: Env, repo: Path, *, rename: bool) -> None:
    f = _files(env, repo, 8)
    with open(repo / f[0], "a") as fh:
        fh.write("changed\n")
    with open(repo / f[1], "a") as fh:
        fh.write("one\ntwo\n")
    (repo / f[2]).unlink()
    (repo / "untracked-new.txt").write_text("new\n")
    (repo / "newdir" / "deep").mkdir(parents=True)
    (repo / "newdir" / "deep" / "y.txt").write_text("x\n")
    with open(repo / f[3], "a") as fh:
        fh.write("staged\n")
    _git(env, repo, "add", f[3])
    with open(repo / f[3], "a") as fh:
        fh.write("and more\n")
    if rename:
        _git(env, repo, "mv", f[4], f[4] + ".renamed")
    else:
        _git(env, repo, "rm", "-q", "--cached", f[4])
    os.chmod(repo / f[5], 0o755)
    os.symlink(f[6], repo / "link-to-file")
    (repo / ".git" / "info").mkdir(exist_ok=True)
    with open(repo / ".git" / "info" / "exclude", "a") as fh:
        fh.write("*.log\n")
    (repo / "debug.log").write_text("ignored\n")


def _behind(env: Env, repo: Path) -> None:
    _git(env, repo, "reset", "-q", "--hard", "HEAD~7")
    f = _files(env, repo, 1)[0]
    for text in ("first\n", "second\n"):
        with open(repo / f, "a") as fh:
            fh.write(text)
        _git(env, repo, "stash", "-q")


def _diverged(env: Env, repo: Path) -> None:
    _git(env, repo, "reset", "-q", "--hard", "HEAD~3")
    (repo / "ahead.txt").write_text("a\n")
    _git(env, repo, "add", "ahead.txt")
    _git(env, repo, "commit", "-qm", "ahead")


def _detached(env: Env, repo: Path) -> None:
    _git(env, repo, "checkout", "-q", "--detach", "HEAD~5")


def _merge(env: Env, repo: Path) -> None:
    f = _files(env, repo, 1)[0]
    _git(env, repo, "checkout", "-q", "-b", "side", "HEAD~2")
    with open(repo / f, "a") as fh:
        fh.write("side\n")
    _git(env, repo, "commit", "-qam", "side")
    _git(env, repo, "checkout", "-q", "-b", "local", "HEAD~1")
    with open(repo / f, "a") as fh:
        fh.write("local\n")
    _git(env, repo, "commit", "-qam", "local")
    _git(env, repo, "merge", "-q", "side", check=False)


def _gone(env: Env, repo: Path) -> None:
    _git(env, repo, "checkout", "-q", "-b", "feature")
    _git(env, repo, "config", "branch.feature.remote", "origin")
    _git(env, repo, "config", "branch.feature.merge", "refs/heads/no-such-branch")


SHAPES: dict[str, Callable[[Env, Path], None]] = {
    "clean": lambda env, repo: None,
    "dirty": lambda env, repo: _dirty(env, repo, rename=False),
    "dirty-rename": lambda env, repo: _dirty(env, repo, rename=True),
    "behind-stashed": _behind,
    "diverged": _diverged,
    "detached": _detached,
    "merge-conflict": _merge,
    "gone-upstream": _gone,
}


def build(sources: list[Path], dest: Path, env: Env) -> list[Path]:
    made = []
    for src in sources:
        base = src.resolve().name
        if base in ("repo", ".git") or base.endswith(".git"):
            base = src.resolve().parent.name if base in ("repo", ".git") else base[:-4]
        for shape, make in SHAPES.items():
            path = dest / "work" / f"{base}-{shape}"
            _git(env, dest, "clone", "-q", str(src), str(path))
            make(env, path)
            made.append(path)
    return made


def compare_reads(paths: list[Path]) -> int:
    """In-process against git, repository by repository; the number that differ."""
    from gitoverit.git.status import read_status
    from inproc_check import assert_same_in_process

    differ = 0
    for path in paths:
        ref = RepoRef(str(path), str(path / ".git"), str(path))
        try:
            why = assert_same_in_process(ref, read_status(ref))
        except AssertionError as exc:
            differ += 1
            print(f"  DIFFERENT  {path.name}: {exc}")
            continue
        print(f"  {'declined' if why else 'same':9}  {path.name}{f' ({why})' if why else ''}")
    return differ


def compare_scans(dest: Path, paths: list[Path], env: Env) -> int:
    """Whole scans, ``--reader git`` against ``--reader auto``; the records that differ."""
    root = dest / "scan"
    copies = -(-(FORK_AT + len(paths)) // len(paths))
    for i in range(copies):
        for path in paths:
            shutil.copytree(path, root / f"copy{i}" / path.name, symlinks=True)
    records: dict[str, dict[str, dict[str, object]]] = {}
    for reader in ("git", "auto"):
        argv = [sys.executable, "-m", "gitoverit", "--no-progress", "-o", "ndjson"]
        out = subprocess.run(
            [*argv, "--reader", reader, str(root)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        lines = [json.loads(line) for line in out.splitlines()]
        print(f"  --reader {reader}: {lines[-1].get('readers')}")
        records[reader] = {
            str(r["path"]): {k: v for k, v in r.items() if k != "duration_ms"}
            for r in lines
            if r.get("type") == "repo"
        }
    differ = 0
    for path, by_git in records["git"].items():
        other = records["auto"].get(path)
        if other != by_git:
            differ += 1
            fields = sorted(k for k in by_git if other is None or other.get(k) != by_git[k])
            print(f"  DIFFERENT  {path}: {fields}")
    print(f"  {len(records['git']) - differ} of {len(records['git'])} records identical")
    return differ


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("repos", nargs="+", type=Path, help="git repositories with history")
    ap.add_argument("--dest", type=Path, help="build here (default: a temporary folder)")
    args = ap.parse_args()
    dest = args.dest or Path(tempfile.mkdtemp(prefix="gitoverit-reader-diff-"))
    shutil.rmtree(dest / "work", ignore_errors=True)
    shutil.rmtree(dest / "scan", ignore_errors=True)
    dest.mkdir(parents=True, exist_ok=True)
    env = isolated_env(make_home(dest))
    env.update(GIT_AUTHOR_NAME="T", GIT_AUTHOR_EMAIL="t@example.com")
    env.update(GIT_COMMITTER_NAME="T", GIT_COMMITTER_EMAIL="t@example.com")
    os.environ.clear()
    os.environ.update(env)
    paths = build(args.repos, dest, env)
    print(f"{len(paths)} clones of {len(args.repos)} repositories under {dest / 'work'}")
    print("in-process against git, repository by repository:")
    differ = compare_reads(paths)
    print("whole scans:")
    differ += compare_scans(dest, paths, env)
    if args.dest is None:
        shutil.rmtree(dest, ignore_errors=True)
    print("no difference" if not differ else f"{differ} DIFFERENCES")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
