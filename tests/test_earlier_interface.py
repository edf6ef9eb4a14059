"""The earlier gitoverit's interface keeps working: -j 0, --print0, its columns and their
meanings, its sort keys and expression names, line totals, the committer identity, and
the P/U markers.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import RepoFactory, sh
from gitoverit.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--no-progress", *args])
    out, err = capsys.readouterr()
    return code, out, err


def records(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    code, out, err = run(capsys, "-o", "json", *args)
    assert code == 0, err
    result: list[dict[str, Any]] = json.loads(out)
    return result


def by_name(recs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {Path(r["path"]).name: r for r in recs}


def table(capsys: pytest.CaptureFixture[str], *args: str) -> list[list[str]]:
    code, out, err = run(capsys, *args)
    assert code == 0, err
    return [line.split("  ") for line in out.splitlines()]


def cells(capsys: pytest.CaptureFixture[str], spec: str, *args: str) -> dict[str, str]:
    """``name -> the other column's cell`` for a table of ``-c -,name,<column>``."""
    code, out, err = run(capsys, "-c", f"-,name,{spec}", *args)
    assert code == 0, err
    rows = {}
    for line in out.splitlines()[1:]:
        name, _, rest = line.partition(" ")
        rows[name] = rest.strip()
    return rows


# -------------------------------------------------------------------------- 1. flags


