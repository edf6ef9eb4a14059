"""gitob keeps gitob 0.x's interface: its flags, columns, sort keys, JSON fields, worktree
status, marks and links, against real repositories."""

from __future__ import annotations

import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import Repo, RepoFactory
from gitoverit import __version__
from gitoverit.cli import branches_main as main
from gitoverit.commands.branches import BranchesCommand, run
from gitoverit.git.branches import list_branches, with_worktree_status
from gitoverit.output.branch_table import render_branch_table
from gitoverit.output.links import file_url, forge_branch_url

BASE = 1_700_000_000
OSC8 = "\x1b]8;"


@dataclass
class Layout:
    """A clone of a remote, with:

    - ``main``: checked out in the clone, tracking origin/main, with one file modified,
      one deleted and one untracked; committed last (BASE+300)
    - ``synced``: tracks origin/synced, in sync, not checked out (BASE+100)
    - ``feat``: no upstream, checked out in a clean linked worktree (BASE+200)
    - ``alpha``: no upstream, not checked out, committed first (BASE+50), by "Ann"
    """

    remote: Repo
    clone: Repo
    worktree: Path


def _commit(repo: Repo, mp: pytest.MonkeyPatch, when: int, name: str = "Test User") -> None:
    mp.setenv("GIT_COMMITTER_DATE", f"@{when} +0000")
    mp.setenv("GIT_AUTHOR_DATE", f"@{when} +0000")
    mp.setenv("GIT_AUTHOR_NAME", name)
    mp.setenv("GIT_AUTHOR_EMAIL", f"{name.split()[0].lower()}@example.com")
    try:
        repo.commit(f"f-{os.urandom(3).hex()}.txt", message=f"work at {when}")
    finally:
        for var in ("GIT_COMMITTER_DATE", "GIT_AUTHOR_DATE"):
            mp.delenv(var)
        mp.setenv("GIT_AUTHOR_NAME", "Test User")
        mp.setenv("GIT_AUTHOR_EMAIL", "test@example.com")


@pytest.fixture
def layout(repos: RepoFactory, monkeypatch: pytest.MonkeyPatch) -> Layout:
    remote, clone = repos.remote_and_clone("app", commits=2)
    clone.git("checkout", "-q", "-b", "synced")
    _commit(clone, monkeypatch, BASE + 100)
    clone.git("push", "-q", "-u", "origin", "synced")
    clone.git("checkout", "-q", "main")
    clone.git("checkout", "-q", "-b", "alpha")
    _commit(clone, monkeypatch, BASE + 50, name="Ann Other")
    clone.git("checkout", "-q", "main")
    clone.git("checkout", "-q", "-b", "feat")
    _commit(clone, monkeypatch, BASE + 200)
    clone.git("checkout", "-q", "main")
    _commit(clone, monkeypatch, BASE + 300)
    clone.git("push", "-q", "origin", "main")
    worktree = repos.aux / "app-feat"
    clone.git("worktree", "add", "-q", str(worktree), "feat")
    (clone.path / "file.txt").write_text("changed\n")
    (clone.path / "file1.txt").unlink()
    (clone.path / "new.txt").write_text("new\n")
    return Layout(remote, clone, worktree)


def gitob(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def as_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, dict[str, Any]]:
    code, out, err = gitob(capsys, "-j", *args)
    assert code == 0, err
    return {b["name"]: b for b in json.loads(out)}


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


# ------------------------------------------------------------------ flags


def test_json_flag_is_json(capsys: pytest.CaptureFixture[str], layout: Layout) -> None:
    path = str(layout.clone.path)
    assert gitob(capsys, "-j", path)[1] == gitob(capsys, "-o", "json", path)[1]
    assert gitob(capsys, "--json", path)[1] == gitob(capsys, "-o", "json", path)[1]
    code, out, err = gitob(capsys, "-j", "-o", "ndjson", path)
    assert (code, out) == (2, "") and "-j/--json" in err


def test_glob_and_regex_pick_branches_by_name(
    capsys: pytest.CaptureFixture[str], layout: Layout
) -> None:
    path = str(layout.clone.path)
    assert gitob(capsys, "-g", "*a*", "-p", "name", path)[1].split() == ["alpha", "feat", "main"]
    assert gitob(capsys, "--glob", "s*", "-p", "name", path)[1].split() == ["synced"]
    assert gitob(capsys, "-r", "^(m|f)", "-p", "name", path)[1].split() == ["feat", "main"]
    assert gitob(capsys, "--regex", "ed$", "-p", "name", path)[1].split() == ["synced"]
    both = gitob(capsys, "-g", "*a*", "-r", "^[fm]", "--reverse", "-p", "name", path)[1]
    assert both.split() == ["main", "feat"]
    code, _, err = gitob(capsys, "-r", "(", path)
    assert code == 2 and "-r/--regex" in err
    code, _, err = gitob(capsys, "-g", "nothing*", path)
    assert code == 0 and "no branch name matches" in err


