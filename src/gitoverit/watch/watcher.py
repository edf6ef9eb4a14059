"""The watch loop: keep one record per repository true while the files change.

It runs on asyncio. The first read is a plain scan on the status engine. After that,
file-system events (:mod:`gitoverit.watch.source`) are coalesced per repository: a repository
is read again once its changes have been quiet for :attr:`WatchOptions.debounce` (or
have gone on for :attr:`WatchOptions.max_delay`), and all the repositories due at once are
read as one batch, again on the status engine. A record is passed on only when it differs
from the last one (its duration aside), so a change that makes no difference to the status
(a file git ignores, the notifier's own bookkeeping) costs one read and no record. A change
outside every known repository, or one that creates or removes a ``.git``, has the folders
walked again: new repositories are added, vanished ones removed.

The reads hold no locks and write nothing under ``.git`` (``GIT_OPTIONAL_LOCKS=0``, private
index copies), so they cause no events of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from gitoverit.git.command import NETWORK_TIMEOUT
from gitoverit.model import RepoDone, RepoRecord, RepoRef
from gitoverit.scan import ScanOptions
from gitoverit.watch.paths import RepoMap
from gitoverit.watch.source import LIMIT_HINT, EventSource


@dataclass(frozen=True, slots=True)
class WatchOptions:
    """What to watch, and how often to look when events cannot tell."""

    scan: ScanOptions = field(default_factory=ScanOptions)
    #: Quiet time after a repository's last change before it is read again (seconds).
    debounce: float = 0.2
    #: Longest a repository that keeps changing waits for its read (seconds).
    max_delay: float = 0.6
    #: How often the repositories no watch covers are read (``--poll-interval``).
    poll_interval: float = 5.0
    #: Fetch everything this often (``--fetch-every``); ``None``: never on its own.
    fetch_every: float | None = None
    net_jobs: int | None = None
    #: Time limit of each network operation.
    timeout: float = NETWORK_TIMEOUT


@dataclass(frozen=True, slots=True)
class RecordChanged:
    """A repository's record is new, or differs from the last one."""

    record: RepoRecord


@dataclass(frozen=True, slots=True)
class RepoRemoved:
    """A repository is gone."""

    ref: RepoRef


@dataclass(frozen=True, slots=True)
class Ready:
    """Every repository has its first record."""

    count: int


@dataclass(frozen=True, slots=True)
class Notice:
    """Something to tell the user once (a warning)."""

    text: str


@dataclass(frozen=True, slots=True)
class FetchDone:
    """A fetch of every repository ended, at *at* (epoch seconds)."""

    at: float
    total: int
    failed: int


WatchEvent = RecordChanged | RepoRemoved | Ready | Notice | FetchDone
Sink = Callable[[WatchEvent], None]


def same(a: RepoRecord, b: RepoRecord) -> bool:
    """Whether two records say the same, however long each read took."""
    left, right = a.to_json(), b.to_json()
    left.pop("duration_ms")
    right.pop("duration_ms")
    return left == right


def _exists(ref: RepoRef) -> bool:
    return os.path.isdir(ref.path) and os.path.lexists(os.path.join(ref.path, ".git"))


