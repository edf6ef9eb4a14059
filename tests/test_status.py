"""Reading repository state: one real repo per shape, plus the pure parsers."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Repo, RepoFactory, git_dirs_snapshot, sh
from gitoverit.errors import CommandError, GitNotARepoError
from gitoverit.git.gitconfig import common_dir, parse_config, read_config
from gitoverit.git.gitdir import detect_operation, read_remote_url
from gitoverit.git.index import IndexFormatError, parse_index
from gitoverit.git.metadata import metadata_via_status
from gitoverit.git.porcelain import (
    STATUS_ARGS,
    ParsedStatus,
    StatusParseError,
    count_untracked,
    parse_porcelain_v2,
)
from gitoverit.git.status import read_status
from gitoverit.git.tracked import count_gitlinks, latest_mtime, read_index
from gitoverit.model import Operation, Reason, RepoRef, RepoStatus
from gitoverit.text import redact_url
from inproc_check import assert_same_in_process


def ref_of(repo: Repo | Path, git_dir: Path | None = None) -> RepoRef:
    path = repo.path if isinstance(repo, Repo) else repo
    if git_dir is None:
        git_dir = Path(sh("git", "rev-parse", "--absolute-git-dir", cwd=path))
    return RepoRef(os.fspath(path), os.fspath(git_dir), os.fspath(path))


def status(repo: Repo | Path, **kw: bool) -> RepoStatus:
    """The git engine's status of *repo*; a full one is checked against the in-process
    reader, which must give the same record, line totals included, or decline."""
    ref = ref_of(repo)
    result = read_status(ref, **kw)
    if not kw:
        assert_same_in_process(ref, result)
    return result


def counts(st_: RepoStatus) -> tuple[int | None, ...]:
    return (st_.staged, st_.modified, st_.deleted, st_.untracked, st_.conflicted)


# ---------------------------------------------------------------------------------------
# work-tree shapes


def test_clean_clone(repos: RepoFactory) -> None:
    remote, clone = repos.remote_and_clone("clean", commits=2)
    s = status(clone)
    assert s.branch == "main"
    assert s.head == clone.head
    assert not s.detached
    assert s.upstream == "origin/main"
    assert not s.upstream_gone
    assert (s.ahead, s.behind) == (0, 0)
    assert counts(s) == (0, 0, 0, 0, 0)
    assert s.stashes == 0
    assert s.operation is None
    assert s.submodules == 0
    assert s.remote_url == remote.path.as_uri()
    assert s.dirty is False
    assert s.mtime is not None


def test_modified_files_counted_once_each(repos: RepoFactory) -> None:
    r = repos.repo("modified", commits=3)
    r.write("file.txt", "changed\n")
    r.write("file1.txt", "changed\n")
    r.git("add", "file1.txt")
    r.write("file1.txt", "changed again\n")  # staged and modified: one path
    s = status(r)
    assert (s.staged, s.modified, s.deleted, s.untracked, s.conflicted) == (1, 2, 0, 0, 0)
    assert s.dirty is True


def test_untracked_folder_counts_as_one(repos: RepoFactory) -> None:
    r = repos.repo("untracked")
    r.write("new.txt")
    r.write("newdir/a.txt")
    r.write("newdir/deep/b.txt")
    r.write("tracked/keep.txt")
    r.git("add", "tracked")
    r.write("tracked/loose.txt")  # in a folder with tracked files: listed by itself
    r.write("tracked/sub/x.txt")  # wholly untracked sub-folder: one entry
    r.write(".gitignore", "*.log\nonlyignored/\n")
    r.write("onlyignored/a.txt")
    r.write("logs/a.log")  # a folder holding only ignored files is not listed
    s = status(r)
    # new.txt, newdir/, tracked/loose.txt, tracked/sub/, .gitignore
    assert s.untracked == 5
    assert s.staged == 1
    assert s.modified == 1


def test_staged_new_file(repos: RepoFactory) -> None:
    r = repos.repo("staged")
    r.write("added.txt")
    r.git("add", "added.txt")
    s = status(r)
    assert counts(s) == (1, 1, 0, 0, 0)


def test_deleted_in_worktree_and_index(repos: RepoFactory) -> None:
    r = repos.repo("deleted", commits=3)
    (r.path / "file1.txt").unlink()
    r.git("rm", "-q", "file2.txt")
    s = status(r)
    assert (s.staged, s.modified, s.deleted) == (1, 0, 2)


def test_rename_and_type_change(repos: RepoFactory) -> None:
    r = repos.repo("rename", commits=3)
    r.git("mv", "file1.txt", "renamed.txt")
    (r.path / "file2.txt").unlink()
    (r.path / "file2.txt").symlink_to("file.txt")  # T in the work tree
    s = status(r)
    assert (s.staged, s.modified, s.deleted, s.untracked) == (1, 2, 0, 0)


def test_merge_conflict(repos: RepoFactory) -> None:
    r = repos.repo("conflicted")
    r.git("checkout", "-q", "-b", "other")
    r.commit("file.txt", "other side\n")
    r.git("checkout", "-q", "main")
    r.commit("file.txt", "main side\n")
    r.git("merge", "-q", "other", check=False)
    s = status(r)
    assert s.conflicted == 1
    assert (s.staged, s.modified, s.deleted) == (0, 0, 0)
    assert s.operation is Operation.MERGE
    assert s.branch == "main"
    assert s.dirty is True


def _diverge(r: Repo) -> None:
    r.git("checkout", "-q", "-b", "topic")
    r.commit("file.txt", "topic\n")
    r.git("checkout", "-q", "main")
    r.commit("file.txt", "main\n")


def test_mid_rebase(repos: RepoFactory) -> None:
    r = repos.repo("rebase")
    _diverge(r)
    r.git("checkout", "-q", "topic")
    r.git("rebase", "main", check=False)
    s = status(r)
    assert s.operation is Operation.REBASE
    assert s.conflicted == 1
    assert s.detached is True
    assert s.branch is None


def test_git_am_reported_as_rebase(repos: RepoFactory) -> None:
    r = repos.repo("am")
    _diverge(r)
    patch = r.git("format-patch", "-1", "topic", "-o", str(repos.aux / "patches"))
    r.git("am", "-q", "-3", patch, check=False)
    assert (r.git_dir / "rebase-apply" / "applying").exists()
    assert status(r).operation is Operation.REBASE


def test_cherry_pick_and_revert(repos: RepoFactory) -> None:
    r = repos.repo("pick")
    _diverge(r)
    r.git("cherry-pick", "topic", check=False)
    s = status(r)
    assert s.operation is Operation.CHERRY_PICK
    assert s.conflicted == 1
    r.git("cherry-pick", "--abort")
    assert status(r).operation is None

    v = repos.repo("revert")
    first = v.commit("file.txt", "one\n")
    v.commit("file.txt", "two\n")
    v.git("revert", "--no-edit", first, check=False)
    assert status(v).operation is Operation.REVERT


def test_sequencer_between_steps(repos: RepoFactory) -> None:
    r = repos.repo("seq")
    _diverge(r)
    r.git("checkout", "-q", "-b", "more", "topic")
    r.commit("other.txt", "x\n")
    r.git("checkout", "-q", "main")
    r.git("cherry-pick", "topic~0", "more", check=False)  # stops on the first
    r.write("file.txt", "resolved\n")
    r.git("add", "file.txt")
    r.git("commit", "-q", "--no-edit")  # CHERRY_PICK_HEAD gone, sequencer/ left
    assert not (r.git_dir / "CHERRY_PICK_HEAD").exists()
    assert (r.git_dir / "sequencer").is_dir()
    assert detect_operation(str(r.git_dir)) is Operation.CHERRY_PICK


def test_bisect(repos: RepoFactory) -> None:
    r = repos.repo("bisect", commits=4)
    r.git("bisect", "start", "HEAD", "HEAD~3")
    s = status(r)
    assert s.operation is Operation.BISECT
    assert s.detached is True
    assert s.dirty is True


def test_stashes(repos: RepoFactory) -> None:
    r = repos.repo("stashed")
    for text in ("one\n", "two\n", "three\n"):
        r.write("file.txt", text)
        r.git("stash", "-q")
    s = status(r)
    assert s.stashes == 3
    assert counts(s) == (0, 0, 0, 0, 0)
    assert status(r, metadata_only=True).stashes == 3


def test_ahead_behind_diverged(repos: RepoFactory) -> None:
    remote, ahead = repos.remote_and_clone("ahead")
    ahead.commit("a.txt")
    ahead.commit("b.txt")
    s = status(ahead)
    assert (s.ahead, s.behind, s.upstream_gone) == (2, 0, False)

    remote, behind = repos.remote_and_clone("behind")
    repos.push_from_other(remote, 3)
    behind.git("fetch", "-q")
    s = status(behind)
    assert (s.ahead, s.behind) == (0, 3)

    remote, div = repos.remote_and_clone("diverged")
    repos.push_from_other(remote, 1)
    div.git("fetch", "-q")
    div.commit("local.txt")
    s = status(div)
    assert (s.ahead, s.behind) == (1, 1)
    assert s.dirty is False  # ahead/behind alone is not dirty


def test_upstream_gone(repos: RepoFactory) -> None:
    remote, r = repos.remote_and_clone("gone")
    r.git("checkout", "-q", "-b", "feature")
    r.commit("f.txt")
    r.git("push", "-q", "-u", "origin", "feature")
    other = repos.push_from_other(remote, 0, name="deleter")
    other.git("push", "-q", "origin", "--delete", "feature")
    r.git("fetch", "-q", "--prune")
    s = status(r)
    assert s.upstream == "origin/feature"
    assert s.upstream_gone is True
    assert (s.ahead, s.behind) == (None, None)
    assert s.remote_url == remote.path.as_uri()


def test_no_upstream_falls_back_to_origin(repos: RepoFactory) -> None:
    remote, r = repos.remote_and_clone("noup")
    r.git("checkout", "-q", "-b", "local-only")
    s = status(r)
    assert s.branch == "local-only"
    assert (s.upstream, s.upstream_gone, s.ahead, s.behind) == (None, False, None, None)
    assert s.remote_url == remote.path.as_uri()
    lone = repos.repo("lone")
    assert status(lone).remote_url is None


def test_detached(repos: RepoFactory) -> None:
    r = repos.repo("detached", commits=2)
    r.git("checkout", "-q", "--detach", "HEAD~1")
    s = status(r)
    assert s.detached is True
    assert s.branch is None
    assert s.head == r.head
    assert s.upstream is None
    assert s.dirty is False  # detached alone is not dirty


def test_unborn(repos: RepoFactory) -> None:
    r = repos.repo("unborn", commits=0)
    s = status(r)
    assert (s.branch, s.head, s.detached) == ("main", None, False)
    assert counts(s) == (0, 0, 0, 0, 0)
    assert s.mtime is None
    r.write("a.txt")
    r.write("b.txt")
    r.git("add", "a.txt")
    s = status(r)
    assert (s.staged, s.modified, s.untracked, s.head) == (1, 1, 1, None)
    assert s.mtime == _reference_mtime(r.path)
    assert s.mtime is not None


def test_unborn_with_upstream_is_not_gone(repos: RepoFactory) -> None:
    remote, _ = repos.remote_and_clone("seeded")
    r = repos.repo("fresh", commits=0)
    r.git("remote", "add", "origin", remote.path.as_uri())
    r.git("fetch", "-q", "origin")
    r.git("config", "branch.main.remote", "origin")
    r.git("config", "branch.main.merge", "refs/heads/main")
    s = status(r)
    assert s.head is None
    assert s.upstream == "origin/main"
    assert s.upstream_gone is False


def test_submodules(repos: RepoFactory) -> None:
    lib = repos.repo("lib", aux=True, commits=2)
    r = repos.repo("super")
    r.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib.path), "deps/lib")
    r.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib.path), "lib2")
    s = status(r)
    assert s.submodules == 2
    assert s.staged == 3  # .gitmodules and the two gitlinks
    r.git("commit", "-q", "-m", "subs")
    sub = Repo(r.path / "deps/lib")
    sub.write("file.txt", "dirty inside the submodule\n")
    s = status(r)
    assert s.modified == 0  # a dirty submodule reports itself
    sub.git("commit", "-qam", "moved")
    s = status(r)
    assert s.modified == 1  # the recorded commit differs
    assert status(r, metadata_only=True).submodules == 2
    # The submodule itself is a repository with its own git dir under .git/modules.
    sub_status = read_status(ref_of(sub.path))
    assert sub_status.head == sub.head
    assert sub_status.detached is False


def test_linked_worktree(repos: RepoFactory) -> None:
    remote, r = repos.remote_and_clone("main-wt")
    wt = repos.root / "wt"
    r.git("worktree", "add", "-q", "-b", "wtbranch", str(wt))
    wt_git_dir = r.git_dir / "worktrees" / "wt"
    assert common_dir(str(wt_git_dir)) == str(r.git_dir)
    Repo(wt).write("file.txt", "changed in the worktree\n")
    Repo(wt).git("stash", "-q")
    Repo(wt).commit("file.txt", "wt side\n")
    r.commit("file.txt", "main side\n")
    Repo(wt).git("merge", "-q", "main", check=False)
    s = read_status(ref_of(wt, wt_git_dir))
    assert s.branch == "wtbranch"
    assert s.operation is Operation.MERGE
    assert s.conflicted == 1
    assert s.stashes == 1  # refs/stash is shared
    assert s.remote_url == remote.path.as_uri()  # config lives in the common dir
    m = status(r)
    assert m.operation is None
    assert m.branch == "main"
    assert m.stashes == 1
    meta = read_status(ref_of(wt, wt_git_dir), metadata_only=True)
    assert (meta.branch, meta.operation, meta.stashes) == ("wtbranch", Operation.MERGE, 1)


def test_nested_and_enclosing_repos(repos: RepoFactory) -> None:
    outer = repos.repo("outer")
    inner = repos.repo("outer/inner", commits=2)
    outer.write("plain/x.txt")
    s = status(outer)
    assert s.untracked == 2  # inner/ and plain/
    assert status(inner).head == inner.head
    # A folder inside a repo is not a repo: git must not report on the enclosing one.
    with pytest.raises(GitNotARepoError) as info:
        read_status(RepoRef(str(outer.path / "plain"), str(outer.path / "plain/.git"), "p"))
    assert info.value.reason is Reason.NOT_A_REPO


def test_symlinks(repos: RepoFactory) -> None:
    r = repos.repo("links")
    (r.path / "link").symlink_to("file.txt")
    (r.path / "dangling").symlink_to("missing")
    r.git("add", "link")
    s = status(r)
    assert (s.staged, s.untracked) == (1, 1)
    os.utime(r.path / "dangling", ns=(0, 9_000_000_000_000_000_000), follow_symlinks=False)
    assert status(r).mtime == 9_000_000_000.0  # a symlink's own time, even if dangling


def test_non_utf8_names(repos: RepoFactory) -> None:
    bad = b"caf\xe9-\xff"
    path = os.fsencode(repos.root) + b"/" + bad
    os.mkdir(path)
    sh("git", "init", "-q", "-b", "main", os.fsdecode(path))
    r = Repo(Path(os.fsdecode(path)))
    with open(path + b"/" + bad + b".txt", "wb") as fh:
        fh.write(b"x\n")
    r.git("add", "-A")
    r.git("commit", "-q", "-m", "c")
    with open(path + b"/" + bad + b".txt", "wb") as fh:
        fh.write(b"y\n")
    os.makedirs(path + b"/dir-" + bad)
    with open(path + b"/dir-" + bad + b"/" + bad, "wb") as fh:
        fh.write(b"z\n")
    r.git("checkout", "-q", "-b", "br-\xe9")
    s = status(r)
    assert (s.modified, s.untracked) == (1, 1)
    assert s.branch == "br-\xe9"
    assert s.mtime is not None
    assert status(r, metadata_only=True).branch == "br-\xe9"


# ---------------------------------------------------------------------------------------
# errors


def test_not_a_repo(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitNotARepoError):
        read_status(RepoRef(str(plain), str(plain / ".git"), "plain"))
    with pytest.raises(GitNotARepoError):
        read_status(RepoRef(str(tmp_path / "missing"), str(tmp_path / "missing/.git"), "m"))


@pytest.mark.parametrize("damage", ["index", "head", "objects", "config"])
def test_corrupt_repo(repos: RepoFactory, damage: str) -> None:
    r = repos.repo("corrupt", commits=2)
    g = r.git_dir
    if damage == "index":
        (g / "index").write_bytes(b"DIRC garbage that is not an index" * 3)
    elif damage == "head":
        (g / "HEAD").write_bytes(b"\x00\x01garbage\n")
    elif damage == "objects":
        shutil.rmtree(g / "objects")
    else:
        (g / "config").write_text("[core\nbroken = = =\n")
    ref = ref_of(r.path, g)
    with pytest.raises(CommandError) as info:
        read_status(ref)
    assert info.value.reason is Reason.CORRUPT, str(info.value)
    if damage != "index":
        with pytest.raises(CommandError) as info:
            read_status(ref, metadata_only=True)
        assert info.value.reason is Reason.CORRUPT, str(info.value)


# ---------------------------------------------------------------------------------------
# remote URL


def test_credentials_redacted_in_record(repos: RepoFactory) -> None:
    r = repos.repo("creds")
    r.git("remote", "add", "origin", "https://alice:s3cr3t@example.com/team/x.git")
    r.git("remote", "add", "team/mirror", "https://ghp_TOKEN@example.com/mirror.git")
    r.git("config", "branch.main.remote", "team/mirror")
    r.git("config", "branch.main.merge", "refs/heads/main")
    s = status(r)
    assert s.remote_url == "https://***@example.com/mirror.git"
    assert read_remote_url(str(r.git_dir)) == "https://***@example.com/team/x.git"
    assert read_remote_url(str(r.git_dir), "nope") is None


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pass@host/x.git", "https://***@host/x.git"),
        ("https://token@host/x.git", "https://***@host/x.git"),
        ("https://host/x.git", "https://host/x.git"),
        ("ssh://git@host:22/x.git", "ssh://git@host:22/x.git"),
        ("ssh://git:pw@host/x.git", "ssh://git:***@host/x.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("https://host/x?private_token=abc&v", "https://host/x?private_token=***&v"),
        ("/srv/git/x.git", "/srv/git/x.git"),
        ("https://host/x\n\x1b[31mred", "https://host/x\\x0a\\x1b[31mred"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert "\n" not in redact_url(url)


_CONFIG_SAMPLE = (
    "# comment\n"
    '[remote "a/b"]\n'
    '\turl = "https://h/x y" ; trailing comment\n'
    "\turl = second\n"
    '[Remote "Quote\\"d"] URL = v1 \\\n continued  \n'
    "[branch.Main]\n\tremote=a/b\n"
    '[core]\n\tbare\n\tname = "tab\\there" # c\n'
    "\tsemi = a;b\n"
    '\tquoted = "a;b #c"   \n'
    "[include]\n\tpath = elsewhere\n"
)


def test_parse_config_matches_git(tmp_path: Path) -> None:
    cfg = tmp_path / "sample.cfg"
    cfg.write_text(_CONFIG_SAMPLE)
    out = sh("git", "config", "-f", cfg, "--null", "--list")
    want = []
    for item in out.split("\0"):
        if item:
            name, _, value = item.partition("\n")
            want.append((name, value if "\n" in item else None))
    got = []
    for e in parse_config(_CONFIG_SAMPLE):
        sub = f".{e.subsection}" if e.subsection is not None else ""
        got.append((f"{e.section}{sub}.{e.key}", e.value))
    assert got == want
    assert got[0] == ("remote.a/b.url", "https://h/x y")
    # A line git would reject ends the parse; what came before is kept.
    assert parse_config("[ok]\nk = v\n[broken\nx = y\n")[-1].value == "v"


# ---------------------------------------------------------------------------------------
# mtime


def _reference_mtime(path: Path) -> float | None:
    """Brute force: lstat every tracked and non-ignored untracked file git lists."""
    out = sh("git", "ls-files", "-z", "-co", "--exclude-standard", cwd=path)
    best = -1
    for rel in out.split("\0"):
        if not rel:
            continue
        try:
            s = os.lstat(path / rel)
        except OSError:
            continue
        if not stat.S_ISDIR(s.st_mode):
            best = max(best, s.st_mtime_ns)
    return best / 1e9 if best >= 0 else None


def test_mtime_matches_brute_force(repos: RepoFactory) -> None:
    r = repos.repo("mtime", commits=4)
    r.write(".gitignore", "*.log\nbuild/\n")
    r.write("src/a.py")
    r.write("src/b.py")
    r.git("add", "-A")
    r.git("commit", "-q", "-m", "tree")
    r.write("scratch/notes.txt")
    r.write("scratch/debug.log")
    r.write("build/out.bin")
    r.write("top.log")
    (r.path / "file1.txt").unlink()
    (r.path / "link").symlink_to("src")
    base = 1_600_000_000
    for i, p in enumerate(sorted(r.path.rglob("*"))):
        if ".git" not in p.parts and (p.is_symlink() or not p.is_dir()):
            os.utime(p, (base + i, base + i), follow_symlinks=False)
    ref = ref_of(r)
    ignored = ["scratch/debug.log", "build/out.bin", "top.log"]
    for newest in ["src/b.py", "scratch/notes.txt", "link", *ignored]:
        os.utime(r.path / newest, (base + 10_000, base + 10_000), follow_symlinks=False)
        got = read_status(ref).mtime
        assert got == _reference_mtime(r.path)
        if newest in ignored:
            assert got is not None and got < base + 10_000
        else:
            assert got == base + 10_000
        os.utime(r.path / newest, (base, base), follow_symlinks=False)
    os.utime(r.path / "src/a.py", (base + 5, base + 5))
    os.utime(r.path / "scratch", (base + 20_000, base + 20_000))  # a directory never counts
    assert latest_mtime(str(r.path), [b"src/a.py"], [b"scratch/", b"missing"]) == base + 5.0


# ---------------------------------------------------------------------------------------
# read-only


def test_status_is_read_only(repos: RepoFactory) -> None:
    _, r = repos.remote_and_clone("ro", commits=3)
    r.write("new.txt")
    r.write("file.txt", "modified\n")
    dirty = repos.repo("statdirty", commits=5)
    later = 1_900_000_000
    for p in dirty.path.glob("*.txt"):
        os.utime(p, (later, later))  # content unchanged, every stat entry stale
    conflicted = repos.repo("conflict-ro")
    _diverge(conflicted)
    conflicted.git("merge", "-q", "topic", check=False)
    refs = [ref_of(x) for x in (r, dirty, conflicted)]
    before = git_dirs_snapshot(repos.root)
    for ref in refs:
        assert read_status(ref).head is not None
        assert read_status(ref, metadata_only=True).head is not None
    assert git_dirs_snapshot(repos.root) == before
    # The stat-dirty repo is really stat-dirty: a plain git status would refresh its index.
    sh("git", "status", "--porcelain", cwd=dirty.path)
    assert git_dirs_snapshot(dirty.path) != {
        k: v for k, v in before.items() if k.startswith(str(dirty.path))
    }


def test_fsmonitor_command_not_run(repos: RepoFactory, tmp_path: Path) -> None:
    marker = tmp_path / "fsmonitor-ran"
    hook = tmp_path / "fsmonitor.sh"
    hook.write_text(f"#!/bin/sh\ntouch '{marker}'\nexit 1\n")
    hook.chmod(0o755)
    r = repos.repo("fsmon", commits=2)
    r.git("config", "core.fsmonitor", str(hook))
    r.write("file.txt", "changed\n")
    s = status(r)
    assert s.modified == 1
    assert not marker.exists()
    # The same repo without our hardening does run it, so the check above has teeth.
    sh("git", "--no-optional-locks", "status", "--porcelain", cwd=r.path)
    assert marker.exists()


# ---------------------------------------------------------------------------------------
# index


def _ls_files(path: Path) -> list[bytes]:
    out = sh("git", "ls-files", "-z", cwd=path)
    return [os.fsencode(p) for p in dict.fromkeys(out.split("\0")) if p]


@pytest.mark.parametrize("version", [2, 3, 4])
def test_index_versions(repos: RepoFactory, version: int) -> None:
    r = repos.repo("idx", commits=3)
    for i in range(30):
        r.write(f"dir{i % 3}/sub/{'n' * (i * 8)}{i}.txt")
    r.git("add", "-A")
    blob = r.git("hash-object", "-w", "file.txt")
    for i in range(3):  # index-only entries whose names are longer than 0xFFF bytes
        long_name = "/".join([f"{i}{'d' * 200}"] * 25)
        r.git("update-index", "--add", "--cacheinfo", f"100644,{blob},{long_name}")
    r.git("update-index", "--add", "--cacheinfo", f"160000,{r.head},gl/one")
    r.git("update-index", "--add", "--cacheinfo", f"160000,{r.head},gl/two")
    (r.path / "file1.txt").unlink()
    if version >= 3:  # extended flags exist from version 3 on
        r.write("dir0/intent.txt")
        r.git("add", "-N", "dir0/intent.txt")
        r.git("update-index", "--skip-worktree", "file2.txt")
    r.git("update-index", "--index-version", str(version))
    data = (r.git_dir / "index").read_bytes()
    assert int.from_bytes(data[4:8], "big") == version
    info = parse_index(data)
    assert list(info.paths) == _ls_files(r.path)
    assert info.gitlinks == 2
    s = status(r)
    assert s.submodules == 2
    assert count_gitlinks(ref_of(r)) == 2


def test_gitlink_fast_path_and_missing_index(repos: RepoFactory) -> None:
    r = repos.repo("nolinks", commits=3)
    assert count_gitlinks(ref_of(r)) == 0
    assert status(r, metadata_only=True).submodules == 0
    unborn = repos.repo("unborn-idx", commits=0)
    assert read_index(ref_of(unborn)).paths == ()
    assert count_gitlinks(ref_of(unborn)) == 0


def test_split_index_falls_back_to_git(repos: RepoFactory) -> None:
    r = repos.repo("split", commits=4)
    r.git("update-index", "--add", "--cacheinfo", f"160000,{r.head},gl")
    r.git("update-index", "--split-index")
    r.commit("late.txt")
    with pytest.raises(IndexFormatError):
        parse_index((r.git_dir / "index").read_bytes())
    info = read_index(ref_of(r))
    assert list(info.paths) == _ls_files(r.path)
    assert info.gitlinks == 1
    assert status(r).submodules == 1
    assert status(r, metadata_only=True).submodules == 1


def test_sparse_index_is_read_without_expanding_it(repos: RepoFactory) -> None:
    r = repos.repo("sparse")
    r.write("in/a.txt")
    r.write("out/deep/b.txt")
    r.write("out/deep/c.txt")
    r.git("add", "-A")
    r.git("update-index", "--add", "--cacheinfo", f"160000,{r.head},out/gl")
    r.git("update-index", "--add", "--cacheinfo", f"160000,{r.head},in/gl")
    r.git("commit", "-q", "-m", "tree")
    r.git("sparse-checkout", "init", "--cone", "--sparse-index")
    r.git("sparse-checkout", "set", "in")
    assert "040000" in r.git("ls-files", "--sparse", "--stage")  # really collapsed
    raw = parse_index((r.git_dir / "index").read_bytes())
    # out/ holds a submodule, so git collapsed only out/deep/.
    assert raw.trees == (b"out/deep/",)
    before = git_dirs_snapshot(r.path)
    info = read_index(ref_of(r))
    assert info.paths == raw.paths
    assert b"out/deep/" in info.paths and b"in/a.txt" in info.paths
    assert info.gitlinks == 2
    s = status(r)
    assert (s.submodules, s.deleted, s.untracked) == (2, 0, 0)
    # Expanding a sparse index (as ``git ls-files`` does) would rewrite object times.
    assert git_dirs_snapshot(r.path) == before
    # An untracked file in a collapsed directory: git status itself expands the index
    # then (and so touches object times); the count is still right.
    r.write("out/deep/new.txt")
    assert status(r).untracked == 1


def test_metadata_fallback_reads_status_headers(repos: RepoFactory) -> None:
    remote, r = repos.remote_and_clone("meta-fallback")
    r.commit("a.txt")
    r.write("b.txt")
    via_status = metadata_via_status(ref_of(r), read_config(str(r.git_dir)), 10.0)
    assert via_status == status(r, metadata_only=True)
    assert (via_status.ahead, via_status.untracked, via_status.remote_url) == (
        1,
        None,
        remote.path.as_uri(),
    )


def test_parse_index_rejects_garbage() -> None:
    for data in (b"", b"XXXX" + bytes(8), b"DIRC" + (9).to_bytes(4, "big") + bytes(4)):
        with pytest.raises(IndexFormatError):
            parse_index(data)
    truncated = b"DIRC" + (2).to_bytes(4, "big") + (5).to_bytes(4, "big") + bytes(30)
    with pytest.raises(IndexFormatError):
        parse_index(truncated)


# ---------------------------------------------------------------------------------------
# metadata-only


def test_metadata_only_agrees_with_full_status(repos: RepoFactory) -> None:
    _, ahead = repos.remote_and_clone("m-ahead")
    ahead.commit("a.txt")
    ahead.write("dirty.txt")
    _, gone = repos.remote_and_clone("m-gone")
    gone.git("checkout", "-q", "-b", "feature")
    gone.git("config", "branch.feature.remote", "origin")
    gone.git("config", "branch.feature.merge", "refs/heads/feature")
    detached = repos.repo("m-detached", commits=2)
    detached.git("checkout", "-q", "--detach")
    unborn = repos.repo("m-unborn", commits=0)
    merging = repos.repo("m-merge")
    _diverge(merging)
    merging.git("merge", "-q", "topic", check=False)
    shared = (
        "branch",
        "head",
        "detached",
        "upstream",
        "upstream_gone",
        "ahead",
        "behind",
        "stashes",
        "operation",
        "submodules",
        "remote_url",
    )
    for r in (ahead, gone, detached, unborn, merging):
        full = status(r)
        meta = status(r, metadata_only=True)
        for name in shared:
            assert getattr(meta, name) == getattr(full, name), (r.path.name, name)
        assert counts(meta) == (None, None, None, None, None)
        assert meta.mtime is None
    assert status(gone, metadata_only=True).upstream_gone is True
    assert status(ahead, metadata_only=True).ahead == 1
    assert status(merging, metadata_only=True).dirty is True


# ---------------------------------------------------------------------------------------
# porcelain parser


def test_parse_porcelain_headers_and_entries() -> None:
    data = (
        b"# branch.oid 1234567890123456789012345678901234567890\0"
        b"# branch.head feature/x\0"
        b"# branch.upstream origin/feature/x\0"
        b"# branch.ab +3 -1\0"
        b"# stash 2\0"
        b"1 .M N... 100644 100644 100644 aaaa bbbb has space.txt\0"
        b"1 MM N... 100644 100644 100644 aaaa bbbb both.txt\0"
        b"1 D. N... 100644 000000 000000 aaaa 0000 gone.txt\0"
        b"1 .T N... 100644 100644 120000 aaaa bbbb link\0"
        b"2 R. N... 100644 100644 100644 aaaa bbbb R100 new name\0old name\0"
        b"u UU N... 100644 100644 100644 100644 a b c conflict\0"
        b"? untracked dir/\0"
        b"? \xff\xfe\0"
    )
    p = parse_porcelain_v2(data)
    assert p.oid == "1234567890123456789012345678901234567890"
    assert (p.branch, p.detached, p.upstream) == ("feature/x", False, "origin/feature/x")
    assert (p.ahead, p.behind, p.stashes, p.upstream_gone) == (3, 1, 2, False)
    assert (p.staged, p.modified, p.deleted, p.conflicted) == (3, 4, 1, 1)
    assert p.untracked == (b"untracked dir/", b"\xff\xfe")


def test_parse_porcelain_special_heads() -> None:
    p = parse_porcelain_v2(b"# branch.oid (initial)\0# branch.head main\0")
    assert (p.oid, p.branch, p.stashes, p.ahead) == (None, "main", 0, None)
    p = parse_porcelain_v2(b"# branch.oid abc\0# branch.head (detached)\0")
    assert (p.branch, p.detached) == (None, True)
    gone = parse_porcelain_v2(b"# branch.oid abc\0# branch.head m\0# branch.upstream o/m\0")
    assert gone.upstream_gone is True
    assert parse_porcelain_v2(b"# branch.ab +? -?\0").ahead is None
    assert parse_porcelain_v2(b"").staged == 0
    for bad in (b"x nonsense\0", b"1\0", b"# branch.ab 3 1\0", b"# stash many\0"):
        with pytest.raises(StatusParseError):
            parse_porcelain_v2(bad)


def test_parse_porcelain_headers_keep_odd_names_and_name_what_is_wrong() -> None:
    p = parse_porcelain_v2(
        b"# branch.oid \xff1\0# branch.head caf\xe9\0# branch.upstream o/caf\xe9\0"
        b"# branch.ab +12 -345\0# stash 10\0# branch.future x y\0# lonely\0# branch.oid\0"
    )
    assert p.oid == "\ufffd1"
    assert (p.branch, p.upstream) == ("caf\udce9", "o/caf\udce9")
    assert (p.ahead, p.behind, p.stashes) == (12, 345, 10)
    for bad, says in (
        (b"# stash many", "bad stash header: b'# stash many'"),
        (b"# branch.ab 3 1", "bad branch.ab header: b'3 1'"),
        (b"# branch.ab +3", "bad branch.ab header: b'+3'"),
        (b"# branch.ab +3 -1 -2", "bad branch.ab header: b'+3 -1 -2'"),
        (b"# branch.ab +3 1", "bad branch.ab header: b'+3 1'"),
        (b"# branch.ab -3 +1", "bad branch.ab header: b'-3 +1'"),
    ):
        with pytest.raises(StatusParseError) as info:
            parse_porcelain_v2(bad + b"\0")
        assert str(info.value) == says
    assert parse_porcelain_v2(b"# branch.ab +? -3\0").behind is None


_paths = st.binary(min_size=1, max_size=12).filter(lambda b: b"\0" not in b)
_xy = st.sampled_from(
    [b".M", b"M.", b"MM", b"A.", b"AM", b".D", b"D.", b"MD", b".T", b"T.", b"AD", b".A"]
)
_entry = st.one_of(
    st.tuples(st.just(b"1"), _xy, _paths),
    st.tuples(st.just(b"2"), st.sampled_from([b"R.", b"RM", b"C.", b"RD"]), _paths, _paths),
    st.tuples(st.just(b"u"), st.sampled_from([b"UU", b"AA", b"DU"]), _paths),
    st.tuples(st.just(b"?"), _paths),
)


@given(
    entries=st.lists(_entry, max_size=20),
    ab=st.none() | st.tuples(st.integers(0, 999), st.integers(0, 999)),
    stash=st.integers(0, 50),
)
def test_parse_porcelain_round_trip(
    entries: list[tuple[bytes, ...]], ab: tuple[int, int] | None, stash: int
) -> None:
    out = [b"# branch.oid " + b"f" * 40, b"# branch.head main", b"# branch.upstream origin/main"]
    if ab is not None:
        out.append(b"# branch.ab +%d -%d" % ab)
    if stash:
        out.append(b"# stash %d" % stash)
    want = ParsedStatus(oid="f" * 40, branch="main", upstream="origin/main", stashes=stash)
    staged = modified = deleted = conflicted = 0
    untracked: list[bytes] = []
    for e in entries:
        kind = e[0].decode()
        if kind == "?":
            out.append(b"? " + e[1])
            untracked.append(e[1])
            continue
        xy = e[1].decode()
        if kind == "u":
            out.append(b"u " + e[1] + b" N... 1 2 3 4 a b c " + e[2])
            conflicted += 1
            continue
        line = f"{kind} {xy} N... 100644 100644 100644 aaa bbb ".encode()
        if kind == "2":
            line += b"R50 "
        out.append(line + e[2])
        if kind == "2":
            out.append(e[3])
        staged += xy[0] != "."
        modified += any(c in "MARCT" for c in xy)
        deleted += "D" in xy
    got = parse_porcelain_v2(b"\0".join(out) + b"\0")
    assert got.oid == want.oid and got.branch == "main" and got.stashes == stash
    assert (got.ahead, got.behind) == (ab if ab is not None else (None, None))
    assert got.upstream_gone is (ab is None)
    assert (got.staged, got.modified, got.deleted, got.conflicted) == (
        staged,
        modified,
        deleted,
        conflicted,
    )
    assert got.untracked == tuple(untracked)


# ---------------------------------------------------------------------------------------
# untracked folding equals git's own --untracked-files=normal

_tree = st.lists(
    st.tuples(
        st.lists(st.sampled_from(["a", "b", "c"]), min_size=0, max_size=3),
        st.sampled_from(["f", "g", "h.log"]),
        st.sampled_from(["tracked", "untracked", "untracked"]),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=_tree)
def test_count_untracked_matches_git_normal(tree: list[tuple[list[str], str, str]]) -> None:
    base = Path(tempfile.mkdtemp(prefix="untracked-"))
    try:
        sh("git", "init", "-q", "-b", "main", base)
        (base / ".gitignore").write_text("*.log\n")
        tracked = []
        for dirs, name, kind in tree:
            d = base.joinpath(*dirs)
            if d.exists() and not d.is_dir():
                continue
            d.mkdir(parents=True, exist_ok=True)
            f = d / name
            if f.is_dir():
                continue
            f.write_text("x\n")
            if kind == "tracked" and not name.endswith(".log"):
                tracked.append(os.fspath(f.relative_to(base)))
        if tracked:
            sh("git", "add", "--", *tracked, cwd=base)
        normal = sh("git", "status", "--porcelain=v2", "-z", "-unormal", cwd=base)
        want = sum(1 for e in normal.split("\0") if e.startswith("? "))
        every = sh("git", "status", "--porcelain=v2", "-z", "-uall", cwd=base)
        listed = [os.fsencode(e[2:]) for e in every.split("\0") if e.startswith("? ")]
        index = read_index(ref_of(base, base / ".git"))
        assert count_untracked(listed, index.paths) == want
        assert read_status(ref_of(base, base / ".git")).untracked == want
    finally:
        shutil.rmtree(base)


def test_status_args_are_the_documented_command() -> None:
    assert STATUS_ARGS[:5] == ("status", "--porcelain=v2", "--branch", "-z", "--show-stash")
    assert "--untracked-files=all" in STATUS_ARGS
    assert "--ignore-submodules=dirty" in STATUS_ARGS
