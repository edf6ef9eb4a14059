"""Deterministic synthetic corpora of git repositories for the benchmarks.

``build_corpus`` makes the status-scan corpus: ``n_repos`` repositories in a mix of states
(mostly clean; a few dozen of each common dirty state; a handful of each exotic one), spread
over nested folders under ``<dest>/repos``, plus ``big_repos`` repositories of ``big_files``
files each. Bare remotes live under ``<dest>/remotes``, outside the scanned folder.

``build_net_corpus`` makes the fetch corpus: clones of local bare remotes whose
``remote.origin.uploadpack`` is a wrapper that sleeps before running ``git upload-pack``,
which simulates network latency.

Building is fast because each shape is made once as a template with git, then copied with
``shutil.copytree``; per-copy work is a remote URL change, a linked worktree or a symlink
where the shape needs one, and an index refresh. The refresh matters: a copied index holds
the template's inode and ctime values, so without it every ``git status`` would re-hash
every file.

Commits use fixed dates, and the shape layout comes from a seeded random generator, so a
corpus with the same parameters has the same commits and the same paths.

Every git call during a build uses an isolated configuration under ``<dest>/home``
(``HOME``, ``XDG_CONFIG_HOME``, ``GIT_CONFIG_GLOBAL``, ``GIT_CONFIG_NOSYSTEM=1``); the
user's own git configuration is never read. The benchmark runner uses the same environment.

A finished corpus holds a ``COMPLETE`` marker, written last; a folder without it is deleted
and built again.

Command line::

    python bench/corpus.py [--repos N] [--big-repos N] [--big-files N] [--dest DIR]
    python bench/corpus.py --net [--net-repos N] [--latency SECONDS] [--dest DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

#: Bumped whenever the corpus layout or content changes, so cached corpora are rebuilt.
CORPUS_VERSION = 2

BENCH_DIR = Path(__file__).resolve().parent
#: Default cache folder for corpora and results (gitignored).
CACHE_DIR = BENCH_DIR / ".corpus"

MARKER = "COMPLETE"
MANIFEST = "manifest.json"
#: Work trees a scan should report, NUL-separated.
LIST_NUL = "worktrees.list0"
#: The same list, one per line (no corpus path contains a newline).
LIST_LINES = "worktrees.txt"

_SEED = 20240101
_DATE = "2024-01-01T12:00:00+00:00"

# Variables that would point git at another repository, or change its configuration or
# identity, if inherited from the caller's environment.
_DROP_VARS = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_COMMON_DIR",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_NAMESPACE",
        "GIT_CEILING_DIRECTORIES",
        "GIT_CONFIG",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_COUNT",
        "GIT_SSH_COMMAND",
        "GIT_ASKPASS",
        "SSH_ASKPASS",
        "GIT_TRACE",
        "GIT_TRACE2",
        "GIT_TRACE2_EVENT",
        "GIT_TRACE2_PERF",
    }
)

_GITCONFIG = """\
[user]
\tname = Bench User
\temail = bench@example.com
[init]
\tdefaultBranch = main
\ttemplateDir = {template_dir}
[protocol "file"]
\tallow = always
[advice]
\tdetachedHead = false
[commit]
\tgpgsign = false
[core]
\thooksPath = /dev/null
[gc]
\tauto = 0
[maintenance]
\tauto = false
"""


# --------------------------------------------------------------------------- environment


def make_home(dest: Path) -> Path:
    """Write the isolated git configuration under ``dest/home`` and return that folder."""
    home = dest / "home"
    template_dir = home / "git-template"
    template_dir.mkdir(parents=True, exist_ok=True)
    (home / ".config").mkdir(exist_ok=True)
    (home / ".gitconfig").write_text(_GITCONFIG.format(template_dir=template_dir))
    return home


def isolated_env(home: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment whose only git configuration is ``home/.gitconfig``."""
    src = os.environ if base is None else base
    env = {
        k: v
        for k, v in src.items()
        if k not in _DROP_VARS and not k.startswith(("GITOVERIT_", "GIT_TRACE"))
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        LC_ALL="C",
    )
    return env


