"""Discovery: which folders are reported as repositories, how they are marked, and the walk's
behaviour around ignores, symlinks, unreadable folders, odd names and streaming."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import RepoFactory, sh
from gitoverit.discovery import NullListener, RepoFinderListener, find_repos
from gitoverit.git import command
from gitoverit.model import RepoRef


class Recorder:
    """A listener that keeps every event, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def started(self, roots: Sequence[str]) -> None:
        self.events.append(("started", tuple(roots)))

    def looking_at(self, path: str) -> None:
        self.events.append(("looking_at", path))

    def repo_found(self, ref: RepoRef) -> None:
        self.events.append(("repo_found", ref.path))

    def warning(self, path: str, message: str) -> None:
        self.events.append(("warning", (path, message)))

    def finished(self, n_repos: int) -> None:
        self.events.append(("finished", n_repos))

    def of(self, kind: str) -> list[object]:
        return [value for k, value in self.events if k == kind]

    @property
    def looked_at(self) -> list[str]:
        return [str(p) for p in self.of("looking_at")]

    @property
    def warnings(self) -> list[tuple[str, str]]:
        return [w for w in self.of("warning") if isinstance(w, tuple)]


def found(*roots: str | os.PathLike[str], **kwargs: object) -> dict[str, RepoRef]:
    """Run discovery and return its refs by path, asserting no path is reported twice."""
    refs = list(find_repos(list(roots), **kwargs))  # type: ignore[arg-type]
    by_path = {r.path: r for r in refs}
    assert len(by_path) == len(refs), [r.path for r in refs]
    return by_path


def git_init(path: Path | bytes) -> None:
    subprocess.run([b"git", b"init", b"-q", b"-b", b"main", os.fsencode(path)], check=True)


# -- plain repositories ----------------------------------------------------------------


def test_plain_repos_at_any_depth(repos: RepoFactory) -> None:
    a = repos.repo("a")
    b = repos.repo("group/b", commits=2)
    c = repos.repo("group/deeper/still/c")
    (repos.root / "empty" / "folder").mkdir(parents=True)
    (repos.root / "notes.txt").write_text("not a repo\n")

    refs = found(repos.root)

    assert set(refs) == {str(a.path), str(b.path), str(c.path)}
    for repo in (a, b, c):
        ref = refs[str(repo.path)]
        assert ref.git_dir == str(repo.git_dir)
        assert ref.root == str(repos.root)
        assert os.path.isabs(ref.path)
        assert not ref.is_worktree
        assert not ref.is_submodule


def test_root_that_is_a_repo_is_reported(repos: RepoFactory) -> None:
    a = repos.repo("a")
    assert set(found(a.path)) == {str(a.path)}


def test_bare_repo_and_git_dir_are_not_reported(repos: RepoFactory) -> None:
    repos.repo("bare.git", bare=True)
    work = repos.repo("work")
    rec = Recorder()
    refs = found(repos.root, listener=rec)
    assert set(refs) == {str(work.path)}
    # Neither the bare repo's internals nor any .git folder is walked.
    assert not [p for p in rec.looked_at if "bare.git" + os.sep in p or os.sep + ".git" in p]


def test_overlapping_roots_give_no_duplicates(repos: RepoFactory) -> None:
    a = repos.repo("outer/a")
    b = repos.repo("outer/inner/b")
    refs = found(repos.root / "outer", repos.root / "outer" / "inner", repos.root)
    assert set(refs) == {str(a.path), str(b.path)}
    assert refs[str(b.path)].root == str(repos.root / "outer")


