"""The table tells the whole truth at every width: each change counted once, every
status segment in its colour, no empty status cell, stashes ranked above clean."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len

from _tty import run_on_terminal
from conftest import Repo, RepoFactory
from gitoverit.cli import main
from gitoverit.output.cells import LEGEND_ITEMS


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--no-progress", *args])
    out, err = capsys.readouterr()
    return code, out, err


def records(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, dict[str, Any]]:
    code, out, err = run(capsys, "-o", "json", *args)
    assert code == 0, err
    return {Path(r["path"]).name: r for r in json.loads(out)}


def status_cells(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> dict[str, str]:
    """Each repo's status cell: the table is asked for the status column first."""
    code, out, err = run(capsys, "-c", "-,status,name", *args, str(root))
    assert code == 0, err
    cells = {}
    for line in out.splitlines()[1:]:
        status, _, name = line.rpartition(" ")
        cells[name] = status.strip()
    return cells


def two_files(repos: RepoFactory, name: str) -> Repo:
    r = repos.repo(name)
    r.commit("a.txt", "a\n")
    r.commit("b.txt", "b\n")
    return r


def test_a_change_is_counted_once(repos: RepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    r = two_files(repos, "staged-two")
    r.write("a.txt", "a2\n")
    r.write("b.txt", "b2\n")
    r.git("add", "a.txt", "b.txt")
    r = two_files(repos, "mixed")
    r.write("a.txt", "staged\n")
    r.git("add", "a.txt")
    r.write("a.txt", "staged, then edited again\n")
    (r.path / "b.txt").unlink()
    r.write("new.txt")
    r = two_files(repos, "worktree-only")
    r.write("a.txt", "edited\n")
    r.git("rm", "-q", "--cached", "b.txt")
    r = two_files(repos, "intent-to-add")
    r.write("c.txt")
    r.git("add", "-N", "c.txt")

    cells = status_cells(capsys, repos.root)
    # Two staged files are two changes, not four; (+A/-D) are the lines since HEAD.
    assert cells["staged-two"] == "2+ (+2/-2)"
    assert cells["mixed"] == "1+ 1m 1d 1u (+1/-2)"
    assert cells["worktree-only"] == "1+ 1m 1u (+1/-2)"
    assert cells["intent-to-add"] == "1m (+1/-0)"

    recs = records(capsys, str(repos.root))
    # The JSON fields keep their documented meanings; the work-tree part is its own field.
    two = recs["staged-two"]
    assert (two["staged"], two["modified"], two["deleted"]) == (2, 2, 0)
    assert (two["unstaged_modified"], two["unstaged_deleted"]) == (0, 0)
    mixed = recs["mixed"]
    assert (mixed["staged"], mixed["modified"], mixed["deleted"]) == (1, 1, 1)
    assert (mixed["unstaged_modified"], mixed["unstaged_deleted"]) == (1, 1)
    ita = recs["intent-to-add"]
    assert (ita["staged"], ita["modified"], ita["unstaged_modified"]) == (0, 1, 1)


def test_metadata_only_leaves_the_unstaged_counts_null(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    two_files(repos, "r").write("a.txt", "edited\n")
    rec = records(capsys, "--metadata-only", str(repos.root))["r"]
    assert rec["unstaged_modified"] is None and rec["unstaged_deleted"] is None


@pytest.fixture
def busy(repos: RepoFactory, monkeypatch: pytest.MonkeyPatch) -> RepoFactory:
    """Repos whose status cells differ: stashes only, clean, staged, and a conflicted repo
    that is also ahead and behind, with a long name that must give way first."""
    stash = repos.repo("stash-only")
    stash.write("file.txt", "stash me\n")
    stash.git("stash", "-q")
    repos.repo("clean")
    staged = repos.repo("staged")
    staged.write("new.txt")
    staged.git("add", "new.txt")
    remote, clone = repos.remote_and_clone("conflicted-ahead-and-behind-with-a-long-name")
    repos.push_from_other(remote)
    clone.git("fetch", "-q")
    clone.git("checkout", "-q", "-b", "side")
    clone.commit("file.txt", "side\n")
    clone.git("checkout", "-q", "main")
    clone.commit("file.txt", "main\n")
    clone.git("merge", "-q", "side", check=False)
    monkeypatch.chdir(repos.root)
    return repos


def test_no_status_cell_is_ever_empty(
    busy: RepoFactory, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: set[str] = set()
    for width in range(12, 121, 3):
        monkeypatch.setenv("COLUMNS", str(width))
        code, out, _err = run(capsys, "-s", "name", "-c", "-,status,repo,branch,remote,age")
        assert code == 0
        # Sorted by name: clean, conflicted-..., staged, stash-only.
        cells = [row.split()[0] if row.strip() else "" for row in out.splitlines()[1:]]
        assert len(cells) == 4 and all(cells), (width, out)
        clean, conflicted, staged, stash = cells
        assert clean == "✓" and conflicted.startswith(("1c", "c")), (width, out)
        assert staged in ("1+", "+"), (width, out)
        assert stash in ("1$", "$"), (width, out)
        seen.add(stash)
    assert seen == {"1$", "$"}, "both detail levels were seen"


def test_every_status_segment_has_its_colour(busy: RepoFactory) -> None:
    code, lines = run_on_terminal(
        "--no-progress", "-c", "-,name,status", ".", cwd=busy.root, columns=120, raw=True
    )
    assert code == 0
    row = next(line for line in lines if "conflicted-ahead" in line)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", row)
    assert plain.split()[1:] == ["1c", "(+4/-0)", "1↑", "1↓", "!merge"], plain
    for seg, colour in (
        ("1c", "1;31m"),
        ("(+4/-0)", "36m"),
        ("1↑", "32m"),
        ("1↓", "34m"),
        ("!merge", "1;31m"),
    ):
        assert re.search(rf"\x1b\[{re.escape(colour)}{re.escape(seg)}\x1b\[0m", row), (seg, row)
    stash = next(line for line in lines if "stash-only" in line)
    assert re.search(r"\x1b\[[0-9;]+m1\$\x1b\[0m", stash), stash
    staged = next(line for line in lines if "staged" in line and "stash" not in line)
    assert re.search(r"\x1b\[32m1\+\x1b\[0m", staged), staged
    clean = next(line for line in lines if re.search(r"\bclean\b", line))
    assert re.search(r"\x1b\[32m✓\x1b\[0m", clean), clean
    legend = "\n".join(line for line in lines if "\x1b[2m" in line)
    assert all(item in re.sub(r"\x1b\[[0-9;]*m", "", legend) for item in LEGEND_ITEMS)


def test_sort_by_status_ranks_stashes_above_clean(
    busy: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = run(capsys, "-o", "json", "-s", "status", str(busy.root))
    assert code == 0
    order = [Path(r["path"]).name for r in json.loads(out)]
    assert order == [
        "conflicted-ahead-and-behind-with-a-long-name",
        "staged",
        "stash-only",
        "clean",
    ]


def test_an_empty_folder_prints_no_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, str(tmp_path))
    assert code == 0 and out == ""
    assert err.strip().endswith("0 repos, 0 dirty, 0 errors")


def test_no_color_leaves_the_table_on_a_terminal_uncoloured(busy: RepoFactory) -> None:
    args = ("--no-progress", "-c", "-,name,status", ".")
    code, coloured = run_on_terminal(*args, cwd=busy.root, columns=120, raw=True)
    assert code == 0
    code, plain = run_on_terminal(
        *args, cwd=busy.root, columns=120, env={"NO_COLOR": "1"}, raw=True
    )
    assert code == 0
    assert not [line for line in plain if _colours(line)], plain
    assert _colours("\n".join(coloured)), "without NO_COLOR the same table has colours"
    strip = re.compile(r"\x1b\[[0-9;]*m")
    assert [strip.sub("", line) for line in plain] == [strip.sub("", line) for line in coloured]


def _colours(text: str) -> list[str]:
    """The foreground and background colour codes in *text*'s escape sequences (bold,
    dim and the like are not colours)."""
    params = [p for seq in re.findall(r"\x1b\[([0-9;]*)m", text) for p in seq.split(";")]
    return [p for p in params if p[:1] in ("3", "4", "9") and len(p) == 2 and p[1] != "9"]


def test_without_columns_the_table_fits_the_terminal_and_a_pipe_gets_it_whole(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "a-repository-name-long-enough-to-need-cutting-" + "x" * 40
    repos.repo(name)
    # run_on_terminal unsets COLUMNS: the width comes from the terminal itself.
    code, narrow = run_on_terminal("--no-progress", ".", cwd=repos.root, columns=50)
    assert code == 0 and len(narrow) >= 2
    assert all(cell_len(line) <= 50 for line in narrow), narrow
    assert name not in "\n".join(narrow)
    monkeypatch.delenv("COLUMNS", raising=False)
    code, out, _err = run(capsys, str(repos.root))
    assert code == 0 and name in out, "a pipe has no width: nothing is cut"