def _build_env(home: Path) -> dict[str, str]:
    env = isolated_env(home)
    env.update(
        GIT_AUTHOR_NAME="Bench User",
        GIT_AUTHOR_EMAIL="bench@example.com",
        GIT_COMMITTER_NAME="Bench User",
        GIT_COMMITTER_EMAIL="bench@example.com",
        GIT_AUTHOR_DATE=_DATE,
        GIT_COMMITTER_DATE=_DATE,
    )
    return env


class CommandError(RuntimeError):
    """A git command run while building a corpus failed."""


@dataclass
class _Git:
    env: dict[str, str]

    def __call__(self, cwd: Path, *args: str, check: bool = True) -> str:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
        if check and proc.returncode != 0:
            raise CommandError(
                f"git {' '.join(args)} in {cwd} failed ({proc.returncode}): "
                f"{proc.stderr.decode(errors='replace').strip()}"
            )
        return proc.stdout.decode(errors="surrogateescape").strip()


# --------------------------------------------------------------------------- files


def _write_files(root: Path, count: int, dirs: int = 1, tag: str = "") -> None:
    """Write *count* small text files under *root*, spread over *dirs* folders."""
    made: set[Path] = set()
    for i in range(count):
        folder = root if dirs <= 1 else root / f"pkg{i % dirs:02d}"
        if folder not in made:
            folder.mkdir(parents=True, exist_ok=True)
            made.add(folder)
        (folder / f"mod{i:05d}.txt").write_text(f"file {i} {tag}\n" + "content line\n" * (i % 7))


