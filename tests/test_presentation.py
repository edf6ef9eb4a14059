"""End-to-end tests of issue 5's query and presentation layer, through the CLI.

Every test scans real repositories: ``--where`` / ``--print`` / ``-0``, expression checks
before the scan, ``--columns``, a table that fits any width, escaping of untrusted text,
configuration layers, shell completion, and the help text and README.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from _tty import run_on_terminal
from conftest import Repo, RepoFactory, sh
from gitoverit.cli import branches_command as gitob_command
from gitoverit.cli import freeze_command, main, scan_command, sync_command
from gitoverit.output.cells import LEGEND_ITEMS
from gitoverit.output.columns import COLUMNS
from gitoverit.output.table import GAP, MIN_CUT, fit_widths

README = Path(__file__).resolve().parent.parent / "README.md"
LEGEND_START = LEGEND_ITEMS[0]
CARET = re.compile(r"^\s*\^$", re.M)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def run_proc(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """``python -m gitoverit ARGS`` in a child process; stdout and stderr as bytes."""
    return subprocess.run(
        [sys.executable, "-m", "gitoverit", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=60,
    )


def table_names(out: str) -> list[str]:
    """First cell of each body line of a table (the repo column, run from the scanned root)."""
    lines = [line for line in out.splitlines() if line.strip()]
    return [line.split()[0] for line in lines[1:] if not line.startswith(LEGEND_START)]


def record_names(records: Iterable[dict[str, Any]]) -> list[str]:
    return [os.path.basename(r["path"]) for r in records if r.get("type", "repo") == "repo"]


def header(out: str) -> list[str]:
    return out.splitlines()[0].split()


def ahead_clone(repos: RepoFactory, name: str, *subjects: str) -> Repo:
    """A clone tracking ``origin/main`` with one local commit per subject (ahead, not behind)."""
    _, clone = repos.remote_and_clone(name)
    for i, subject in enumerate(subjects):
        clone.commit(f"local{i}.txt", message=subject)
    return clone


def behind_clone(repos: RepoFactory, name: str, n: int = 1) -> tuple[Repo, Repo]:
    remote, clone = repos.remote_and_clone(name)
    repos.push_from_other(remote, n)
    clone.git("fetch", "-q")
    return remote, clone


def fake_git(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A PATH whose ``git`` records every call in a log file, then runs the real git."""
    real = sh("sh", "-c", "command -v git")
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    log = tmp_path / "git-calls.log"
    script = bindir / "git"
    script.write_text(f'#!/bin/sh\necho "$*" >> {shlex.quote(str(log))}\nexec {real} "$@"\n')
    script.chmod(0o755)
    return {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}, log


# ------------------------------------------------------------------------------------------
# 1. --where, --print, -0


@pytest.fixture
def mixed(repos: RepoFactory) -> RepoFactory:
    """Six repos: ahead, behind, diverged, dirty, on a feature branch, clean."""
    ahead_clone(repos, "alpha", "alpha one", "alpha two")
    behind_clone(repos, "beta")
    _, diverged = behind_clone(repos, "apex-diverged")
    diverged.commit("mine.txt")
    dirty = repos.repo("dirty-one")
    dirty.write("file.txt", "changed\n")
    repos.repo("on-feature").git("checkout", "-q", "-b", "feature")
    repos.remote_and_clone("clean")
    return repos


WHERE_CASES = {
    "ahead > 0 and behind == 0": {"alpha"},
    "dirty": {"dirty-one"},
    'rx(name, "^a")': {"alpha", "apex-diverged"},
    'branch != "main"': {"on-feature"},
    'status == "clean"': {"clean", "on-feature"},
}


