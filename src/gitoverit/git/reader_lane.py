"""The git engine beside the in-process reader's workers (:mod:`gitoverit.git.readers`):
it reads, on a thread of its own, the repositories the in-process reader declined."""

from __future__ import annotations

import collections
import contextlib
import os
import queue
import threading
from dataclasses import replace

from gitoverit.model import RepoRecord, RepoRef
from gitoverit.process import drain_pipe


class GitLane:
    """The git engine (:func:`~gitoverit.git.batch.run_statuses`) on a thread of its own,
    reading the repositories it is given; each record it yields waits in :attr:`out`, and
    :attr:`done_r` becomes readable."""

    def __init__(self, jobs: int, timeout: float, trust: bool, *, fail_fast: bool = False) -> None:
        self.jobs, self.timeout, self.trust = jobs, timeout, trust
        #: The engine stops itself at its own first failure, without waiting for the main
        #: thread to see it (:meth:`halt` covers the in-process reader's failures).
        self.fail_fast = fail_fast
        self.refs: queue.Queue[object] = queue.Queue()
        self.end = object()
        self.stop = threading.Event()
        self.halted = threading.Event()
        self.wake_r, self.wake_w = os.pipe()
        self.done_r, self.done_w = os.pipe()
        for fd in (self.wake_r, self.wake_w, self.done_r, self.done_w):
            os.set_blocking(fd, False)
        self.out: collections.deque[RepoRecord] = collections.deque()
        self.pending = 0
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def put(self, ref: RepoRef) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="gitoverit-git", daemon=True)
            self.thread.start()
        self.pending += 1
        self.refs.put(ref)
        _poke(self.wake_w)

    def _run(self) -> None:
        from gitoverit.git.batch import run_statuses

        records = run_statuses(
            self.refs,
            self.end,
            self.wake_r,
            jobs=self.jobs,
            timeout=self.timeout,
            trust=self.trust,
            fail_fast=self.fail_fast,
            stop=self.stop,
            halt=self.halted,
        )
        try:
            for record in records:
                self.out.append(replace(record, reader="git"))
                _poke(self.done_w)
        except BaseException as exc:  # surfaced to the main thread, never lost
            self.error = exc
            _poke(self.done_w)
        finally:
            records.close()

    def halt(self) -> None:
        """Start nothing more: what has not started is reported as skipped."""
        self.halted.set()
        _poke(self.wake_w)

    def records(self) -> list[RepoRecord]:
        """The records that came since the last call."""
        drain_pipe(self.done_r)
        if self.error is not None:
            raise self.error
        got = []
        while self.out:
            got.append(self.out.popleft())
        self.pending -= len(got)
        return got

    def close(self, *, done: bool) -> None:
        """Let the engine end (*done*: nothing is left), else stop it, killing its gits."""
        if self.thread is not None:
            if not done:
                self.stop.set()
            self.refs.put(self.end)
            _poke(self.wake_w)
            self.thread.join()
        for fd in (self.wake_r, self.wake_w, self.done_r, self.done_w):
            os.close(fd)


def _poke(fd: int) -> None:
    with contextlib.suppress(OSError):  # a full pipe already holds a wake-up
        os.write(fd, b"\0")
