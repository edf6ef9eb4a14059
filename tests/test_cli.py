"""End-to-end tests of ``gitoverit [DIRS]`` against real repositories in every shape."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import RepoFactory, git_dirs_snapshot
from gitoverit.cli import main
from gitoverit.model import RECORD_FIELDS
from shapes import NON_UTF8, build_shapes

README = Path(__file__).resolve().parent.parent / "README.md"
ANSI = re.compile(r"\x1b\[")


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def shapes(repos: RepoFactory) -> dict[str, Path]:
    return build_shapes(repos)


def by_name(records: list[dict[str, Any]], shapes: dict[str, Path]) -> dict[str, dict[str, Any]]:
    index = {os.path.realpath(p): name for name, p in shapes.items()}
    out = {}
    for rec in records:
        name = index.get(os.path.realpath(rec["path"]))
        assert name is not None, f"unexpected repo reported: {rec['path']!r}"
        assert name not in out, f"repo reported twice: {name}"
        out[name] = rec
    return out


def test_json_reports_every_shape_correctly(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, shapes: dict[str, Path]
) -> None:
    code, out, err = run_cli(capsys, "-o", "json", "--no-progress", str(repos.root))
    records = json.loads(out)
    got = by_name(records, shapes)
    assert set(got) == set(shapes), "every repo exactly once; ignored nested repo left out"
    assert code == 1, "the corrupt repo is an error"
    assert "errors" in err and f"{len(shapes)} repos" in err

    for rec in records:
        assert set(rec) == {"type", *RECORD_FIELDS}
        assert rec["format_version"] == 1

    c = got["clean"]
    assert (c["branch"], c["upstream"], c["ahead"], c["behind"]) == ("main", "origin/main", 0, 0)
    assert c["dirty"] is False and c["error"] is None and c["detached"] is False
    assert c["remote_url"].startswith("file://")
    assert c["mtime"] is not None

    assert got["modified"]["modified"] == 2 and got["modified"]["dirty"] is True
    assert got["untracked"]["untracked"] == 2
    assert got["staged"]["staged"] == 1
    assert got["deleted"]["deleted"] == 1 and got["deleted"]["modified"] == 0
    assert got["conflicted"]["conflicted"] == 1
    assert got["conflicted"]["operation"] == "merge"
    assert got["stashed"]["stashes"] == 2 and got["stashed"]["dirty"] is False
    assert (got["ahead"]["ahead"], got["ahead"]["behind"]) == (2, 0)
    assert (got["behind"]["ahead"], got["behind"]["behind"]) == (0, 3)
    assert (got["diverged"]["ahead"], got["diverged"]["behind"]) == (1, 1)
    g = got["gone"]
    assert g["upstream"] == "origin/feature" and g["upstream_gone"] is True
    assert g["ahead"] is None and g["behind"] is None
    assert got["no-upstream"]["upstream"] is None
    assert got["no-upstream"]["upstream_gone"] is False
    d = got["detached"]
    assert d["detached"] is True and d["branch"] is None and d["head"]
    assert d["dirty"] is False, "a detached HEAD alone is not dirty"
    u = got["unborn"]
    assert u["head"] is None and u["branch"] == "main" and u["error"] is None
    assert got["rebasing"]["operation"] == "rebase" and got["rebasing"]["dirty"] is True
    assert got["with-submodule"]["submodules"] == 1
    assert got["with-submodule/sub"]["error"] is None
    assert got["linked-modules-wt"]["branch"] == "wt-branch"
    assert got["outer/inner"]["error"] is None
    n = got["non-utf8"]
    assert os.fsencode(n["path"]).endswith(NON_UTF8)
    assert n["untracked"] == 1 and n["error"] is None
    assert got["corrupt"]["error"]["reason"] == "corrupt"
    for name, rec in got.items():
        if name != "corrupt":
            assert rec["error"] is None, (name, rec["error"])


def test_ndjson_streams_one_line_per_repo_then_summary(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, shapes: dict[str, Path]
) -> None:
    code, out, _ = run_cli(capsys, "-o", "ndjson", "--no-progress", str(repos.root))
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[-1]["type"] == "summary"
    assert lines[-1]["repos"] == len(shapes) and lines[-1]["errors"] == 1
    repos_lines = [rec for rec in lines if rec["type"] == "repo"]
    assert set(by_name(repos_lines, shapes)) == set(shapes)
    assert code == 1


def test_piped_table_is_data_only_without_colour_legend_or_trailing_blanks(
    capsys: pytest.CaptureFixture[str],
    repos: RepoFactory,
    shapes: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(repos.root)
    code, out, _ = run_cli(capsys, "--no-progress")
    assert not ANSI.search(out)
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["dir", "status", "branch"]
    assert len(lines) == 1 + len(shapes), "the header and one line per repo, nothing else"
    assert all(line == line.rstrip() for line in lines), "no line ends in blanks"
    body = "\n".join(lines[1:])
    for name in ("clean", "modified", "conflicted", "with-submodule/sub", "linked-modules-wt"):
        assert re.search(rf"^{re.escape(name)}\s", body, re.M), name
    assert re.search(r"^modified\s+2m \(\+2/-2\)\s+main\b", body, re.M)
    assert re.search(r"^behind\s+3↓\s+main", body, re.M)
    assert re.search(r"^corrupt\s.*✗ corrupt", body, re.M)
    assert "caf\\xe9-\\xff" in body, "undecodable bytes are shown escaped"
    assert code == 1


def test_dirty_only_and_sort(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, shapes: dict[str, Path]
) -> None:
    code, out, _ = run_cli(
        capsys, "-o", "json", "-d", "-s", "path", "--no-progress", str(repos.root)
    )
    recs = json.loads(out)
    names = set(by_name(recs, shapes))
    assert {
        "modified",
        "untracked",
        "staged",
        "deleted",
        "conflicted",
        "rebasing",
        "corrupt",
    } <= names
    assert not names & {"clean", "stashed", "ahead", "detached", "no-upstream"}
    paths = [r["display_path"].lower() for r in recs]
    assert paths == sorted(paths)
    assert code == 1, "the corrupt repo is listed and is an error"
    _, out, _ = run_cli(capsys, "-o", "json", "-s", "path", "-r", "--no-progress", str(repos.root))
    paths = [r["display_path"].lower() for r in json.loads(out)]
    assert paths == sorted(paths, reverse=True)


def test_default_sort_is_mtime_newest_last(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory
) -> None:
    for name, stamp in [("b-old", 1_000_000), ("a-new", 3_000_000), ("c-mid", 2_000_000)]:
        r = repos.repo(name)
        for f in r.path.iterdir():
            if f.name != ".git":
                os.utime(f, (stamp, stamp))
    _, out, _ = run_cli(capsys, "-o", "json", "--no-progress", str(repos.root))
    assert [os.path.basename(r["path"]) for r in json.loads(out)] == ["b-old", "c-mid", "a-new"]


def test_metadata_only_leaves_worktree_fields_null(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory
) -> None:
    r = repos.repo("m")
    r.write("file.txt", "dirty\n")
    code, out, _ = run_cli(
        capsys, "-o", "json", "--metadata-only", "--no-progress", str(repos.root)
    )
    (rec,) = json.loads(out)
    assert code == 0
    assert rec["branch"] == "main" and rec["head"]
    for key in ("staged", "modified", "deleted", "untracked", "conflicted", "mtime"):
        assert rec[key] is None, key


@pytest.mark.parametrize(
    "args",
    [
        ["--no-such-flag"],
        ["-o", "xml"],
        ["-j", "-1"],
        ["-s", "colour"],
        ["/definitely/not/a/folder"],
        ["--max-depth", "-1"],
    ],
)
def test_usage_errors_exit_2_before_scanning(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, out, err = run_cli(capsys, *args)
    assert code == 2
    assert out == ""
    assert "Error" in err or "error" in err


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_fast_path_and_module_entry_point(flag: str) -> None:
    from gitoverit import __version__

    proc = subprocess.run(
        [sys.executable, "-m", "gitoverit", flag],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"gitoverit {__version__}\n", "")
    # The console script answers before the command line (and click) is imported.
    probe = (
        "import sys; from gitoverit._entry import gitoverit; code = gitoverit(); "
        "print(code, 'click' in sys.modules, 'gitoverit.cli' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, flag], capture_output=True, text=True, check=False
    )
    assert proc.stdout.splitlines()[-1] == "0 False False", proc.stdout


def test_a_small_scan_imports_only_what_it_uses(repos: RepoFactory) -> None:
    """What only some runs need is imported only by them: a scan of a few clean
    repositories, with no config file and no debug log, loads no TOML parser, no logging,
    no pickle (no in-process worker below the threshold) and no thread pool for extras."""
    for name in ("a", "b"):
        repos.repo(name, commits=1)
    probe = (
        "import sys; from gitoverit._entry import gitoverit; code = gitoverit(); "
        "print(code, sorted(m for m in ('tomllib', 'logging', 'pickle', "
        "'concurrent.futures', 'pygit2') if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("GITOVERIT_CONFIG", "GITO_DEBUG_LOG")}
    proc = subprocess.run(
        [sys.executable, "-c", probe, "--no-progress", "-o", "json", str(repos.root)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert proc.stdout.splitlines()[-1] == "0 []", (proc.stdout, proc.stderr)


def test_empty_folder_reports_nothing_and_exits_0(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run_cli(capsys, "-o", "json", "--no-progress", str(tmp_path))
    assert code == 0 and json.loads(out) == []
    assert "0 repos" in err


def test_scan_writes_nothing_under_any_git_dir(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, shapes: dict[str, Path]
) -> None:
    # Make one index stat-dirty: every tracked file touched, no content changed.
    for f in shapes["clean"].iterdir():
        if f.is_file():
            os.utime(f, (2_000_000_000, 2_000_000_000))

    before = git_dirs_snapshot(repos.root)
    assert any(p.endswith(os.sep + "index") for p in before)
    run_cli(capsys, "-o", "json", "--no-progress", str(repos.root))
    after = git_dirs_snapshot(repos.root)
    assert after.keys() == before.keys()
    changed = [p for p in before if before[p] != after[p]]
    assert changed == []


def test_readme_documents_every_json_field() -> None:
    text = README.read_text()
    section = text.split("### JSON fields", 1)[1].split("\n### ", 1)[0]
    documented = re.findall(r"^\| `([a-z_]+)` \|", section, re.M)
    assert sorted(documented) == sorted({"type", *RECORD_FIELDS})


def test_ndjson_streams_results_before_discovery_finishes(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gitoverit.discovery

    repos.repo("a-first")
    repos.repo("z-last")
    real_find = gitoverit.discovery.find_repos

    def slow_walk(*args: Any, **kwargs: Any) -> Iterator[Any]:
        # A walk that stalls after its first repo, as on a slow or huge filesystem.
        for n, ref in enumerate(real_find(*args, **kwargs)):
            if n:
                time.sleep(1.0)
            yield ref

    monkeypatch.setattr(gitoverit.discovery, "find_repos", slow_walk)
    code, out, _ = run_cli(capsys, "-o", "ndjson", "--no-progress", "-j", "1", str(repos.root))
    lines = [json.loads(line) for line in out.splitlines()]
    kinds = [(rec["type"], os.path.basename(rec.get("path", ""))) for rec in lines]
    assert code == 0
    assert kinds[0] == ("repo", "a-first"), kinds
    assert kinds.index(("discovery", "")) < kinds.index(("repo", "z-last"))
    assert kinds[-1][0] == "summary"
    assert lines[kinds.index(("discovery", ""))]["repos"] == 2


def test_narrow_table_keeps_error_reason_and_the_end_of_paths(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = repos.repo("a-rather-long-group-name/and-a-subfolder/the-corrupt-one")
    (deep.path / ".git" / "index").write_bytes(b"DIRC garbage")
    repos.repo("ok")
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.chdir(repos.root)
    code, out, _ = run_cli(capsys, "--no-progress", "-s", "name")
    assert code == 1
    row = next(line for line in out.splitlines() if "corrupt" in line)
    assert "✗ corrupt" in row
    assert row.split()[0].startswith("…") and row.split()[0].endswith("-one")


def test_print_null_on_a_terminal_is_escaped(repos: RepoFactory) -> None:
    import pty

    repos.repo("evil\x1b]0;title\x07name")
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitoverit", "-p", "path", "-0", "--no-progress", str(repos.root)],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.DEVNULL,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait(timeout=30) == 0
    out = b"".join(chunks)
    assert b"\x1b" not in out and b"\x07" not in out
    assert b"evil\\x1b]0;title\\x07name" in out


def _run_with_terminal_stderr(args: list[str]) -> tuple[int, bytes, bytes]:
    """Run gitoverit with stderr on a pseudo-terminal and stdout on a pipe."""
    import pty

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitoverit", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.stdout is not None
    out = proc.stdout.read()
    return proc.wait(timeout=30), out, b"".join(chunks)


def test_progress_shows_on_a_terminal_only_and_not_with_no_progress(
    repos: RepoFactory,
) -> None:
    for i in range(30):
        repos.repo(f"r{i:02}")
    code, out, err = _run_with_terminal_stderr(["-o", "json", str(repos.root)])
    assert code == 0 and len(json.loads(out)) == 30, "stdout carries the data only"
    assert b"Discovering" in err or b"Scanning" in err
    assert b"30 repos, 0 dirty, 0 errors" in err

    code, out, err = _run_with_terminal_stderr(["-o", "json", "--no-progress", str(repos.root)])
    assert code == 0 and len(json.loads(out)) == 30
    assert b"Discovering" not in err and b"Scanning" not in err
    assert b"30 repos, 0 dirty, 0 errors" in err

    # Without a terminal there is no display either.
    proc = subprocess.run(
        [sys.executable, "-m", "gitoverit", "-o", "json", str(repos.root)],
        capture_output=True,
        check=False,
    )
    assert b"Discovering" not in proc.stderr and b"Scanning" not in proc.stderr


@pytest.mark.parametrize("mode", [[], ["--metadata-only"]], ids=["full", "metadata-only"])
def test_exit_on_error_skips_the_rest_of_a_status_scan(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory, mode: list[str]
) -> None:
    bad = repos.repo("a-bad")
    (bad.path / ".git" / "HEAD").write_text("garbage\n")
    for i in range(6):
        repos.repo(f"b{i}")
    code, out, _ = run_cli(
        capsys, "-o", "json", "--no-progress", "-j", "1", "-x", *mode, str(repos.root)
    )
    records = {Path(r["path"]).name: r for r in json.loads(out)}
    assert code == 1 and len(records) == 7, "every repo is still reported once"
    assert records["a-bad"]["error"]["reason"] == "corrupt"
    read = sorted(name for name, r in records.items() if r["error"] is None)
    # With one job nothing new starts once the failure is known. The status engine starts
    # the next git before it reads the finished one's output, so b0 may have been read.
    assert read == ([] if mode else ["b0"]) or read == [], read
    for name, rec in records.items():
        if name != "a-bad" and name not in read:
            assert rec["error"]["reason"] == "skipped", rec
            assert rec["head"] is None and rec["branch"] is None, "it was never read"


def test_errors_prints_each_failure_on_stderr_and_only_when_asked(
    capsys: pytest.CaptureFixture[str], repos: RepoFactory
) -> None:
    bad = repos.repo("bad")
    (bad.path / ".git" / "HEAD").write_text("garbage\n")
    repos.repo("good")
    args = ("-o", "json", "--no-progress", str(repos.root))

    code, _out, err = run_cli(capsys, *args)
    assert code == 1
    assert "corrupt" not in err
    assert err.splitlines()[-1] == "2 repos, 0 dirty, 1 error (--errors for details)"

    code, _out, err = run_cli(capsys, "--errors", *args)
    assert code == 1
    first, *stderr_lines, summary = err.splitlines()
    assert first.startswith(f"{bad.path}: corrupt: "), err
    # Then git's own stderr, indented under the failure it explains.
    assert stderr_lines and all(line.startswith("    ") for line in stderr_lines), err
    assert "not a git repository" in stderr_lines[-1]
    assert summary == "2 repos, 0 dirty, 1 error"


@pytest.mark.parametrize(
    ("args", "usage"),
    [
        (["--no-such-flag"], "Usage: gitoverit [OPTIONS]"),
        (["sync", "--no-such-flag"], "Usage: gitoverit sync [OPTIONS]"),
    ],
)
def test_a_usage_error_names_the_command_and_exits_2(
    capsys: pytest.CaptureFixture[str], args: list[str], usage: str
) -> None:
    code, out, err = run_cli(capsys, *args)
    assert (code, out) == (2, "")
    assert err.startswith(usage), err
    assert "No such option '--no-such-flag'" in err
