"""Discovery asks git whether an enclosing repository ignores a nested one: every name is
a path, never an option, and git's complaint is reported whatever bytes it holds."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import RepoFactory
from gitoverit.discovery import find_repos
from test_discovery import Recorder


def found(root: Path, **kwargs: object) -> set[str]:
    return {r.path for r in find_repos([str(root)], **kwargs)}  # type: ignore[arg-type]


def test_an_enclosing_repo_that_ignores_all_but_one_folder(repos: RepoFactory) -> None:
    outer = repos.repo("outer")
    outer.commit(".gitignore", "*\n!kept/\n!.gitignore\n")
    kept = repos.repo("outer/kept")
    hidden = repos.repo("outer/hidden")
    assert found(repos.root) == {str(outer.path), str(kept.path)}
    assert found(repos.root, include_ignored=True) == {
        str(outer.path),
        str(kept.path),
        str(hidden.path),
    }


def test_a_nested_repo_whose_name_looks_like_an_option(repos: RepoFactory) -> None:
    outer = repos.repo("outer")
    outer.commit(".gitignore", "-q/\n--stdin/\n")
    dash_q = repos.repo("outer/-q")
    stdin = repos.repo("outer/--stdin")
    other = repos.repo("outer/-kept")
    rec = Recorder()
    assert found(repos.root, listener=rec) == {str(outer.path), str(other.path)}
    assert rec.warnings == []
    assert found(repos.root, include_ignored=True) >= {str(dash_q.path), str(stdin.path)}


def test_a_complaint_of_git_in_bytes_that_are_not_utf8_is_still_reported(
    repos: RepoFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outer = repos.repo("outer")
    outer.commit(".gitignore", "vendor/\n")
    inner = repos.repo("outer/vendor/inner")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    real_git = shutil.which("git")
    (bin_dir / "git").write_text(
        "#!/bin/sh\n"
        'for a; do [ "$a" = check-ignore ] && '
        "{ printf 'fatal: bad \\377 name\\n' >&2; exit 128; }; done\n"
        f'exec {real_git} "$@"\n'
    )
    (bin_dir / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    rec = Recorder()
    assert found(repos.root, listener=rec) == {str(outer.path), str(inner.path)}
    assert rec.warnings == [
        (str(inner.path), "could not check ignore rules: fatal: bad \ufffd name")
    ]