def test_reverse_is_long_only(capsys: pytest.CaptureFixture[str], layout: Layout) -> None:
    path = str(layout.clone.path)
    assert gitob(capsys, "--reverse", "-p", "name", path)[1].split() == [
        "synced",
        "main",
        "feat",
        "alpha",
    ]
    code, _, err = gitob(capsys, "-r")
    assert code == 2 and "requires an argument" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    for flag in ("--version", "-V"):
        code, out, _ = gitob(capsys, flag)
        assert (code, out) == (0, f"gitob {__version__}\n")


def test_fetch_prunes_first(
    capsys: pytest.CaptureFixture[str], layout: Layout, repos: RepoFactory
) -> None:
    path = str(layout.clone.path)
    repos.push_from_other(layout.remote, 2)
    layout.remote.git("branch", "-D", "synced")
    before = as_json(capsys, path)
    assert (before["synced"]["upstream_gone"], before["main"]["behind"]) == (False, 0)
    after = as_json(capsys, "-f", path)
    assert after["synced"]["upstream_gone"] is True, "pruned"
    assert after["synced"]["status"] == "⊘"
    assert after["main"]["behind"] == 2
    assert after["main"]["status"] == "1m 1d 1u 2↓"


def test_fetch_failure_warns_and_exits_1(
    capsys: pytest.CaptureFixture[str], layout: Layout
) -> None:
    layout.clone.git("remote", "set-url", "origin", str(layout.remote.path) + "-missing")
    code, out, err = gitob(capsys, "-f", "-p", "name", str(layout.clone.path))
    assert code == 1
    assert out.split() == ["alpha", "feat", "main", "synced"], "branches are still listed"
    assert "fetch origin" in err


# ------------------------------------------------------------------ columns and sort


def test_default_columns_and_column_spec(
    capsys: pytest.CaptureFixture[str], layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    path = str(layout.clone.path)
    header = gitob(capsys, path)[1].splitlines()[0].split()
    assert header == ["branch", "upstream", "status", "author", "subject", "date"]
    out = gitob(capsys, "-c", "-,branch,head,ahead,behind,gone,current,worktree,age", path)[1]
    header, *rows = out.splitlines()
    assert header.split() == [
        "branch",
        "head",
        "ahead",
        "behind",
        "gone",
        "current",
        "worktree",
        "age",
    ]
    synced = next(r for r in rows if "synced" in r).split()
    assert synced[1] == layout.clone.git("rev-parse", "synced")[:12]
    assert synced[2:6] == ["0", "0", "-", "-"]
    assert gitob(capsys, "-c", "-subject,-date,-author", path)[1].split()[:3] == [
        "branch",
        "upstream",
        "status",
    ]
    code, _, err = gitob(capsys, "-c", "bogus", path)
    assert code == 2 and "bogus" in err and "subject" in err


def test_date_column_shows_the_commit_date(
    capsys: pytest.CaptureFixture[str], layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("COLUMNS", "200")
    out = gitob(capsys, "-c", "-,branch,date", "-g", "alpha", str(layout.clone.path))[1]
    assert "2023-11-14 22:14" in out.splitlines()[1]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("branch", ["alpha", "feat", "main", "synced"]),
        ("date", ["alpha", "synced", "feat", "main"]),
        ("author", ["alpha", "feat", "main", "synced"]),  # "Ann Other" first
        ("current", ["main", "alpha", "feat", "synced"]),
        ("gone", ["alpha", "feat", "main", "synced"]),
        ("worktree", ["feat", "main", "alpha", "synced"]),
        ("status", ["main", "synced", "feat", "alpha"]),  # "1m…", "=", "clean", ""
        ("subject", ["alpha", "synced", "feat", "main"]),
        ("upstream", ["main", "synced", "alpha", "feat"]),
    ],
)
def test_earlier_sort_keys(
    capsys: pytest.CaptureFixture[str], layout: Layout, key: str, expected: list[str]
) -> None:
    got = gitob(capsys, "-s", key, "-p", "name", str(layout.clone.path))[1].split()
    if key == "worktree":
        # Sorted by the worktree's path: the clone and its linked worktree may be in
        # either order; branches without one come last.
        assert set(got[:2]) == {"feat", "main"} and got[2:] == expected[2:]
    else:
        assert got == expected


