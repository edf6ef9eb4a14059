"""Where the user stands: inside a work tree, a scan reports that repository; a misspelt
command is answered with a suggestion, not taken for a folder."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from conftest import RepoFactory
from gitoverit.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--no-progress", *args])
    out, err = capsys.readouterr()
    return code, out, err


def paths(out: str) -> list[str]:
    records: list[dict[str, Any]] = json.loads(out)
    return [os.path.realpath(r["path"]) for r in records]


def test_inside_a_work_tree_the_scan_reports_that_repository(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    r = repos.repo("app", commits=1)
    sub = r.path / "src" / "deep"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    code, out, err = run(capsys, "-o", "json")
    assert code == 0 and paths(out) == [os.path.realpath(r.path)]
    assert err.strip().endswith("1 repo, 0 dirty, 0 errors")
    monkeypatch.chdir(repos.root)
    code, out, _err = run(capsys, "-o", "json", str(sub))
    assert code == 0 and paths(out) == [os.path.realpath(r.path)]


def test_a_folder_with_repos_below_it_reports_those_only(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    outer = repos.repo("outer", commits=1)
    (outer.path / ".gitignore").write_text("vendor/\n")
    inner = repos.repo("outer/vendor/lib", commits=1)
    code, out, _err = run(capsys, "-o", "json", str(outer.path / "vendor"))
    assert code == 0 and paths(out) == [os.path.realpath(inner.path)]


def test_a_folder_outside_any_repository_has_no_repos(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = run(capsys, "-o", "json", str(empty))
    assert code == 0 and json.loads(out) == []
    assert "0 repos" in err


def test_a_misspelt_command_gets_a_suggestion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(["frezee"])  # a command comes first, as "gitoverit freeze" does
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert "did you mean 'freeze'?" in err and "does not exist" not in err
    # A folder of that name, or one named like a command given as a path, is scanned.
    (tmp_path / "frezee").mkdir()
    (tmp_path / "sync").mkdir()
    for folder in ("frezee", "./sync"):
        code = main([folder, "--no-progress"])
        _out, err = capsys.readouterr()
        assert code == 0 and "0 repos" in err