def test_relative_root_is_made_absolute(
    repos: RepoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = repos.repo("a")
    monkeypatch.chdir(repos.root)
    refs = found(".")
    assert list(refs) == [str(a.path)]
    assert refs[str(a.path)].display_path == "a"
    assert refs[str(a.path)].root == str(repos.root)


def test_display_path_relative_to_cwd_else_home(
    repos: RepoFactory, tmp_path: Path, git_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = repos.repo("a")
    in_home = git_env / "code" / "h"
    in_home.mkdir(parents=True)
    git_init(in_home)
    monkeypatch.chdir(repos.root)
    refs = found(repos.root, git_env / "code", tmp_path / "work")
    assert refs[str(a.path)].display_path == "a"
    assert refs[str(in_home)].display_path == "~/code/h"
    monkeypatch.chdir(a.path)
    assert found(a.path)[str(a.path)].display_path == "."
    monkeypatch.chdir(git_env / "code")
    assert found(a.path)[str(a.path)].display_path == str(a.path)


def test_missing_root_warns_and_other_roots_still_walk(repos: RepoFactory) -> None:
    a = repos.repo("a")
    missing = repos.root / "nope"
    file_root = repos.root / "file.txt"
    file_root.write_text("x\n")
    rec = Recorder()
    refs = found(missing, file_root, repos.root, listener=rec)
    assert set(refs) == {str(a.path)}
    warned = {path for path, _ in rec.warnings}
    assert warned == {str(missing), str(file_root)}


# -- nested repositories and ignores ---------------------------------------------------


def test_nested_repo_not_ignored_is_found(repos: RepoFactory) -> None:
    outer = repos.repo("outer")
    inner = repos.repo("outer/libs/inner")
    deepest = repos.repo("outer/libs/inner/x/deepest")
    refs = found(repos.root)
    assert set(refs) == {str(outer.path), str(inner.path), str(deepest.path)}


def test_nested_repo_is_found_when_git_cannot_tell_whether_it_is_ignored(
    repos: RepoFactory,
) -> None:
    outer = repos.repo("outer")
    outer.commit(".gitignore", "vendor/\n")
    inner = repos.repo("outer/vendor/inner")
    # A corrupt index makes every `git check-ignore` in "outer" fail.
    (outer.git_dir / "index").write_bytes(b"DIRC garbage")
    rec = Recorder()
    assert set(found(repos.root, listener=rec)) == {str(outer.path), str(inner.path)}
    ((path, message),) = rec.warnings
    assert path == str(inner.path)
    assert message.startswith("could not check ignore rules: ") and "index" in message


def test_nested_repo_is_found_when_git_cannot_run_or_says_nothing(
    repos: RepoFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outer = repos.repo("outer")
    outer.commit(".gitignore", "vendor/\n")
    inner = repos.repo("outer/vendor/inner")
    # A git whose check-ignore fails without a word.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    real_git = shutil.which("git")
    (bin_dir / "git").write_text(
        f'#!/bin/sh\nfor a; do [ "$a" = check-ignore ] && exit 3; done\nexec {real_git} "$@"\n'
    )
    (bin_dir / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    rec = Recorder()
    assert set(found(repos.root, listener=rec)) == {str(outer.path), str(inner.path)}
    assert rec.warnings == [
        (str(inner.path), "could not check ignore rules: git check-ignore exited with 3")
    ]
    # No git at all.
    monkeypatch.setattr(command, "GIT", str(tmp_path / "no-such-git"))
    rec = Recorder()
    assert set(found(repos.root, listener=rec)) == {str(outer.path), str(inner.path)}
    ((path, message),) = rec.warnings
    assert path == str(inner.path) and message.startswith("could not check ignore rules: ")


def test_nested_ignored_repo_is_skipped_unless_include_ignored(repos: RepoFactory) -> None:
    outer = repos.repo("outer")
    outer.commit(".gitignore", "vendor/\n")
    by_gitignore = repos.repo("outer/vendor/dep")
    below_ignored = repos.repo("outer/vendor/dep/sub/deeper")
    by_exclude = repos.repo("outer/private")
    (outer.git_dir / "info").mkdir(exist_ok=True)
    (outer.git_dir / "info" / "exclude").write_text("/private\n")
    kept = repos.repo("outer/kept")

    assert set(found(repos.root)) == {str(outer.path), str(kept.path)}
    assert set(found(repos.root, include_ignored=True)) == {
        str(outer.path),
        str(kept.path),
        str(by_gitignore.path),
        str(below_ignored.path),
        str(by_exclude.path),
    }


def test_ignore_check_uses_the_nearest_enclosing_repo(repos: RepoFactory) -> None:
    outer = repos.repo("outer")
    outer.commit(".gitignore", "ignored-by-outer\n")
    middle = repos.repo("outer/middle")
    # Ignored by "outer" only by name, but "middle" (its nearest repo) does not ignore it.
    inner = repos.repo("outer/middle/ignored-by-outer")
    assert set(found(repos.root)) == {str(outer.path), str(middle.path), str(inner.path)}


def test_ignored_heavy_folder_is_not_walked(repos: RepoFactory) -> None:
    outer = repos.repo("outer")
    outer.commit(".gitignore", "node_modules/\n")
    dep = repos.repo("outer/node_modules/dep")
    (repos.root / "outer" / "node_modules" / "pkg" / "lib").mkdir(parents=True)
    rec = Recorder()
    assert set(found(repos.root, listener=rec)) == {str(outer.path)}
    assert not [p for p in rec.looked_at if "node_modules" in p]

    rec = Recorder()
    assert str(dep.path) in found(repos.root, include_ignored=True, listener=rec)
    assert str(repos.root / "outer" / "node_modules" / "pkg" / "lib") in rec.looked_at


def test_heavy_folder_that_is_not_ignored_is_walked(repos: RepoFactory) -> None:
    outer = repos.repo("outer")
    dep = repos.repo("outer/node_modules/dep")
    venv_repo = repos.repo("outer/.venv/src/editable")
    assert set(found(repos.root)) == {str(outer.path), str(dep.path), str(venv_repo.path)}


# -- worktrees, submodules, gitdir files ----------------------------------------------


def test_linked_worktrees_are_found_and_marked(repos: RepoFactory) -> None:
    main = repos.repo("main")
    wt_plain = repos.root / "feature-wt"
    wt_modules_name = repos.root / "my-modules-wt"
    wt_named_modules = repos.root / "modules"
    wt_inside = main.path / "worktrees-here" / "inside"
    for i, wt in enumerate((wt_plain, wt_modules_name, wt_named_modules, wt_inside)):
        main.git("worktree", "add", "-q", "-b", f"b{i}", str(wt))

    refs = found(repos.root)

    assert set(refs) == {str(main.path), str(wt_plain), str(wt_modules_name)} | {
        str(wt_named_modules),
        str(wt_inside),
    }
    assert not refs[str(main.path)].is_worktree
    for wt in (wt_plain, wt_modules_name, wt_named_modules, wt_inside):
        ref = refs[str(wt)]
        assert ref.is_worktree, wt
        assert not ref.is_submodule, wt
        assert ref.git_dir == os.path.join(str(main.git_dir), "worktrees", wt.name)
        assert os.path.isfile(os.path.join(ref.git_dir, "commondir"))


def test_submodules_are_found_and_marked(repos: RepoFactory, tmp_path: Path) -> None:
    upstream = RepoFactory(tmp_path / "upstream")
    (tmp_path / "upstream").mkdir()
    lib = upstream.repo("lib")
    other = upstream.repo("other")
    sup = repos.repo("super")
    sup.git("submodule", "add", "-q", lib.path.as_uri(), "sub")
    sup.git("submodule", "add", "-q", other.path.as_uri(), "libs/modules/other")
    sup.git("commit", "-q", "-m", "add submodules")

    refs = found(repos.root)

    sub = str(sup.path / "sub")
    deep = str(sup.path / "libs" / "modules" / "other")
    assert set(refs) == {str(sup.path), sub, deep}
    assert not refs[str(sup.path)].is_submodule
    assert refs[sub].is_submodule and not refs[sub].is_worktree
    assert refs[sub].git_dir == os.path.join(str(sup.git_dir), "modules", "sub")
    assert refs[deep].is_submodule and not refs[deep].is_worktree
    assert refs[deep].git_dir == os.path.join(str(sup.git_dir), "modules", "libs/modules/other")


def test_a_submodule_is_known_by_where_its_git_dir_lives(
    repos: RepoFactory, tmp_path: Path
) -> None:
    # Without core.worktree in its config (an older git, or a hand-made submodule) only
    # its place under modules/ of the superproject's git dir tells it is a submodule.
    (tmp_path / "upstream").mkdir()
    lib = RepoFactory(tmp_path / "upstream").repo("lib")
    sup = repos.repo("super")
    sup.git("submodule", "add", "-q", lib.path.as_uri(), "sub")
    git_dir = sup.git_dir / "modules" / "sub"
    sh("git", "config", "--file", str(git_dir / "config"), "--unset", "core.worktree")
    refs = found(repos.root)
    sub = refs[str(sup.path / "sub")]
    assert sub.is_submodule and sub.git_dir == str(git_dir)


def test_separate_git_dir_is_a_plain_repo(repos: RepoFactory) -> None:
    store = repos.root / "store" / "sep.git"
    work = repos.root / "sep"
    store.parent.mkdir()
    sh("git", "init", "-q", f"--separate-git-dir={store}", str(work))
    refs = found(repos.root)
    # The store itself looks like a bare repo: not reported, not walked.
    assert set(refs) == {str(work)}
    ref = refs[str(work)]
    assert ref.git_dir == str(store)
    assert not ref.is_worktree and not ref.is_submodule


def test_separate_git_dir_in_a_folder_named_modules_is_no_submodule(repos: RepoFactory) -> None:
    # Only a "modules" folder inside another git dir (next to its HEAD) holds submodules.
    store = repos.root / "store" / "modules" / "sep.git"
    work = repos.root / "sep"
    store.parent.mkdir(parents=True)
    (repos.root / "store" / "HEAD").mkdir()
    sh("git", "init", "-q", f"--separate-git-dir={store}", str(work))
    refs = found(repos.root)
    assert set(refs) == {str(work)}
    assert not refs[str(work)].is_submodule


def test_relative_gitdir_is_resolved_against_the_folder(repos: RepoFactory) -> None:
    real = repos.repo("real")
    moved = repos.root / "elsewhere" / "real.git"
    moved.parent.mkdir()
    shutil.move(str(real.path / ".git"), str(moved))
    (real.path / ".git").write_text("gitdir: ../elsewhere/real.git\n")
    assert real.git("rev-parse", "--is-inside-work-tree") == "true"
    refs = found(repos.root)
    assert set(refs) == {str(real.path)}
    assert refs[str(real.path)].git_dir == str(moved)


def test_corrupt_git_entries_are_still_reported(repos: RepoFactory) -> None:
    garbage = repos.root / "garbage"
    garbage.mkdir()
    (garbage / ".git").write_bytes(b"\x00\xffnot a gitfile\n")
    headless = repos.root / "headless"
    (headless / ".git" / "objects").mkdir(parents=True)
    dangling = repos.root / "dangling"
    dangling.mkdir()
    (dangling / ".git").write_text("gitdir: /nonexistent/path/to/gitdir\n")
    broken_link = repos.root / "broken-link"
    broken_link.mkdir()
    (broken_link / ".git").symlink_to(repos.root / "no-such-target")

    refs = found(repos.root)

    assert set(refs) == {str(garbage), str(headless), str(dangling), str(broken_link)}
    assert refs[str(garbage)].git_dir == str(garbage / ".git")
    assert refs[str(headless)].git_dir == str(headless / ".git")
    assert refs[str(dangling)].git_dir == "/nonexistent/path/to/gitdir"
    assert refs[str(broken_link)].git_dir == str(broken_link / ".git")
    assert not any(r.is_worktree or r.is_submodule for r in refs.values())


# -- symlinks --------------------------------------------------------------------------


def test_repo_behind_symlinks_is_reported_once_under_its_own_path(repos: RepoFactory) -> None:
    real = repos.repo("zz-real/proj")
    # Sorted before the real folder, so a plain depth-first walk would meet the links first.
    (repos.root / "aa-link").symlink_to(repos.root / "zz-real")
    (repos.root / "ab-link-to-repo").symlink_to(real.path)
    refs = found(repos.root)
    assert set(refs) == {str(real.path)}


def test_symlink_cycle_terminates(repos: RepoFactory) -> None:
    a = repos.repo("loop/a")
    (repos.root / "loop" / "a" / "up").symlink_to(repos.root / "loop")
    (repos.root / "loop" / "self").symlink_to(".")
    (repos.root / "loop" / "x").mkdir()
    (repos.root / "loop" / "x" / "back").symlink_to(repos.root)
    assert set(found(repos.root)) == {str(a.path)}


def test_repo_only_reachable_through_a_symlink_is_reported(
    repos: RepoFactory, tmp_path: Path
) -> None:
    outside = RepoFactory(tmp_path / "outside")
    (tmp_path / "outside").mkdir()
    ext = outside.repo("ext")
    (repos.root / "linked").symlink_to(ext.path)
    refs = found(repos.root)
    assert set(refs) == {str(repos.root / "linked")}
    assert refs[str(repos.root / "linked")].git_dir == str(repos.root / "linked" / ".git")


# -- exclude and max_depth -------------------------------------------------------------


def test_exclude_by_name_and_by_relative_path(repos: RepoFactory) -> None:
    keep = repos.repo("code/keep")
    repos.repo("code/node_modules/dep")
    repos.repo("archive/old")
    deep_archive = repos.repo("x/archive/kept-since-pattern-is-rooted")
    repos.repo("tmp-scratch")
    refs = found(repos.root, exclude=["node_modules", "archive/*", "tmp-*"])
    assert set(refs) == {str(keep.path), str(deep_archive.path)}
    # A pattern matching a root's own name does not exclude the root.
    assert set(found(keep.path, exclude=["keep"])) == {str(keep.path)}
    # A trailing slash is accepted.
    assert str(deep_archive.path) not in found(repos.root, exclude=["x/"])


@pytest.mark.parametrize(
    ("max_depth", "expected"),
    [(0, {"."}), (1, {".", "d1"}), (2, {".", "d1", "a/d2"}), (None, {".", "d1", "a/d2", "a/b/d3"})],
)
def test_max_depth(repos: RepoFactory, max_depth: int | None, expected: set[str]) -> None:
    for rel in (".", "d1", "a/d2", "a/b/d3"):
        git_init(repos.root / rel)
    rec = Recorder()
    refs = found(repos.root, max_depth=max_depth, listener=rec)
    assert set(refs) == {os.path.normpath(str(repos.root / rel)) for rel in expected}
    depths = [
        0 if p == str(repos.root) else os.path.relpath(p, repos.root).count(os.sep) + 1
        for p in rec.looked_at
    ]
    assert max(depths) == (3 if max_depth is None else max_depth)


def test_negative_max_depth_is_refused(repos: RepoFactory) -> None:
    with pytest.raises(ValueError, match="max_depth"):
        list(find_repos([str(repos.root)], max_depth=-1))


# -- unreadable folders and odd names --------------------------------------------------


def _discover_as_unprivileged(root: Path) -> dict[str, object]:
    """Run discovery where permission bits apply: in a forked child that is ``nobody``
    when the tests run as root (root reads every folder whatever its mode)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        code = 1
        try:
            os.close(read_end)
            if os.geteuid() == 0:
                nobody = pwd.getpwnam("nobody")
                os.setgroups([])
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
            rec = Recorder()
            refs = [r.path for r in find_repos([str(root)], listener=rec)]
            payload = {"euid": os.geteuid(), "repos": refs, "warnings": rec.warnings}
            with os.fdopen(write_end, "w") as out:
                json.dump(payload, out)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as inp:
        data = inp.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    result: dict[str, object] = json.loads(data)
    return result


def test_unreadable_folder_is_a_warning_and_the_walk_finishes() -> None:
    # pytest's tmp_path is private to its owner; this tree must be readable by "nobody".
    base = Path(tempfile.mkdtemp(prefix="gitoverit-perm-"))
    try:
        base.chmod(0o755)
        git_init(base / "a-before")
        git_init(base / "locked" / "hidden")
        git_init(base / "z-after")
        (base / "locked").chmod(0o000)

        result = _discover_as_unprivileged(base)

        assert result["euid"] != 0
        assert result["warnings"] == [[str(base / "locked"), "Permission denied"]]
        assert result["repos"] == [str(base / "a-before"), str(base / "z-after")]
    finally:
        (base / "locked").chmod(0o755)
        shutil.rmtree(base)


def test_folder_vanishing_during_the_walk_is_a_warning(repos: RepoFactory) -> None:
    a = repos.repo("a")
    repos.repo("b/gone")
    c = repos.repo("c")

    class Deleter(Recorder):
        def looking_at(self, path: str) -> None:
            super().looking_at(path)
            if path == str(a.path):
                shutil.rmtree(repos.root / "b")

    rec = Deleter()
    refs = found(repos.root, listener=rec)
    assert set(refs) == {str(a.path), str(c.path)}
    assert rec.warnings == [(str(repos.root / "b"), "No such file or directory")]
    assert rec.of("finished") == [2]


def test_non_utf8_folder_names(repos: RepoFactory) -> None:
    raw_root = os.fsencode(repos.root)
    plain = raw_root + b"/caf\xe9-repo"
    os.mkdir(plain)
    git_init(plain)
    outer = repos.repo("outer")
    outer.commit(".gitignore", "ign*\n")
    os.makedirs(os.fsencode(outer.path) + b"/\xff\xfe-dir")
    nested = os.fsencode(outer.path) + b"/\xff\xfe-dir/nested"
    ignored = os.fsencode(outer.path) + b"/ign-\xe9"
    git_init(nested)
    git_init(ignored)

    rec = Recorder()
    refs = found(repos.root, listener=rec)

    assert set(refs) == {os.fsdecode(plain), str(outer.path), os.fsdecode(nested)}
    assert rec.warnings == []
    ref = refs[os.fsdecode(plain)]
    assert os.fsencode(ref.path) == plain
    assert os.path.isdir(os.fsencode(ref.git_dir))
    assert ref.name == os.fsdecode(b"caf\xe9-repo")
    assert os.fsdecode(ignored) in found(repos.root, include_ignored=True)


# -- listener and streaming ------------------------------------------------------------


def test_listener_sequence(repos: RepoFactory) -> None:
    a = repos.repo("a")
    b = repos.repo("b")
    rec = Recorder()
    refs = list(find_repos([str(repos.root)], listener=rec))
    assert [r.path for r in refs] == [str(a.path), str(b.path)]
    kinds = [k for k, _ in rec.events]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert rec.of("started") == [(str(repos.root),)]
    assert rec.of("finished") == [2]
    assert rec.of("repo_found") == [str(a.path), str(b.path)]
    assert rec.looked_at[0] == str(repos.root)
    quiet: RepoFinderListener = NullListener()
    assert list(find_repos([str(repos.root)], listener=quiet)) == refs


def test_first_repo_is_yielded_before_the_walk_goes_on(repos: RepoFactory) -> None:
    made = [repos.repo(f"r{i}") for i in range(5)]
    rec = Recorder()
    walk = find_repos([str(repos.root)], listener=rec)

    first = next(walk)

    assert first.path == str(made[0].path)
    assert rec.of("repo_found") == [first.path]
    assert str(made[-1].path) not in rec.looked_at
    assert rec.of("finished") == []
    walk.close()
    # Stopping early is not a finished walk.
    assert rec.of("finished") == []


def test_events_interleave_with_the_walk(repos: RepoFactory) -> None:
    made = [repos.repo(f"g{i}/r") for i in range(4)]
    rec = Recorder()
    for ref in find_repos([str(repos.root)], listener=rec):
        rec.events.append(("yielded", ref.path))
    order = [(k, v) for k, v in rec.events if k in ("repo_found", "yielded", "looking_at")]
    first_found = order.index(("repo_found", str(made[0].path)))
    assert order[first_found + 1] == ("yielded", str(made[0].path))
    assert first_found < order.index(("looking_at", str(made[1].path)))
    assert rec.events[-1] == ("finished", 4)


# -- property: the reported set is exactly the set of repos made ----------------------

_names = st.sampled_from(["a", "b", "c", "modules", "d e", "wt"])
_rel_paths = st.lists(_names, min_size=0, max_size=4).map(tuple)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    folders=st.lists(_rel_paths, max_size=8),
    repo_spots=st.lists(_rel_paths, min_size=1, max_size=6, unique=True),
    max_depth=st.none() | st.integers(min_value=0, max_value=4),
)
def test_property_reports_exactly_the_repos_made(
    folders: list[tuple[str, ...]],
    repo_spots: list[tuple[str, ...]],
    max_depth: int | None,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        for rel in folders:
            root.joinpath(*rel).mkdir(parents=True, exist_ok=True)
        for rel in repo_spots:
            git_init(root.joinpath(*rel))
        expected = {
            str(root.joinpath(*rel))
            for rel in repo_spots
            if max_depth is None or len(rel) <= max_depth
        }
        rec = Recorder()
        refs = found(root, max_depth=max_depth, listener=rec)
        assert set(refs) == expected
        assert rec.of("finished") == [len(expected)]
        assert rec.warnings == []
        assert all(r.git_dir == os.path.join(r.path, ".git") for r in refs.values())
