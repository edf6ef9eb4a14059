"""The repositories discovery finds, as the status readers take them: from a queue that
another thread fills, without waiting."""

from __future__ import annotations

import queue

from gitoverit.model import RepoRef


class RefSource:
    """The repositories put in *refs*, in order; *end*, put last, marks that no more
    will come (then :attr:`done` is true)."""

    def __init__(self, refs: queue.Queue[object], end: object) -> None:
        self.refs = refs
        self.end = end
        self.done = False

    def take(self) -> RepoRef | None:
        """The next repository from the queue, if one is there already."""
        if self.done:
            return None
        try:
            item = self.refs.get_nowait()
        except queue.Empty:
            return None
        if item is self.end:
            self.done = True
            return None
        assert isinstance(item, RepoRef)
        return item
