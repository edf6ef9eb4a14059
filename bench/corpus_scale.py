"""A corpus of many small repositories (10,000 by default), for the ``scale`` section.

Building 10,000 repositories with git would take many minutes, so a few templates are made
with git once and every repository is a copy of one of them whose files are hard links to
the template's. A hard link shares the template's inode and timestamps, so the copied
index's stat data matches the work tree and no ``git status`` re-hashes a file. Git never
writes a file in place (it writes a new file and renames it over the old one), so a git
command that writes in one copy cannot change another.

Each copy gets its own ``.git/config`` and ``.git/index`` (real copies, not links), with
its own remote URL where it has a remote; every 7th copy has an untracked file of its own
and every 13th a modified tracked file (a new file, not a link), so the copies are not all
alike.

The repositories are spread over ``repos/part-K/gNN/``, 1,000 to a part: a scan of
``repos/part-0`` is the 1,000-repo run the whole is compared with, over the same kind of
repositories on the same disk. The work trees are listed for the floors, all of them and
those of ``part-0`` alone.

Command line::

    python bench/corpus_scale.py [--repos N] [--dest DIR]
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import corpus as corpus_mod

#: Bumped whenever the layout or content changes, so cached corpora are rebuilt.
SCALE_VERSION = 1
PART = 1000
GROUPS_PER_PART = 10
#: Files every copy gets as its own, never as a link.
_OWN = (".git/config", ".git/index")

#: ``(template, share)``: the mix of repository states, in copies per 100.
MIX: tuple[tuple[str, int], ...] = (
    ("clean_small", 50),
    ("clean_medium", 20),
    ("tracking", 14),
    ("modified", 4),
    ("untracked", 4),
    ("stashed", 4),
    ("ahead", 4),
)


@dataclass(frozen=True)
class ScaleCorpus:
    root: Path
    repos_dir: Path
    worktrees: tuple[Path, ...]
    build_seconds: float | None

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def list_nul(self) -> Path:
        return self.root / corpus_mod.LIST_NUL

    @property
    def part0_dir(self) -> Path:
        return self.repos_dir / "part-0"

    @property
    def part0_list_nul(self) -> Path:
        return self.root / "part0.list0"

    @property
    def part0_count(self) -> int:
        return min(PART, len(self.worktrees))


def params_dir(n_repos: int, cache_dir: Path = corpus_mod.CACHE_DIR) -> Path:
    params = {"v": SCALE_VERSION, "n": n_repos}
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    return cache_dir / f"scale-n{n_repos}-{digest}"


def _templates(git: corpus_mod._Git, root: Path) -> dict[str, Path]:
    """One repository per state, made with git."""
    t = root / "templates"
    t.mkdir()
    seed = t / "seed"
    corpus_mod._base(git, seed)
    (seed / "CHANGELOG.md").write_text("third\n")
    corpus_mod._commit_all(git, seed, "third")
    remote = root / "remotes" / "origin.git"
    remote.parent.mkdir()
    git(t, "clone", "-q", "--bare", "--no-local", str(seed), str(remote))
    ctx = corpus_mod._Ctx(git=git, root=root, templates=t, remotes=[remote])
    makers = {
        "clean_small": corpus_mod._t_clean_small,
        "clean_medium": corpus_mod._t_clean_medium,
        "tracking": corpus_mod._t_tracking,
        "modified": corpus_mod._t_modified,
        "untracked": corpus_mod._t_untracked,
        "stashed": corpus_mod._t_stashed,
        "ahead": corpus_mod._t_ahead,
    }
    out = {}
    for name, make in makers.items():
        p = t / name
        make(ctx, p)
        corpus_mod._pack(git, p)
        out[name] = p
    # Stat data in every index must be final before the links are made.
    corpus_mod._refresh(git, list(out.values()))
    return out


@dataclass(frozen=True)
class _Listing:
    dirs: tuple[str, ...]
    links: tuple[str, ...]
    symlinks: tuple[tuple[str, str], ...]
    own: tuple[tuple[str, bytes], ...]


def _listing(template: Path) -> _Listing:
    dirs: list[str] = []
    links: list[str] = []
    symlinks: list[tuple[str, str]] = []
    own: list[tuple[str, bytes]] = []
    for top, dnames, fnames in os.walk(template):
        rel_top = os.path.relpath(top, template)
        for d in sorted(dnames):
            rel = os.path.normpath(os.path.join(rel_top, d))
            if os.path.islink(os.path.join(top, d)):
                symlinks.append((rel, os.readlink(os.path.join(top, d))))
            else:
                dirs.append(rel)
        for f in sorted(fnames):
            rel = os.path.normpath(os.path.join(rel_top, f))
            full = os.path.join(top, f)
            if os.path.islink(full):
                symlinks.append((rel, os.readlink(full)))
            elif rel in _OWN:
                own.append((rel, Path(full).read_bytes()))
            else:
                links.append(rel)
    return _Listing(tuple(dirs), tuple(links), tuple(symlinks), tuple(own))


def _place(template: Path, listing: _Listing, dest: Path, i: int, remote_url: bytes) -> None:
    dest.mkdir(parents=True)
    for d in listing.dirs:
        (dest / d).mkdir()
    for rel in listing.links:
        try:
            os.link(template / rel, dest / rel)
        except OSError as exc:  # too many links to one inode: copy instead
            if exc.errno != errno.EMLINK:
                raise
            shutil.copy2(template / rel, dest / rel)
    for rel, target in listing.symlinks:
        os.symlink(target, dest / rel)
    for rel, data in listing.own:
        if rel == ".git/config":
            data = data.replace(remote_url, b"https://git.example.invalid/r%05d.git" % i)
        (dest / rel).write_bytes(data)
        st = os.stat(template / rel)
        os.utime(dest / rel, ns=(st.st_atime_ns, st.st_mtime_ns))
    if i % 7 == 3:
        (dest / f"local-{i}.txt").write_text(f"untracked in copy {i}\n")
    if i % 13 == 5:
        readme = dest / "README.md"
        tmp = dest / "README.md.new"
        tmp.write_text(f"# copy {i}\n\nChanged here.\n")
        os.replace(tmp, readme)


def load_or_build(
    n_repos: int = 10_000,
    cache_dir: Path = corpus_mod.CACHE_DIR,
    log: Callable[[str], None] | None = None,
) -> ScaleCorpus:
    return build(params_dir(n_repos, cache_dir), n_repos, log)


def build(dest: Path, n_repos: int, log: Callable[[str], None] | None = None) -> ScaleCorpus:
    dest = dest.resolve()
    params = {"scale_version": SCALE_VERSION, "n_repos": n_repos}
    if (dest / corpus_mod.MARKER).is_file():
        try:
            m = json.loads((dest / corpus_mod.MANIFEST).read_text())
            if m.get("params") == params:
                return ScaleCorpus(
                    dest, Path(m["repos_dir"]), tuple(Path(p) for p in m["worktrees"]), None
                )
        except (OSError, ValueError, KeyError):
            pass
    say = log or (lambda _m: None)
    t0 = time.perf_counter()
    git = corpus_mod.fresh_git(dest)
    templates = _templates(git, dest)
    listings = {name: _listing(p) for name, p in templates.items()}
    say(f"scale corpus: templates in {time.perf_counter() - t0:.1f} s")
    order = [name for name, share in MIX for _ in range(share)]
    remote_url = os.fsencode(dest / "remotes" / "origin.git")
    repos_dir = dest / "repos"
    worktrees: list[Path] = []
    t1 = time.perf_counter()
    for i in range(n_repos):
        part, k = divmod(i, PART)
        group = k % GROUPS_PER_PART
        name = order[(i * 37) % len(order)]
        path = repos_dir / f"part-{part}" / f"g{group:02d}" / f"r{i:05d}-{name.replace('_', '-')}"
        _place(templates[name], listings[name], path, i, remote_url)
        worktrees.append(path)
    say(f"scale corpus: {n_repos} repos linked in {time.perf_counter() - t1:.1f} s")
    worktrees.sort()
    corpus_mod._write_lists(dest, worktrees)
    part0 = [p for p in worktrees if p.is_relative_to(repos_dir / "part-0")]
    (dest / "part0.list0").write_bytes(b"".join(os.fsencode(p) + b"\0" for p in part0))
    build_seconds = time.perf_counter() - t0
    manifest = {
        "version": corpus_mod.CORPUS_VERSION,
        "params": params,
        "repos_dir": str(repos_dir),
        "worktrees": [str(p) for p in worktrees],
        "build_seconds": round(build_seconds, 3),
    }
    (dest / corpus_mod.MANIFEST).write_text(json.dumps(manifest))
    (dest / corpus_mod.MARKER).write_text(f"{build_seconds:.3f}\n")
    return ScaleCorpus(dest, repos_dir, tuple(worktrees), build_seconds)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--repos", type=int, default=10_000, help="repositories (default 10000)")
    ap.add_argument("--dest", type=Path, help="build here instead of the cache folder")
    args = ap.parse_args(argv)
    dest = args.dest or params_dir(args.repos)
    c = build(dest, args.repos, log=lambda m: print(m, file=sys.stderr))
    built = "reused" if c.build_seconds is None else f"built in {c.build_seconds:.1f} s"
    print(f"{c.repos_dir}: {len(c.worktrees)} repos ({built})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
