"""``gitoverit watch -o ndjson``: the watch for other programs (editors, status bars).

One line per repository at the start (a scan's record), a ``ready`` line once every
repository has one, then a repository's record again each time it changes, and a
``removed`` line for a repository that is gone. It runs until SIGINT (exit 130) or SIGTERM
(exit 0); every git it started ends with it.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import IO

from gitoverit.exit_codes import EXIT_INTERRUPTED, EXIT_OK
from gitoverit.model import FORMAT_VERSION
from gitoverit.watch.view import Filter
from gitoverit.watch.watcher import (
    FetchDone,
    Notice,
    Ready,
    RecordChanged,
    RepoRemoved,
    Watcher,
    WatchEvent,
    WatchOptions,
)


class _Lines:
    """Writes each watch event as one JSON line, flushed at once."""

    def __init__(self, out: IO[str], keep: Filter, stop: asyncio.Event) -> None:
        from gitoverit.output.json import NdjsonWriter

        self.writer = NdjsonWriter(out)
        self.keep = keep
        self.stop = stop
        self.closed = False

    def __call__(self, event: WatchEvent) -> None:
        if self.closed:
            return
        try:
            self._write(event)
        except BrokenPipeError:
            # The reader went away: stop, as a command in a pipe does.
            self.closed = True
            self.stop.set()

    def _write(self, event: WatchEvent) -> None:
        w = self.writer
        if isinstance(event, RecordChanged):
            if self.keep.matches(event.record):
                w.repo(event.record)
        elif isinstance(event, RepoRemoved):
            ref = event.ref
            w.write(
                {
                    "type": "removed",
                    "path": ref.path,
                    "display_path": ref.display_path,
                    "format_version": FORMAT_VERSION,
                }
            )
        elif isinstance(event, Ready):
            w.write({"type": "ready", "repos": event.count, "format_version": FORMAT_VERSION})
        elif isinstance(event, FetchDone):
            w.write(
                {
                    "type": "fetch",
                    "time": event.at,
                    "repos": event.total,
                    "errors": event.failed,
                    "format_version": FORMAT_VERSION,
                }
            )
        elif isinstance(event, Notice):
            print(event.text, file=sys.stderr, flush=True)


def run_headless(options: WatchOptions, keep: Filter, out: IO[str] | None = None) -> int:
    """Watch and write JSON lines to *out* (default stdout) until a signal; returns the
    exit code: 130 after SIGINT, 0 after SIGTERM or when the reader goes away."""
    from gitoverit.process import kill_all

    async def main() -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        code = [EXIT_OK]

        def interrupted() -> None:
            code[0] = EXIT_INTERRUPTED
            stop.set()

        loop.add_signal_handler(signal.SIGINT, interrupted)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        lines = _Lines(out if out is not None else sys.stdout, keep, stop)
        await Watcher(options, lines).run(stop)
        return code[0]

    try:
        return asyncio.run(main())
    finally:
        kill_all()
