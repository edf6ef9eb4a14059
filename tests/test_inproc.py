"""The in-process reader (libgit2): the same record as git's, or git reads the repo.

Every shape test of ``test_status.py`` also checks the in-process reader against the git
engine (its ``status`` helper). Here: the shapes it declines and why, whole scans through
both readers, random repositories (hypothesis), read-only, and a scan without pygit2.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Repo, RepoFactory, git_dirs_snapshot, sh
from gitoverit.git import inproc
from gitoverit.git.reader_io import Reader
from gitoverit.git.status import read_status
from gitoverit.model import Reason, RepoRecord, RepoRef
from inproc_check import add_fillers, assert_same_in_process, in_process, slow_filler_git


def ref_of(repo: Repo) -> RepoRef:
    return RepoRef(os.fspath(repo.path), os.fspath(repo.git_dir), os.fspath(repo.path))


def declined(repo: Repo) -> str:
    """Why the in-process reader declines *repo*; fails when it reads it."""
    ref = ref_of(repo)
    with pytest.raises(inproc.NotExact) as info:
        in_process(ref)
    # What git reads instead is a plain record, never an error.
    assert read_status(ref).branch is not None or read_status(ref).detached
    return str(info.value)


# ---------------------------------------------------------------------------------------
# What goes to git, and why (each shape is one where the two readers could disagree)


def _conflict(r: Repo, f: RepoFactory) -> None:
    r.git("checkout", "-q", "-b", "side")
    r.commit("file.txt", "side\n")
    r.git("checkout", "-q", "main")
    r.commit("file.txt", "main\n")
    r.git("merge", "-q", "side", check=False)


def _submodule(r: Repo, f: RepoFactory) -> None:
    sub = f.repo("sub-src", aux=True)
    r.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", os.fspath(sub.path), "sub")
    r.git("commit", "-q", "-m", "sub")


def _staged_rename(r: Repo, f: RepoFactory) -> None:
    r.git("mv", "file.txt", "moved.txt")


def _staged_add_and_delete(r: Repo, f: RepoFactory) -> None:
    r.write("new.txt", "something else entirely\n")
    r.git("add", "new.txt")
    r.git("rm", "-q", "file.txt")


def _intent_to_add(r: Repo, f: RepoFactory) -> None:
    r.write("later.txt")
    r.git("add", "-N", "later.txt")


def _skip_worktree(r: Repo, f: RepoFactory) -> None:
    r.git("update-index", "--skip-worktree", "file.txt")


def _assume_unchanged(r: Repo, f: RepoFactory) -> None:
    r.git("update-index", "--assume-unchanged", "file.txt")


def _split_index(r: Repo, f: RepoFactory) -> None:
    r.git("update-index", "--split-index")


def _sparse(r: Repo, f: RepoFactory) -> None:
    r.commit("a/one.txt")
    r.git("sparse-checkout", "set", "--cone", "a")


def _attributes(r: Repo, f: RepoFactory) -> None:
    r.commit(".gitattributes", "*.txt text eol=crlf\n")


def _untracked_attributes(r: Repo, f: RepoFactory) -> None:
    r.write("sub/.gitattributes", "*.txt -text\n")


def _info_attributes(r: Repo, f: RepoFactory) -> None:
    (r.git_dir / "info").mkdir(exist_ok=True)
    (r.git_dir / "info" / "attributes").write_text("*.txt -text\n")


def _config(key: str, value: str) -> Callable[[Repo, RepoFactory], None]:
    def setup(r: Repo, f: RepoFactory) -> None:
        r.git("config", key, value)

    return setup


def _include(r: Repo, f: RepoFactory) -> None:
    other = f.aux / "extra.gitconfig"
    other.write_text("[core]\n\tautocrlf = true\n")
    r.git("config", "include.path", os.fspath(other))


def _shallow(r: Repo, f: RepoFactory) -> None:
    (r.git_dir / "shallow").write_text(r.head + "\n")


def _replace(r: Repo, f: RepoFactory) -> None:
    first = r.head
    r.commit("two.txt")
    r.git("replace", r.head, first)


def _local_upstream(r: Repo, f: RepoFactory) -> None:
    r.git("branch", "base")
    r.git("branch", "-q", "--set-upstream-to", "base")


def _odd_refspec(r: Repo, f: RepoFactory) -> None:
    remote = f.repo("odd.git", bare=True, aux=True)
    r.git("remote", "add", "origin", os.fspath(remote.path))
    r.git("config", "--replace-all", "remote.origin.fetch", "+refs/heads/main:refs/remotes/o/m")
    r.git("push", "-q", "origin", "main")
    r.git("fetch", "-q", "origin")
    r.git("config", "branch.main.remote", "origin")
    r.git("config", "branch.main.merge", "refs/heads/main")


def _ambiguous_upstream(r: Repo, f: RepoFactory) -> None:
    remote = f.repo("amb.git", bare=True, aux=True)
    r.git("remote", "add", "origin", os.fspath(remote.path))
    r.git("push", "-q", "-u", "origin", "main")
    r.git("branch", "origin/main")  # refs/heads/origin/main: "origin/main" is ambiguous


def _unborn_with_upstream(r: Repo, f: RepoFactory) -> None:
    r.git("checkout", "-q", "--orphan", "fresh")
    r.git("rm", "-q", "-r", "--cached", ".")
    r.git("config", "branch.fresh.remote", "origin")
    r.git("config", "branch.fresh.merge", "refs/heads/fresh")
    r.git("remote", "add", "origin", "/nowhere")


def _many_files(r: Repo, f: RepoFactory) -> None:
    for i in range(inproc.MAX_FILES + 1):
        r.write(f"many/{i}.txt", f"{i}\n")
    r.git("add", "many")
    r.git("commit", "-q", "-m", "many")


def _empty_nested_repo(r: Repo, f: RepoFactory) -> None:
    sh("git", "init", "-q", r.path / "inner")


def _deep_empty_nested_repo(r: Repo, f: RepoFactory) -> None:
    r.write("untracked/file.txt")
    (r.path / "untracked" / "empty").mkdir()
    sh("git", "init", "-q", r.path / "untracked" / "empty" / "inner")


DECLINED = {
    "nested repo holding only .git": (_empty_nested_repo, "nested repository in inner/"),
    "deep nested repo": (_deep_empty_nested_repo, "nested repository in untracked/empty/"),
    "conflict": (_conflict, "unmerged"),
    "submodule": (_submodule, "submodules"),
    "staged rename": (_staged_rename, "rename"),
    "staged add and delete": (_staged_add_and_delete, "rename"),
    "intent-to-add": (_intent_to_add, "intent-to-add"),
    "skip-worktree": (_skip_worktree, "skip-worktree"),
    "assume-unchanged": (_assume_unchanged, "assume-unchanged"),
    "split index": (_split_index, "split"),
    "sparse checkout": (_sparse, "extensions.worktreeconfig"),
    "attributes": (_attributes, "attributes"),
    "untracked attributes": (_untracked_attributes, "attributes"),
    "info/attributes": (_info_attributes, "info/attributes"),
    "autocrlf": (_config("core.autocrlf", "true"), "core.autocrlf"),
    "eol": (_config("core.eol", "crlf"), "core.eol"),
    "ignorecase": (_config("core.ignorecase", "true"), "core.ignorecase"),
    "filemode off": (_config("core.filemode", "false"), "core.filemode"),
    "checkstat": (_config("core.checkstat", "minimal"), "core.checkstat"),
    "worktree config": (_config("extensions.worktreeConfig", "true"), "extensions"),
    "filter driver": (_config("filter.lfs.clean", "cat"), "filter"),
    "include": (_include, "include"),
    "shallow": (_shallow, "shallow"),
    "replace refs": (_replace, "replace"),
    "local upstream": (_local_upstream, "upstream"),
    "odd refspec": (_odd_refspec, "refspec"),
    "ambiguous upstream": (_ambiguous_upstream, "ambiguous"),
    "unborn with upstream": (_unborn_with_upstream, "unborn"),
    "many files": (_many_files, "tracked files"),
}


@pytest.mark.parametrize("shape", sorted(DECLINED))
def test_shapes_that_go_to_git(repos: RepoFactory, shape: str) -> None:
    setup, why = DECLINED[shape]
    r = repos.repo("r")
    setup(r, repos)
    assert why in declined(r)


def test_a_global_setting_sends_every_repo_to_git(repos: RepoFactory) -> None:
    repos.repo("r")
    sh("git", "config", "--global", "core.autocrlf", "input")
    assert inproc.run_config().reason == "core.autocrlf is set"
    sh("git", "config", "--global", "--unset", "core.autocrlf")
    assert inproc.run_config().reason is None
    # A conditional include may apply in some repository: what it sets counts too.
    extra = repos.aux / "work.gitconfig"
    extra.write_text("[core]\n\tignorecase = true\n")
    sh("git", "config", "--global", "includeIf.gitdir:/nowhere/.path", os.fspath(extra))
    assert inproc.run_config().reason == "core.ignorecase is set"


def test_global_attributes_send_every_repo_to_git(repos: RepoFactory) -> None:
    xdg = Path(os.environ["XDG_CONFIG_HOME"]) / "git"
    xdg.mkdir(parents=True, exist_ok=True)
    (xdg / "attributes").write_text("*.txt -text\n")
    assert "attributes" in (inproc.run_config().reason or "")


def test_global_excludes_are_followed(repos: RepoFactory) -> None:
    """libgit2 sees the global excludes file git sees, through core.excludesFile or the
    XDG default."""
    r = repos.repo("r")
    r.write("build.log")
    r.write("notes.tmp")
    excludes = repos.aux / "excludes"
    excludes.write_text("*.log\n")
    sh("git", "config", "--global", "core.excludesFile", os.fspath(excludes))
    ref = ref_of(r)
    by_git = read_status(ref)
    assert by_git.untracked == 1
    assert in_process(ref) == by_git
    sh("git", "config", "--global", "--unset", "core.excludesFile")
    xdg = Path(os.environ["XDG_CONFIG_HOME"]) / "git"
    xdg.mkdir(parents=True, exist_ok=True)
    (xdg / "ignore").write_text("*.tmp\n")
    by_git = read_status(ref)
    assert by_git.untracked == 1
    assert in_process(ref) == by_git


# ---------------------------------------------------------------------------------------
# Whole scans: both readers, the same JSON


def _build_shapes(f: RepoFactory) -> None:
    add_fillers(f)
    remote, clone = f.remote_and_clone("tracking", commits=2)
    clone.commit("ahead.txt")
    f.push_from_other(remote, 1)
    clone.git("fetch", "-q")
    clean = f.repo("clean", commits=3)
    clean.write("dir/untracked/a.txt")
    dirty = f.repo("dirty", commits=2)
    dirty.write("file.txt", "changed\n")
    (dirty.path / "file1.txt").unlink()
    dirty.write("new.txt")
    dirty.git("add", "new.txt")
    os.chmod(dirty.path / "new.txt", 0o755)
    stash = f.repo("stash", commits=1)
    stash.write("file.txt", "stashed\n")
    stash.git("stash", "-q")
    detached = f.repo("detached", commits=2)
    detached.git("checkout", "-q", "HEAD~1")
    f.repo("unborn", commits=0).write("a.txt")
    links = f.repo("links", commits=1)
    os.symlink("file.txt", links.path / "link")
    links.git("add", "link")
    links.git("commit", "-q", "-m", "link")
    os.unlink(links.path / "link")
    os.symlink("elsewhere", links.path / "link")
    ignored = f.repo("ignored", commits=1)
    ignored.commit(".gitignore", "*.o\n!keep.o\nbuild/\n**/tmp/**\n")
    for rel in ("a.o", "keep.o", "build/x", "deep/tmp/y", "deep/z"):
        ignored.write(rel)
    nested = f.repo("outer", commits=1)
    sh("git", "init", "-q", nested.path / "inner")
    odd = f.repo("odd", commits=1)
    (odd.path / os.fsdecode(b"caf\xe9.txt")).write_text("x\n")
    _conflict(f.repo("conflict", commits=1), f)
    _submodule(f.repo("super", commits=1), f)
    corrupt = f.repo("corrupt", commits=1)
    (corrupt.git_dir / "index").write_bytes(b"garbage")


def _scan(root: Path, *args: str, env: dict[str, str] | None = None) -> list[dict[str, object]]:
    proc = subprocess.run(
        [sys.executable, "-m", "gitoverit", "--no-progress", *args, os.fspath(root)],
        capture_output=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode in (0, 1), proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_a_scan_gives_the_same_records_through_both_readers(
    repos: RepoFactory, tmp_path: Path
) -> None:
    _build_shapes(repos)
    before = git_dirs_snapshot(repos.root)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    auto = _scan(repos.root, "-o", "ndjson", env={**slow_filler_git(tmp_path), "TMPDIR": str(tmp)})
    assert git_dirs_snapshot(repos.root) == before  # libgit2 wrote nothing
    assert list(tmp.iterdir()) == [], "the workers' libgit2 folder is gone with the scan"
    by_git = _scan(repos.root, "-o", "ndjson", "--reader", "git")

    def records(lines: list[dict[str, object]]) -> dict[object, dict[str, object]]:
        return {
            r["path"]: {k: v for k, v in r.items() if k != "duration_ms"}
            for r in lines
            if r["type"] == "repo"
        }

    assert records(auto) == records(by_git)
    assert len(records(auto)) >= 75
    readers = auto[-1]["readers"]
    assert isinstance(readers, dict)
    # Most shapes are read in-process; the conflict, the submodule's superproject and the
    # corrupt repo go to git.
    assert readers["libgit2"] >= 10 and readers["git"] >= 3
    assert sum(readers.values()) == len(records(auto))
    assert by_git[-1]["readers"] == {"git": len(records(by_git))}


def test_without_pygit2_the_scan_asks_git(repos: RepoFactory, tmp_path: Path) -> None:
    """A pygit2 that cannot be imported: the workers say so, git reads every repository,
    and the records hold."""
    fillers = add_fillers(repos)
    repos.repo("b", commits=1).write("x.txt")
    repos.repo("c", commits=2)
    broken = tmp_path / "broken"
    (broken / "pygit2").mkdir(parents=True)
    (broken / "pygit2" / "__init__.py").write_text("raise ImportError('no libgit2 here')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.fspath(broken), *sys.path]))
    proc = subprocess.run(
        [sys.executable, "-m", "gitoverit", "--no-progress", "-o", "ndjson", repos.root],
        capture_output=True,
        env=env,
        check=True,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert lines[-1]["readers"] == {"git": len(fillers) + 2}
    by_path = {r["path"]: r for r in lines if r["type"] == "repo"}
    assert by_path[os.fspath(repos.root / "b")]["untracked"] == 1
    assert by_path[os.fspath(repos.root / "c")]["untracked"] == 0


# ---------------------------------------------------------------------------------------
# Random repositories: the two readers agree on every one

_NAMES = st.sampled_from(["a", "b", "c.txt", "d.o", "x y", "keep.o", "caf\u00e9"])
_PATHS = st.lists(_NAMES, min_size=1, max_size=3).map("/".join)
_IGNORE = st.sampled_from(["*.o", "!keep.o", "b/", "**/c.txt", "a/**", "/x y", "!b/a", "d.*"])

_EXAMPLES = int(os.environ.get("GITOVERIT_HYPOTHESIS_EXAMPLES", "25"))


@st.composite
def _repo_plans(draw: st.DrawFn) -> dict[str, object]:
    return {
        "files": draw(st.lists(_PATHS, min_size=1, max_size=8, unique=True)),
        "ignore": draw(st.lists(_IGNORE, max_size=4)),
        "commits": draw(st.integers(1, 3)),
        "edits": draw(
            st.lists(
                st.tuples(
                    st.sampled_from(
                        [
                            "modify",
                            "delete",
                            "stage",
                            "rm",
                            "chmod",
                            "symlink",
                            "newlink",
                            "new",
                            "newdir",
                        ]
                    ),
                    st.integers(0, 7),
                ),
                max_size=6,
            )
        ),
        "stashes": draw(st.integers(0, 2)),
        "ahead": draw(st.integers(0, 2)),
        "behind": draw(st.integers(0, 2)),
    }


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.is_file():
        path.unlink()
    path.write_text(text)


def _apply(plan: dict[str, object], base: Path) -> Repo | None:
    files: list[str] = plan["files"]  # type: ignore[assignment]
    # A path cannot be both a file and a folder.
    if any(other.startswith(f + "/") for f in files for other in files):
        return None
    remote = base / "remote.git"
    sh("git", "init", "-q", "--bare", "-b", "main", remote)
    r = Repo(base / "work")
    sh("git", "init", "-q", "-b", "main", r.path)
    r.git("remote", "add", "origin", os.fspath(remote))
    ignore: list[str] = plan["ignore"]  # type: ignore[assignment]
    if ignore:
        _write(r.path / ".gitignore", "\n".join(ignore) + "\n")
    for n in range(int(plan["commits"])):  # type: ignore[call-overload]
        for f in files:
            _write(r.path / f, f"{f} {n}\n")
        r.git("add", "-A")
        r.git("commit", "-q", "--allow-empty", "-m", f"c{n}")
    r.git("push", "-q", "-u", "origin", "main")
    other = base / "other"
    sh("git", "clone", "-q", remote.as_uri(), other)
    for n in range(int(plan["behind"])):  # type: ignore[call-overload]
        Repo(other).commit(f"theirs{n}.txt")
    Repo(other).git("push", "-q", "origin", "HEAD")
    r.git("fetch", "-q")
    for n in range(int(plan["ahead"])):  # type: ignore[call-overload]
        r.commit(f"mine{n}.txt")
    for n in range(int(plan["stashes"])):  # type: ignore[call-overload]
        _write(r.path / files[0], f"stash {n}\n")
        r.git("stash", "-q")
    tracked = r.git("ls-files", "-z").split("\0")
    tracked = [t for t in tracked if t]
    edits: list[tuple[str, int]] = plan["edits"]  # type: ignore[assignment]
    for kind, i in edits:
        target = r.path / tracked[i % len(tracked)] if tracked else r.path / "none"
        if kind == "modify" and target.is_file():
            with target.open("a") as fh:
                fh.write("more\nlines\n")
        elif kind == "delete" and target.exists():
            target.unlink()
        elif kind == "stage" and target.exists():
            with target.open("a") as fh:
                fh.write("staged\n")
            r.git("add", "--", os.fspath(target))
        elif kind == "rm" and target.exists():
            r.git("rm", "-q", "--cached", "--", os.fspath(target), check=False)
        elif kind == "chmod" and target.is_file():
            target.chmod(target.stat().st_mode ^ stat.S_IXUSR)
        elif kind == "symlink" and target.is_file():
            target.unlink()
            os.symlink("elsewhere", target)
        elif kind == "newlink" and not os.path.lexists(r.path / f"link{i}"):
            os.symlink(f"target{i}", r.path / f"link{i}")
            r.git("add", f"link{i}")
        elif kind == "new":
            _write(r.path / f"new{i}.o", "new\n")
        elif kind == "newdir":
            _write(r.path / f"dir{i}" / "b" / "c.txt", "new\n")
    return r


@settings(
    max_examples=_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=_repo_plans())
def test_random_repos_read_the_same_through_both_readers(
    tmp_path_factory: pytest.TempPathFactory, plan: dict[str, object]
) -> None:
    base = tmp_path_factory.mktemp("random")
    r = _apply(plan, base)
    if r is None:
        return
    ref = ref_of(r)
    assert_same_in_process(ref, read_status(ref))


def test_status_flags_are_libgit2s() -> None:
    from pygit2.enums import FileStatus as F

    assert (inproc._INDEX_NEW, inproc._INDEX_MODIFIED, inproc._INDEX_DELETED) == (
        F.INDEX_NEW,
        F.INDEX_MODIFIED,
        F.INDEX_DELETED,
    )
    assert (inproc._INDEX_RENAMED, inproc._INDEX_TYPECHANGE, inproc._WT_NEW) == (
        F.INDEX_RENAMED,
        F.INDEX_TYPECHANGE,
        F.WT_NEW,
    )
    assert (inproc._WT_MODIFIED, inproc._WT_DELETED, inproc._WT_TYPECHANGE) == (
        F.WT_MODIFIED,
        F.WT_DELETED,
        F.WT_TYPECHANGE,
    )
    assert (inproc._WT_RENAMED, inproc._WT_UNREADABLE, inproc._IGNORED, inproc._CONFLICTED) == (
        F.WT_RENAMED,
        F.WT_UNREADABLE,
        F.IGNORED,
        F.CONFLICTED,
    )


def test_sha256_repos_go_to_git(repos: RepoFactory) -> None:
    path = repos.root / "sha256"
    sh("git", "init", "-q", "--object-format=sha256", "-b", "main", path)
    r = Repo(path)
    r.commit("a.txt")
    assert "extensions.objectformat" in declined(r)


def test_untracked_cache_and_fsmonitor_settings_change_nothing(repos: RepoFactory) -> None:
    """Caches git keeps (untracked cache) and a daemon it is kept from asking (fsmonitor)
    leave the record as it is: read in-process."""
    r = repos.repo("r", commits=2)
    r.git("config", "core.untrackedCache", "true")
    r.git("config", "core.fsmonitor", "true")
    r.write("dir/new.txt")
    r.git("update-index", "--untracked-cache")
    r.git("status", "--porcelain")  # fills the cache
    ref = ref_of(r)
    assert assert_same_in_process(ref, read_status(ref)) is None


def _on_workers(
    monkeypatch: pytest.MonkeyPatch, refs: list[RepoRef], timeout: float = 30, lines: bool = False
) -> list[RepoRecord]:
    """The records of *refs* from :func:`run_readers`, its workers started at once and
    git reading none while they start, so that they get every repository."""
    import queue

    from gitoverit.git import readers

    monkeypatch.setattr(readers, "FORK_AT", 0)
    monkeypatch.setattr(readers, "git_ahead", lambda jobs: 0)
    q: queue.Queue[object] = queue.Queue()
    end = object()
    for ref in refs:
        q.put(ref)
    q.put(end)
    wake_r, wake_w = os.pipe()
    try:
        return list(readers.run_readers(q, end, wake_r, jobs=2, timeout=timeout, lines=lines))
    finally:
        os.close(wake_r)
        os.close(wake_w)


def _assert_git_read_them_all(records: list[RepoRecord], refs: list[RepoRef]) -> None:
    """One record for each of *refs*, each git's, without error."""
    assert sorted(r.ref.path for r in records) == sorted(ref.path for ref in refs)
    for record in records:
        assert record.error is None and record.reader == "git"
        assert record.status == read_status(record.ref)


