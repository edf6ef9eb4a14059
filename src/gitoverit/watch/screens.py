"""The watch app's other screens: one repository's branches and files, and the keys."""

from __future__ import annotations

import io
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from gitoverit.model import RepoRef

KEYS_HELP = """\
[b]gitoverit watch[/b]: the status of every repository, kept current as its files change

  q        quit
  /        filter with an expression, as -w does (empty: no filter; Esc: keep the old)
  s        sort by the next key (mtime, status, dir, name, branch, ahead, behind)
  d        only repositories with uncommitted work or an error, or all again
  f        fetch every repository now
  enter    the selected repository's branches (as gitob shows them) and changed files
  p        pull the selected repository if it is safe, under the rules of -P
  ?        this help

Esc or q closes this screen."""


class HelpScreen(ModalScreen[None]):
    """The keys."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "close")]

    def compose(self) -> ComposeResult:
        yield Static(KEYS_HELP, id="help")


def branches_text(path: str, width: int) -> Any:
    """The branches of the repository at *path* as gitob's table shows them, as text."""
    from rich.text import Text

    from gitoverit.git.branches import list_branches, with_worktree_status
    from gitoverit.output.branch_table import render_branch_table

    branches = with_worktree_status(list_branches(path))
    if not branches:
        return Text("no branches (no commits yet)", style="dim")
    buffer = io.StringIO()
    render_branch_table(branches, buffer, width=width, color=True, links=False)
    return Text.from_ansi(buffer.getvalue())


def status_text(ref: RepoRef) -> Any:
    """The files ``git status`` lists for *ref* (read-only: it writes no index)."""
    from rich.text import Text

    from gitoverit.git.command import git
    from gitoverit.text import safe_text

    out = git("status", "--short", "--branch", "--untracked-files=all", cwd=ref.path).stdout
    lines = [safe_text(line) for line in out.decode("utf-8", "surrogateescape").splitlines()]
    if len(lines) <= 1:
        lines.append("nothing to commit, working tree clean")
    return Text("\n".join(lines))


class RepoScreen(ModalScreen[None]):
    """One repository: its branches and the files its ``git status`` lists."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "dismiss", "close")]

    def __init__(self, ref: RepoRef) -> None:
        super().__init__()
        self.ref = ref

    def compose(self) -> ComposeResult:
        from gitoverit.text import safe_text

        with VerticalScroll(id="repo"):
            yield Static(f"[b]{safe_text(self.ref.display_path)}[/b]", markup=True, id="title")
            yield Static("reading…", id="branches")
            yield Static("", id="files")

    def on_mount(self) -> None:
        self.run_worker(self._load(), exclusive=True)

    async def _load(self) -> None:
        import asyncio

        width = max(40, self.app.size.width - 4)
        try:
            branches = await asyncio.to_thread(branches_text, self.ref.path, width)
            files = await asyncio.to_thread(status_text, self.ref)
        except Exception as exc:  # a repository that cannot be read says so here
            from gitoverit.text import safe_text

            self.query_one("#branches", Static).update(f"cannot read: {safe_text(str(exc))}")
            return
        self.query_one("#branches", Static).update(branches)
        self.query_one("#files", Static).update(files)