def test_sort_head(capsys: pytest.CaptureFixture[str], layout: Layout) -> None:
    path = str(layout.clone.path)
    got = gitob(capsys, "-s", "head", "-p", "name", path)[1].split()
    shas = [layout.clone.git("rev-parse", name) for name in got]
    assert shas == sorted(shas)


# ------------------------------------------------------------------ status, marks, author


def test_json_has_earlier_fields(capsys: pytest.CaptureFixture[str], layout: Layout) -> None:
    data = as_json(capsys, str(layout.clone.path))
    top = str(layout.clone.path)
    main_b, synced, feat, alpha = data["main"], data["synced"], data["feat"], data["alpha"]
    assert {b["repo_path"] for b in data.values()} == {top}
    assert (main_b["has_upstream"], synced["has_upstream"], feat["has_upstream"]) == (
        True,
        True,
        False,
    )
    assert (main_b["dirty"], main_b["modified"], main_b["deleted"], main_b["untracked"]) == (
        True,
        1,
        1,
        1,
    )
    assert main_b["status"] == "1m 1d 1u"
    assert (feat["status"], feat["dirty"], feat["modified"]) == ("clean", False, 0)
    assert (synced["status"], synced["dirty"], synced["untracked"]) == ("=", False, 0)
    assert (alpha["status"], alpha["dirty"], alpha["deleted"]) == ("", False, 0)
    assert alpha["author"] == "Ann Other <ann@example.com>"
    assert (alpha["author_name"], alpha["author_email"]) == ("Ann Other", "ann@example.com")
    for b in data.values():
        for field in ("type", "name", "head", "upstream_gone", "ahead", "worktree", "current"):
            assert field in b, "this version's fields stay"


def test_worktree_status_read_only_when_needed(layout: Layout) -> None:
    plain = {b.name: b for b in list_branches(layout.clone.path)}
    assert all(b.worktree_status is None for b in plain.values())
    read = {b.name: b for b in with_worktree_status(list(plain.values()))}
    st = read["main"].worktree_status
    assert st is not None and (st.unstaged_modified, st.unstaged_deleted) == (1, 1)
    assert read["feat"].worktree_status is not None and read["alpha"].worktree_status is None


def test_unreadable_worktree_is_an_error_status(
    capsys: pytest.CaptureFixture[str], layout: Layout
) -> None:
    import shutil

    shutil.rmtree(layout.worktree)
    data = as_json(capsys, str(layout.clone.path))
    assert data["feat"]["status"] == "error"
    assert data["feat"]["dirty"] is None and data["feat"]["modified"] is None
    assert data["main"]["status"] == "1m 1d 1u"


def test_table_marks_status_wt_and_current(
    capsys: pytest.CaptureFixture[str], layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    out = gitob(capsys, str(layout.clone.path))[1]
    rows = {ln.split()[0] if not ln.startswith("*") else "*": ln for ln in out.splitlines()[1:5]}
    assert re.search(r"^\* main +origin/main +1m 1d 1u +Test User <test@example.com> ", rows["*"])
    assert re.search(r"^  feat \(WT\) +clean ", rows["feat"])
    assert re.search(r"^  synced +origin/synced += ", rows["synced"])
    assert "Ann Other <ann@example.com>" in rows["alpha"] and "(WT)" not in rows["alpha"]
    legend = " ".join(out.splitlines()[5:])
    assert "(WT) checked out in another worktree" in legend and "= in sync" in legend


def test_from_linked_worktree_its_branch_is_current(
    capsys: pytest.CaptureFixture[str], layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    out = gitob(capsys, str(layout.worktree))[1]
    lines = out.splitlines()
    assert any(re.match(r"^\* feat +clean ", ln) for ln in lines)
    assert any(ln.startswith("  main (WT) ") for ln in lines)


def test_current_branch_is_bold(layout: Layout) -> None:
    out = io.StringIO()
    branches = with_worktree_status(list_branches(layout.clone.path))
    render_branch_table(branches, out, width=200, color=True, links=False)
    text = out.getvalue()
    assert re.search(r"\x1b\[1mmain\x1b\[0m", text), "the current branch is bold"
    assert not re.search(r"\x1b\[1mfeat", text)


# ------------------------------------------------------------------ links


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("git@github.com:me/app.git", "https://github.com/me/app/tree/feat/x"),
        ("https://tok@github.com/me/app", "https://github.com/me/app/tree/feat/x"),
        ("ssh://git@gitlab.com/grp/sub/app.git", "https://gitlab.com/grp/sub/app/tree/feat/x"),
        ("https://bitbucket.org/me/app.git/", "https://bitbucket.org/me/app/tree/feat/x"),
        ("git@codeberg.org:me/app.git", "https://codeberg.org/me/app/tree/feat/x"),
        ("git@example.com:me/app.git", None),
        ("/srv/git/app.git", None),
        ("file:///srv/git/app.git", None),
        ("https://github.com/justowner", None),
    ],
)
def test_forge_branch_url(url: str, expected: str | None) -> None:
    assert forge_branch_url(url, "refs/heads/feat/x") == expected