def test_where_filters_rows_in_table_json_and_ndjson(
    capsys: pytest.CaptureFixture[str], mixed: RepoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(mixed.root)
    monkeypatch.setenv("COLUMNS", "200")
    for expr, expected in WHERE_CASES.items():
        code, out, _ = run_cli(capsys, "--no-progress", "-o", "json", "-w", expr)
        assert code == 0
        assert set(record_names(json.loads(out))) == expected, expr

        code, out, _ = run_cli(capsys, "--no-progress", "-o", "ndjson", "-w", expr)
        lines = [json.loads(line) for line in out.splitlines()]
        assert code == 0 and lines[-1]["type"] == "summary"
        assert lines[-1]["repos"] == 6, "the summary counts every repo, shown or not"
        assert sorted(record_names(lines)) == sorted(expected), expr

        code, out, _ = run_cli(capsys, "--no-progress", "-w", expr)
        assert code == 0
        assert header(out)[:3] == ["dir", "status", "branch"]
        assert sorted(table_names(out)) == sorted(expected), expr


def test_print_writes_one_value_per_repo(
    capsys: pytest.CaptureFixture[str], mixed: RepoFactory
) -> None:
    root = str(mixed.root)
    code, out, _ = run_cli(capsys, "--no-progress", "-s", "name", "-p", "path", root)
    assert code == 0
    expected = sorted(p.name for p in mixed.root.iterdir())
    assert out.splitlines() == [str(mixed.root / n) for n in expected]

    _, out, _ = run_cli(capsys, "--no-progress", "-s", "name", "-p", "name", root)
    assert out.splitlines() == expected

    # Repos without an upstream give None, and a None value is left out.
    _, out, _ = run_cli(capsys, "--no-progress", "-s", "name", "-p", "ahead + behind", root)
    assert out.splitlines() == ["2", "2", "1", "0"]  # alpha, apex-diverged, beta, clean

    _, out, _ = run_cli(
        capsys, "--no-progress", "-s", "name", "-w", "behind > 0", "-p", 'name + ":" + url', root
    )
    assert [line.split(":")[0] for line in out.splitlines()] == ["apex-diverged", "beta"]
    assert all(line.endswith(".git") or "remotes" in line for line in out.splitlines())


def test_null_without_print_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run_cli(capsys, "-0", str(tmp_path))
    assert code == 2 and out == "" and "--print" in err


ODD_NAMES = {
    "spaced": os.fsdecode(b"a b\nc"),
    "latin1": os.fsdecode(b"caf\xe9-\xff"),
    "plain": "plain-ahead",
}


@pytest.fixture
def odd_ahead(repos: RepoFactory) -> RepoFactory:
    """Repos ahead of their upstream under awkward names, plus two that must be filtered out."""
    for key, name in ODD_NAMES.items():
        ahead_clone(repos, name, f"subject-from-{key}")
    behind_clone(repos, "only-behind")
    _, diverged = behind_clone(repos, "diverged")
    diverged.commit("d.txt", message="subject-must-not-appear")
    return repos


# A strict UTF-8 stdout is what Python gives under a UTF-8 locale such as en_US.UTF-8;
# the C locale gives surrogateescape. Paths must come out byte-exact under both.
STDOUT_LOCALES = {
    "c-locale": {"LC_ALL": "C"},
    "utf8-locale": {"PYTHONIOENCODING": "utf-8:strict"},
}


@pytest.mark.parametrize("locale_env", list(STDOUT_LOCALES.values()), ids=list(STDOUT_LOCALES))
def test_null_separated_paths_are_byte_exact(
    odd_ahead: RepoFactory, locale_env: dict[str, str]
) -> None:
    proc = run_proc(
        str(odd_ahead.root),
        "--no-progress",
        "-w",
        "ahead > 0 and behind == 0",
        "-p",
        "path",
        "-0",
        env=locale_env,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert proc.stdout.endswith(b"\0")
    got = sorted(proc.stdout[:-1].split(b"\0"))
    want = sorted(os.fsencode(odd_ahead.root / n) for n in ODD_NAMES.values())
    assert got == want


@pytest.mark.parametrize("locale_env", list(STDOUT_LOCALES.values()), ids=list(STDOUT_LOCALES))
def test_readme_xargs_pipeline_shows_unpushed_commits(
    odd_ahead: RepoFactory, locale_env: dict[str, str]
) -> None:
    gito = f"{shlex.quote(sys.executable)} -m gitoverit"
    pipeline = (
        f"set -o pipefail; {gito} {shlex.quote(str(odd_ahead.root))} --no-progress "
        "-w 'ahead > 0 and behind == 0' -p path -0 "
        "| xargs -0 -I{} git -C {} log --oneline @{u}.."
    )
    proc = subprocess.run(
        ["bash", "-c", pipeline],
        env={**os.environ, **locale_env},
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    subjects = sorted(line.split(b" ", 1)[1] for line in proc.stdout.splitlines())
    assert subjects == sorted(f"subject-from-{k}".encode() for k in ODD_NAMES)


# ------------------------------------------------------------------------------------------
# 2. Expressions are checked before the scan


@pytest.mark.parametrize(
    ("flag", "expr", "fault"),
    [
        ("-w", "ahaed > 0", "ahaed"),
        ("-w", "ahead >", "syntax"),
        ("-w", "name.__class__", "__class__"),
        ("-w", "__import__('os')", "__import__"),
        ("-w", "open('/etc/passwd')", "open"),
        ("-p", "name.upper(", "never closed"),
    ],
)
def test_bad_expression_exits_2_with_caret_before_scanning(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, flag: str, expr: str, fault: str
) -> None:
    repos.repo("r")
    code, out, err = run_cli(capsys, str(repos.root), flag, expr)
    assert code == 2
    assert out == ""
    name = "--where" if flag == "-w" else "--print"
    assert f"bad {name} expression" in err
    assert fault in err
    assert f"  {expr}\n" in err, "the expression is echoed above the caret"
    assert CARET.search(err), err
    assert "repos," not in err, "no scan summary: nothing was scanned"


def test_unknown_name_caret_points_at_the_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run_cli(capsys, "-w", "ahead > 0 and brnch == 'x'", str(tmp_path))
    assert code == 2
    lines = err.splitlines()
    expr_line = next(i for i, line in enumerate(lines) if "ahead > 0 and brnch" in line)
    caret = lines[expr_line + 1]
    assert caret.strip() == "^"
    assert lines[expr_line][caret.index("^") :].startswith("brnch")
    assert "did you mean 'branch'" in err


def test_bad_expression_runs_no_git(tmp_path: Path, repos: RepoFactory) -> None:
    repos.repo("r")
    env, log = fake_git(tmp_path)
    proc = run_proc(str(repos.root), "--no-progress", "-w", "ahaed > 0", env=env)
    assert proc.returncode == 2 and proc.stdout == b""
    assert not log.exists(), "git ran although the expression was refused"
    # The same run with a good expression does reach git, so the check above can fail.
    proc = run_proc(
        str(repos.root), "--no-progress", "--reader", "git", "-w", "ahead == None", env=env
    )
    assert proc.returncode == 0
    assert "status" in log.read_text()


def test_unbounded_allocation_fails_fast_and_says_so(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory
) -> None:
    repos.repo("r")
    start = time.monotonic()
    code, out, err = run_cli(
        capsys, "--no-progress", "-o", "json", "-w", "'a' * 10**10", str(repos.root)
    )
    assert time.monotonic() - start < 10
    assert code == 0 and json.loads(out) == []
    assert "too large" in err


def test_print_runtime_fault_is_reported(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory
) -> None:
    repos.repo("r")
    code, out, err = run_cli(capsys, "--no-progress", "-p", "'a' * 10**10", str(repos.root))
    assert code == 0 and out == ""
    assert "too large" in err, "a --print value that fails must not vanish silently"


def test_help_where_documents_the_language(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "--help-where")
    assert code == 0 and err == ""
    for needle in ("rx(s, pattern)", "Examples:", "ahead > 0 and behind == 0", "-p path -0"):
        assert needle in out


# ------------------------------------------------------------------------------------------
# 3. Columns


def test_column_specs(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    repos.remote_and_clone("one")
    monkeypatch.chdir(repos.root)
    monkeypatch.setenv("COLUMNS", "200")
    cases = {
        "-,name,branch": ["name", "branch"],
        "-url": ["dir", "status", "branch", "remote", "modified"],
        "head": ["dir", "status", "branch", "remote", "url", "modified", "head"],
        "branch": ["dir", "status", "remote", "url", "modified", "branch"],
        "-,url,path,-url": ["path"],
        "+ahead,+behind": ["dir", "status", "branch", "remote", "url", "modified", "↑", "↓"],
        # The names this project gave some columns before still work.
        "-,repo,age,upstream": ["dir", "modified", "remote"],
        "-repo,-age": ["status", "branch", "remote", "url"],
    }
    for spec, want in cases.items():
        code, out, _ = run_cli(capsys, "--no-progress", "-c", spec)
        assert code == 0
        assert header(out) == want, spec
    code, out, err = run_cli(capsys, "--no-progress", "-c", "-")
    assert code == 2 and out == "", "no columns is a usage error, not an empty table"
    assert "leaves no column" in err


def test_unknown_column_exits_2_listing_valid_ones(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory
) -> None:
    repos.repo("r")
    code, out, err = run_cli(capsys, "-c", "-remote,colour", str(repos.root))
    assert code == 2 and out == ""
    assert "colour" in err
    for name in COLUMNS:
        assert name in err


def write_config(text: str) -> Path:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "gitoverit" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_config_columns_then_flag_on_top(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    repos.repo("r")
    monkeypatch.chdir(repos.root)
    monkeypatch.setenv("COLUMNS", "200")
    write_config('columns = "-url"\n')
    _, out, _ = run_cli(capsys, "--no-progress")
    assert header(out) == ["dir", "status", "branch", "remote", "modified"]
    _, out, _ = run_cli(capsys, "--no-progress", "-c", "head,-status")
    assert header(out) == ["dir", "branch", "remote", "modified", "head"]
    monkeypatch.setenv("GITOVERIT_COLUMNS", "-,name")
    _, out, _ = run_cli(capsys, "--no-progress", "-c", "branch")
    assert header(out) == ["name", "branch"], "the variable replaces the file's spec"


# ------------------------------------------------------------------------------------------
# 4. A table that fits any width

LONG = "a-rather-long-repository-folder-name-for-width-tests"
GITHUB = "https://github.com/some-owner/some-long-repository-name.git"
THREE_DAYS = 3 * 86400 + 600


@pytest.fixture
def wide(repos: RepoFactory) -> RepoFactory:
    """A busy repo with a long name, a GitHub remote, a stash, a merge in progress and an
    age of three days; plus short repos on GitLab and another host."""
    r = repos.repo(LONG)
    r.git("remote", "add", "origin", GITHUB)
    r.git("config", "branch.main.remote", "origin")
    r.git("config", "branch.main.merge", "refs/heads/main")
    r.write("file.txt", "stash me\n")
    r.git("stash", "-q")
    r.git("checkout", "-q", "-b", "other")
    r.commit("file.txt", "other side\n")
    r.git("checkout", "-q", "main")
    r.commit("file.txt", "main side\n")
    r.git("merge", "-q", "other", check=False)
    stamp = time.time() - THREE_DAYS
    for f in r.path.iterdir():
        if f.name != ".git":
            os.utime(f, (stamp, stamp))
    repos.repo("gl").git("remote", "add", "origin", "git@gitlab.com:team/proj.git")
    repos.repo("other").git("remote", "add", "origin", "https://git.example.org/x/y.git")
    return repos


def render_at(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int
) -> list[str]:
    monkeypatch.setenv("COLUMNS", str(width))
    code, out, _ = run_cli(capsys, "--no-progress", "-s", "name")
    assert code == 0
    return out.splitlines()


@pytest.mark.parametrize("width", [40, 60, 80, 120, 200])
def test_table_fits_every_width_one_line_per_repo(wide: RepoFactory, width: int) -> None:
    code, lines = run_on_terminal("--no-progress", "-s", "name", cwd=wide.root, columns=width)
    assert code == 0
    for line in lines:
        assert cell_len(line) <= width, (width, line)
        assert line == line.rstrip(), "no line ends in blanks"
    body, legend = lines[1:4], lines[4:]
    assert [line.split()[0][:2] for line in body[1:]] == ["gl", "ot"]
    # The legend follows the table on a terminal, wrapped, never cut: every item whole.
    assert legend and legend[0].startswith(LEGEND_START)
    for item in LEGEND_ITEMS:
        assert any(item in line for line in legend), (width, item, legend)
    first = body[0].split()[0]
    # A path that does not fit loses its start, so the repo's own name stays visible.
    assert first == LONG or (first.startswith("…") and LONG.endswith(first[1:])), first
    assert "✓" in body[1] and "✓" in body[2], "short fixed cells are never cut"


def test_table_narrows_status_then_url_then_date_before_cutting_paths(
    capsys: pytest.CaptureFixture[str], wide: RepoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(wide.root)
    month = re.compile(r"[A-Z][a-z]{2} \d\d \d\d:\d\d \(3d\)")
    seen: list[tuple[int, dict[str, bool]]] = []
    for width in range(160, 39, -1):
        row = render_at(capsys, monkeypatch, width)[1]
        assert cell_len(row) <= width
        state = {
            "status_full": "1$" in row and "!merge" in row,
            "status_counts": "1c" in row,
            "url_full": "some-owner/some-long-repository-name" in row,
            "url_owner": "some-owner/…" in row,
            "date_full": bool(month.search(row)),
            "path_whole": row.startswith(LONG + " "),
        }
        seen.append((width, state))
        if not state["path_whole"]:
            assert not state["status_full"], (width, row)
            assert not state["url_full"], (width, row)
            assert not state["date_full"] and re.search(r"\b3d$", row), (width, row)
        if not state["url_full"]:
            assert not state["status_full"], (width, row)
        if not state["date_full"]:
            assert not state["url_full"], (width, row)
    states = [s for _, s in seen]
    assert states[0]["status_full"] and states[0]["url_full"] and states[0]["date_full"]
    # Every step of the narrowing shows up at some width, in this order.
    assert any(not s["status_full"] and s["status_counts"] and s["url_full"] for s in states)
    assert any(s["url_owner"] and s["date_full"] and s["path_whole"] for s in states)
    assert any(not s["date_full"] and s["path_whole"] for s in states)
    assert not states[-1]["path_whole"], "at 40 columns the long path is cut"
    cut = render_at(capsys, monkeypatch, 60)[1]
    assert "…" in cut.split()[0]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 80), st.booleans()), min_size=1, max_size=7),
    st.integers(1, 300),
)
def test_fit_widths_cuts_free_text_first(cols: list[tuple[int, bool]], avail: int) -> None:
    natural = [n for n, _ in cols]
    cuttable = [c for _, c in cols]
    widths = fit_widths(natural, cuttable, avail)
    gaps = GAP * (len(cols) - 1)
    assert all(1 <= w <= n for w, n in zip(widths, natural, strict=True))
    if sum(natural) + gaps <= avail:
        assert widths == natural
    elif len(cols) + gaps <= avail:
        assert sum(widths) + gaps == avail, "fits exactly, wasting no width"
    fixed_cut = any(w < n for w, n, c in zip(widths, natural, cuttable, strict=True) if not c)
    if fixed_cut:
        assert all(w <= MIN_CUT for w, c in zip(widths, cuttable, strict=True) if c)


def test_remote_urls_are_simplified(
    capsys: pytest.CaptureFixture[str], wide: RepoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(wide.root)
    monkeypatch.setenv("COLUMNS", "200")
    _, out, _ = run_cli(capsys, "--no-progress", "-s", "name", "-c", "-,name,url")
    rows = [line.split() for line in out.splitlines()[1:]]
    assert rows == [
        [LONG, "some-owner/some-long-repository-name"],
        ["gl", "gl:team/proj"],
        ["other", "git.example.org:x/y"],
    ]
    _, out, _ = run_cli(capsys, "--no-progress", "-s", "name", "-p", "url")
    assert out.splitlines() == [
        "some-owner/some-long-repository-name",
        "gl:team/proj",
        "git.example.org:x/y",
    ]


# ------------------------------------------------------------------------------------------
# 5. Untrusted text

ESC_NAME = "evil\x1b[31mred\x1b]0;title\x07end"
MARKUP_NAME = "[bold red]x[reverse]y"
# git refuses ASCII control characters and "[" in branch names, but not C1 controls
# (U+009B is CSI on some terminals) or bidi overrides.
ODD_BRANCH = "feat\u202eevil\u009b31m"
SECRET_URLS = {
    "cred": "https://user:secret@github.com/o/r.git",
    "token": "https://ghp_token@example.com/x.git",
}


@pytest.fixture
def hostile(repos: RepoFactory) -> RepoFactory:
    repos.repo(ESC_NAME)
    repos.repo(MARKUP_NAME).git("checkout", "-q", "-b", ODD_BRANCH)
    for name, url in SECRET_URLS.items():
        r = repos.repo(name)
        r.git("remote", "add", "origin", url)
        r.git("config", "branch.main.remote", "origin")
        r.git("config", "branch.main.merge", "refs/heads/main")
    return repos


def assert_clean(text: str, where: str) -> None:
    for raw in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert raw not in text, (where, raw)
    for secret in ("secret", "ghp_token"):
        assert secret not in text, (where, secret)


def test_untrusted_text_is_escaped_and_redacted_in_every_format(
    capsys: pytest.CaptureFixture[str], hostile: RepoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(hostile.root)
    monkeypatch.setenv("COLUMNS", "300")
    outputs: dict[str, str] = {}
    _, outputs["table"], _ = run_cli(capsys, "--no-progress", "-c", "+full_url,+upstream")
    _, outputs["json"], _ = run_cli(capsys, "--no-progress", "-o", "json")
    _, outputs["ndjson"], _ = run_cli(capsys, "--no-progress", "-o", "ndjson")
    for expr in ("path", "name", "branch", "remote_url", "url", "display_path", "status"):
        _, outputs[f"-p {expr}"], _ = run_cli(capsys, "--no-progress", "-p", expr)
    for where, text in outputs.items():
        assert_clean(text, where)

    table = outputs["table"]
    assert MARKUP_NAME in table, "markup is shown literally"
    assert "evil\\x1b[31mred\\x1b]0;title\\x07end" in table
    assert "feat\\u202eevil\\x9b31m" in table
    assert "https://***@github.com/o/r.git" in table
    assert "https://***@example.com/x.git" in table

    records = {os.path.basename(r["path"]): r for r in json.loads(outputs["json"])}
    assert set(records) == {ESC_NAME, MARKUP_NAME, *SECRET_URLS}, "JSON decodes to the real name"
    assert records[MARKUP_NAME]["branch"] == ODD_BRANCH
    for name in SECRET_URLS:
        url = records[name]["remote_url"]
        assert "***@" in url and url.endswith(".git"), url
    assert "\\u001b" in outputs["json"] and "\\u001b" in outputs["ndjson"]

    assert ESC_NAME.replace("\x1b", "\\x1b").replace("\x07", "\\x07") in outputs["-p name"]
    # Without a remote, url is "-", as the earlier gitoverit had it.
    assert sorted(outputs["-p url"].split()) == ["-", "-", "example.com:x", "o/r"]
    assert sorted(outputs["-p remote_url"].split()) == [
        "https://***@example.com/x.git",
        "https://***@github.com/o/r.git",
    ]


def test_names_cannot_inject_escapes_into_a_coloured_table(hostile: RepoFactory) -> None:
    proc = run_proc(
        str(hostile.root), "--no-progress", "-c", "+url", env={"COLUMNS": "300", "FORCE_COLOR": "1"}
    )
    assert proc.returncode == 0
    assert b"\x1b[" in proc.stdout, "colour is on, so the check below means something"
    assert b"\x07" not in proc.stdout and b"\x1b]" not in proc.stdout
    assert b"evil\x1b" not in proc.stdout and b"\xc2\x9b" not in proc.stdout
    assert b"secret" not in proc.stdout and b"ghp_token" not in proc.stdout


# ------------------------------------------------------------------------------------------
# 6. Configuration through the CLI


@pytest.fixture
def two_roots(tmp_path: Path) -> tuple[Path, Path]:
    one, two = tmp_path / "one", tmp_path / "two"
    for root, names in ((one, ["zeta", "skipme"]), (two, ["alpha"])):
        factory = RepoFactory(root, tmp_path / f"{root.name}-aux")
        for n in names:
            factory.repo(n)
    return one, two


def test_config_file_env_and_flags_layer(
    capsys: pytest.CaptureFixture[str],
    two_roots: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one, two = two_roots
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    path = write_config(
        "jobs = 1\n"
        'sort = "name"\n'
        'columns = "-remote"\n'
        f"roots = [{json.dumps(str(one))}, {json.dumps(str(two))}]\n"
        'exclude = ["skipme"]\n'
    )
    code, out, _ = run_cli(capsys, "--no-progress", "-o", "json")
    assert code == 0
    assert record_names(json.loads(out)) == ["alpha", "zeta"], "roots scanned, skipme pruned"

    monkeypatch.setenv("GITOVERIT_SORT", "path")
    _, out, _ = run_cli(capsys, "--no-progress", "-o", "json")
    assert record_names(json.loads(out)) == ["zeta", "alpha"], "env beats the file"
    _, out, _ = run_cli(capsys, "--no-progress", "-o", "json", "-s", "name")
    assert record_names(json.loads(out)) == ["alpha", "zeta"], "a flag beats both"

    _, out, _ = run_cli(capsys, "--no-progress", "-o", "json", str(two))
    assert record_names(json.loads(out)) == ["alpha"], "given DIRS replace the roots"

    code, out, err = run_cli(capsys, "config")
    assert code == 0 and err == ""
    lines = {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}
    assert str(path) in out.splitlines()[0] and "(exists)" in out.splitlines()[0]
    assert re.search(rf"= 1\s+# config file {re.escape(str(path))}:1$", lines["jobs"])
    assert re.search(r'= "path"\s+# env GITOVERIT_SORT$', lines["sort"])
    assert re.search(rf'"-remote"\s+# config file {re.escape(str(path))}:3$', lines["columns"])
    assert re.search(rf"# config file {re.escape(str(path))}:5$", lines["exclude"])
    assert re.search(r"= 120.0\s+# default$", lines["timeout"]), "a default shows its value"
    assert "(not set)" not in out


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ('sort = "name"\njobs = "many"\n', 2, "jobs"),
        ("jobs = 2\n\nsort = \n", 3, "invalid TOML"),
        ('jobs = 2\nsort = "colour"\n', 2, "sort"),
        ('colums = "-url"\n', 1, "did you mean 'columns'"),
    ],
)
def test_bad_config_exits_2_naming_file_and_line_before_scanning(
    tmp_path: Path, repos: RepoFactory, text: str, line: int, needle: str
) -> None:
    repos.repo("r")
    path = write_config(text)
    env, log = fake_git(tmp_path)
    proc = run_proc(str(repos.root), "--no-progress", env=env)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and proc.stdout == b""
    assert f"{path}:{line}:" in err and needle in err
    assert not log.exists(), "nothing was scanned"
    proc = run_proc("config", env=env)
    assert proc.returncode == 2 and f"{path}:{line}:" in proc.stderr.decode()


def test_bad_config_columns_exit_2(capsys: pytest.CaptureFixture[str], repos: RepoFactory) -> None:
    repos.repo("r")
    write_config('columns = "-remote,colour"\n')
    code, out, err = run_cli(capsys, str(repos.root))
    assert code == 2 and out == "" and "colour" in err


# ------------------------------------------------------------------------------------------
# 7. Shell completion


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(capsys: pytest.CaptureFixture[str], shell: str) -> None:
    code, out, _ = run_cli(capsys, "completion", shell)
    assert code == 0
    assert "_GITOVERIT_COMPLETE" in out and f"{shell}_complete" in out
    code, out, _ = run_cli(capsys, "completion", shell, "--prog", "gito")
    assert code == 0 and "_GITO_COMPLETE" in out


def complete(words: str, cword: int, prog: str = "gitoverit", cwd: Path | None = None) -> str:
    """Ask the CLI for completions the way the bash script does; returns its stdout."""
    code = (
        f"import sys; sys.argv[0] = {prog!r}; from gitoverit.cli import main; "
        "raise SystemExit(main())"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={
            **os.environ,
            f"_{prog.upper()}_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(cword),
        },
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_bash_completion_offers_options_and_choices(tmp_path: Path) -> None:
    assert "plain,--sort" in complete("gitoverit --so", 1, cwd=tmp_path).splitlines()
    offered = set(complete("gitoverit -o ", 2, cwd=tmp_path).splitlines())
    assert {"plain,json", "plain,ndjson", "plain,table"} <= offered
    offered = set(complete("gitoverit -s ", 2, cwd=tmp_path).splitlines())
    assert {"plain,mtime", "plain,branch", "plain,none"} <= offered


def test_bash_completion_for_gito(tmp_path: Path) -> None:
    out = complete("gito --so", 1, prog="gito", cwd=tmp_path)
    assert out.splitlines() == ["plain,--sort"], "the gito script's variable is honoured"


def test_bash_completion_of_subcommands(tmp_path: Path) -> None:
    assert "plain,sync" in complete("gitoverit sy", 1, cwd=tmp_path).splitlines()
    offered = complete("gitoverit sync --ma", 2, cwd=tmp_path).splitlines()
    assert "plain,--manifest" in offered and "plain,--max-depth" not in offered


# ------------------------------------------------------------------------------------------
# 8. Help and README


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0
    examples = out.split("Examples:", 1)[1]
    assert "gito -d -s branch" in examples
    assert "-o json" in examples and "--exclude" in examples
    assert "--help-where" in out, "the expression language is one flag away"


def long_flags(command: click.Command) -> set[str]:
    return {
        opt
        for param in command.params
        if isinstance(param, click.Option)
        for opt in (*param.opts, *param.secondary_opts)
        if opt.startswith("--")
    }


@pytest.mark.parametrize(
    "command",
    [scan_command, sync_command, freeze_command, gitob_command],
    ids=["gitoverit", "sync", "freeze", "gitob"],
)
def test_readme_mentions_every_long_flag(command: click.Command) -> None:
    text = README.read_text(encoding="utf-8")
    flags = long_flags(command)
    assert "--where" in flags or command is freeze_command or command is sync_command
    missing = sorted(f for f in flags if not re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", text))
    assert missing == [], f"{command.name}: flags missing from README.md: {missing}"
