"""Reports: CSV, Markdown, SVG and a self-contained HTML page, every value escaped."""

from __future__ import annotations

import csv
import io
import os
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import RepoFactory
from gitoverit.cli import main

HOSTILE = '<img src=x onerror="alert(1)">|a,b'


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(["--no-progress", "-s", "name", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


@pytest.fixture
def corpus(repos: RepoFactory, monkeypatch: pytest.MonkeyPatch) -> RepoFactory:
    repos.repo("clean")
    dirty = repos.repo("dirty")
    dirty.write("file.txt", "changed\n")
    dirty.write("new <b>file.txt")
    repos.repo(HOSTILE)
    monkeypatch.chdir(repos.root)
    return repos


def test_csv_has_the_columns_and_every_cell_whole(
    corpus: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = list(csv.reader(io.StringIO(run(capsys, "-o", "csv", "-c", "-,dir,status,branch"))))
    assert rows[0] == ["dir", "status", "branch"]
    assert rows[1:] == [
        [HOSTILE, "✓", "main"],
        ["clean", "✓", "main"],
        ["dirty", "1m 1u (+1/-1)", "main"],
    ]


def test_markdown_table_escapes_what_would_break_it(
    corpus: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run(capsys, "-o", "markdown", "-c", "-,dir,status")
    lines = out.splitlines()
    assert lines[:2] == ["| dir | status |", "| --- | --- |"]
    assert len(lines) == 2 + 3
    hostile = lines[2]
    assert hostile.count(" | ") == 1, "the | of the name does not split the row"
    assert not re.search(r"(?<!\\)[<>|]", hostile.strip("| ").split(" | ")[0]), hostile


def test_svg_is_the_table_as_a_picture(
    corpus: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run(capsys, "-o", "svg")
    root = ET.fromstring(out)
    assert root.tag.endswith("svg")
    text = "".join(root.itertext())
    assert "dirty" in text and "1m" in text
    assert "<img" not in out, "the name is escaped"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.scripts = 0
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.scripts += tag == "script"
        self.links += [v or "" for k, v in attrs if k in ("src", "href")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_self_contained_escaped_and_lists_changed_files(
    corpus: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run(capsys, "-o", "html")
    page = _Page()
    page.feed(out)
    assert page.scripts == 1, "only the page's own sorting script"
    assert page.links == [], "nothing is fetched from anywhere"
    text = "".join(page.text)
    assert HOSTILE in text, "the hostile name is shown as text"
    assert "<img" not in out
    assert page.tags.count("details") == 1, "one list of changed files: the dirty repo's"
    assert " M file.txt" in text and "?? new <b>file.txt" in text
    assert re.search(r"<th[^>]*>dir</th>", out)


@pytest.mark.browser
def test_html_report_renders_and_sorts_in_a_real_browser(
    corpus: RepoFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    report = tmp_path / "report.html"
    report.write_text(run(capsys, "-o", "html", "-s", "name"))
    artifacts = Path(__file__).resolve().parent.parent / "build" / "test-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
        page = browser.new_page()
        page.goto(report.as_uri())
        first = page.locator("#repos tbody tr:not(.files) td:first-child")
        assert first.all_inner_texts() == [HOSTILE, "clean", "dirty"]
        assert page.locator("script").count() == 1
        page.click("th:has-text('dir')")
        page.click("th:has-text('dir')")
        assert first.all_inner_texts() == ["dirty", "clean", HOSTILE], "a second click reverses"
        page.click("text=changed file")
        assert page.locator("details li").count() == 2
        page.screenshot(path=str(artifacts / "report.png"), full_page=True)
        browser.close()
    assert (artifacts / "report.png").stat().st_size > 1000
