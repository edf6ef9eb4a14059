"""A corpus of real-world-sized repositories, made by ``git fast-import`` (no network).

Each repository has a few hundred to 5,000 files in nested folders and a history like a
real project's: hundreds to a few thousand commits that add, change, delete and rename
files over time, feature branches merged back with merge commits, a few branches left
open, annotated tags, and an ``origin`` remote-tracking branch the local branch is ahead of
or behind. After the import the work tree is checked out, and each repository is left in
one of a few states:

- ``clean``: nothing changed (most of them);
- ``dirty``: some tracked files modified, one deleted, one change staged, untracked files;
- ``stashed``: two stash entries and one untracked file;
- ``behind``: clean, with ``origin/main`` a few commits ahead.

Every repository also has an ignored ``build/`` folder and ``__pycache__`` folders full of
generated files, as a real checkout has.

The history comes from a seeded random generator and fixed dates, so the same parameters
give the same repositories. Built corpora are cached under ``bench/.corpus/big-...``
(keyed by the parameters and :data:`BIG_VERSION`) and reused.

Command line::

    python bench/corpus_big.py [--repos N] [--max-files N] [--dest DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import corpus as corpus_mod

#: Bumped whenever the generated content changes, so cached corpora are rebuilt.
BIG_VERSION = 1

#: File counts of the repositories, cycled (and capped at ``max_files``).
FILE_COUNTS = (300, 5000, 800, 2500, 450, 1200, 3500, 650, 1800, 4200, 1000, 2000)

#: The state of repository *i* is ``STATES[i % len(STATES)]``.
STATES = ("clean", "dirty", "clean", "stashed", "clean", "behind", "dirty", "clean")

_TOPS = ("src", "lib", "tests", "docs", "tools", "assets", "examples", "scripts")
_EXTS = (".py", ".py", ".py", ".md", ".txt", ".json", ".c", ".h", ".rs", ".toml", ".yml")
_WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "parse",
    "render",
    "config",
    "cache",
    "index",
    "status",
    "branch",
    "remote",
    "fetch",
    "merge",
    "commit",
    "tree",
    "blob",
    "object",
    "reader",
    "writer",
    "buffer",
    "stream",
    "value",
    "record",
    "table",
    "column",
]
_EPOCH = 1_546_300_800  # 2019-01-01T00:00:00Z
_AUTHORS = (
    "Ada Lovelace <ada@example.com>",
    "Grace Hopper <grace@example.com>",
    "Linus Example <linus@example.com>",
    "Margaret Hamilton <margaret@example.com>",
)


@dataclass(frozen=True)
class RepoPlan:
    """What one repository of the corpus is made of."""

    name: str
    files: int
    commits: int
    state: str
    seed: int


def plans(n_repos: int, max_files: int) -> list[RepoPlan]:
    """The repositories of a corpus with these parameters."""
    out = []
    for i in range(n_repos):
        files = min(max_files, FILE_COUNTS[i % len(FILE_COUNTS)])
        rng = random.Random(corpus_mod._SEED + i)
        commits = 150 + files // 3 + rng.randrange(300)
        state = STATES[i % len(STATES)]
        name = f"proj{i:02d}-{files}f-{state}"
        out.append(RepoPlan(name, files, commits, state, rng.randrange(2**31)))
    return out


# --------------------------------------------------------------------------- fast-import


class _Stream:
    """Writes one repository's history as a ``git fast-import`` stream."""

    def __init__(self, out: IO[bytes], rng: random.Random) -> None:
        self.out = out
        self.rng = rng
        self.mark = 0
        self.when = _EPOCH
        self.revs: dict[str, int] = {}

    def _next(self) -> int:
        self.mark += 1
        return self.mark

    def _data(self, payload: bytes) -> None:
        self.out.write(b"data %d\n" % len(payload))
        self.out.write(payload)
        self.out.write(b"\n")

    def content(self, path: str) -> bytes:
        rev = self.revs.get(path, 0) + 1
        self.revs[path] = rev
        rng = self.rng
        words = _WORDS
        lines = [f"# {path} revision {rev}"]
        for n in range(4 + rng.randrange(60)):
            lines.append(f"{words[(n + rev) % len(words)]} {n} " + " ".join(rng.sample(words, 5)))
        return ("\n".join(lines) + "\n").encode()

    def blob(self, path: str) -> int:
        mark = self._next()
        self.out.write(b"blob\nmark :%d\n" % mark)
        self._data(self.content(path))
        return mark

    def commit(
        self,
        ref: str,
        message: str,
        changes: Sequence[tuple[str, str, int]],
        parent: int | None = None,
        merge: int | None = None,
    ) -> int:
        """A commit on *ref*; each change is ``("M", path, blob_mark)`` or ``("D", path, 0)``."""
        self.when += 600 + self.rng.randrange(36_000)
        who = _AUTHORS[self.rng.randrange(len(_AUTHORS))]
        mark = self._next()
        w = self.out.write
        w(f"commit {ref}\nmark :{mark}\n".encode())
        w(f"author {who} {self.when} +0000\ncommitter {who} {self.when} +0000\n".encode())
        self._data(message.encode())
        if parent is not None:
            w(b"from :%d\n" % parent)
        if merge is not None:
            w(b"merge :%d\n" % merge)
        for op, path, blob in changes:
            if op == "M":
                w(f"M 100644 :{blob} {path}\n".encode())
            else:
                w(f"D {path}\n".encode())
        w(b"\n")
        return mark

    def tag(self, name: str, target: int) -> None:
        self.when += 60
        w = self.out.write
        w(f"tag {name}\nfrom :{target}\n".encode())
        w(f"tagger {_AUTHORS[0]} {self.when} +0000\n".encode())
        self._data(f"Release {name}\n".encode())

    def reset(self, ref: str, target: int) -> None:
        self.out.write(f"reset {ref}\nfrom :{target}\n\n".encode())