class Watcher:
    """Watches the selected repositories and tells *sink* what changed (on the loop)."""

    def __init__(self, options: WatchOptions, sink: Sink) -> None:
        self.options = options
        self.sink = sink
        self.records: dict[str, RepoRecord] = {}
        self.repos = RepoMap()
        #: Repositories read again since the first read, and walks of the folders.
        self.reads = 0
        self.walks = 0
        #: When the last fetch of everything ended (epoch seconds).
        self.last_fetch: float | None = None
        self._pending: dict[str, tuple[float, float]] = {}
        self._look: tuple[float, float] | None = None
        self._closing = threading.Event()
        self._source: EventSource | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    # -- the loop ---------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Read everything, then keep the records current until *stop* is set."""
        self._loop = asyncio.get_running_loop()
        refs = await asyncio.to_thread(self._discover)
        for ref in refs:
            self.repos.add(ref)
        source = self._source = EventSource(self.options.scan.selection.roots, self._from_thread)
        # Watching starts before the first read, so no change in between is missed.
        await asyncio.to_thread(source.start, [r.path for r in refs])
        if source.limited:
            polled = len(refs) - len(source.covered)
            self.sink(
                Notice(
                    f"warning: {LIMIT_HINT}; meanwhile {polled} repo"
                    f"{'s are' if polled != 1 else ' is'} read every "
                    f"{self.options.poll_interval:g} s"
                )
            )
        for record in await self._read(refs):
            self._update(record)
        self.sink(Ready(len(self.records)))
        tasks = [asyncio.create_task(self._debounced())]
        if source.limited:
            tasks.append(asyncio.create_task(self._poll()))
        if self.options.fetch_every:
            tasks.append(asyncio.create_task(self._fetch_every(self.options.fetch_every)))
        try:
            await stop.wait()
        finally:
            self._closing.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.to_thread(source.stop)

    def _from_thread(self, paths: set[str]) -> None:
        loop = self._loop
        if loop is not None and not self._closing.is_set():
            loop.call_soon_threadsafe(self.changed, paths)

    def changed(self, paths: Iterable[str]) -> None:
        """Note that *paths* changed: their repositories will be read again."""
        assert self._loop is not None
        now = self._loop.time()
        for path in paths:
            owners, look = self.repos.owners(path)
            for owner in owners:
                first, _ = self._pending.get(owner, (now, now))
                self._pending[owner] = (first, now)
            if look:
                self._look = (self._look[0] if self._look else now, now)
        self._wake.set()

    def stale(self, repos: Iterable[str]) -> None:
        """Have the repositories at *repos* read again soon."""
        assert self._loop is not None
        now = self._loop.time()
        for path in repos:
            if path in self.repos.refs:
                self._pending.setdefault(path, (now, now))
        self._wake.set()

    def _deadline(self, first: float, last: float) -> float:
        return min(last + self.options.debounce, first + self.options.max_delay)

    def _take_due(self, now: float) -> tuple[list[str], bool, float | None]:
        """The repositories due for a read, whether the folders are, and how long until
        the next one is (``None``: nothing is pending)."""
        due = [p for p, times in self._pending.items() if self._deadline(*times) <= now]
        for path in due:
            del self._pending[path]
        look = self._look is not None and self._deadline(*self._look) <= now
        if look:
            self._look = None
        waits = [self._deadline(*t) - now for t in self._pending.values()]
        if self._look is not None:
            waits.append(self._deadline(*self._look) - now)
        return due, look, max(0.0, min(waits)) if waits else None

    async def _debounced(self) -> None:
        assert self._loop is not None
        while True:
            due, look, wait = self._take_due(self._loop.time())
            if due or look:
                async with self._lock:
                    if look:
                        await self._walk()
                    await self.reread([self.repos.refs[p] for p in due if p in self.repos.refs])
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _poll(self) -> None:
        """Read the repositories no watch covers, and walk the folders, every interval."""
        assert self._source is not None
        while True:
            await asyncio.sleep(self.options.poll_interval)
            async with self._lock:
                await self._walk()
                covered = self._source.covered
                await self.reread([r for p, r in self.repos.refs.items() if p not in covered])

    async def _fetch_every(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.fetch_all()

    # -- reading ----------------------------------------------------------------------

    def _discover(self) -> list[RepoRef]:
        from gitoverit.select import find

        self.walks += 1
        return list(find(self.options.scan.selection))

    async def _walk(self) -> None:
        """Walk the folders again: add the repositories that appeared, drop the gone."""
        refs = await asyncio.to_thread(self._discover)
        found = {r.path for r in refs}
        for path in [p for p in self.repos.refs if p not in found]:
            self._remove(path)
        new = [r for r in refs if r.path not in self.repos.refs]
        for ref in new:
            self.repos.add(ref)
        await self.reread(new)

    async def reread(self, refs: Sequence[RepoRef]) -> None:
        """Read *refs* again and pass on the records that changed; drop the gone."""
        live = []
        for ref in refs:
            if _exists(ref):
                live.append(ref)
            else:
                self._remove(ref.path)
        if live:
            self.reads += len(live)
            for record in await self._read(live):
                self._update(record)

    async def _read(self, refs: Sequence[RepoRef]) -> list[RepoRecord]:
        return await asyncio.to_thread(self._read_now, refs) if refs else []

    def _read_now(self, refs: Sequence[RepoRef]) -> list[RepoRecord]:
        """The records of *refs*, read on the status engine (a thread of the loop's)."""
        from gitoverit.scan import Scan

        return self._records_of(Scan(self.options.scan, refs=refs))

    def _records_of(self, scan: object) -> list[RepoRecord]:
        from gitoverit.scan import Scan

        assert isinstance(scan, Scan)
        out: list[RepoRecord] = []
        events = scan.events()
        try:
            for event in events:
                if self._closing.is_set():
                    break
                if isinstance(event, RepoDone):
                    out.append(event.record)
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()  # stops the scan's gits when closing cut it short
        return out

    def _update(self, record: RepoRecord) -> None:
        path = record.ref.path
        if path not in self.repos.refs:
            return
        old = self.records.get(path)
        if old is None or not same(old, record):
            self.records[path] = record
            self.sink(RecordChanged(record))

    def _remove(self, path: str) -> None:
        ref = self.repos.remove(path)
        self.records.pop(path, None)
        self._pending.pop(path, None)
        if ref is not None:
            self.sink(RepoRemoved(ref))

    # -- network ----------------------------------------------------------------------

    async def fetch_all(self) -> FetchDone:
        """Fetch every repository on the network pool; its changes come as events."""
        refs = list(self.repos.refs.values())
        records = await asyncio.to_thread(self._fetch_now, refs)
        self.last_fetch = time.time()
        done = FetchDone(self.last_fetch, len(records), sum(r.error is not None for r in records))
        self.sink(done)
        # What a fetch changed shows up as events; a polled repository needs the read.
        self.stale(r.path for r in refs)
        return done

    def _fetch_now(self, refs: Sequence[RepoRef]) -> list[RepoRecord]:
        from gitoverit.actions import ActionOptions, action_task, net_jobs
        from gitoverit.scan import Scan

        o = self.options
        actions = ActionOptions(
            fetch=True, timeout=o.timeout, trust_repo_config=o.scan.trust_repo_config
        )
        limit = threading.BoundedSemaphore(o.scan.jobs)
        task = action_task(actions, local_limit=limit)
        scan = Scan(o.scan, task, workers=net_jobs(o.net_jobs), refs=refs, action=actions.name)
        return self._records_of(scan)

    async def pull(self, path: str) -> RepoRecord:
        """Fetch the repository at *path* and fast-forward it if that is safe, under the
        rules of ``-P``; returns the record of what was done."""
        from gitoverit.actions import ActionOptions, update_repo

        o = self.options
        actions = ActionOptions(
            fetch=True, pull=True, timeout=o.timeout, trust_repo_config=o.scan.trust_repo_config
        )
        ref = self.repos.refs[path]
        record = await asyncio.to_thread(update_repo, ref, actions, local_limit=None, sink=None)
        self.stale([path])
        return record