def test_forge_link_never_carries_control_characters() -> None:
    url = forge_branch_url("git@github.com:me/a\x1b]8;;x.git", "refs/heads/b\x07 c")
    assert url == "https://github.com/me/a%1B%5D8%3B%3Bx/tree/b%07%20c"
    assert file_url("/tmp/a b/\x1bc") == "file:///tmp/a%20b/%1Bc"


def test_links_on_a_terminal_only(
    layout: Layout, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    layout.clone.git("remote", "set-url", "origin", "git@github.com:me/app.git")
    tty = _Tty()
    assert run(BranchesCommand(repo=str(layout.clone.path)), out=tty) == 0
    text = tty.getvalue()
    assert f"{OSC8}id=" in text
    assert ";https://github.com/me/app/tree/main\x1b\\" in text
    assert ";https://github.com/me/app/tree/synced\x1b\\" in text
    assert f";{file_url(str(layout.worktree))}\x1b\\" in text, "the (WT) mark links its folder"
    tty = _Tty()
    command = BranchesCommand(repo=str(layout.clone.path), columns="-,branch,worktree")
    assert run(command, out=tty) == 0
    assert f";{file_url(str(layout.clone.path))}\x1b\\" in tty.getvalue()
    code, out, _ = gitob(capsys, "-c", "+worktree", str(layout.clone.path))
    assert code == 0 and OSC8 not in out and "\x1b" not in out, "no link into a pipe"


def test_no_link_for_an_unknown_host(layout: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    layout.clone.git("remote", "set-url", "origin", "git@git.example.com:me/app.git")
    tty = _Tty()
    assert run(BranchesCommand(repo=str(layout.clone.path), columns="-,upstream"), out=tty) == 0
    assert OSC8 not in tty.getvalue()


# ------------------------------------------------------------------ expressions


def test_print_leaves_out_none(capsys: pytest.CaptureFixture[str], layout: Layout) -> None:
    path = str(layout.clone.path)
    assert gitob(capsys, "-p", "upstream", path)[1] == "origin/main\norigin/synced\n"
    assert gitob(capsys, "-p", "worktree", path)[1].count("\n") == 2
    assert gitob(capsys, "-p", "date", "-g", "alpha", path)[1] == f"{BASE + 50}\n"


def test_earlier_names_in_expressions(capsys: pytest.CaptureFixture[str], layout: Layout) -> None:
    path = str(layout.clone.path)
    layout.remote.git("branch", "-D", "synced")
    layout.clone.git("fetch", "-q", "--prune")
    assert gitob(capsys, "-w", "gone or ahead > 0", "-p", "branch", path)[1] == "synced\n"
    assert gitob(capsys, "-w", "dirty", "-p", "branch", path)[1] == "main\n"
    assert gitob(capsys, "-w", "not has_upstream", "-p", "name", path)[1].split() == [
        "alpha",
        "feat",
    ]
    got = gitob(capsys, "-w", "worktree_path is not None and not current", "-p", "repo", path)
    assert got[1] == f"{layout.clone.path}\n"
    assert gitob(capsys, "-w", 'status == "clean"', "-p", "name", path)[1] == "feat\n"
    assert gitob(capsys, "-w", "modified + untracked + deleted == 3", "-p", "path", path)[1]
    code, _, err = gitob(capsys, "-w", "modified > 'x'", path)
    assert code == 2 and "^" in err


def test_help_where_is_gitob_s_own(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = gitob(capsys, "--help-where")
    assert code == 0
    for name in ("repo_path", "has_upstream", "status", "dirty", "author_email", "gone"):
        assert name in out
    for repo_only in ("stashes", "display_path", "mtime", "superproject", "fetch_errors", "url"):
        assert not re.search(rf"\b{repo_only}\b", out), repo_only
    language = out[out.index("Operators:") :]
    assert not re.search(r"\brepos?\b|repositor", language), "worded for branches"
    assert "skips branches with no upstream" in " ".join(language.split())
