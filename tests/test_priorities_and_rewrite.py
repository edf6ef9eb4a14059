"""column_priorities decide which column gives way first in a narrow table, and id_rewrite
rewrites the authors gitob shows."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import RepoFactory
from gitoverit.cli import branches_main, main

LONG_DIR = "a-repository-folder-with-a-rather-long-name"
LONG_BRANCH = "feature/a-branch-with-a-rather-long-name"


def write_config(text: str) -> None:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "gitoverit" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def row(capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["--no-progress", "-c", "-,dir,branch"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out.splitlines()[1]


def test_the_lowest_priority_column_gives_way_first(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repos.repo(LONG_DIR).git("checkout", "-q", "-b", LONG_BRANCH)
    monkeypatch.chdir(repos.root)
    monkeypatch.setenv("COLUMNS", str(len(LONG_DIR) + 1 + len(LONG_BRANCH) - 10))
    # Equal priorities (the defaults give dir and branch 500 each): they share the cut.
    cut = row(capsys)
    assert "…" in cut.split()[0] and "…" in cut.split()[1], cut
    write_config('column_priorities = "dir=600,branch=10"\n')
    cut = row(capsys)
    assert cut.split()[0] == LONG_DIR and "…" in cut.split()[1], cut
    monkeypatch.setenv("GITO_COLUMN_PRIORITIES", "branch=900")
    cut = row(capsys)
    assert "…" in cut.split()[0] and cut.split()[1] == LONG_BRANCH, "the variable wins"


def test_gitob_shows_authors_rewritten_by_id_rewrite(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    r = repos.repo("app")
    write_config(
        "[[id_rewrite]]\n"
        'type = "regex"\n'
        'find = "^Test User <(.*)@example\\\\.com>$"\n'
        'replace = "me (\\\\1)"\n'
        'fg = "green"\n'
    )
    code = branches_main(["-j", str(r.path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    (branch,) = json.loads(out)
    assert branch["author"] == "me (test)"
