"""The git engine beside the in-process reader's workers (:mod:`gitoverit.git.readers`):
it reads, on a thread of its own, the repositories the in-process reader declined."""

from __future__ import annotations

import collections
import queue
import threading
from dataclasses import replace

from gitoverit.model import RepoRecord, RepoRef
from gitoverit.process import Wakeup


class GitLane:
    """The git engine (:func:`~gitoverit.git.batch.run_statuses`) on a thread of its own,
    reading the repositories it is given; each record it yields waits in :attr:`out`, and
    :attr:`done` is poked."""

    def __init__(self, jobs: int, timeout: float, trust: bool, *, fail_fast: bool = False) -> None:
        self.jobs, self.timeout, self.trust = jobs, timeout, trust
        #: The engine stops itself at its own first failure, without waiting for the main
        #: thread to see it (:meth:`halt` covers the in-process reader's failures).
        self.fail_fast = fail_fast
        self.refs: queue.Queue[object] = queue.Queue()
        self.end = object()
        self.stop = threading.Event()
        self.halted = threading.Event()
        #: Poked when :attr:`refs` has more, or the engine is to stop.
        self.wake = Wakeup()
        #: Poked when :attr:`out` has more, or the engine has failed.
        self.done = Wakeup()
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
        self.wake.poke()

    def _run(self) -> None:
        from gitoverit.git.batch import run_statuses

        records = run_statuses(
            self.refs,
            self.end,
            self.wake.fileno(),
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
                self.done.poke()
        except BaseException as exc:  # surfaced to the main thread, never lost
            self.error = exc
            self.done.poke()
        finally:
            records.close()

    def halt(self) -> None:
        """Start nothing more: what has not started is reported as skipped."""
        self.halted.set()
        self.wake.poke()

    def records(self) -> list[RepoRecord]:
        """The records that came since the last call."""
        self.done.drain()
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
            self.wake.poke()
            self.thread.join()
        self.wake.close()
        self.done.close()
