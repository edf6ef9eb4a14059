"""The in-process reader's workers are forks of the main process: what they keep of it,
what they leave behind, and what they say."""

from __future__ import annotations

import logging
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import RepoFactory
from gitoverit import process
from gitoverit.git import inproc, reader_io, reader_worker
from gitoverit.git.reader_io import DECLINED, READY, UNUSABLE, FrameReader, write_frame
from gitoverit.model import RepoRef


def _settings(*, usable: bool = True, log: object = None) -> dict[str, object]:
    """A scan's settings for its workers (see ``readers.run_readers``); without
    *usable*, a configuration that leaves no repository to the in-process reader."""
    config = inproc.run_config() if usable else None
    return {
        "config": config,
        "timeout": 30.0,
        "trust": False,
        "lines": False,
        "ident": False,
        "log": log,
    }


def _answers(fd: int, count: int, within: float = 30.0) -> list[object]:
    """The next *count* frames from *fd*, within *within* seconds."""
    import select

    reader = FrameReader()
    frames: list[object] = []
    end = time.monotonic() + within
    while len(frames) < count:
        readable, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
        assert readable, f"no answer within {within} s ({len(frames)} of {count} frames)"
        data = os.read(fd, 1 << 16)
        assert data, f"the worker ended after {len(frames)} of {count} frames"
        frames.extend(reader.feed(data))
    assert len(frames) == count
    return frames