def _with_new_files(repos: RepoFactory, count: int) -> list[RepoRef]:
    """*count* repositories of one commit, each with an untracked file."""
    refs = []
    for i in range(count):
        r = repos.repo(f"r{i}", commits=1)
        r.write(f"new{i}.txt")
        refs.append(ref_of(r))
    return refs


def test_a_worker_that_dies_leaves_its_repos_to_git(
    repos: RepoFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each worker dies on the first repository it is given: that one and every other it
    held are read by git, and every record is git's."""

    from gitoverit.git import reader_worker

    refs = _with_new_files(repos, 10)
    marker = tmp_path / "crashed"

    def dying(reader: object, ref: RepoRef) -> None:
        with open(marker, "a") as fh:
            fh.write(ref.path + "\n")
        os._exit(3)

    monkeypatch.setattr(reader_worker, "read_one", dying)
    records = _on_workers(monkeypatch, refs)
    assert marker.exists(), "a worker died"
    _assert_git_read_them_all(records, refs)


def test_a_worker_that_stops_answering_is_killed_and_its_repos_go_to_git(
    repos: RepoFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker hangs on a repository: past its deadline (twice the timeout and 5 s) that
    repository gets a timeout record, the worker is killed, and git reads the rest."""

    from gitoverit.git import reader_worker

    refs = _with_new_files(repos, 8)
    marker = tmp_path / "hung"
    read_one = reader_worker.read_one

    def hanging(reader: Reader, ref: RepoRef) -> RepoRecord | None:
        """Hangs on the first repository any worker is given; reads the others."""
        try:
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        except FileExistsError:
            return read_one(reader, ref)
        os.write(fd, f"{os.getpid()} {ref.path}".encode())
        os.close(fd)
        time.sleep(600)
        return read_one(reader, ref)

    monkeypatch.setattr(reader_worker, "read_one", hanging)
    records = _on_workers(monkeypatch, refs, timeout=2)
    pid_text, hung_path = marker.read_text().split(" ", 1)
    assert sorted(r.ref.path for r in records) == sorted(ref.path for ref in refs)
    for record in records:
        if record.ref.path == hung_path:
            assert record.error is not None and record.error.reason is Reason.TIMEOUT
            assert record.error.message == "status did not finish within 9 s"
            assert record.status is None
        else:
            assert record.error is None, record.error
            assert record.status == read_status(record.ref)
    with pytest.raises(ProcessLookupError):  # killed and reaped: no orphan is left
        os.kill(int(pid_text), 0)


def test_workers_read_in_process_what_they_are_given(
    repos: RepoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers' records are the in-process reader's, and git's."""

    refs = []
    for i in range(8):
        r = repos.repo(f"r{i}", commits=2)
        r.write(f"new{i}.txt")
        r.write("file.txt", "changed\n")
        refs.append(ref_of(r))
    records = _on_workers(monkeypatch, refs, lines=True)
    assert all(r.reader == "libgit2" for r in records), "the workers read every one"
    assert sorted(r.ref.path for r in records) == sorted(ref.path for ref in refs)
    for record in records:
        assert record.status is not None
        if record.reader == "libgit2":
            assert (record.status.lines_added, record.status.lines_removed) == (1, 1)
            record = replace(
                record, status=replace(record.status, lines_added=None, lines_removed=None)
            )
        assert record.status == read_status(record.ref)


def test_workers_that_cannot_read_in_process_leave_every_repo_to_git(
    repos: RepoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker without a working pygit2 says so and leaves; no other starts, and git
    reads every repository."""
    from gitoverit.git import reader_io

    def unusable(cls: type[Reader], settings: dict[str, object]) -> Reader:
        return Reader(30.0, False, False, False)

    monkeypatch.setattr(reader_io.Reader, "from_settings", classmethod(unusable))
    refs = _with_new_files(repos, 6)
    records = _on_workers(monkeypatch, refs)
    _assert_git_read_them_all(records, refs)


def test_a_worker_that_is_not_ready_in_time_is_killed_and_git_reads_everything(
    repos: RepoFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitoverit.git import reader_io, readers

    marker = tmp_path / "starting"

    def stuck(cls: type[Reader], settings: dict[str, object]) -> Reader:
        with open(marker, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        time.sleep(600)
        raise AssertionError("not reached")

    monkeypatch.setattr(reader_io.Reader, "from_settings", classmethod(stuck))
    monkeypatch.setattr(readers, "READY_LIMIT", 1.0)
    refs = _with_new_files(repos, 4)
    records = _on_workers(monkeypatch, refs)
    _assert_git_read_them_all(records, refs)
    pids = [int(line) for line in marker.read_text().split()]
    assert len(pids) == readers.worker_count(2), "none is started again"
    for pid in pids:
        with pytest.raises(ProcessLookupError):  # killed and reaped: no orphan is left
            os.kill(pid, 0)


def test_workers_forked_from_another_thread_read_as_well(
    repos: RepoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``gitoverit watch`` scans on a thread of its event loop: workers forked from there
    set up their signals and read in-process like any other."""
    import threading

    refs = _with_new_files(repos, 4)
    found: list[RepoRecord] = []
    thread = threading.Thread(target=lambda: found.extend(_on_workers(monkeypatch, refs)))
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    assert sorted(r.ref.path for r in found) == sorted(ref.path for ref in refs)
    assert all(r.reader == "libgit2" and r.error is None for r in found)
