"""Shared fixtures: an isolated git configuration and factories for real repositories.

No test may read the user's git configuration or touch the network: ``git_env`` points
HOME, XDG_CONFIG_HOME, XDG_RUNTIME_DIR and GIT_CONFIG_GLOBAL into ``tmp_path`` and sets
GIT_CONFIG_NOSYSTEM=1. It is autouse, so every test runs isolated.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

_DROP = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_COMMON_DIR",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "NO_COLOR",
    "FORCE_COLOR",
)


# Processes the tests start must take Ctrl-C as they would from a terminal, even when this
# test run was itself started with SIGINT ignored (as `make mutate` starts its workers):
# an ignored signal stays ignored in every child, a handler does not.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def git_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Isolate HOME and every git configuration source for this test."""
    home = tmp_path_factory.mktemp("home")
    for var in _DROP:
        monkeypatch.delenv(var, raising=False)
    for var in list(os.environ):
        # GITOVERIT_* and the earlier gitoverit's GITO_* settings
        if var.startswith(("GITOVERIT_", "GITO_")):
            monkeypatch.delenv(var, raising=False)
    # Under `make mutate`, child processes run the mutant under test too, but not mutmut's
    # bookkeeping of which test calls which function: that works in the test process only.
    if os.environ.get("MUTANT_UNDER_TEST") == "stats":
        monkeypatch.delenv("MUTANT_UNDER_TEST")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n"
        '[protocol "file"]\n\tallow = always\n'
        "[advice]\n\tdetachedHead = false\n"
        "[commit]\n\tgpgsign = false\n"
        "[core]\n\thooksPath = /dev/null\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    # Where the status engine keeps its index copies: here, not in the user's own.
    runtime = home / ".runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test User")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "test@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test User")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "test@example.com")
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    monkeypatch.setenv("LC_ALL", "C")
    return home


@pytest.fixture(autouse=True)
def no_debug_log_left() -> Iterator[None]:
    """Close the debug log a test's command opened: it is process-wide state."""
    yield
    from gitoverit.config.debug_log import stop_debug_log

    stop_debug_log()


def git_dirs_snapshot(root: str | os.PathLike[str]) -> dict[str, tuple[bytes, int]]:
    """Every file, folder and symlink at or below a ``.git`` under *root*, with its bytes
    (a symlink's target, nothing for a folder) and modification time: what a read-only
    scan must leave exactly as it was."""
    snap: dict[str, tuple[bytes, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            if ".git" not in p.split(os.sep):
                continue
            s = os.lstat(p)
            if stat.S_ISLNK(s.st_mode):
                data = os.fsencode(os.readlink(p))
            elif stat.S_ISDIR(s.st_mode):
                data = b""
            else:
                data = Path(p).read_bytes()
            snap[p] = (data, s.st_mtime_ns)
    return snap


def sh(
    *args: str | os.PathLike[str], cwd: str | os.PathLike[str] | None = None, check: bool = True
) -> str:
    """Run a command for test set-up and return its stdout (stripped)."""
    proc = subprocess.run(
        [os.fspath(a) for a in args],
        cwd=cwd,
        capture_output=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{args} failed ({proc.returncode}):\n{proc.stdout.decode(errors='replace')}"
            f"\n{proc.stderr.decode(errors='replace')}"
        )
    return proc.stdout.decode("utf-8", "surrogateescape").strip()


@dataclass
class Repo:
    """A real repository on disk, with helpers to put it into any state."""

    path: Path

    def git(self, *args: str, check: bool = True) -> str:
        return sh("git", *args, cwd=self.path, check=check)

    def write(self, rel: str, content: str = "x\n") -> Path:
        p = self.path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
        return p

    def commit(
        self, rel: str = "file.txt", content: str | None = None, message: str | None = None
    ) -> str:
        self.write(rel, content if content is not None else f"{rel} {os.urandom(4).hex()}\n")
        self.git("add", "--", rel)
        self.git("commit", "-q", "-m", message or f"change {rel}")
        return self.git("rev-parse", "HEAD")

    @property
    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    @property
    def git_dir(self) -> Path:
        return Path(self.git("rev-parse", "--absolute-git-dir"))


class RepoFactory:
    """Make real repositories in a temporary folder: ``make_repo("name", commits=2)``."""

    def __init__(self, root: Path, aux: Path | None = None) -> None:
        self.root = root
        #: Remotes, seeds and helper clones live here, outside the scanned ``root``.
        self.aux = aux if aux is not None else root.parent / f"{root.name}-aux"
        self.aux.mkdir(parents=True, exist_ok=True)

    def repo(
        self, name: str = "repo", *, commits: int = 1, bare: bool = False, aux: bool = False
    ) -> Repo:
        """A repo at ``root/name`` (or ``aux/name`` with ``aux=True``)."""
        path = (self.aux if aux else self.root) / name
        path.mkdir(parents=True, exist_ok=True)
        if bare:
            sh("git", "init", "-q", "--bare", "-b", "main", path)
            return Repo(path)
        sh("git", "init", "-q", "-b", "main", path)
        r = Repo(path)
        for i in range(commits):
            r.commit(f"file{i}.txt" if i else "file.txt")
        return r

    def remote_and_clone(self, name: str = "repo", *, commits: int = 1) -> tuple[Repo, Repo]:
        """A bare remote with *commits* commits and a clone of it tracking ``main``."""
        seed = self.repo(f"seed-{name}", commits=commits, aux=True)
        remote = self.aux / f"remotes/{name}.git"
        remote.parent.mkdir(parents=True, exist_ok=True)
        sh("git", "clone", "-q", "--bare", seed.path, remote)
        clone = self.root / name
        sh("git", "clone", "-q", remote.as_uri(), clone)
        return Repo(remote), Repo(clone)

    def push_from_other(self, remote: Repo, n: int = 1, name: str = "other") -> Repo:
        """Commit *n* changes to *remote* through a second clone (makes others behind)."""
        other = self.aux / f"{name}-{os.urandom(3).hex()}"
        sh("git", "clone", "-q", remote.path.as_uri(), other)
        o = Repo(other)
        for i in range(n):
            o.commit(f"remote{i}-{os.urandom(2).hex()}.txt")
        o.git("push", "-q", "origin", "HEAD")
        return o


@pytest.fixture
def repos(tmp_path: Path) -> RepoFactory:
    """Factory for real repos under ``tmp_path/work`` (remotes under ``tmp_path/aux``)."""
    root = tmp_path / "work"
    root.mkdir()
    return RepoFactory(root, tmp_path / "aux")


@pytest.fixture
def workdir(repos: RepoFactory) -> Iterator[Path]:
    yield repos.root
