"""Each record says what kind of repository it is: a repo, a linked worktree, or a
submodule (with its superproject); ``--no-submodules`` leaves submodules out."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from conftest import RepoFactory
from gitoverit.cli import main


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, dict[str, Any]]:
    code = main(["--no-progress", "-o", "json", *args])
    out, _err = capsys.readouterr()
    assert code == 0
    return {os.path.basename(r["path"]): r for r in json.loads(out)}


@pytest.fixture
def family(repos: RepoFactory) -> RepoFactory:
    lib = repos.repo("lib", commits=1, aux=True)
    app = repos.repo("app", commits=1)
    app.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib.path), "lib")
    app.git("commit", "-q", "-m", "sub")
    app.git("worktree", "add", "-q", "-b", "side", str(repos.root / "side"))
    return repos


def test_kind_and_superproject(family: RepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    recs = scan(capsys, str(family.root))
    assert {n: r["kind"] for n, r in recs.items()} == {
        "app": "repo",
        "lib": "submodule",
        "side": "worktree",
    }
    app = family.root / "app"
    assert os.path.realpath(recs["lib"]["superproject"]) == os.path.realpath(app)
    assert recs["app"]["superproject"] is None and recs["side"]["superproject"] is None
    code = main(["--no-progress", "-w", 'kind == "submodule"', "-p", "name", str(family.root)])
    out, _err = capsys.readouterr()
    assert code == 0 and out == "lib\n"


def test_no_submodules_leaves_them_out(
    family: RepoFactory, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sorted(scan(capsys, "--no-submodules", str(family.root))) == ["app", "side"]
    code = main(["--no-progress", "-o", "ndjson", "--no-submodules", str(family.root)])
    out, _err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [d["repos"] for d in lines if d["type"] == "discovery"] == [2]
    # Standing inside a submodule: it is the enclosing repository, and a submodule.
    monkeypatch.chdir(family.root / "app" / "lib")
    assert scan(capsys)["lib"]["kind"] == "submodule"
    assert scan(capsys, "--no-submodules") == {}
