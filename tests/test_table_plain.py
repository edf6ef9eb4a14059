"""An uncoloured table is built as plain strings: the same text, character for character,
as the styled lines of a coloured one, at every width and detail level."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitoverit.model import Operation, Reason, RepoError, RepoRecord, RepoRef, RepoStatus
from gitoverit.output.columns import COLUMNS, DEFAULT_COLUMNS
from gitoverit.output.table import _Layout, _lines, _plain_lines

NAMES = st.text(
    alphabet=st.sampled_from([*"abcXYZ-_. 0", "é", "日", "本", "\u200b", "🙂", "\x1b"]),
    min_size=1,
    max_size=30,
)
COUNTS = st.one_of(st.none(), st.integers(0, 12_000))


@st.composite
def records(draw: st.DrawFn) -> RepoRecord:
    name = draw(NAMES)
    ref = RepoRef(f"/work/{name}", f"/work/{name}/.git", f"{draw(NAMES)}/{name}")
    if draw(st.booleans()) and draw(st.booleans()):
        return RepoRecord(ref, error=RepoError(Reason.CORRUPT, draw(NAMES)))
    status = RepoStatus(
        branch=draw(st.one_of(st.none(), NAMES)),
        head=draw(st.sampled_from([None, "0123456789abcdef0123456789abcdef01234567"])),
        detached=draw(st.booleans()),
        upstream=draw(st.one_of(st.none(), NAMES)),
        upstream_gone=draw(st.booleans()),
        ahead=draw(COUNTS),
        behind=draw(COUNTS),
        staged=draw(COUNTS),
        modified=draw(COUNTS),
        deleted=draw(COUNTS),
        unstaged_modified=draw(COUNTS),
        unstaged_deleted=draw(COUNTS),
        untracked=draw(COUNTS),
        conflicted=draw(COUNTS),
        stashes=draw(COUNTS),
        operation=draw(st.one_of(st.none(), st.sampled_from(list(Operation)))),
        remote_url=draw(st.one_of(st.none(), NAMES.map(lambda n: f"https://u:p@host/{n}.git"))),
        mtime=draw(st.one_of(st.none(), st.floats(0, 2e9))),
        lines_added=draw(COUNTS),
        lines_removed=draw(COUNTS),
        ident=draw(st.one_of(st.none(), NAMES)),
    )
    return RepoRecord(ref, status=status)


def _both(recs: list[RepoRecord], columns: tuple[str, ...], width: int) -> None:
    cols = [COLUMNS[c] for c in columns]
    now = time.time()
    styled = _Layout(recs, list(cols), now, {})
    plain = _Layout(recs, list(cols), now, {})
    widths = styled.fit(width)
    assert plain.fit(width) == widths
    assert _plain_lines(plain, widths) == [line.plain for line in _lines(styled, widths)]


@settings(max_examples=60, deadline=None)
@given(st.lists(records(), min_size=1, max_size=12), st.integers(1, 240))
def test_plain_lines_are_the_styled_lines_text(recs: list[RepoRecord], width: int) -> None:
    _both(recs, DEFAULT_COLUMNS, width)


@pytest.mark.parametrize("width", [10, 40, 80, 400])
def test_every_column_prints_the_same_plain_and_styled(width: int) -> None:
    ref = RepoRef("/w/日本/repo", "/w/日本/repo/.git", "日本/a-very-long-repository-name")
    status = RepoStatus(
        branch="feature/🙂-x",
        upstream="origin/feature",
        ahead=3,
        behind=1,
        staged=2,
        modified=1,
        untracked=4,
        stashes=1,
        remote_url="git@example.com:team/repo.git",
        mtime=1.7e9,
        lines_added=10,
        lines_removed=2,
        ident="A <a@example.com>",
    )
    recs = [RepoRecord(ref, status=status), RepoRecord(ref, error=RepoError(Reason.TIMEOUT, "x"))]
    _both(recs, tuple(COLUMNS), width)


@pytest.mark.parametrize("color", [None, False, True])
@pytest.mark.parametrize("force_color", [None, "", "1"])
@pytest.mark.parametrize("tty_compatible", [None, "0", "1"])
@pytest.mark.parametrize("columns", [None, "50"])
def test_a_table_is_printed_plain_without_a_console_only_where_rich_would_agree(
    monkeypatch: pytest.MonkeyPatch,
    color: bool | None,
    force_color: str | None,
    tty_compatible: str | None,
    columns: str | None,
) -> None:
    """The shortcut past rich's console (no colour on a pipe or in a file) is taken only
    where the console would print the table uncoloured and at the same width."""
    import io

    from gitoverit.output.table import _console, _plain_width

    for name, value in (
        ("FORCE_COLOR", force_color),
        ("TTY_COMPATIBLE", tty_compatible),
        ("COLUMNS", columns),
    ):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    out = io.StringIO()
    width = _plain_width(out, None, color)
    console = _console(out, None, color)
    plain = console.color_system is None or console.no_color
    if width is not None:
        assert plain and width == console.width
    else:
        assert not plain or color or columns or force_color is not None or tty_compatible == "1"


def test_the_plain_table_is_the_consoles_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """Printed through the shortcut or through a console, the same lines."""
    import io

    from gitoverit.output.table import _console, render_table

    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    ref = RepoRef("/w/a", "/w/a/.git", "a")
    recs = [
        RepoRecord(ref, status=RepoStatus(branch="main", staged=1, untracked=2, mtime=1.7e9)),
        RepoRecord(ref, error=RepoError(Reason.CORRUPT, "broken")),
    ]
    short, through_console = io.StringIO(), io.StringIO()
    render_table(recs, short, terminal=False)
    render_table(
        recs,
        through_console,
        terminal=False,
        console=_console(through_console, None, None),
    )
    assert short.getvalue() == through_console.getvalue() != ""
