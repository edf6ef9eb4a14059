"""The branch view: ``list_branches`` and ``gitob [REPO]``, against real repositories."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from conftest import Repo, RepoFactory, sh
from gitoverit.cli import branches_main as main
from gitoverit.commands.branches import where_help
from gitoverit.errors import GitNotARepoError
from gitoverit.git.branches import BRANCH_FIELDS, BranchInfo, list_branches, parse_branches
from gitoverit.model import FORMAT_VERSION
from gitoverit.output.branch_table import render_branch_table
from gitoverit.output.branches import DEFAULT_COLUMNS, sort_branches

BASE = 1_700_000_000
WEIRD_SUBJECT = "[bold]x[/bold] \x1b[31mred\ttab ~ é"
WEIRD_MESSAGE = WEIRD_SUBJECT + "\n\nbody line\nwith [red]more[/red]\n"


@dataclass
class Scenario:
    """A clone with one branch in each interesting state.

    - ``main``: checked out here, tracks origin/main, 2 ahead and 1 behind, date BASE+300
    - ``gone``: its upstream origin/gone was deleted, date BASE+200, author "Ann"
    - ``feat/local``: no upstream, a subject with markup/ESC/tab, date BASE+100, author "Zed"
    - ``wt``: no upstream, checked out in a linked worktree, date BASE+400
    """

    clone: Repo
    worktree: Path
    heads: dict[str, str]


def commit_at(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, when: int, message: str, author: str = "Test User"
) -> str:
    monkeypatch.setenv("GIT_COMMITTER_DATE", f"@{when} +0000")
    monkeypatch.setenv("GIT_AUTHOR_DATE", f"@{when} +0000")
    monkeypatch.setenv("GIT_AUTHOR_NAME", author)
    try:
        return repo.commit(f"f-{os.urandom(3).hex()}.txt", message=message)
    finally:
        monkeypatch.delenv("GIT_COMMITTER_DATE")
        monkeypatch.delenv("GIT_AUTHOR_DATE")
        monkeypatch.setenv("GIT_AUTHOR_NAME", "Test User")


@pytest.fixture
def scenario(repos: RepoFactory, monkeypatch: pytest.MonkeyPatch) -> Scenario:
    remote, clone = repos.remote_and_clone("app", commits=1)
    repos.push_from_other(remote, 1)
    clone.git("fetch", "-q")
    heads: dict[str, str] = {}

    clone.git("checkout", "-q", "-b", "gone")
    heads["gone"] = commit_at(clone, monkeypatch, BASE + 200, "gone work", author="Ann")
    clone.git("push", "-q", "-u", "origin", "gone")
    clone.git("push", "-q", "origin", "--delete", "gone")

    clone.git("checkout", "-q", "main")
    clone.git("checkout", "-q", "-b", "feat/local")
    heads["feat/local"] = commit_at(clone, monkeypatch, BASE + 100, WEIRD_MESSAGE, author="Zed")

    clone.git("checkout", "-q", "main")
    clone.git("checkout", "-q", "-b", "wt")
    heads["wt"] = commit_at(clone, monkeypatch, BASE + 400, "worktree work")

    clone.git("checkout", "-q", "main")
    commit_at(clone, monkeypatch, BASE + 250, "local one")
    heads["main"] = commit_at(clone, monkeypatch, BASE + 300, "local two")

    worktree = repos.aux / "app-wt"
    clone.git("worktree", "add", "-q", str(worktree), "wt")
    return Scenario(clone, worktree, heads)


def run_gitob(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def json_branches(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    code, out, err = run_gitob(capsys, "-o", "json", *args)
    assert code == 0, err
    data = json.loads(out)
    assert isinstance(data, list)
    return data


def names(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    return [b["name"] for b in json_branches(capsys, *args)]


# ------------------------------------------------------------------ list_branches


def test_list_branches_reads_every_state(scenario: Scenario) -> None:
    got = {b.name: b for b in list_branches(scenario.clone.path)}
    assert set(got) == {"main", "gone", "feat/local", "wt"}
    clone = str(scenario.clone.path)

    main_b = got["main"]
    assert main_b.current is True
    assert main_b.head == scenario.heads["main"]
    assert (main_b.upstream, main_b.upstream_gone) == ("origin/main", False)
    assert (main_b.ahead, main_b.behind) == (2, 1)
    assert main_b.date == float(BASE + 300)
    assert main_b.subject == "local two"
    assert main_b.author == "Test User <test@example.com>"
    assert (main_b.author_name, main_b.author_email) == ("Test User", "test@example.com")
    assert os.path.realpath(main_b.worktree or "") == os.path.realpath(clone)

    gone = got["gone"]
    assert (gone.upstream, gone.upstream_gone, gone.ahead, gone.behind) == (
        "origin/gone",
        True,
        None,
        None,
    )
    assert (gone.author_name, gone.current, gone.worktree) == ("Ann", False, None)

    local = got["feat/local"]
    assert (local.upstream, local.upstream_gone, local.ahead, local.behind) == (
        None,
        False,
        None,
        None,
    )
    assert local.subject == WEIRD_SUBJECT, "subject only, exact, without the body"
    assert local.date == float(BASE + 100)

    wt = got["wt"]
    assert wt.current is False
    assert os.path.realpath(wt.worktree or "") == os.path.realpath(scenario.worktree)


def test_list_branches_from_linked_worktree_marks_its_own_branch_current(
    scenario: Scenario,
) -> None:
    got = {b.name: b.current for b in list_branches(scenario.worktree)}
    assert got == {"main": False, "gone": False, "feat/local": False, "wt": True}


def test_list_branches_in_sync_upstream_is_zero_zero(repos: RepoFactory) -> None:
    _, clone = repos.remote_and_clone("sync")
    [b] = list_branches(clone.path)
    assert (b.name, b.upstream, b.ahead, b.behind, b.upstream_gone) == (
        "main",
        "origin/main",
        0,
        0,
        False,
    )


def test_list_branches_unborn_repo_is_empty(repos: RepoFactory) -> None:
    empty = repos.repo("empty", commits=0)
    assert list_branches(empty.path) == []


def test_list_branches_not_a_repo_raises(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitNotARepoError) as info:
        list_branches(plain)
    assert info.value.reason.value == "not_a_repo"


def test_one_for_each_ref_call(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trace = tmp_path / "trace.log"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    code = main(["-p", "name", str(scenario.clone.path)])
    assert code == 0
    lines = trace.read_text().splitlines()
    builtins = [ln for ln in lines if "built-in: git" in ln]
    assert len([ln for ln in builtins if "for-each-ref" in ln]) == 1
    assert len(builtins) == 1, "discovery finds the work tree without git; one for-each-ref"
    trace.unlink()
    code = main(["-o", "json", str(scenario.clone.path)])
    assert code == 0
    builtins = [ln for ln in trace.read_text().splitlines() if "built-in: git" in ln]
    assert len([ln for ln in builtins if "for-each-ref" in ln]) == 1
    statuses = [ln for ln in builtins if " status " in ln]
    assert len(statuses) == 2, "one status for each work tree with a branch checked out"
    assert len(builtins) == 3


# A record as git writes it for FORMAT, built by hand: fields, then the terminator.
def _record(fields: list[bytes]) -> bytes:
    return b"\x00".join(fields) + b"\x00\x1egitob-end\x1e\x00\n"


_TEXT = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x1e")


@given(
    subject=st.text(_TEXT, max_size=60),
    author=st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\x1e"),
        max_size=20,
    ),
    ahead=st.integers(0, 10**6),
    behind=st.integers(0, 10**6),
)
def test_parse_keeps_fields_apart_whatever_the_subject(
    subject: str, author: str, ahead: int, behind: int
) -> None:
    track = f"[ahead {ahead}, behind {behind}]".encode() if ahead and behind else b""
    fields = [
        b"topic",
        b"a" * 40,
        b"origin/topic",
        track,
        b"1700000000",
        author.encode(),
        b"<a@example.com>",
        b"origin",
        b"refs/heads/topic",
        b"",
        b" ",
        subject.encode(),
    ]
    after = [b"next", b"b" * 40, b"", b"", b"", b"", b"", b"", b"", b"/wt", b"*", b"s"]
    first, second = parse_branches(_record(fields) + _record(after))
    assert first.name == "topic"
    assert first.subject == subject, "NUL, newlines, anything: the subject stays whole"
    assert first.author_name == (author or None)
    assert first.author_email == "a@example.com"
    assert first.author == (f"{author} <a@example.com>" if author else "<a@example.com>")
    assert (first.upstream_remote, first.upstream_ref) == ("origin", "refs/heads/topic")
    assert (first.ahead, first.behind) == ((ahead, behind) if track else (0, 0))
    assert first.date == 1_700_000_000.0
    assert first.current is False and first.worktree is None
    assert (second.name, second.current, second.worktree, second.date) == (
        "next",
        True,
        "/wt",
        None,
    )


def test_parse_track_variants() -> None:
    def one(track: bytes, upstream: bytes = b"origin/x") -> BranchInfo:
        fields = [b"x", b"c" * 40, upstream, track, b"1", b"A", b"", b"", b"", b"", b" ", b"s"]
        [b] = parse_branches(_record(fields))
        return b

    assert (one(b"[ahead 3]").ahead, one(b"[ahead 3]").behind) == (3, 0)
    assert (one(b"[behind 4]").ahead, one(b"[behind 4]").behind) == (0, 4)
    gone = one(b"[gone]")
    assert (gone.upstream_gone, gone.ahead, gone.behind) == (True, None, None)
    none = one(b"", upstream=b"")
    assert (none.upstream, none.ahead, none.behind) == (None, None, None)
    assert parse_branches(b"") == []


# ------------------------------------------------------------------ JSON output


def test_json_fields_are_exact(capsys: pytest.CaptureFixture[str], scenario: Scenario) -> None:
    code, out, _ = run_gitob(capsys, "-o", "json", "-s", "name", str(scenario.clone.path))
    assert code == 0
    assert "\x1b" not in out, "JSON escapes control characters"
    data = json.loads(out)
    assert [b["name"] for b in data] == ["feat/local", "gone", "main", "wt"]
    for b in data:
        assert list(b) == list(BRANCH_FIELDS)
        assert b["type"] == "branch"
        assert b["format_version"] == FORMAT_VERSION
    local = data[0]
    assert local == {
        "type": "branch",
        "repo": str(scenario.clone.path),
        "name": "feat/local",
        "head": scenario.heads["feat/local"],
        "upstream": None,
        "upstream_gone": False,
        "ahead": None,
        "behind": None,
        "date": float(BASE + 100),
        "author": "Zed <test@example.com>",
        "author_name": "Zed",
        "author_email": "test@example.com",
        "subject": WEIRD_SUBJECT,
        "worktree": None,
        "current": False,
        "repo_path": str(scenario.clone.path),
        "has_upstream": False,
        "status": "",
        "dirty": False,
        "modified": 0,
        "untracked": 0,
        "deleted": 0,
        "format_version": FORMAT_VERSION,
    }
    gone, main_b = data[1], data[2]
    assert (gone["upstream"], gone["upstream_gone"]) == ("origin/gone", True)
    assert (main_b["ahead"], main_b["behind"], main_b["current"]) == (2, 1, True)


def test_ndjson_one_object_per_line(capsys: pytest.CaptureFixture[str], scenario: Scenario) -> None:
    code, out, _ = run_gitob(capsys, "-o", "ndjson", str(scenario.clone.path))
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 4
    assert [json.loads(ln)["name"] for ln in lines] == ["feat/local", "gone", "main", "wt"]


def test_default_repo_is_current_folder(
    capsys: pytest.CaptureFixture[str], scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = scenario.clone.path / "sub"
    sub.mkdir()
    monkeypatch.chdir(sub)
    assert names(capsys, "-s", "name") == ["feat/local", "gone", "main", "wt"]


# ------------------------------------------------------------------ sorting


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], ["feat/local", "gone", "main", "wt"]),  # branch (name)
        (["--reverse"], ["wt", "main", "gone", "feat/local"]),
        (["-s", "date"], ["feat/local", "gone", "main", "wt"]),
        (["-s", "name"], ["feat/local", "gone", "main", "wt"]),
        (["-s", "name", "--reverse"], ["wt", "main", "gone", "feat/local"]),
        (["-s", "ahead"], ["feat/local", "gone", "wt", "main"]),  # None first, by name
        (["-s", "behind", "--reverse"], ["main", "wt", "gone", "feat/local"]),
        (["-s", "upstream"], ["gone", "main", "feat/local", "wt"]),  # None last
        (["-s", "author"], ["gone", "main", "wt", "feat/local"]),
        (["-s", "none"], ["feat/local", "gone", "main", "wt"]),  # git's ref order
    ],
)
def test_sort_options(
    capsys: pytest.CaptureFixture[str], scenario: Scenario, args: list[str], expected: list[str]
) -> None:
    assert names(capsys, *args, str(scenario.clone.path)) == expected


def test_sort_date_orders_by_commit_time(scenario: Scenario) -> None:
    branches = list_branches(scenario.clone.path)
    dates = [b.date for b in sort_branches(branches, "date", False)]
    assert dates == sorted(dates)
    with pytest.raises(ValueError, match="unknown sort key"):
        sort_branches(branches, "bogus", False)


def test_unknown_sort_key_exits_2(capsys: pytest.CaptureFixture[str], scenario: Scenario) -> None:
    code, out, err = run_gitob(capsys, "-s", "bogus", str(scenario.clone.path))
    assert code == 2
    assert out == ""
    assert "bogus" in err and "upstream" in err


# ------------------------------------------------------------------ --where / --print


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("ahead > 0", ["main"]),
        ("upstream_gone", ["gone"]),
        ('rx(name, "^feat")', ["feat/local"]),
        ("upstream is None", ["feat/local", "wt"]),
        ("current", ["main"]),
        ("worktree is not None", ["main", "wt"]),
        (f"date >= {BASE + 250}", ["main", "wt"]),
        ('author_name == "Zed" or behind', ["feat/local", "main"]),
        ('"[bold]" in subject', ["feat/local"]),
        ('type == "branch" and format_version == 1', ["feat/local", "gone", "main", "wt"]),
    ],
)
def test_where_filters(
    capsys: pytest.CaptureFixture[str], scenario: Scenario, expr: str, expected: list[str]
) -> None:
    assert names(capsys, "-s", "name", "-w", expr, str(scenario.clone.path)) == expected


def test_where_with_table_and_no_match(
    capsys: pytest.CaptureFixture[str], scenario: Scenario
) -> None:
    code, out, err = run_gitob(capsys, "-w", 'name == "nope"', str(scenario.clone.path))
    assert (code, out) == (0, "")
    assert "no branch matches" in err


def test_print_nul_separated(
    capsysbinary: pytest.CaptureFixture[bytes], scenario: Scenario
) -> None:
    code = main(["-w", "upstream is None", "-p", "name", "-0", str(scenario.clone.path)])
    out, _ = capsysbinary.readouterr()
    assert code == 0
    assert out == b"feat/local\x00wt\x00"


def test_print_lines_none_is_left_out(
    capsys: pytest.CaptureFixture[str], scenario: Scenario
) -> None:
    code, out, _ = run_gitob(capsys, "-s", "name", "-p", "upstream", str(scenario.clone.path))
    assert code == 0
    assert out == "origin/gone\norigin/main\n"
    code, out, _ = run_gitob(
        capsys, "-s", "name", "-p", 'name + " " + str(ahead)', str(scenario.clone.path)
    )
    assert out.splitlines() == ["feat/local None", "gone None", "main 2", "wt None"]


def test_print_escapes_lines_but_nul_mode_is_exact(
    capsysbinary: pytest.CaptureFixture[bytes], scenario: Scenario
) -> None:
    main(["-w", "author_name == 'Zed'", "-p", "subject", str(scenario.clone.path)])
    out, _ = capsysbinary.readouterr()
    assert out == b"[bold]x[/bold] \\x1b[31mred\\x09tab ~ \xc3\xa9\n"
    main(["-w", "author_name == 'Zed'", "-p", "subject", "-0", str(scenario.clone.path)])
    out, _ = capsysbinary.readouterr()
    assert out == WEIRD_SUBJECT.encode() + b"\x00"


def test_bad_expression_exits_2_with_caret_before_git_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trace = tmp_path / "trace.log"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    plain = tmp_path / "not-a-repo"
    plain.mkdir()
    code, out, err = run_gitob(capsys, "-w", "ahead >", str(plain))
    assert (code, out) == (2, "")
    assert "--where" in err and "invalid syntax" in err
    assert "not a git repository" not in err, "the expression is checked first"
    lines = err.splitlines()
    assert lines[-2] == "  ahead >" and lines[-1] == "         ^"
    assert not trace.exists(), "git never ran"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-w", "stashes > 0"], "stashes"),  # a repo field, not a branch field
        (["-p", "name.__class__"], "_"),
        (["-p", "open('x')"], "open"),
        (["-p", "name - 1"], "unsupported operand types for -: string and int"),
    ],
)
def test_refused_expressions_exit_2(
    capsys: pytest.CaptureFixture[str], scenario: Scenario, args: list[str], needle: str
) -> None:
    code, out, err = run_gitob(capsys, *args, str(scenario.clone.path))
    assert (code, out) == (2, "")
    assert needle in err and "^" in err


def test_runtime_expression_error_exits_2(
    capsys: pytest.CaptureFixture[str], scenario: Scenario
) -> None:
    code, out, err = run_gitob(capsys, "-p", "int(name)", str(scenario.clone.path))
    assert (code, out) == (2, "")
    assert "--print" in err and "branch " in err


def test_nul_without_print_is_usage_error(
    capsys: pytest.CaptureFixture[str], scenario: Scenario
) -> None:
    code, out, err = run_gitob(capsys, "-0", str(scenario.clone.path))
    assert (code, out) == (2, "")
    assert "-0" in err


# ------------------------------------------------------------------ table


def test_table_escapes_untrusted_text(
    capsys: pytest.CaptureFixture[str], scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    code, out, _ = run_gitob(capsys, str(scenario.clone.path))
    assert code == 0
    assert "\x1b" not in out and "\t" not in out, "no control character, no colour in a pipe"
    lines = out.splitlines()
    assert lines[0].split() == ["branch", "upstream", "status", "author", "subject", "date"]
    body = lines[1:5]
    assert [ln.split()[0] for ln in body] == ["feat/local", "gone", "*", "wt"]
    local, gone, main_row, wt = body
    assert "[bold]x[/bold]" in local, "markup shown literally"
    assert "\\x1b[31mred\\x09tab" in local
    assert re.search(r"origin/gone +⊘ ", gone)
    assert main_row.startswith("* main") and re.search(r"origin/main +2↑ 1↓ ", main_row)
    assert wt.startswith("  wt (WT) ")
    assert "⊘ upstream gone" in "\n".join(lines[5:]), "legend"
    assert max(cell_len(ln) for ln in lines) <= 250


def test_table_with_colour_still_shows_markup_literally(scenario: Scenario) -> None:
    out = io.StringIO()
    render_branch_table(list_branches(scenario.clone.path), out, width=200, color=True)
    text = out.getvalue()
    assert "\x1b[" in text, "colour is on"
    assert "[bold]x[/bold]" in text
    assert "\x1b[31mred" not in text, "the subject's own escape sequence never gets through"


def _colour_codes(text: str) -> set[str]:
    """The SGR parameters in *text* that set a foreground or background colour."""
    codes = set()
    for params in re.findall(r"\x1b\[([0-9;]*)m", text):
        for p in params.split(";"):
            if p and (30 <= int(p) <= 49 or 90 <= int(p) <= 107):
                codes.add(p)
    return codes


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_table_honours_no_color(scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    branches = list_branches(scenario.clone.path)
    coloured = _Tty()
    render_branch_table(branches, coloured, width=200)
    assert "\x1b[" in coloured.getvalue(), "a terminal gets colour by default"
    assert _colour_codes(coloured.getvalue())
    monkeypatch.setenv("NO_COLOR", "1")
    plain = _Tty()
    render_branch_table(branches, plain, width=200)
    assert _colour_codes(plain.getvalue()) == set(), "bold and dim may stay; colour may not"
    assert "[bold]x[/bold]" in plain.getvalue()


@pytest.mark.parametrize("width", [40, 60, 80, 120, 200])
def test_table_fits_width_one_line_per_branch(scenario: Scenario, width: int) -> None:
    out = io.StringIO()
    render_branch_table(
        sort_branches(list_branches(scenario.clone.path), "name", False), out, width=width
    )
    lines = out.getvalue().splitlines()
    assert len(lines) >= 1 + 4 + 1, "header, one line per branch, legend"
    assert [ln.split()[0][:2] for ln in lines[1:5]] == ["fe", "go", "*", "wt"]
    assert all(cell_len(ln) <= width for ln in lines)
    if width >= 80:
        assert lines[3].startswith("* main"), "names are kept whole when there is room"
        assert "…" in lines[1] or width >= 120, "the subject absorbs the squeeze"


def test_table_subject_is_cut_before_other_columns(scenario: Scenario) -> None:
    out = io.StringIO()
    branches = sort_branches(list_branches(scenario.clone.path), "name", False)
    render_branch_table(branches, out, width=80)
    local = out.getvalue().splitlines()[1]
    assert "Zed" in local and "origin" not in local
    assert re.search(r"\[bold\]x[^…]*…", local), "the subject ends in an ellipsis"
    wt = out.getvalue().splitlines()[4]
    assert wt.startswith("  wt ") and "Test User" in wt, "author's name kept whole"
    out = io.StringIO()
    render_branch_table(branches, out, width=80, columns=[*DEFAULT_COLUMNS, "worktree"])
    wt = out.getvalue().splitlines()[4]
    assert wt.rstrip().endswith("app-wt"), "a cut worktree path keeps its end"


# ------------------------------------------------------------------ errors, help


def test_not_a_repo_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    code, out, err = run_gitob(capsys, str(plain))
    assert (code, out) == (2, "")
    assert "not a git repository" in err


def test_git_dir_is_not_a_work_tree_exits_2(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory
) -> None:
    r = repos.repo("r")
    code, out, err = run_gitob(capsys, str(r.path / ".git"))
    assert (code, out) == (2, "")
    assert "work tree" in err


def test_missing_folder_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run_gitob(capsys, str(tmp_path / "missing"))
    assert (code, out) == (2, "")
    assert "does not exist" in err


def test_unreadable_repo_exits_1(capsys: pytest.CaptureFixture[str], repos: RepoFactory) -> None:
    r = repos.repo("broken")
    (r.path / ".git" / "config").write_text("[[[ not config\n")
    code, out, err = run_gitob(capsys, str(r.path))
    assert (code, out) == (1, "")
    assert "corrupt" in err


@pytest.mark.parametrize("fmt", ["table", "json", "ndjson"])
def test_unborn_repo_is_empty_and_exit_0(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, fmt: str
) -> None:
    empty = repos.repo("empty", commits=0)
    code, out, _ = run_gitob(capsys, "-o", fmt, str(empty.path))
    assert code == 0
    assert out == {"table": "", "json": "[]\n", "ndjson": ""}[fmt]


def test_ctrl_c_exits_130_and_leaves_no_git_running(scenario: Scenario, tmp_path: Path) -> None:
    """A real SIGINT to gitob's process group, as a terminal sends it, while its git is
    still running: exit 130, nothing on stdout, and that git is gone."""
    started = tmp_path / "git-started"
    marker = f"31.{os.getpid()}"
    wrappers = tmp_path / "bin"
    wrappers.mkdir()
    # A git that hangs: gitob is interrupted in the middle of its work.
    (wrappers / "git").write_text(f'#!/bin/sh\necho $$ > "{started}"\nexec sleep {marker}\n')
    (wrappers / "git").chmod(0o755)
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from gitoverit._entry import gitob; sys.exit(gitob())"],
        cwd=scenario.clone.path,
        env={**os.environ, "PATH": f"{wrappers}{os.pathsep}{os.environ['PATH']}"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not started.exists() or not started.read_text().strip():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.02)
        git_pid = int(started.read_text())
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert out == b""
    assert err.decode().splitlines()[-1] == "interrupted" and b"Traceback" not in err
    time.sleep(0.1)
    state = Path(f"/proc/{git_pid}/stat")
    assert not state.exists() or state.read_text().rpartition(")")[2].split()[0] in "ZX"


def test_help_has_examples_and_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_gitob(capsys, "-h")
    assert code == 0
    assert "Examples:" in out
    for flag in ("--format", "--sort", "--reverse", "--where", "--print", "-0", "--help-where"):
        assert flag in out


def test_help_where_lists_branch_names(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_gitob(capsys, "--help-where")
    assert code == 0
    assert out == where_help()
    for name in BRANCH_FIELDS:
        assert name in out
    assert "Operators:" in out and "rx(s, pattern)" in out
    assert "upstream_gone" in out and "stashes" not in out


def test_console_script_runs(scenario: Scenario) -> None:
    import sys

    out = sh(
        os.path.join(os.path.dirname(sys.executable), "gitob"),
        "-p",
        "name",
        "-s",
        "name",
        cwd=scenario.clone.path,
    )
    assert out.splitlines() == ["feat/local", "gone", "main", "wt"]
