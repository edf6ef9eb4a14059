"""``gitoverit watch``: every repository's status kept current from file-system events.

- :mod:`~gitoverit.watch.paths`: which repository a changed path concerns; what is noise;
- :mod:`~gitoverit.watch.source`: the events (``watchfiles``), and the fallback when the
  system's watch limit is reached;
- :mod:`~gitoverit.watch.watcher`: the asyncio loop: debounce, re-read on the status
  engine, pass on what changed;
- :mod:`~gitoverit.watch.view`: the filter, sort and totals the screen shows;
- :mod:`~gitoverit.watch.headless`: ``-o ndjson``; :mod:`~gitoverit.watch.app`: the
  full-screen app (Textual), with its screens in :mod:`~gitoverit.watch.screens`.

Textual and watchfiles are imported only when a watch starts.
"""

from __future__ import annotations

from gitoverit.watch.view import Filter
from gitoverit.watch.watcher import Watcher, WatchOptions

__all__ = ["Filter", "WatchOptions", "Watcher"]