def _reap(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_a_worker_keeps_only_its_socket() -> None:
    """A worker holds no descriptor of the process it was forked from: a pipe the main
    process closes ends at once, even though the worker was forked while it was open."""
    other_r, other_w = os.pipe()
    pid, fd = reader_worker.fork_worker(_settings())
    try:
        assert _answers(fd, 1) == [READY]
        fds = {int(n): os.readlink(f"/proc/{pid}/fd/{n}") for n in os.listdir(f"/proc/{pid}/fd")}
        assert sorted(fds) == [0, 1, 2], fds
        assert fds[2] == os.devnull
        assert fds[0].startswith("socket:") and fds[1] == fds[0], "one socket, both ways"
        os.close(other_w)
        assert os.read(other_r, 1) == b"", "no copy of the write end is left open"
    finally:
        os.close(other_r)
        os.close(fd)
    assert _reap(pid) == 0, "its input ended: it leaves, with success"


def test_a_worker_answers_each_repository_in_order(repos: RepoFactory) -> None:
    """One frame per repository, in the order given: the packed record, or DECLINED
    where the in-process reader cannot promise git's record."""
    plain = repos.repo("plain", commits=2)
    plain.write("new.txt")
    attributes = repos.repo("attributes", commits=1)
    attributes.commit(".gitattributes", "* text=auto\n")
    refs = [
        RepoRef(os.fspath(r.path), os.fspath(r.git_dir), os.fspath(r.path))
        for r in (plain, attributes, plain)
    ]
    pid, fd = reader_worker.fork_worker(_settings())
    try:
        for ref in refs:
            write_frame(fd, reader_io.pack_ref(ref))
        ready, first, second, third = _answers(fd, 4)
    finally:
        os.close(fd)
    assert _reap(pid) == 0
    assert ready == READY and second == DECLINED
    record = reader_io.unpack_record(refs[0], first)  # type: ignore[arg-type]
    assert record.reader == "libgit2" and record.status is not None
    assert record.status.untracked == 1 and record.status.ahead is None
    assert first[:2] == third[:2], "the same repository, the same record"  # type: ignore[index]


def test_a_worker_that_cannot_read_in_process_says_so_and_leaves() -> None:
    pid, fd = reader_worker.fork_worker(_settings(usable=False))
    try:
        assert _answers(fd, 1) == [UNUSABLE]
        assert os.read(fd, 1) == b"", "nothing more"
    finally:
        os.close(fd)
    assert _reap(pid) == 0


def test_a_worker_that_is_told_to_stop_leaves_with_130() -> None:
    pid, fd = reader_worker.fork_worker(_settings())
    try:
        assert _answers(fd, 1) == [READY]
        os.kill(pid, signal.SIGTERM)
        assert _reap(pid) == 130
    finally:
        os.close(fd)


def test_what_the_main_process_buffered_is_written_once(tmp_path: Path) -> None:
    """A worker leaves without flushing what it inherited: output the main process had
    buffered when it forked reaches stdout once, and no exit handler runs twice."""
    script = """
import atexit, os, sys
from gitoverit.git import reader_worker
from gitoverit.git.reader_io import Reader
atexit.register(lambda: print("exit handler", flush=True))
sys.stdout = open(sys.stdout.fileno(), "w", buffering=1 << 16, closefd=False)
sys.stdout.write("before\\n")
settings = {"config": None, "timeout": 30.0, "trust": False, "lines": False, "ident": False}
pid, fd = reader_worker.fork_worker(settings)
os.read(fd, 4096)
os.close(fd)
_, status = os.waitpid(pid, 0)
sys.stdout.write(f"worker exit {os.waitstatus_to_exitcode(status)}\\n")
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "before\nworker exit 0\nexit handler\n"


@pytest.fixture
def command_log(tmp_path: Path) -> Iterator[Path]:
    """The command log on, in a file, as ``GITO_DEBUG_LOG`` turns it on."""
    path = tmp_path / "debug.log"
    logger = logging.getLogger("gitoverit")
    before = (list(logger.handlers), logger.level, logger.propagate)
    reader_io.start_worker_log(os.fspath(path), logging.DEBUG, "%(message)s", None)
    try:
        yield path
    finally:
        for handler in logger.handlers:
            if handler not in before[0]:
                handler.close()
        logger.handlers, logger.level, logger.propagate = before
        process.log_commands(None)


def test_a_worker_appends_its_reads_to_the_command_log(
    repos: RepoFactory, command_log: Path
) -> None:
    """A worker writes to the log through a handler of its own: its line is whole, and
    the handlers it inherited (whose descriptors it closed) write nothing."""
    r = repos.repo("one", commits=1)
    ref = RepoRef(os.fspath(r.path), os.fspath(r.git_dir), os.fspath(r.path))
    settings = reader_io.log_settings()
    assert settings is not None and settings[0] == os.fspath(command_log)
    pid, fd = reader_worker.fork_worker(_settings(log=settings))
    try:
        write_frame(fd, reader_io.pack_ref(ref))
        _, packed = _answers(fd, 2)
    finally:
        os.close(fd)
    assert _reap(pid) == 0
    assert packed != DECLINED
    reads = [line for line in command_log.read_text().splitlines() if line.startswith("read ")]
    assert len(reads) == 1 and reads[0].startswith(f"read repo={ref.path} reader=libgit2 ")
    assert stat.S_ISREG(command_log.stat().st_mode)


def test_a_worker_forked_while_a_thread_holds_the_identity_lock_still_reads(
    repos: RepoFactory,
) -> None:
    """A lock another thread held when the worker was forked is not held in the worker:
    its read of the identity (as the scan asks for JSON) does not wait for ever."""
    from gitoverit.git import extras

    r = repos.repo("one", commits=1)
    ref = RepoRef(os.fspath(r.path), os.fspath(r.git_dir), os.fspath(r.path))
    outside, _conditional = extras.user_ident(30)  # the scan asks before it forks
    assert outside is not None
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with extras._lock:
            held.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(10)
        pid, fd = reader_worker.fork_worker({**_settings(), "ident": True})
        try:
            write_frame(fd, reader_io.pack_ref(ref))
            ready, packed = _answers(fd, 2, within=10)
        except BaseException:
            os.kill(pid, signal.SIGKILL)  # stuck: it would never leave
            raise
        finally:
            os.close(fd)
    finally:
        release.set()
        thread.join()
    assert _reap(pid) == 0
    assert ready == READY
    record = reader_io.unpack_record(ref, packed)  # type: ignore[arg-type]
    assert record.status is not None and record.status.ident == outside