def test_jobs_zero_is_serial_like_jobs_one(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(3):
        repos.repo(f"r{i}").write("x.txt")
    zero = records(capsys, "-j", "0", "-s", "dir", str(repos.root))
    one = records(capsys, "-j", "1", "-s", "dir", str(repos.root))
    for rec in (*zero, *one):
        rec.pop("duration_ms")
    assert zero == one and len(zero) == 3


def test_print0_is_the_long_name_of_dash_zero(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repos.repo("a")
    repos.repo("b")
    outputs = [
        run(capsys, "-p", "name", flag, str(repos.root))[1] for flag in ("-0", "--print0", "--null")
    ]
    assert outputs[0] == outputs[1] == outputs[2]
    assert sorted(outputs[0].split("\0")) == ["", "a", "b"]


# -------------------------------------------------------------------------- columns


@pytest.fixture
def tracked(repos: RepoFactory, monkeypatch: pytest.MonkeyPatch) -> RepoFactory:
    """``app`` tracks origin/main on a GitHub-looking remote; ``solo`` has no remote."""
    _remote, clone = repos.remote_and_clone("app")
    clone.git("remote", "set-url", "--push", "origin", clone.git("remote", "get-url", "origin"))
    clone.git("config", "remote.origin.url", "https://github.com/me/app.git")
    repos.repo("solo")
    monkeypatch.chdir(repos.root)
    monkeypatch.setenv("COLUMNS", "300")
    return repos


def test_default_columns_are_the_earlier_ones_in_their_order(
    tracked: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys)
    assert code == 0
    assert out.splitlines()[0].split() == ["dir", "status", "branch", "remote", "url", "modified"]
    code, out, _ = run(capsys, "--metadata-only")
    assert out.splitlines()[0].split() == ["dir", "status", "branch", "remote", "url"]


def test_columns_have_their_earlier_meanings(
    tracked: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cells(capsys, "dir") == {"app": "app", "solo": "solo"}
    assert cells(capsys, "remote") == {"app": "origin/main", "solo": ""}
    assert cells(capsys, "url") == {"app": "me/app", "solo": ""}
    assert cells(capsys, "branch_remote") == {"app": "main:origin/main", "solo": "main:"}
    assert cells(capsys, "full_url") == {"app": "https://github.com/me/app.git", "solo": ""}
    assert cells(capsys, "parent") == {"app": "", "solo": ""}
    mtime = cells(capsys, "mtime")
    assert all(v.endswith(("s)", "m)")) for v in mtime.values()), mtime
    assert cells(capsys, "ident") == {
        "app": "Test User <test@example.com>",
        "solo": "Test User <test@example.com>",
    }


def test_column_completion_offers_names_after_commas(tmp_path: Path) -> None:
    code = (
        "import sys; sys.argv[0] = 'gitoverit'; from gitoverit.cli import main; "
        "raise SystemExit(main())"
    )
    env = {**os.environ, "_GITOVERIT_COMPLETE": "bash_complete"}

    def offered(words: str, cword: int) -> set[str]:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            env={**env, "COMP_WORDS": words, "COMP_CWORD": str(cword)},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        return {line.split(",", 1)[1] for line in proc.stdout.splitlines() if "," in line}

    assert {"branch", "branch_remote"} <= offered("gitoverit -c br", 2)
    assert offered("gitoverit -c url,+id", 2) == {"url,+ident"}
    assert offered("gitoverit -c url,-br", 2) == {
        "url,-branch",
        "url,-branch_remote",
        "url,-branches_ahead",
    }
    assert "dir" in offered("gitoverit -c ", 2) and "mtime" in offered("gitoverit -c ", 2)


# -------------------------------------------------------------------------- sort keys


def identities(repos: RepoFactory) -> None:
    for name, who in (("a", "Zed"), ("b", "Amy"), ("c", "Max")):
        r = repos.repo(name)
        r.git("config", "user.name", who)
        r.git("config", "user.email", f"{who.lower()}@example.com")


def test_sort_by_ident_author_and_branch_remote(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GIT_COMMITTER_NAME")
    monkeypatch.delenv("GIT_COMMITTER_EMAIL")
    identities(repos)
    for key in ("ident", "author"):
        order = [Path(r["path"]).name for r in records(capsys, "-s", key, str(repos.root))]
        assert order == ["b", "c", "a"], key
    repos.repo("a").git("checkout", "-q", "-b", "zzz")
    repos.repo("b").git("checkout", "-q", "-b", "aaa")
    order = [Path(r["path"]).name for r in records(capsys, "-s", "branch_remote", str(repos.root))]
    assert order == ["b", "c", "a"]


def test_sort_by_dir_is_the_shown_path_and_path_the_absolute_one(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repos.repo("b")  # shown as "b"
    at_home = Path(os.environ["HOME"]) / "a"  # shown as "~/a"
    sh("git", "init", "-q", at_home)
    monkeypatch.chdir(repos.root)
    shown = [r["display_path"] for r in records(capsys, "-s", "dir", ".", str(at_home))]
    assert shown == ["b", "~/a"]
    paths = [r["path"] for r in records(capsys, "-s", "path", ".", str(at_home))]
    assert paths == sorted(paths) and paths[0] == str(at_home)


# -------------------------------------------------------------------------- names


def test_earlier_expression_names_and_regex_helpers(
    tracked: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    def names(expr: str) -> list[str]:
        code, out, err = run(capsys, "-w", expr, "-p", "name", "-s", "name")
        assert code == 0, err
        return out.split()

    assert names('remote == "-"') == ["solo"]
    assert names('remote == "origin/main"') == ["app"]
    assert names('url == "-"') == ["solo"]
    assert names('"me/" in url') == ["app"]
    assert names('ident.rxi("TEST USER")') == ["app", "solo"]
    assert names('ident.rx("TEST USER")') == []
    assert names('rxi(name, "^APP$")') == ["app"]
    assert names('branch.rx("^ma")') == ["app", "solo"]
    assert names('dir == "app"') == ["app"]
    assert names("latest_mtime == mtime and latest_mtime > 0") == ["app", "solo"]


# -------------------------------------------------------------------------- 2. lines and ident


def test_lines_count_what_git_diff_head_counts(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    r = repos.repo("edited")
    r.commit("a.txt", "1\n2\n3\n")
    r.write("a.txt", "1\nTWO\n3\n4\n")  # 2 added, 1 removed, not staged
    r.write("b.txt", "x\ny\n")
    r.git("add", "b.txt")  # 2 added, staged
    r.write("bin.dat", "")
    (r.path / "bin.dat").write_bytes(b"\0\1\2")
    r.git("add", "bin.dat")  # binary: counts 0
    r.write("untracked.txt", "not counted\n")
    unborn = repos.repo("unborn", commits=0)
    unborn.write("new.txt", "a\nb\nc\n")
    unborn.git("add", "new.txt")
    repos.repo("clean")
    recs = by_name(records(capsys, str(repos.root)))
    assert (recs["edited"]["lines_added"], recs["edited"]["lines_removed"]) == (4, 1)
    assert (recs["unborn"]["lines_added"], recs["unborn"]["lines_removed"]) == (3, 0)
    assert (recs["clean"]["lines_added"], recs["clean"]["lines_removed"]) == (0, 0)
    expected = sh("git", "-C", r.path, "diff", "HEAD", "--numstat")
    assert (
        sum(int(n) for line in expected.splitlines() for n in line.split()[:1] if n.isdigit()) == 4
    )
    row = cells(capsys, "status", str(repos.root))
    assert row["edited"] == "2+ 1m 1u (+4/-1)"
    assert row["clean"] == "✓"


def test_lines_are_the_first_detail_dropped(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    r = repos.repo("edited")
    r.write("file.txt", "changed\n")
    r.write("file.txt.bak")
    r.git("stash", "-q", "-u")
    r.write("file.txt", "changed again\n")
    monkeypatch.setenv("COLUMNS", "200")
    wide = cells(capsys, "status", str(repos.root))["edited"]
    assert wide == "1m (+1/-1) 1$"
    monkeypatch.setenv("COLUMNS", str(len("edited status")))
    assert cells(capsys, "status", str(repos.root))["edited"] == "1m 1$"


def logged_git(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose ``git`` logs each command line before running the real one."""
    log = tmp_path / "git.log"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    real = subprocess.run(["which", "git"], capture_output=True, text=True, check=True)
    wrapper = bindir / "git"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec {real.stdout.strip()} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    return {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}, log


def gitoverit(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gitoverit", "--no-progress", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_lines_and_ident_run_git_only_when_the_output_needs_them(
    repos: RepoFactory, tmp_path: Path
) -> None:
    repos.repo("dirty").write("file.txt", "changed\n")
    repos.repo("clean")
    env, log = logged_git(tmp_path)

    def commands(*args: str) -> list[str]:
        log.write_text("")
        # The git reader: the line totals then come from git diff.
        proc = gitoverit(env, "--reader", "git", *args, str(repos.root))
        assert proc.returncode == 0, proc.stderr
        return log.read_text().splitlines()

    narrow = commands("-c", "-,dir,branch")
    assert not any(" diff " in c or " var " in c for c in narrow), narrow
    table = commands()
    assert sum(" diff " in c for c in table) == 1, "only the dirty repo"
    assert not any(" var " in c for c in table)
    as_json = commands("-o", "json")
    assert sum(" diff " in c for c in as_json) == 1
    assert sum(" var " in c for c in as_json) == 1, "once per run, not once per repo"
    assert sum(" diff " in c for c in commands("-c", "-,dir", "-w", "lines_added > 0")) == 1


def test_ident_follows_local_config_and_include_if(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GIT_COMMITTER_NAME")
    monkeypatch.delenv("GIT_COMMITTER_EMAIL")
    work = repos.root / "work"
    repos.repo("work/api")
    repos.repo("personal")
    local = repos.repo("local-id")
    local.git("config", "user.email", "local@example.com")
    included = repos.repo("included-id")
    id_file = repos.aux / "id.gitconfig"
    id_file.write_text("[user]\n\temail = included@example.com\n")
    included.git("config", "include.path", str(id_file))
    work_config = repos.aux / "work.gitconfig"
    work_config.write_text("[user]\n\temail = me@work.example\n")
    with open(os.environ["GIT_CONFIG_GLOBAL"], "a") as f:
        f.write(f'[includeIf "gitdir:{work}/"]\n\tpath = {work_config}\n')
    recs = by_name(records(capsys, str(repos.root)))
    assert recs["api"]["ident"] == "Test User <me@work.example>"
    assert recs["personal"]["ident"] == "Test User <test@example.com>"
    assert recs["local-id"]["ident"] == "Test User <local@example.com>"
    assert recs["included-id"]["ident"] == "Test User <included@example.com>"
    for name, rec in recs.items():
        expected = sh("git", "-C", rec["path"], "var", "GIT_COMMITTER_IDENT").rsplit(" ", 2)[0]
        assert rec["ident"] == expected, name


# -------------------------------------------------------------------------- 3. markers


def test_pulled_and_pushed_repos_are_marked_and_the_outcome_column_says_why(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    remote, _behind = repos.remote_and_clone("behind")
    repos.push_from_other(remote)
    _remote2, ahead = repos.remote_and_clone("ahead")
    ahead.commit("mine.txt")
    remote3, blocked = repos.remote_and_clone("blocked")
    repos.push_from_other(remote3)
    blocked.write("file.txt", "uncommitted\n")
    monkeypatch.setenv("COLUMNS", "300")
    code, out, err = run(capsys, "-P", "-U", "-c", "-,name,status,outcome", str(repos.root))
    assert code == 0, err
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert " P " in rows["behind"] + " " and "updated" in rows["behind"]
    assert " U " in rows["ahead"] + " " and "updated" in rows["ahead"]
    assert "skipped: pull: uncommitted changes" in rows["blocked"]
    assert " P" not in rows["blocked"] and " U" not in rows["blocked"]


def test_stashes_and_submodules_have_their_own_symbols(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    lib = repos.repo("lib", aux=True)
    parent = repos.repo("parent")
    parent.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib.path), "lib")
    parent.git("commit", "-qm", "add lib")
    parent.write("file.txt", "stash me\n")
    parent.git("stash", "-q")
    status = cells(capsys, "status", "--no-submodules", str(repos.root))
    assert status["parent"] == "1$ 1s"


def test_help_lists_every_column(capsys: pytest.CaptureFixture[str]) -> None:
    from gitoverit.output.columns import COLUMNS

    assert main(["--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for name in COLUMNS:
        assert name in text, name


def test_ctrl_c_while_line_totals_are_read_kills_their_git(
    repos: RepoFactory, tmp_path: Path
) -> None:
    """The extras run beside the scan; a Ctrl-C must not wait for them, nor leave them."""
    import signal
    import time

    repos.repo("dirty").write("file.txt", "changed\n")
    repos.repo("clean")
    log = tmp_path / "git.log"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    real = subprocess.run(["which", "git"], capture_output=True, text=True, check=True)
    wrapper = bindir / "git"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'case " $* " in *" diff "*) echo diff >> {log}; exec sleep 37.1357 ;; esac\n'
        f'exec {real.stdout.strip()} "$@"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gitoverit",
            "--no-progress",
            "--reader",
            "git",
            "-o",
            "ndjson",
            str(repos.root),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    end = time.monotonic() + 20
    while not (log.exists() and log.read_text()):
        assert proc.poll() is None and time.monotonic() < end, "the line totals never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    start = time.monotonic()
    out, _err = proc.communicate(timeout=10)
    assert proc.returncode == 130
    assert time.monotonic() - start < 3
    recs = {
        Path(r["path"]).name: r for r in map(json.loads, out.splitlines()) if r["type"] == "repo"
    }
    assert set(recs) == {"dirty", "clean"}
    assert recs["dirty"]["outcome"] == "interrupted"
    time.sleep(0.2)
    left = subprocess.run(["pgrep", "-f", "sleep 37.1357"], capture_output=True, text=True)
    assert left.stdout.strip() == "", "the hanging git was killed"
