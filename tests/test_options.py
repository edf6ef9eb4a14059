"""Options that could be read two ways are either combined as documented or refused
before any work starts (exit 2), never a silent choice."""

from __future__ import annotations

import pytest

from conftest import RepoFactory
from gitoverit.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--no-progress", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_repeated_where_are_anded(repos: RepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    repos.repo("alpha", commits=1)
    repos.repo("beta", commits=1).write("new.txt")
    repos.repo("gamma", commits=1).write("new.txt")
    code, out, _err = run(
        capsys, "-w", "dirty", "-w", 'name != "gamma"', "-p", "name", str(repos.root)
    )
    assert code == 0 and out == "beta\n"
    code, out, _err = run(capsys, "-w", "dirty", "-p", "name", str(repos.root))
    assert code == 0 and out.split() == ["beta", "gamma"]


def test_a_repeated_print_is_refused_with_a_hint(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repos.repo("alpha", commits=1)
    code, out, err = run(capsys, "-p", "path", "-p", "branch", str(repos.root))
    assert code == 2 and out == ""
    assert "-p/--print takes one expression" in err and "path + " in err


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_print_with_a_json_format_is_refused(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    repos.repo("alpha", commits=1)
    code, out, err = run(capsys, "-p", "path", "-o", fmt, str(repos.root))
    assert code == 2 and out == ""
    assert f"cannot be combined with -o {fmt}" in err


def test_no_columns_is_refused_unless_printing(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repos.repo("alpha", commits=1)
    code, out, err = run(capsys, "-c", "-", str(repos.root))
    assert code == 2 and out == "" and "leaves no column" in err
    code, out, _err = run(capsys, "-c", "-", "-p", "name", str(repos.root))
    assert code == 0 and out == "alpha\n"
