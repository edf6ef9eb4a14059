"""Draw ``docs/watch.svg``: the full-screen watch over a few demo repositories, as the app
itself renders it (Textual's ``save_screenshot``, driven by its pilot).

Usage: ``python bench/watch_screenshot.py [OUTPUT]`` (default ``docs/watch.svg``).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _demo(root: Path) -> Path:
    """A few repositories in the states a watch shows, under ``root/code``."""
    code = root / "code"
    remotes = root / "remotes"
    for name in ("api", "parser", "website", "tools/old", "notes"):
        seed = root / "seed" / name
        seed.mkdir(parents=True)
        _git("init", "-q", "-b", "main", cwd=seed)
        for i in range(3):
            (seed / f"f{i}.txt").write_text(f"{name} {i}\n")
            _git("add", "-A", cwd=seed)
            _git("commit", "-qm", f"{name} {i}", cwd=seed)
        remote = remotes / f"{name.replace('/', '-')}.git"
        _git("clone", "-q", "--bare", str(seed), str(remote), cwd=root)
        _git("clone", "-q", str(remote), str(code / name), cwd=root)
        url = f"git@github.com:me/{name.replace('/', '-')}.git"
        _git("remote", "set-url", "origin", url, cwd=code / name)
    (code / "api/f0.txt").write_text("changed\n")
    (code / "api/new.txt").write_text("new\n")
    (code / "parser/f1.txt").write_text("more\n")
    _git("add", "f1.txt", cwd=code / "parser")
    (code / "website/page.html").write_text("<p>\n")
    _git("add", "page.html", cwd=code / "website")
    _git("commit", "-qm", "page", cwd=code / "website")
    _git("reset", "-q", "--hard", "HEAD~1", cwd=code / "notes")
    return code


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/watch.svg").resolve()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        home = root / "home"
        home.mkdir()
        (home / ".gitconfig").write_text(
            "[user]\n\tname = Demo\n\temail = demo@example.com\n[init]\n\tdefaultBranch = main\n"
        )
        os.environ.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", XDG_CONFIG_HOME=str(home))
        code = _demo(root)
        os.chdir(code)
        asyncio.run(_shoot(code, out))
    print(f"wrote {out}")
    return 0


async def _shoot(code: Path, out: Path) -> None:
    from textual.widgets import DataTable

    from gitoverit.commands._output import OutputOptions, resolve
    from gitoverit.scan import ScanOptions
    from gitoverit.select import Selection
    from gitoverit.watch import Filter, WatchOptions
    from gitoverit.watch.app import WatchApp

    _settings, plan = resolve(OutputOptions(sort_key="status"), roots=(str(code),))
    options = WatchOptions(
        scan=ScanOptions(selection=Selection(roots=(str(code),)), extras=plan.extras())
    )
    app = WatchApp(options, plan, Filter())
    async with app.run_test(size=(100, 12)) as pilot:
        while app.query_one(DataTable).row_count < 5:
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        out.parent.mkdir(parents=True, exist_ok=True)
        app.save_screenshot(out.name, str(out.parent))
        await pilot.press("q")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
