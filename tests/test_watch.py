"""``gitoverit watch``: the loop (debounce, re-reads, discovery), headless NDJSON with its
timings on 200 repositories, signals, idle CPU and the fallback to polling."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import RepoFactory, sh
from gitoverit.model import RECORD_FIELDS
from gitoverit.scan import ScanOptions
from gitoverit.select import Selection
from gitoverit.watch import Watcher, WatchOptions
from gitoverit.watch.paths import RepoMap, is_noise
from gitoverit.watch.watcher import RecordChanged, RepoRemoved, WatchEvent

GITOVERIT = [sys.executable, "-m", "gitoverit"]


# -- the headless process -----------------------------------------------------------------


class Headless:
    """``gitoverit watch -o ndjson`` in a child process, its lines read as they come."""

    def __init__(self, *args: str, prefix: tuple[str, ...] = ()) -> None:
        self.proc = subprocess.Popen(
            [*prefix, *GITOVERIT, "watch", "-o", "ndjson", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        self.lines: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put((time.monotonic(), json.loads(line)))

    def until(self, check: Any, timeout: float = 20.0) -> tuple[float, dict[str, Any]]:
        """The first line *check* accepts, with when it came."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            assert left > 0, "timed out waiting for a line"
            try:
                when, obj = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if check(obj):
                return when, obj

    def start(self, timeout: float = 60.0) -> list[dict[str, Any]]:
        """The records written at the start, up to the ``ready`` line."""
        records = []
        while True:
            _when, obj = self.until(lambda o: True, timeout)
            if obj["type"] == "ready":
                assert obj["repos"] >= len(records)  # -w may leave some out
                return records
            records.append(obj)

    def quiet(self, seconds: float) -> list[dict[str, Any]]:
        """Every line written within *seconds*."""
        time.sleep(seconds)
        out = []
        while not self.lines.empty():
            out.append(self.lines.get()[1])
        return out

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=15)
        assert self.proc.stderr is not None
        return code, self.proc.stderr.read()


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of *pid* and its waited-for children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(v) for v in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def _processes_mentioning(text: str) -> list[str]:
    """Command lines of running processes that mention *text* (our leftovers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if text in cmd or cwd.startswith(text):
            found.append(cmd)
    return found


def _copies(repos: RepoFactory, n: int) -> list[Path]:
    """*n* repositories, copies of one, ``r000`` ... under the root."""
    seed = repos.repo("seed", aux=True)
    seed.write("src/app.py", "print()\n")
    seed.write(".gitignore", "build/\n")
    seed.git("add", "-A")
    seed.git("commit", "-qm", "app")
    paths = []
    for i in range(n):
        path = repos.root / f"r{i:03}"
        shutil.copytree(seed.path, path, symlinks=True)
        paths.append(path)
    return paths


def _is_repo(path: Path) -> Any:
    return lambda o: o["type"] == "repo" and o["path"] == str(path)


def test_headless_on_200_repos_reports_each_change_within_a_second(
    repos: RepoFactory, tmp_path: Path
) -> None:
    paths = _copies(repos, 200)
    watch = Headless(str(repos.root))
    try:
        first = watch.start()
        assert sorted(o["path"] for o in first) == sorted(str(p) for p in paths)
        assert all(list(o)[1:] == list(RECORD_FIELDS) for o in first)  # a scan's schema
        time.sleep(1.0)
        # Idle: nothing changes, so nothing is read and almost no CPU is spent.
        before = _cpu_seconds(watch.proc.pid)
        assert watch.quiet(5.0) == []
        idle = _cpu_seconds(watch.proc.pid) - before
        assert idle < 0.05, f"idle watch used {idle:.2f} s of CPU in 5 s"

        # An edit.
        start = time.monotonic()
        (paths[17] / "src/app.py").write_text("print('hi')\n")
        when, rec = watch.until(_is_repo(paths[17]))
        assert when - start < 1.0 and rec["unstaged_modified"] == 1

        # A commit (in another terminal, as it were).
        start = time.monotonic()
        sh("git", "commit", "-qam", "edit", cwd=paths[17])
        when, rec = watch.until(_is_repo(paths[17]))
        assert when - start < 1.0 and rec["dirty"] is False
        assert rec["head"] == sh("git", "rev-parse", "HEAD", cwd=paths[17])

        # A new clone under the root.
        start = time.monotonic()
        clone = repos.root / "new-clone"
        sh("git", "clone", "-q", str(paths[3]), str(clone))
        when, rec = watch.until(_is_repo(clone))
        assert when - start < 1.0 and rec["upstream"] == "origin/main"

        # A deletion.
        start = time.monotonic()
        shutil.rmtree(paths[99])
        when, obj = watch.until(lambda o: o["type"] == "removed")
        assert when - start < 1.0 and obj["path"] == str(paths[99])
        assert watch.quiet(1.0) == []  # and nothing else moved
    finally:
        code, err = watch.stop(signal.SIGTERM)
    assert code == 0, err
    assert _processes_mentioning(str(tmp_path)) == []


def test_sigint_exits_130_and_leaves_no_process(repos: RepoFactory, tmp_path: Path) -> None:
    repos.repo("a")
    watch = Headless(str(repos.root))
    assert len(watch.start()) == 1
    code, _err = watch.stop(signal.SIGINT)
    assert code == 130
    assert _processes_mentioning(str(tmp_path)) == []


def test_headless_where_and_fetch_every(repos: RepoFactory) -> None:
    remote, clone = repos.remote_and_clone("app")
    repos.repo("other")
    watch = Headless(str(repos.root), "-w", 'name == "app"', "--fetch-every", "1s")
    try:
        first = watch.start()
        assert [o["path"] for o in first] == [str(clone.path)]
        repos.push_from_other(remote)
        watch.until(lambda o: o["type"] == "fetch" and o["errors"] == 0)
        _when, rec = watch.until(_is_repo(clone.path))
        assert rec["behind"] == 1
    finally:
        code, err = watch.stop()
    assert code == 0, err


def test_the_watch_limit_is_reported_once_and_the_rest_is_polled(
    repos: RepoFactory, tmp_path: Path
) -> None:
    paths = _copies(repos, 12)
    for p in paths:
        for d in ("a", "b", "c", "d"):
            (p / d).mkdir()
    # A user namespace of its own, whose inotify limit is far below what 12 repos need.
    limit = 'echo 30 > /proc/sys/user/max_inotify_watches && exec "$@"'
    prefix = ("unshare", "-U", "-r", "sh", "-c", limit, "sh")
    watch = Headless(str(repos.root), "--poll-interval", "0.5", prefix=prefix)
    try:
        assert len(watch.start()) == 12
        start = time.monotonic()
        for p in paths:
            (p / "src/app.py").write_text("changed\n")
        seen = {watch.until(lambda o: o["type"] == "repo")[1]["path"] for _ in paths}
        assert seen == {str(p) for p in paths}
        assert time.monotonic() - start < 5.0
        clone = repos.root / "new-clone"
        sh("git", "clone", "-q", str(paths[0]), str(clone))
        watch.until(_is_repo(clone))
    finally:
        code, err = watch.stop()
    assert code == 0, err
    assert err.count("warning:") == 1 and "sysctl fs.inotify.max_user_watches=" in err
    assert "read every 0.5 s" in err


# -- the loop, in this process --------------------------------------------------------------


class _Run:
    """A :class:`Watcher` on its own asyncio loop in a thread, its events collected."""

    def __init__(self, root: Path) -> None:
        options = WatchOptions(scan=ScanOptions(selection=Selection(roots=(str(root),))))
        self.events: list[WatchEvent] = []
        self.watcher = Watcher(options, self.events.append)
        self.ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)
        self._thread.start()
        assert self.ready.wait(30)

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stop_event = asyncio.Event()
        task = asyncio.create_task(self.watcher.run(self.stop_event))
        while not any(type(e).__name__ == "Ready" for e in self.events):
            await asyncio.sleep(0.02)
        self.ready.set()
        await task

    def changes(self) -> list[WatchEvent]:
        return [e for e in self.events if isinstance(e, RecordChanged | RepoRemoved)]

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self._thread.join(10)


def test_ignored_files_cost_one_read_and_no_record(repos: RepoFactory) -> None:
    r = repos.repo("app")
    r.write(".gitignore", "build/\n")
    r.git("add", ".gitignore")
    r.git("commit", "-qm", "ignore")
    run = _Run(repos.root)
    try:
        first = len(run.changes())
        (r.path / "build").mkdir()
        for i in range(30):
            (r.path / "build" / f"o{i}.o").write_text("x")
        time.sleep(1.5)
        assert len(run.changes()) == first  # no new record
        assert run.watcher.reads == 1  # one read for the whole burst
    finally:
        run.close()


def test_git_lock_files_and_objects_cause_no_read_and_reads_cause_no_events(
    repos: RepoFactory,
) -> None:
    r = repos.repo("app")
    run = _Run(repos.root)
    try:
        git_dir = r.path / ".git"
        (git_dir / "index.lock").write_text("")
        (git_dir / "index.lock").unlink()
        (git_dir / "objects" / "ab").mkdir()
        (git_dir / "objects" / "ab" / "cdef").write_text("x")
        time.sleep(1.0)
        assert run.watcher.reads == 0
        r.write("file.txt", "edit\n")
        time.sleep(1.0)
        assert run.watcher.reads == 1 and len(run.changes()) == 2
        # The read itself (index copy, git status) touched nothing that is watched.
        time.sleep(1.0)
        assert run.watcher.reads == 1
    finally:
        run.close()


def test_a_nested_repo_created_inside_a_work_tree_is_added(repos: RepoFactory) -> None:
    outer = repos.repo("outer")
    run = _Run(repos.root)
    try:
        sh("git", "init", "-q", str(outer.path / "inner"))
        deadline = time.monotonic() + 15  # found at all; the latency test is elsewhere
        while str(outer.path / "inner") not in run.watcher.records:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        run.close()


def test_paths_map_to_their_repositories(repos: RepoFactory) -> None:
    from gitoverit.select import find

    main = repos.repo("main")
    main.git("worktree", "add", "-q", str(repos.root / "wt"), "-b", "side")
    refs = {Path(r.path).name: r for r in find(Selection(roots=(str(repos.root),)))}
    m = RepoMap(refs.values())
    main_dir, wt = str(main.path), str(repos.root / "wt")
    assert m.owners(f"{main_dir}/src/x.py") == ([main_dir], False)
    assert m.owners(f"{main_dir}/.git/index.lock") == ([], False)
    assert m.owners(f"{main_dir}/.git/objects/ab/cd") == ([], False)
    assert sorted(m.owners(f"{main_dir}/.git/refs/heads/main")[0]) == sorted([main_dir, wt])
    assert m.owners(f"{main_dir}/.git/worktrees/wt/HEAD") == ([wt], False)
    assert m.owners(f"{main_dir}/sub/.git") == ([main_dir], True)
    assert m.owners(str(repos.root / "elsewhere")) == ([], True)
    assert is_noise("refs/heads/main.lock") and not is_noise("refs/heads/main")


# -- the command line -------------------------------------------------------------------------


def test_watch_is_refused_without_a_terminal_and_with_a_bad_duration(workdir: Path) -> None:
    from gitoverit.cli import main

    assert main(["watch", str(workdir)]) == 2
    assert main(["watch", str(workdir), "-o", "ndjson", "--fetch-every", "soon"]) == 2


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90.0), ("30s", 30.0), ("10m", 600.0), ("1h30m", 5400.0)]
)
def test_durations(text: str, seconds: float) -> None:
    from gitoverit.commands.watch import parse_duration

    assert parse_duration(text) == seconds


def test_the_command_line_loads_neither_textual_nor_watchfiles() -> None:
    code = "import sys, gitoverit.cli; print('textual' in sys.modules, 'watchfiles' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_watch_takes_a_group_for_its_folders(repos: RepoFactory) -> None:
    """``@NAME`` is a folder argument of watch as of every command that lists repos."""
    import subprocess
    import sys

    config = Path(os.environ["XDG_CONFIG_HOME"]) / "gitoverit" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[groups]\nwork = ["{repos.root}"]\n')
    proc = subprocess.run(
        [sys.executable, "-m", "gitoverit", "watch", "@nope", "-o", "ndjson"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2 and "unknown group '@nope'" in proc.stderr
