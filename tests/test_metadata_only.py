"""``--metadata-only`` never reads the work tree, so nothing it reports says "clean":
what it did not look at is null, shown as ``?``, and counted neither clean nor dirty.
Flags and expressions that need the work tree are refused before any work starts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from _tty import run_on_terminal
from conftest import RepoFactory
from gitoverit.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--no-progress", *args])
    out, err = capsys.readouterr()
    return code, out, err


def records(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    code, out, err = run(capsys, "-o", "json", *args)
    assert code == 0, err
    recs: list[dict[str, Any]] = json.loads(out)
    return recs


def test_unknown_is_null_not_clean(repos: RepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    repos.repo("plain", commits=1)
    (rec,) = records(capsys, "--metadata-only", str(repos.root))
    assert rec["dirty"] is None
    assert [rec[k] for k in ("staged", "modified", "deleted", "untracked", "conflicted")] == [
        None
    ] * 5
    assert rec["mtime"] is None
    # The full scan of the same repo knows it is clean.
    (full,) = records(capsys, str(repos.root))
    assert full["dirty"] is False


def test_an_operation_in_progress_is_known_dirty(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    r = repos.repo("merging", commits=1)
    (r.path / ".git" / "MERGE_HEAD").write_text(r.head + "\n")
    (rec,) = records(capsys, "--metadata-only", str(repos.root))
    assert rec["operation"] == "merge" and rec["dirty"] is True


def test_the_table_shows_a_question_mark_and_says_why(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repos.repo("plain", commits=1)
    code, out, err = run(capsys, "--metadata-only", "-c", "-,repo,status", str(repos.root))
    assert code == 0
    row = out.splitlines()[1]
    assert row.split()[-1] == "?" and "✓" not in out
    _code, lines = run_on_terminal(
        "--no-progress", "--metadata-only", "-c", "-,repo,status", ".", cwd=repos.root, columns=200
    )
    assert "? work tree not read (--metadata-only)" in "\n".join(lines)
    assert err.strip().endswith("1 repo, 0 dirty, 1 not checked, 0 errors")
    code, out, _err = run(capsys, "-p", 'name + " " + status', "--metadata-only", str(repos.root))
    assert out == "plain ?\n"


def test_the_summary_counts_it_neither_clean_nor_dirty(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repos.repo("a", commits=1)
    repos.repo("b", commits=1).write("new.txt")
    code, out, _err = run(capsys, "-o", "ndjson", "--metadata-only", str(repos.root))
    assert code == 0
    summary = json.loads(out.splitlines()[-1])
    assert summary["type"] == "summary"
    assert (summary["repos"], summary["dirty"], summary["unchecked"]) == (2, 0, 2)
    _code, out, _err = run(capsys, "-o", "ndjson", str(repos.root))
    summary = json.loads(out.splitlines()[-1])
    assert (summary["repos"], summary["dirty"], summary["unchecked"]) == (2, 1, 0)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["-d"], "-d/--dirty-only"),
        (["-P"], "-P/--pull-safe"),
        (["-U"], "-U/--push-safe"),
        (["-s", "mtime"], "-s mtime"),
        (["-w", "not dirty"], "--where reads dirty"),
        (["-w", "modified > 0 or ahead > 0"], "--where reads modified"),
        (["-p", "mtime"], "--print reads mtime"),
        (["-p", "staged + untracked"], "--print reads staged, untracked"),
    ],
)
def test_what_needs_the_work_tree_is_refused_before_any_work(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    repos.repo("plain", commits=1)
    code, out, err = run(capsys, "--metadata-only", *args, str(repos.root))
    assert code == 2
    assert out == ""
    assert says in err and "--metadata-only" in err
    assert "repo" not in err.splitlines()[-1]  # no summary: nothing ran


def test_metadata_only_after_a_fetch_is_allowed(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    remote, _clone = repos.remote_and_clone("app")
    repos.push_from_other(remote, n=2)
    (rec,) = records(capsys, "--metadata-only", "-f", str(repos.root))
    assert rec["error"] is None and rec["fetched"] is True
    assert rec["behind"] == 2 and rec["ahead"] == 0
    assert rec["dirty"] is None and rec["modified"] is None
    # Names metadata-only fills are fine in expressions.
    code, out, _err = run(
        capsys, "--metadata-only", "-w", "behind > 0", "-p", "name", str(repos.root)
    )
    assert code == 0 and out == "app\n"


def test_metadata_only_sorts_by_path_by_default(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("b", "c", "a"):
        repos.repo(name, commits=1)
    recs = records(capsys, "--metadata-only", str(repos.root))
    assert [r["display_path"].rsplit("/", 1)[-1] for r in recs] == ["a", "b", "c"]
