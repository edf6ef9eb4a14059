"""The full-screen watch, driven by Textual's pilot: every key, and live updates."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import Repo, RepoFactory
from gitoverit.commands._output import OutputOptions, resolve
from gitoverit.scan import ScanOptions
from gitoverit.select import Selection
from gitoverit.watch import Filter, WatchOptions
from gitoverit.watch.app import WatchApp


def _app(root: Path, **output: Any) -> WatchApp:
    _settings, plan = resolve(OutputOptions(**output), roots=(str(root),))
    options = WatchOptions(
        scan=ScanOptions(selection=Selection(roots=(str(root),)), extras=plan.extras()),
        timeout=30,
    )
    return WatchApp(options, plan, Filter(dirty_only=plan.dirty_only, where=plan.where))


async def _until(pilot: Any, check: Callable[[], bool], timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check():
        assert loop.time() < end, "timed out waiting for the app"
        await pilot.pause(0.05)


def _rows(app: WatchApp) -> list[str]:
    from textual.widgets import DataTable

    table = app.query_one(DataTable)
    return [str(key.value) for key in table.rows]


def _names(app: WatchApp) -> list[str]:
    return [Path(p).name for p in _rows(app)]


def _three(repos: RepoFactory) -> tuple[Repo, Repo, Repo]:
    a = repos.repo("alpha")
    b = repos.repo("bravo")
    c = repos.repo("charlie")
    b.write("file.txt", "edited\n")  # bravo is dirty
    return a, b, c


def test_first_screen_then_live_edit_then_q(repos: RepoFactory, tmp_path: Path) -> None:
    a, _b, _c = _three(repos)

    async def main() -> None:
        app = _app(repos.root, sort_key="dir")
        async with app.run_test(size=(120, 30)) as pilot:
            await _until(pilot, lambda: len(_rows(app)) == 3)
            assert _names(app) == ["alpha", "bravo", "charlie"]
            assert "3 repos  1 dirty" in app.header_text()
            assert "last fetch never" in app.header_text()
            a.write("new.txt")  # an untracked file: alpha becomes dirty on screen
            await _until(pilot, lambda: app.records[str(a.path)].dirty)
            await _until(pilot, lambda: "3 repos  2 dirty" in app.header_text())
            svg = app.export_screenshot()
            assert "alpha" in svg and "bravo" in svg
            await pilot.press("q")
        assert app.return_value == 0

    asyncio.run(main())


def test_s_cycles_the_sort_and_d_toggles_dirty_only(repos: RepoFactory) -> None:
    _three(repos)

    async def main() -> None:
        app = _app(repos.root, sort_key="dir")
        async with app.run_test(size=(120, 30)) as pilot:
            await _until(pilot, lambda: len(_rows(app)) == 3)
            await pilot.press("s")  # dir -> name
            assert app.sort_key == "name"
            await pilot.press("s")  # name -> branch
            await pilot.press("s")  # branch -> ahead
            await pilot.press("s")  # ahead -> behind
            await pilot.press("s")  # behind -> mtime
            await pilot.press("s")  # mtime -> status: the dirty repo first
            assert app.sort_key == "status"
            assert _names(app)[0] == "bravo"
            await pilot.press("d")
            assert _names(app) == ["bravo"]
            assert "dirty only" in app.header_text()
            await pilot.press("d")
            assert len(_rows(app)) == 3
            await pilot.press("q")

    asyncio.run(main())


def test_slash_filters_and_a_bad_expression_keeps_the_old_filter(repos: RepoFactory) -> None:
    _three(repos)

    async def main() -> None:
        from textual.widgets import Input, Static

        app = _app(repos.root, sort_key="dir")
        async with app.run_test(size=(120, 30)) as pilot:
            await _until(pilot, lambda: len(_rows(app)) == 3)
            await pilot.press("slash")
            box = app.query_one("#filter", Input)
            assert box.display and box.has_focus
            await pilot.press(*'name != "alpha"', "enter")
            assert _names(app) == ["bravo", "charlie"]
            assert not box.display
            await pilot.press("slash")
            assert box.value == 'name != "alpha"'
            box.value = ""
            await pilot.press(*"ahead >", "enter")
            error = app.query_one("#filter-error", Static)
            assert error.display
            assert "^" in str(error.render())
            assert _names(app) == ["bravo", "charlie"]  # the old filter holds
            await pilot.press("escape")
            assert not box.display
            await pilot.press("slash")
            box.value = ""
            await pilot.press("enter")  # empty: no filter
            assert len(_rows(app)) == 3
            await pilot.press("q")

    asyncio.run(main())


def test_enter_shows_branches_and_files_and_question_mark_the_keys(repos: RepoFactory) -> None:
    _a, b, _c = _three(repos)
    b.git("branch", "topic")

    async def main() -> None:
        from textual.widgets import Static

        from gitoverit.watch.screens import HelpScreen, RepoScreen

        app = _app(repos.root, sort_key="dir")
        async with app.run_test(size=(120, 30)) as pilot:
            await _until(pilot, lambda: len(_rows(app)) == 3)
            await pilot.press("down", "enter")
            await _until(pilot, lambda: isinstance(app.screen, RepoScreen))
            screen = app.screen
            assert isinstance(screen, RepoScreen) and screen.ref.path == str(b.path)
            branches = screen.query_one("#branches", Static)
            await _until(pilot, lambda: "topic" in str(branches.render()))
            assert "main" in str(branches.render())
            assert "file.txt" in str(screen.query_one("#files", Static).render())
            await pilot.press("escape")
            assert not isinstance(app.screen, RepoScreen)
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            assert "pull the selected repository" in str(app.screen.query_one(Static).render())
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)
            await pilot.press("q")
        assert app.return_value == 0

    asyncio.run(main())


def test_f_fetches_and_p_pulls_only_what_is_safe(repos: RepoFactory) -> None:
    remote, clean = repos.remote_and_clone("clean")
    remote2, dirty = repos.remote_and_clone("dirty")
    dirty.write("file.txt", "local edit\n")
    repos.push_from_other(remote)
    repos.push_from_other(remote2)

    async def main() -> None:
        app = _app(repos.root, sort_key="dir")
        async with app.run_test(size=(120, 30)) as pilot:
            await _until(pilot, lambda: len(_rows(app)) == 2)
            assert app.watcher.last_fetch is None
            await pilot.press("f")
            await _until(pilot, lambda: app.watcher.last_fetch is not None)
            assert "last fetch never" not in app.header_text()
            # The fetch's changes come in as events: both are now behind.
            behind = lambda: all(  # noqa: E731
                (r.status is not None and r.status.behind == 1) for r in app.records.values()
            )
            await _until(pilot, behind)
            assert "2 behind" in app.header_text()
            head = clean.head
            await pilot.press("p")  # the cursor is on "clean" (sorted by dir)
            await _until(pilot, lambda: clean.head != head)
            assert clean.head == remote.git("rev-parse", "main")
            await _until(pilot, lambda: "updated" in str(app.query_one("#notice").render()))
            dirty_head = dirty.head
            await pilot.press("down", "p")
            await _until(pilot, lambda: "skipped" in str(app.query_one("#notice").render()))
            assert dirty.head == dirty_head
            await pilot.press("q")

    asyncio.run(main())