def _paths(rng: random.Random, count: int) -> list[str]:
    subs = [f"{w}{n}" for w in _WORDS[:12] for n in range(3)]
    out: set[str] = {".gitignore", "README.md"}
    while len(out) < count:
        top = rng.choice(_TOPS)
        depth = rng.choice((1, 2, 2, 3))
        parts = [top, *rng.sample(subs, depth - 1)]
        name = f"{rng.choice(_WORDS)}_{len(out)}{rng.choice(_EXTS)}"
        out.add("/".join([*parts, name]))
    return sorted(out)


_GITIGNORE = b"build/\n__pycache__/\n*.pyc\n*.log\n.venv/\n"


def write_history(out: IO[bytes], plan: RepoPlan) -> dict[str, int]:
    """Write *plan*'s whole history to *out*; return a few counts for the manifest."""
    rng = random.Random(plan.seed)
    s = _Stream(out, rng)
    all_paths = _paths(rng, plan.files)
    rng.shuffle(all_paths)
    # Start with 40% of the files; the rest arrive over the first 80% of the history.
    first = max(2, len(all_paths) * 2 // 5)
    pending = [p for p in all_paths[first:] if p not in (".gitignore", "README.md")]
    live: list[str] = sorted(set(all_paths[:first]) | {".gitignore", "README.md"})
    changes: list[tuple[str, str, int]] = []
    for p in live:
        if p == ".gitignore":
            mark = s._next()
            out.write(b"blob\nmark :%d\n" % mark)
            s._data(_GITIGNORE)
        else:
            mark = s.blob(p)
        changes.append(("M", p, mark))
    tip = s.commit("refs/heads/main", "Initial import\n", changes)
    history = [tip]
    add_per_commit = max(1, -(-len(pending) // max(1, plan.commits * 4 // 5)))
    live_set = set(live)
    merges = tags = branches = 0
    n = 1
    while n < plan.commits:
        if n % 37 == 0 and len(live) > 20:
            # A feature branch of a few commits, merged back into main.
            base = tip
            ref = "refs/heads/topic" if n < plan.commits - 120 else f"refs/heads/feature/f{n}"
            touched: dict[str, int] = {}
            branch_tip = base
            for k in range(2 + rng.randrange(5)):
                ch = []
                for p in rng.sample(live, min(len(live), 1 + rng.randrange(4))):
                    if p == ".gitignore":
                        continue
                    touched[p] = s.blob(p)
                    ch.append(("M", p, touched[p]))
                branch_tip = s.commit(ref, f"feature {n}: step {k + 1}\n", ch, parent=branch_tip)
                n += 1
            for _ in range(rng.randrange(3)):
                p = rng.choice(live)
                if p in touched or p == ".gitignore":
                    continue
                tip = s.commit("refs/heads/main", f"fix {n}\n", [("M", p, s.blob(p))], tip)
                history.append(tip)
                n += 1
            merge_changes = [("M", p, m) for p, m in touched.items()]
            tip = s.commit(
                "refs/heads/main",
                f"Merge branch '{ref.rsplit('/', 1)[-1]}'\n",
                merge_changes,
                parent=tip,
                merge=branch_tip,
            )
            history.append(tip)
            merges += 1
            branches += ref != "refs/heads/topic"
            n += 1
            continue
        ch: list[tuple[str, str, int]] = []
        for p in rng.sample(live, min(len(live), 1 + rng.randrange(6))):
            if p != ".gitignore":
                ch.append(("M", p, s.blob(p)))
        for _ in range(min(len(pending), add_per_commit if rng.random() < 0.5 else 0)):
            p = pending.pop()
            ch.append(("M", p, s.blob(p)))
            live.append(p)
            live_set.add(p)
        roll = rng.random()
        if roll < 0.03 and len(live) > 50:
            victim = rng.choice(live)
            if victim not in (".gitignore", "README.md") and victim not in {c[1] for c in ch}:
                ch.append(("D", victim, 0))
                live.remove(victim)
                live_set.discard(victim)
        elif roll < 0.05 and len(live) > 50:
            old = rng.choice(live)
            if old not in (".gitignore", "README.md") and old not in {c[1] for c in ch}:
                new = old.rsplit("/", 1)[0] + f"/renamed_{n}_" + old.rsplit("/", 1)[-1]
                if new not in live_set:
                    ch.append(("D", old, 0))
                    ch.append(("M", new, s.blob(new)))
                    live.remove(old)
                    live_set.discard(old)
                    live.append(new)
                    live_set.add(new)
        tip = s.commit("refs/heads/main", f"change {n}: {rng.choice(_WORDS)}\n", ch, tip)
        history.append(tip)
        if n % 150 == 0:
            tags += 1
            s.tag(f"v0.{tags}.0", tip)
        n += 1
    # Whatever is still pending arrives in one last commit.
    if pending:
        tip = s.commit(
            "refs/heads/main", "Add the rest\n", [("M", p, s.blob(p)) for p in pending], tip
        )
        history.append(tip)
        live.extend(pending)
    # A branch with work not merged yet.
    wip = s.commit(
        "refs/heads/wip",
        "work in progress\n",
        [("M", "README.md", s.blob("README.md"))],
        parent=history[-3],
    )
    del wip
    # origin/main: a few commits behind main, or (state "behind") a few ahead of it.
    if plan.state == "behind":
        upstream = tip
        for k in range(3):
            p = rng.choice(live)
            upstream = s.commit(
                "refs/remotes/origin/main", f"upstream {k}\n", [("M", p, s.blob(p))], upstream
            )
    else:
        s.reset("refs/remotes/origin/main", history[-1 - rng.randrange(4)])
    out.write(b"done\n")
    return {
        "main_commits": len(history),
        "merges": merges,
        "tags": tags,
        "open_branches": branches + 1,
        "files": len(live),
    }


# --------------------------------------------------------------------------- building


def _ignored(path: Path, rng: random.Random) -> None:
    """Generated files a real checkout has, all ignored."""
    for d in range(4):
        folder = path / "build" / f"obj{d}"
        folder.mkdir(parents=True, exist_ok=True)
        for f in range(40):
            noise = bytes(rng.randrange(256) for _ in range(16))
            (folder / f"unit{f}.o").write_bytes(b"\x7fELF" + noise)
    for src in sorted(path.glob("src/*"))[:5]:
        if src.is_dir():
            cache = src / "__pycache__"
            cache.mkdir(exist_ok=True)
            for f in range(10):
                (cache / f"mod{f}.cpython-311.pyc").write_bytes(b"\x00" * 64)
    (path / "debug.log").write_text("ignored log\n")


def _tracked_files(git: corpus_mod._Git, path: Path) -> list[str]:
    return git(path, "ls-files").splitlines()


def build_repo(git: corpus_mod._Git, path: Path, plan: RepoPlan) -> dict[str, int]:
    """Make *plan*'s repository at *path*: import its history, check it out, set its state."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"],
        cwd=path,
        env=git.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stderr is not None
    counts = write_history(proc.stdin, plan)
    proc.stdin.close()
    err = proc.stderr.read()
    if proc.wait() != 0:
        raise corpus_mod.CommandError(f"fast-import in {path} failed: {err.decode()[-600:]}")
    git(path, "reset", "-q", "--hard", "main")
    git(path, "config", "remote.origin.url", f"https://git.example.invalid/{plan.name}.git")
    git(path, "config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*")
    git(path, "config", "branch.main.remote", "origin")
    git(path, "config", "branch.main.merge", "refs/heads/main")
    git(path, "pack-refs", "--all")
    rng = random.Random(plan.seed + 1)
    _ignored(path, rng)
    if plan.state in ("dirty", "stashed"):
        tracked = [p for p in _tracked_files(git, path) if p.endswith((".py", ".md", ".txt"))]
        picks = rng.sample(tracked, 6)
        if plan.state == "stashed":
            for k in range(2):
                with open(path / picks[k], "a") as fh:
                    fh.write(f"stashed change {k}\n")
                git(path, "stash", "push", "-q", "-m", f"wip {k}")
            (path / "notes.txt").write_text("todo\n")
        else:
            for p in picks[:3]:
                with open(path / p, "a") as fh:
                    fh.write("local change\n")
            (path / picks[3]).unlink()
            with open(path / picks[4], "a") as fh:
                fh.write("staged change\n")
            git(path, "add", picks[4])
            (path / "scratch.txt").write_text("untracked\n")
            (path / "src" / "new_module.py").parent.mkdir(exist_ok=True)
            (path / "src" / "new_module.py").write_text("print('new')\n")
    counts["commits"] = int(git(path, "rev-list", "--all", "--count"))
    return counts


@dataclass(frozen=True)
class BigCorpus(corpus_mod.Corpus):
    """A built corpus of real-world-sized repositories."""

    repo_stats: tuple[dict[str, object], ...] = ()


def params_dir(n_repos: int, max_files: int, cache_dir: Path = corpus_mod.CACHE_DIR) -> Path:
    params = {"v": BIG_VERSION, "n": n_repos, "max_files": max_files}
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    return cache_dir / f"big-n{n_repos}-f{max_files}-{digest}"


def load_or_build(
    n_repos: int = 16,
    max_files: int = 5000,
    cache_dir: Path = corpus_mod.CACHE_DIR,
    log: Callable[[str], None] | None = None,
) -> BigCorpus:
    """The cached corpus for these parameters, built first if missing or incomplete."""
    return build(params_dir(n_repos, max_files, cache_dir), n_repos, max_files, log)


def build(
    dest: Path, n_repos: int, max_files: int, log: Callable[[str], None] | None = None
) -> BigCorpus:
    dest = dest.resolve()
    params = {"big_version": BIG_VERSION, "n_repos": n_repos, "max_files": max_files}
    if (dest / corpus_mod.MARKER).is_file():
        try:
            m = json.loads((dest / corpus_mod.MANIFEST).read_text())
            if m.get("params") == params:
                return BigCorpus(
                    dest,
                    Path(m["repos_dir"]),
                    tuple(Path(p) for p in m["worktrees"]),
                    m["shapes"],
                    None,
                    tuple(m["repos"]),
                )
        except (OSError, ValueError, KeyError):
            pass
    say = log or (lambda _m: None)
    t0 = time.perf_counter()
    git = corpus_mod.fresh_git(dest)
    repos_dir = dest / "repos"
    repos_dir.mkdir()
    todo = plans(n_repos, max_files)
    paths = [repos_dir / ("work" if i % 3 else "oss") / p.name for i, p in enumerate(todo)]
    stats: list[dict[str, object]] = []

    def one(item: tuple[Path, RepoPlan]) -> dict[str, object]:
        path, plan = item
        counts = build_repo(git, path, plan)
        return {"path": str(path), "state": plan.state, **counts}

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        stats = list(pool.map(one, zip(paths, todo, strict=True)))
    say(f"big corpus: {n_repos} repos generated in {time.perf_counter() - t0:.1f} s")
    corpus_mod._refresh(git, paths)
    worktrees = sorted(paths)
    corpus_mod._write_lists(dest, worktrees)
    shapes: dict[str, int] = {}
    for p in todo:
        shapes[p.state] = shapes.get(p.state, 0) + 1
    build_seconds = time.perf_counter() - t0
    manifest = {
        "version": corpus_mod.CORPUS_VERSION,
        "params": params,
        "repos_dir": str(repos_dir),
        "worktrees": [str(p) for p in worktrees],
        "shapes": shapes,
        "repos": stats,
        "build_seconds": round(build_seconds, 3),
    }
    (dest / corpus_mod.MANIFEST).write_text(json.dumps(manifest, indent=1))
    (dest / corpus_mod.MARKER).write_text(f"{build_seconds:.3f}\n")
    return BigCorpus(dest, repos_dir, tuple(worktrees), shapes, build_seconds, tuple(stats))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--repos", type=int, default=16, help="repositories (default 16)")
    ap.add_argument("--max-files", type=int, default=5000, help="largest file count (5000)")
    ap.add_argument("--dest", type=Path, help="build here instead of the cache folder")
    args = ap.parse_args(argv)
    dest = args.dest or params_dir(args.repos, args.max_files)
    c = build(dest, args.repos, args.max_files, log=lambda m: print(m, file=sys.stderr))
    built = "reused" if c.build_seconds is None else f"built in {c.build_seconds:.1f} s"
    print(f"{c.repos_dir}: {len(c.worktrees)} repos ({built})")
    for r in c.repo_stats:
        print(
            f"  {Path(str(r['path'])).name:<28} "
            + " ".join(f"{k}={v}" for k, v in r.items() if k not in ("path", "state"))
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