def _init(git: _Git, path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")


def _commit_all(git: _Git, path: Path, message: str) -> None:
    git(path, "add", "-A")
    git(path, "commit", "-q", "--no-verify", "-m", message)


def _base(git: _Git, path: Path, files: int = 8, dirs: int = 2) -> None:
    """A repository with two commits: *files* files, then a README change."""
    _init(git, path)
    (path / "README.md").write_text(f"# {path.name}\n")
    _write_files(path, files, dirs)
    _commit_all(git, path, "initial")
    (path / "README.md").write_text(f"# {path.name}\n\nSecond version.\n")
    _commit_all(git, path, "second")


def _pack(git: _Git, path: Path) -> None:
    """Pack objects and refs so that copies of the repository have few files."""
    git(path, "repack", "-adq")
    git(path, "pack-refs", "--all")


# --------------------------------------------------------------------------- shapes


@dataclass
class _Ctx:
    git: _Git
    root: Path
    templates: Path
    remotes: list[Path] = field(default_factory=list)
    submodule_remote: Path | None = None


def _t_clean_small(c: _Ctx, p: Path) -> None:
    _base(c.git, p, files=8, dirs=2)


def _t_clean_medium(c: _Ctx, p: Path) -> None:
    _base(c.git, p, files=60, dirs=6)


def _t_clean_large(c: _Ctx, p: Path) -> None:
    _base(c.git, p, files=400, dirs=20)


def _clone(c: _Ctx, p: Path) -> None:
    c.git(c.templates, "clone", "-q", "--no-local", str(c.remotes[0]), str(p))


def _t_tracking(c: _Ctx, p: Path) -> None:
    _clone(c, p)


def _t_modified(c: _Ctx, p: Path) -> None:
    _base(c.git, p)
    (p / "README.md").write_text("# changed\n")
    (p / "pkg00" / "mod00000.txt").write_text("changed\n")


def _t_untracked(c: _Ctx, p: Path) -> None:
    _base(c.git, p)
    (p / "notes.txt").write_text("todo\n")
    (p / "scratch.log").write_text("log\n")
    _write_files(p / "newdir", 3, tag="untracked")


def _t_staged(c: _Ctx, p: Path) -> None:
    _base(c.git, p)
    (p / "README.md").write_text("# staged change\n")
    (p / "added.txt").write_text("new\n")
    c.git(p, "add", "README.md", "added.txt")


def _t_deleted(c: _Ctx, p: Path) -> None:
    _base(c.git, p)
    (p / "pkg00" / "mod00000.txt").unlink()
    c.git(p, "rm", "-q", "pkg01/mod00001.txt")


def _t_conflicted(c: _Ctx, p: Path) -> None:
    _base(c.git, p)
    c.git(p, "checkout", "-q", "-b", "other")
    (p / "README.md").write_text("# other side\n")
    _commit_all(c.git, p, "other side")
    c.git(p, "checkout", "-q", "main")
    (p / "README.md").write_text("# main side\n")
    _commit_all(c.git, p, "main side")
    c.git(p, "merge", "-q", "other", check=False)
    if not (p / ".git" / "MERGE_HEAD").exists():
        raise CommandError(f"conflicted template {p}: no merge in progress")


def _t_rebasing(c: _Ctx, p: Path) -> None:
    _base(c.git, p)
    c.git(p, "checkout", "-q", "-b", "topic")
    (p / "README.md").write_text("# topic side\n")
    _commit_all(c.git, p, "topic side")
    c.git(p, "checkout", "-q", "main")
    (p / "README.md").write_text("# main side\n")
    _commit_all(c.git, p, "main side")
    c.git(p, "checkout", "-q", "topic")
    c.git(p, "rebase", "main", check=False)
    git_dir = p / ".git"
    if not ((git_dir / "rebase-merge").exists() or (git_dir / "rebase-apply").exists()):
        raise CommandError(f"rebasing template {p}: no rebase in progress")


def _t_stashed(c: _Ctx, p: Path) -> None:
    _base(c.git, p)
    for i in range(2):
        (p / "README.md").write_text(f"# work in progress {i}\n")
        c.git(p, "stash", "push", "-q", "-m", f"wip {i}")


def _t_ahead(c: _Ctx, p: Path) -> None:
    _clone(c, p)
    for i in range(2):
        (p / f"local{i}.txt").write_text(f"local {i}\n")
        _commit_all(c.git, p, f"local {i}")


def _t_behind(c: _Ctx, p: Path) -> None:
    _clone(c, p)
    c.git(p, "reset", "-q", "--hard", "HEAD~1")


def _t_diverged(c: _Ctx, p: Path) -> None:
    _clone(c, p)
    c.git(p, "reset", "-q", "--hard", "HEAD~1")
    (p / "local.txt").write_text("local\n")
    _commit_all(c.git, p, "local")


def _t_gone(c: _Ctx, p: Path) -> None:
    _clone(c, p)
    c.git(p, "checkout", "-q", "-b", "feature")
    (p / "feature.txt").write_text("feature\n")
    _commit_all(c.git, p, "feature")
    c.git(p, "push", "-q", "-u", "origin", "feature")
    c.git(p, "push", "-q", "origin", "--delete", "feature")


def _t_no_upstream(c: _Ctx, p: Path) -> None:
    _clone(c, p)
    c.git(p, "checkout", "-q", "-b", "local-only")
    (p / "local.txt").write_text("local\n")
    _commit_all(c.git, p, "local only")


def _t_detached(c: _Ctx, p: Path) -> None:
    _base(c.git, p)
    c.git(p, "checkout", "-q", "--detach", "HEAD~1")


def _t_unborn(c: _Ctx, p: Path) -> None:
    _init(c.git, p)


def _t_submodule(c: _Ctx, p: Path) -> None:
    assert c.submodule_remote is not None
    _base(c.git, p)
    c.git(p, "submodule", "add", "-q", str(c.submodule_remote), "libs/sub")
    c.git(p, "commit", "-q", "--no-verify", "-m", "add submodule")


def _t_nested_ignored(c: _Ctx, p: Path) -> None:
    _base(c.git, p)
    (p / ".gitignore").write_text("vendor/\n")
    _commit_all(c.git, p, "ignore vendor")
    _base(c.git, p / "vendor" / "lib", files=4, dirs=1)


def _t_nested(c: _Ctx, p: Path) -> None:
    _base(c.git, p)
    _base(c.git, p / "packages" / "inner", files=4, dirs=1)


def _t_non_utf8(c: _Ctx, p: Path) -> None:
    _base(c.git, p)
    (p / os.fsdecode(b"caf\xe9-latin1.txt")).write_text("latin-1 name\n")
    _commit_all(c.git, p, "non-UTF-8 file name")
    (p / os.fsdecode(b"untracked-\xff\xfe.txt")).write_text("untracked, invalid UTF-8\n")


def _t_corrupt(c: _Ctx, p: Path) -> None:
    _base(c.git, p)
    (p / ".git" / "index").write_bytes(b"this is not a git index\x00\xff" * 64)


_Template = Callable[[_Ctx, Path], None]


@dataclass(frozen=True)
class Shape:
    """One repository state: how its template is made and what a copy needs."""

    name: str
    template: _Template
    #: Copies per 1,000 repos (clean shapes take whatever is left).
    per_thousand: int = 0
    #: Share of the clean remainder (clean shapes only).
    clean_share: float = 0.0
    #: The copy's origin points at one of the corpus's bare remotes.
    cloned: bool = False
    #: Work trees nested inside the repo that a scan reports as repos of their own.
    nested_reported: tuple[str, ...] = ()
    #: Work trees nested inside the repo that a scan does not report (ignored ones).
    nested_hidden: tuple[str, ...] = ()
    #: The index is garbage: nothing can refresh it.
    corrupt: bool = False


SHAPES: tuple[Shape, ...] = (
    Shape("clean_small", _t_clean_small, clean_share=0.40),
    Shape("clean_medium", _t_clean_medium, clean_share=0.22),
    Shape("clean_large", _t_clean_large, clean_share=0.08),
    Shape("clean_tracking", _t_tracking, clean_share=0.30, cloned=True),
    Shape("modified", _t_modified, per_thousand=40),
    Shape("untracked", _t_untracked, per_thousand=40),
    Shape("staged", _t_staged, per_thousand=20),
    Shape("deleted", _t_deleted, per_thousand=15),
    Shape("stashed", _t_stashed, per_thousand=20),
    Shape("ahead", _t_ahead, per_thousand=30, cloned=True),
    Shape("behind", _t_behind, per_thousand=30, cloned=True),
    Shape("diverged", _t_diverged, per_thousand=10, cloned=True),
    Shape("gone_upstream", _t_gone, per_thousand=10, cloned=True),
    Shape("no_upstream", _t_no_upstream, per_thousand=10, cloned=True),
    Shape("detached", _t_detached, per_thousand=10),
    Shape("unborn", _t_unborn, per_thousand=5),
    Shape("conflicted", _t_conflicted, per_thousand=5),
    Shape("rebasing", _t_rebasing, per_thousand=5),
    # A submodule's work tree is a repository of its own: a scan reports it.
    Shape("submodule", _t_submodule, per_thousand=5, nested_reported=("libs/sub",)),
    # The template is a plain repo; each copy gets a linked worktree next to it.
    Shape("worktree", _t_clean_small, per_thousand=5),
    Shape("nested_ignored", _t_nested_ignored, per_thousand=5, nested_hidden=("vendor/lib",)),
    Shape("nested", _t_nested, per_thousand=5, nested_reported=("packages/inner",)),
    # The template is a plain repo; each copy gets a symlink to it in its folder.
    Shape("symlink", _t_clean_small, per_thousand=5),
    Shape("non_utf8", _t_non_utf8, per_thousand=5),
    Shape("corrupt", _t_corrupt, per_thousand=5, corrupt=True),
)
_BY_NAME = {s.name: s for s in SHAPES}

#: Folders under ``repos/`` that hold the repositories, some of them nested.
FOLDERS: tuple[str, ...] = (
    "group-0",
    "group-1",
    "group-2/team-a",
    "group-2/team-b",
    "group-3",
    "group-4/archive/2023",
    "group-5",
    "group-6/clients/acme",
    "group-6/clients/globex",
    "group-7",
)

_N_REMOTES = 4


def shape_counts(n_repos: int) -> dict[str, int]:
    """How many repos of each shape a corpus of *n_repos* repos holds."""
    counts: dict[str, int] = {}
    for s in SHAPES:
        if s.per_thousand:
            counts[s.name] = max(1, round(s.per_thousand * n_repos / 1000))
    rest = n_repos - sum(counts.values())
    clean = [s for s in SHAPES if s.clean_share]
    if rest < len(clean):
        raise ValueError(f"n_repos={n_repos} is too small for the shape mix")
    for s in clean:
        counts[s.name] = max(1, int(rest * s.clean_share))
    counts[clean[0].name] += n_repos - sum(counts.values())
    return counts


# --------------------------------------------------------------------------- corpus


@dataclass(frozen=True)
class _Built:
    """A built folder of repositories: its work trees, listed in two files, and the
    isolated home its commands run with."""

    root: Path
    repos_dir: Path
    worktrees: tuple[Path, ...]

    @property
    def list_nul(self) -> Path:
        return self.root / LIST_NUL

    @property
    def list_lines(self) -> Path:
        return self.root / LIST_LINES

    @property
    def home(self) -> Path:
        return self.root / "home"


@dataclass(frozen=True)
class Corpus(_Built):
    """A built corpus: where it is and what a scan of ``repos_dir`` should report."""

    shapes: Mapping[str, int]
    build_seconds: float | None
    """Seconds this call spent building; None when a cached corpus was reused."""


def params_dir(n_repos: int, big_repos: int, big_files: int, cache_dir: Path = CACHE_DIR) -> Path:
    """The cache folder for a corpus with these parameters."""
    params = {"v": CORPUS_VERSION, "n": n_repos, "big": big_repos, "big_files": big_files}
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    return cache_dir / f"status-n{n_repos}-b{big_repos}x{big_files}-{digest}"


def _pool_map(fn: Callable[[Path], object], items: Iterable[Path]) -> None:
    workers = min(8, 2 * (os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(fn, items):
            pass


def _refresh(git: _Git, paths: Sequence[Path]) -> None:
    """Rewrite each work tree's index with fresh stat data.

    A copy has new inodes and ctimes, which git reads as "maybe changed". And git judges
    racy timestamps to the second: an entry whose file changed in the same second as the
    index was written is re-hashed by every status. So wait until the second in which the
    last file was written has passed, then write every index again.
    """
    time.sleep(max(0.0, int(time.time()) + 1.05 - time.time()))
    _pool_map(
        lambda p: git(p, "update-index", "-q", "--refresh", "--force-write-index", check=False),
        paths,
    )


def _write_lists(root: Path, worktrees: Sequence[Path]) -> None:
    for p in worktrees:
        if "\n" in str(p) or "\0" in str(p):
            raise ValueError(f"corpus path with a newline: {p!r}")
    (root / LIST_NUL).write_bytes(b"".join(os.fsencode(p) + b"\0" for p in worktrees))
    (root / LIST_LINES).write_bytes(b"".join(os.fsencode(p) + b"\n" for p in worktrees))


def _load(root: Path, params: Mapping[str, object]) -> Corpus | None:
    if not (root / MARKER).is_file():
        return None
    try:
        manifest = json.loads((root / MANIFEST).read_text())
        if manifest.get("version") != CORPUS_VERSION or manifest.get("params") != params:
            return None
        return Corpus(
            root=root,
            repos_dir=Path(manifest["repos_dir"]),
            worktrees=tuple(Path(p) for p in manifest["worktrees"]),
            shapes=manifest["shapes"],
            build_seconds=None,
        )
    except (OSError, ValueError, KeyError):
        return None


_SENTINEL = ".gitoverit-bench-corpus"


def _fresh(dest: Path) -> None:
    """Empty *dest* for a build; refuse to delete a folder this module did not make."""
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise ValueError(f"{dest} is not a folder")
    if dest.exists() and any(dest.iterdir()):
        if not (dest / _SENTINEL).is_file():
            raise ValueError(f"{dest} is not empty and was not made by bench/corpus.py")
        shutil.rmtree(dest)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / _SENTINEL).write_text("made by bench/corpus.py; deleted and rebuilt at will\n")


def fresh_git(dest: Path) -> _Git:
    """Empty *dest* for a build (:func:`_fresh`) and return a git that runs with a HOME
    of its own there."""
    _fresh(dest)
    return _Git(_build_env(make_home(dest)))


def _make_big(git: _Git, path: Path, files: int) -> None:
    _init(git, path)
    (path / "README.md").write_text("# big\n")
    _write_files(path, files, dirs=max(1, files // 250), tag="big")
    _commit_all(git, path, "many files")
    _pack(git, path)


def load_or_build(
    n_repos: int = 1000,
    big_repos: int = 2,
    big_files: int = 20000,
    cache_dir: Path = CACHE_DIR,
    log: Callable[[str], None] | None = None,
) -> Corpus:
    """The cached corpus for these parameters, built first if it is missing or incomplete."""
    dest = params_dir(n_repos, big_repos, big_files, cache_dir)
    return build_corpus_info(dest, n_repos, big_repos, big_files, log=log)


def build_corpus(
    dest: Path, n_repos: int = 1000, big_repos: int = 2, big_files: int = 20000
) -> list[Path]:
    """Build (or reuse) the status corpus in *dest*; return the work trees a scan reports."""
    return list(build_corpus_info(dest, n_repos, big_repos, big_files).worktrees)


def build_corpus_info(
    dest: Path,
    n_repos: int = 1000,
    big_repos: int = 2,
    big_files: int = 20000,
    log: Callable[[str], None] | None = None,
) -> Corpus:
    """Like :func:`build_corpus`, returning the whole :class:`Corpus` description."""
    dest = dest.resolve()
    params = {"n_repos": n_repos, "big_repos": big_repos, "big_files": big_files}
    cached = _load(dest, params)
    if cached is not None:
        return cached
    say = log or (lambda _msg: None)
    t0 = time.perf_counter()
    git = fresh_git(dest)
    templates = dest / "templates"
    repos_dir = dest / "repos"
    remotes_dir = dest / "remotes"
    for d in (templates, repos_dir, remotes_dir):
        d.mkdir()

    # Bare remotes: one seeded with three commits, then copies of it.
    seed = templates / "seed"
    _base(git, seed)
    (seed / "CHANGELOG.md").write_text("third\n")
    _commit_all(git, seed, "third")
    first_remote = remotes_dir / "origin-0.git"
    git(templates, "clone", "-q", "--bare", "--no-local", str(seed), str(first_remote))
    sub_remote = remotes_dir / "libsub.git"
    git(templates, "clone", "-q", "--bare", "--no-local", str(seed), str(sub_remote))
    ctx = _Ctx(git=git, root=dest, templates=templates, remotes=[first_remote])
    ctx.submodule_remote = sub_remote

    # One template per shape.
    for shape in SHAPES:
        p = templates / shape.name
        shape.template(ctx, p)
        if not shape.corrupt:
            _pack(git, p)
    for i in range(1, _N_REMOTES):
        shutil.copytree(first_remote, remotes_dir / f"origin-{i}.git", symlinks=True)
    ctx.remotes = [remotes_dir / f"origin-{i}.git" for i in range(_N_REMOTES)]
    t_templates = time.perf_counter() - t0
    say(f"templates built in {t_templates:.1f} s")

    # Place copies: a shuffled list of shapes, dealt round-robin into the folders.
    counts = shape_counts(n_repos)
    order = [name for s in SHAPES for name in [s.name] * counts[s.name]]
    random.Random(_SEED).shuffle(order)
    placed: list[tuple[Path, Shape, int]] = []
    for i, name in enumerate(order):
        folder = repos_dir / FOLDERS[i % len(FOLDERS)]
        placed.append((folder / f"r{i:04d}-{name.replace('_', '-')}", _BY_NAME[name], i))
    for rel in FOLDERS:
        (repos_dir / rel).mkdir(parents=True, exist_ok=True)

    def copy_one(item: tuple[Path, Shape, int]) -> None:
        path, shape, i = item
        shutil.copytree(templates / shape.name, path, symlinks=True)
        if shape.cloned:
            remote = ctx.remotes[i % len(ctx.remotes)]
            git(path, "config", "remote.origin.url", str(remote))

    with ThreadPoolExecutor(max_workers=min(8, 2 * (os.cpu_count() or 1))) as pool:
        list(pool.map(copy_one, placed))
    t_copy = time.perf_counter() - t0 - t_templates
    say(f"{len(placed)} repos copied in {t_copy:.1f} s")

    # Per-copy extras, then the work-tree list in scan order of discovery-independent sort.
    worktrees: list[Path] = []
    refresh: list[Path] = []
    for path, shape, _i in placed:
        worktrees.append(path)
        if not shape.corrupt:
            refresh.append(path)
        for rel in shape.nested_reported:
            worktrees.append(path / rel)
            refresh.append(path / rel)
        refresh.extend(path / rel for rel in shape.nested_hidden)
        if shape.name == "worktree":
            linked = path.parent / f"{path.name}-linked"
            git(path, "worktree", "add", "-q", "-b", f"wt-{path.name}", str(linked))
            worktrees.append(linked)
            refresh.append(linked)
        elif shape.name == "symlink":
            link = path.parent / f"{path.name}-link"
            link.symlink_to(path.name)

    # Big repos: the first is made with git, the others are copies of it.
    big_dir = repos_dir / "big"
    t_big0 = time.perf_counter()
    for b in range(big_repos):
        path = big_dir / f"big-{b}"
        if b == 0:
            _make_big(git, path, big_files)
        else:
            shutil.copytree(big_dir / "big-0", path, symlinks=True)
        refresh.append(path)
        worktrees.append(path)
    if big_repos:
        say(f"{big_repos} big repos of {big_files} files in {time.perf_counter() - t_big0:.1f} s")

    t_ref = time.perf_counter()
    _refresh(git, refresh)
    say(f"{len(refresh)} indexes refreshed in {time.perf_counter() - t_ref:.1f} s")
    shutil.rmtree(templates)

    worktrees.sort()
    _write_lists(dest, worktrees)
    build_seconds = time.perf_counter() - t0
    manifest = {
        "version": CORPUS_VERSION,
        "params": params,
        "repos_dir": str(repos_dir),
        "remotes_dir": str(remotes_dir),
        "shapes": counts,
        "repos": [{"path": str(p), "shape": s.name} for p, s, _ in placed],
        "worktrees": [str(p) for p in worktrees],
        "build_seconds": round(build_seconds, 3),
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1))
    (dest / MARKER).write_text(f"{build_seconds:.3f}\n")
    return Corpus(dest, repos_dir, tuple(worktrees), counts, build_seconds)


# --------------------------------------------------------------------------- network corpus


@dataclass(frozen=True)
class NetCorpus(_Built):
    """Clones of slow local remotes, for the fetch benchmark."""

    latency: float
    build_seconds: float | None


def net_params_dir(n_repos: int, latency: float, cache_dir: Path = CACHE_DIR) -> Path:
    params = {"v": CORPUS_VERSION, "n": n_repos, "latency": latency}
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    return cache_dir / f"net-n{n_repos}-{int(latency * 1000)}ms-{digest}"


def build_net_corpus(
    dest: Path,
    n_repos: int = 100,
    latency: float = 0.3,
    log: Callable[[str], None] | None = None,
) -> NetCorpus:
    """Build (or reuse) *n_repos* clones of local bare remotes that answer after *latency* s."""
    dest = dest.resolve()
    params = {"n_repos": n_repos, "latency": latency}
    manifest = {}
    if (dest / MARKER).is_file():
        manifest = json.loads((dest / MANIFEST).read_text())
    if manifest.get("version") == CORPUS_VERSION and manifest.get("params") == params:
        return NetCorpus(
            dest,
            Path(manifest["repos_dir"]),
            tuple(Path(p) for p in manifest["worktrees"]),
            float(manifest["latency"]),
            None,
        )
    say = log or (lambda _msg: None)
    t0 = time.perf_counter()
    git = fresh_git(dest)
    templates = dest / "templates"
    repos_dir = dest / "repos"
    remotes_dir = dest / "remotes"
    for d in (templates, repos_dir, remotes_dir):
        d.mkdir()
    wrapper = dest / "upload-pack-slow.sh"
    wrapper.write_text(f'#!/bin/sh\nsleep {latency}\nexec git-upload-pack "$@"\n')
    wrapper.chmod(0o755)

    seed = templates / "seed"
    _base(git, seed)
    bare = templates / "remote.git"
    git(templates, "clone", "-q", "--bare", "--no-local", str(seed), str(bare))
    clone = templates / "clone"
    git(templates, "clone", "-q", "--no-local", str(bare), str(clone))
    _pack(git, clone)

    worktrees = [repos_dir / f"r{i:03d}" for i in range(n_repos)]

    def copy_one(path: Path) -> None:
        remote = remotes_dir / f"{path.name}.git"
        shutil.copytree(bare, remote, symlinks=True)
        shutil.copytree(clone, path, symlinks=True)
        git(path, "config", "remote.origin.url", str(remote))
        git(path, "config", "remote.origin.uploadpack", str(wrapper))

    _pool_map(copy_one, worktrees)
    _refresh(git, worktrees)
    shutil.rmtree(templates)
    _write_lists(dest, worktrees)
    build_seconds = time.perf_counter() - t0
    say(f"{n_repos} slow-remote clones built in {build_seconds:.1f} s")
    manifest = {
        "version": CORPUS_VERSION,
        "params": params,
        "latency": latency,
        "repos_dir": str(repos_dir),
        "worktrees": [str(p) for p in worktrees],
        "build_seconds": round(build_seconds, 3),
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1))
    (dest / MARKER).write_text(f"{build_seconds:.3f}\n")
    return NetCorpus(dest, repos_dir, tuple(worktrees), latency, build_seconds)


def load_or_build_net(
    n_repos: int = 100,
    latency: float = 0.3,
    cache_dir: Path = CACHE_DIR,
    log: Callable[[str], None] | None = None,
) -> NetCorpus:
    """The cached network corpus for these parameters, built first if needed."""
    return build_net_corpus(net_params_dir(n_repos, latency, cache_dir), n_repos, latency, log)


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--repos", type=int, default=1000, help="repositories (default 1000)")
    ap.add_argument("--big-repos", type=int, default=2, help="big repositories (default 2)")
    ap.add_argument("--big-files", type=int, default=20000, help="files per big repo")
    ap.add_argument("--dest", type=Path, help="build here instead of the cache folder")
    ap.add_argument("--net", action="store_true", help="build the fetch corpus instead")
    ap.add_argument("--net-repos", type=int, default=100, help="fetch corpus size")
    ap.add_argument("--latency", type=float, default=0.3, help="fetch latency in seconds")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr)

    if args.net:
        dest = args.dest or net_params_dir(args.net_repos, args.latency)
        net = build_net_corpus(dest, args.net_repos, args.latency, log=log)
        built = "reused" if net.build_seconds is None else f"built in {net.build_seconds:.1f} s"
        print(f"{net.repos_dir}: {len(net.worktrees)} repos ({built})")
        return 0
    dest = args.dest or params_dir(args.repos, args.big_repos, args.big_files)
    corpus = build_corpus_info(dest, args.repos, args.big_repos, args.big_files, log=log)
    built = "reused" if corpus.build_seconds is None else f"built in {corpus.build_seconds:.1f} s"
    print(f"{corpus.repos_dir}: {len(corpus.worktrees)} work trees ({built})")
    for name, count in corpus.shapes.items():
        print(f"  {name:<16} {count:>5}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
