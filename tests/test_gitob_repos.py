"""gitob across repositories: ``gitob DIRS...`` lists the branches of every repository
found under the folders, repository by repository, with one ``git for-each-ref`` each."""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import Repo, RepoFactory
from gitoverit.cli import branches_main


def gitob(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = branches_main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def as_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    code, out, err = gitob(capsys, "-o", "json", *args)
    assert code == 0, err
    data: list[dict[str, Any]] = json.loads(out)
    return data


def pairs(data: list[dict[str, Any]], root: Path) -> list[tuple[str, str]]:
    return [(str(Path(b["repo"]).relative_to(root)), b["name"]) for b in data]


@pytest.fixture
def code_tree(repos: RepoFactory) -> Path:
    """Under ``work``: ``app`` (a clone: ``main`` in sync, ``ahead`` one commit ahead of its
    upstream, ``local`` without one), ``lib`` (``main`` in sync, ``old`` whose upstream is
    gone), and ``plain`` (a repo with one branch and no remote)."""
    _, app = repos.remote_and_clone("app")
    app.git("checkout", "-q", "-b", "ahead")
    app.git("push", "-q", "-u", "origin", "ahead")
    app.commit("ahead.txt")
    app.git("checkout", "-q", "-b", "local", "main")
    app.commit("local.txt")
    app.git("checkout", "-q", "main")
    _, lib = repos.remote_and_clone("lib")
    lib.git("checkout", "-q", "-b", "old")
    lib.git("push", "-q", "-u", "origin", "old")
    lib.git("push", "-q", "origin", "--delete", "old")
    lib.git("checkout", "-q", "main")
    repos.repo("plain")
    return repos.root


def test_every_repo_under_the_folder_with_its_path(
    capsys: pytest.CaptureFixture[str], code_tree: Path
) -> None:
    data = as_json(capsys, str(code_tree))
    assert pairs(data, code_tree) == [
        ("app", "ahead"),
        ("app", "local"),
        ("app", "main"),
        ("lib", "main"),
        ("lib", "old"),
        ("plain", "main"),
    ]
    for b in data:
        assert b["repo"] == b["repo_path"] and Path(b["repo"]).is_absolute()
    # Several folders, one of them twice: each repository once.
    data = as_json(capsys, str(code_tree / "plain"), str(code_tree / "lib"), str(code_tree))
    assert [n for _, n in pairs(data, code_tree)] == [
        "ahead",
        "local",
        "main",
        "main",
        "old",
        "main",
    ]


def test_unpushed_work_on_any_branch(capsys: pytest.CaptureFixture[str], code_tree: Path) -> None:
    code, out, _ = gitob(
        capsys, str(code_tree), "-w", "ahead > 0 or upstream is None", "-p", 'repo + " " + name'
    )
    assert code == 0
    assert out.splitlines() == [
        f"{code_tree}/app ahead",
        f"{code_tree}/app local",
        f"{code_tree}/plain main",
    ]


def test_the_table_groups_branches_under_their_repo(
    capsys: pytest.CaptureFixture[str], code_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(code_tree)
    code, out, _ = gitob(capsys, "-c", "-,branch,upstream,status")
    assert code == 0
    lines = [line.rstrip() for line in out.splitlines()]
    assert lines[0].split() == ["branch", "upstream", "status"]
    assert [line for line in lines if not line.startswith(" ") and "*" not in line][1:] == [
        "app",
        "lib",
        "plain",
    ]
    assert lines[1:-1] == [
        "app",
        "  ahead  origin/ahead  1↑",
        "  local",
        "* main   origin/main   clean",
        "lib",
        "* main   origin/main   clean",
        "  old    origin/old    ⊘",
        "plain",
        "* main                 clean",
    ]
    # With a repo column, every line says its repo and no line is a heading.
    code, out, _ = gitob(capsys, "-c", "-,repo,branch", "-w", 'name == "main"')
    assert [line.split() for line in out.splitlines()[:-1]] == [
        ["repo", "branch"],
        ["app", "*", "main"],
        ["lib", "*", "main"],
        ["plain", "*", "main"],
    ]


def test_a_single_repo_has_no_heading(capsys: pytest.CaptureFixture[str], code_tree: Path) -> None:
    code, out, _ = gitob(capsys, "-c", "-,branch", str(code_tree / "lib"))
    assert code == 0
    lines = [line.rstrip() for line in out.splitlines()]
    assert lines == ["branch", "* main", "  old", "* checked out here"]


def test_the_sort_applies_within_each_repo(
    capsys: pytest.CaptureFixture[str], code_tree: Path
) -> None:
    data = as_json(capsys, str(code_tree), "-s", "name", "--reverse")
    assert pairs(data, code_tree) == [
        ("app", "main"),
        ("app", "local"),
        ("app", "ahead"),
        ("lib", "old"),
        ("lib", "main"),
        ("plain", "main"),
    ]


def test_a_subfolder_of_a_repo_stands_for_that_repo(
    capsys: pytest.CaptureFixture[str], code_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = code_tree / "lib" / "docs" / "deep"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    data = as_json(capsys)
    assert pairs(data, code_tree) == [("lib", "main"), ("lib", "old")]
    assert as_json(capsys, str(sub)) == data


def test_a_repo_and_its_linked_worktrees_are_listed_once(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, tmp_path: Path
) -> None:
    main = repos.repo("main")
    main.git("branch", "feature")
    main.git("worktree", "add", "-q", str(repos.root / "main-feature"), "feature")
    trace = tmp_path / "trace.log"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GIT_TRACE", str(trace))
        data = as_json(capsys, str(repos.root))
    assert [(b["repo"], b["name"], b["current"]) for b in data] == [
        (str(main.path), "feature", False),
        (str(main.path), "main", True),
    ]
    assert data[0]["worktree"] == str(repos.root / "main-feature")
    for_each_ref = [ln for ln in trace.read_text().splitlines() if "for-each-ref" in ln]
    assert len(for_each_ref) == 1
    # Asked about the linked worktree alone, it is the one asked about.
    data = as_json(capsys, str(repos.root / "main-feature"))
    assert [(b["name"], b["current"]) for b in data] == [("feature", True), ("main", False)]


def test_one_for_each_ref_per_repo_at_most_jobs_at_once(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gitoverit.git.branches as branches_mod

    for i in range(6):
        repos.repo(f"r{i}")
    real = branches_mod.list_branches
    lock = threading.Lock()
    running = [0]
    peak = [0]
    calls: list[str] = []

    def counted(repo: Any, **kwargs: Any) -> Any:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            calls.append(str(repo))
        try:
            time.sleep(0.2)
            return real(repo, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(branches_mod, "list_branches", counted)
    monkeypatch.setenv("GITOVERIT_JOBS", "2")
    data = as_json(capsys, str(repos.root))
    assert len(data) == 6 and sorted(calls) == sorted(str(repos.root / f"r{i}") for i in range(6))
    assert peak[0] == 2


def test_a_repo_that_cannot_be_read_fails_alone(
    capsys: pytest.CaptureFixture[str], code_tree: Path
) -> None:
    (code_tree / "lib" / ".git" / "config").write_text("[[[ not config\n")
    code, out, err = gitob(capsys, "-o", "json", str(code_tree))
    assert code == 1
    assert {Path(b["repo"]).name for b in json.loads(out)} == {"app", "plain"}
    assert f"gitob: cannot read {code_tree / 'lib'}: corrupt" in err


def test_fetch_fetches_every_repo(capsys: pytest.CaptureFixture[str], repos: RepoFactory) -> None:
    remote_a, _ = repos.remote_and_clone("a")
    remote_b, b = repos.remote_and_clone("b")
    repos.push_from_other(remote_a, 1)
    repos.push_from_other(remote_b, 2)
    data = as_json(capsys, "-f", str(repos.root))
    assert [(Path(x["repo"]).name, x["behind"]) for x in data] == [("a", 1), ("b", 2)]
    # A remote that fails is named with its repository, and the exit code says so.
    b.git("remote", "set-url", "origin", str(repos.root / "nowhere.git"))
    code, out, err = gitob(capsys, "-f", "-o", "json", str(repos.root))
    assert code == 1 and len(json.loads(out)) == 2
    assert f"gitob: fetch {repos.root / 'b'}: origin: " in err
    assert f"gitob: fetch {repos.root / 'a'}" not in err


def test_a_folder_without_repositories_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = gitob(capsys, str(empty))
    assert (code, out) == (2, "") and "not a git repository" in err


def test_a_table_on_a_terminal_links_each_repos_upstream(
    code_tree: Path, repos: RepoFactory
) -> None:
    from gitoverit.commands.branches import BranchesCommand, run

    for name in ("app", "lib"):
        Repo(code_tree / name).git(
            "remote", "set-url", "origin", f"https://github.com/me/{name}.git"
        )

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    assert run(BranchesCommand(dirs=(str(code_tree),), columns="-,branch,upstream"), out=out) == 0
    text = out.getvalue()
    assert "https://github.com/me/app/tree/main" in text
    assert "https://github.com/me/lib/tree/main" in text


# --- branches_ahead: the scan's count of branches with unpushed work ----------------------


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from gitoverit.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def ahead_counts(out: str) -> dict[str, int | None]:
    return {Path(r["path"]).name: r["branches_ahead"] for r in json.loads(out)}


def test_branches_ahead_counts_other_branches_ahead_or_without_upstream(
    capsys: pytest.CaptureFixture[str], code_tree: Path
) -> None:
    code, out, _ = scan(capsys, str(code_tree), "-o", "json", "-c", "+branches_ahead")
    assert code == 0
    # app: "ahead" is ahead, "local" has no upstream; lib: "old"'s upstream is gone.
    assert ahead_counts(out) == {"app": 2, "lib": 0, "plain": 0}
    # The branch HEAD points at is left out, whatever its state; detached, none is.
    Repo(code_tree / "plain").git("checkout", "-q", "-b", "other")
    Repo(code_tree / "lib").git("checkout", "-q", "--detach", "main")
    code, out, _ = scan(capsys, str(code_tree), "-o", "json", "-c", "+branches_ahead")
    assert ahead_counts(out) == {"app": 2, "lib": 0, "plain": 1}
    Repo(code_tree / "lib").git("branch", "--unset-upstream", "main")
    code, out, _ = scan(capsys, str(code_tree), "-o", "json", "-c", "+branches_ahead")
    assert ahead_counts(out)["lib"] == 1


def test_branches_ahead_is_read_only_when_asked(
    capsys: pytest.CaptureFixture[str], code_tree: Path, tmp_path: Path
) -> None:
    trace = tmp_path / "trace.log"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GIT_TRACE", str(trace))
        code, out, _ = scan(capsys, str(code_tree), "-o", "json")
        assert code == 0 and set(ahead_counts(out).values()) == {None}
        code, out, _ = scan(capsys, str(code_tree))
        assert code == 0 and "branches↑" not in out
    assert "for-each-ref" not in trace.read_text()
    # Asked by a column, a sort key or an expression, in a table, JSON or --print.
    code, out, _ = scan(capsys, str(code_tree), "-c", "-,name,branches_ahead", "-s", "name")
    assert [line.split() for line in out.splitlines()] == [
        ["name", "branches↑"],
        ["app", "2"],
        ["lib", "0"],
        ["plain", "0"],
    ]
    code, out, _ = scan(capsys, str(code_tree), "-s", "branches_ahead", "-r", "-p", "name")
    assert out.splitlines()[0] == "app"
    code, out, _ = scan(capsys, str(code_tree), "-w", "branches_ahead > 0", "-p", "name")
    assert out == "app\n"
    code, out, _ = scan(capsys, str(code_tree), "-p", 'name + " " + str(branches_ahead)')
    assert sorted(out.splitlines()) == ["app 2", "lib 0", "plain 0"]
    code, out, _ = scan(
        capsys, str(code_tree), "--metadata-only", "-w", "branches_ahead > 1", "-p", "name"
    )
    assert (code, out) == (0, "app\n")


def test_branches_ahead_in_a_linked_worktree_leaves_out_its_own_branch(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory
) -> None:
    main = repos.repo("main")
    main.git("branch", "feature")
    main.git("worktree", "add", "-q", str(repos.root / "wt"), "feature")
    code, out, _ = scan(capsys, str(repos.root), "-o", "json", "-w", "branches_ahead >= 0")
    assert code == 0
    assert ahead_counts(out) == {"main": 1, "wt": 1}, "each counts the other's branch"


def test_count_branches_ahead_reads_for_each_ref() -> None:
    from gitoverit.git.extras import count_branches_ahead

    data = (
        b"*\x00refs/remotes/origin/main\x00[ahead 3]\n"  # HEAD's: never counted
        b" \x00refs/remotes/origin/a\x00[ahead 1, behind 2]\n"
        b" \x00refs/remotes/origin/b\x00[behind 2]\n"
        b" \x00refs/remotes/origin/c\x00\n"  # in sync
        b" \x00refs/remotes/origin/d\x00[gone]\n"
        b" \x00\x00\n"  # no upstream
    )
    assert count_branches_ahead(data) == 2
    assert count_branches_ahead(b"") == 0
