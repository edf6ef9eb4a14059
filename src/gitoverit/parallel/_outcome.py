"""What every backend of :func:`~gitoverit.parallel.run_parallel` yields: one
:class:`Outcome` per item, released in completion order or in input order."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from gitoverit.parallel._light import TaskSkipped, TaskTimeout

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T, R]):
    """What happened to one item: its result, or the exception it raised.

    ``error`` is the original exception object raised by the task, a :class:`TaskTimeout`,
    or a :class:`TaskSkipped`. ``duration`` is wall-clock seconds spent running the task
    (0.0 for a skipped one).

    An outcome unpacks to its first three fields, so a loop can name them at once::

        for item, result, error in run_parallel(func, items):
            ...

    ``duration``, ``ok``, ``skipped`` and ``timed_out`` stay attributes.
    """

    item: T
    result: R | None = None
    error: BaseException | None = None
    duration: float = 0.0

    def __iter__(self) -> Iterator[Any]:
        # Three values, not four: ``item, result, error = outcome``. Typed Any because
        # the three have different types, which an iterator cannot say.
        yield self.item
        yield self.result
        yield self.error

    @property
    def ok(self) -> bool:
        """The task returned normally (its result may still be ``None``)."""
        return self.error is None

    @property
    def skipped(self) -> bool:
        """The task never ran: an earlier one failed under ``fail_fast``."""
        return isinstance(self.error, TaskSkipped)

    @property
    def timed_out(self) -> bool:
        """The task ran past the per-task ``timeout``."""
        return isinstance(self.error, TaskTimeout)


#: What :func:`run_parallel` returns: an iterator with ``close()``, for ``closing()``.
Outcomes = Generator[Outcome[T, R], None, None]


class Emitter(Generic[T, R]):
    """Releases outcomes in completion order, or in input order when ``ordered``."""

    def __init__(self, ordered: bool) -> None:
        self.ordered = ordered
        self.buffer: dict[int, Outcome[T, R]] = {}
        self.next_index = 0

    @property
    def held(self) -> int:
        """Outcomes finished but waiting for an earlier item (``ordered`` only)."""
        return len(self.buffer)

    def add(self, index: int, outcome: Outcome[T, R]) -> list[Outcome[T, R]]:
        if not self.ordered:
            return [outcome]
        self.buffer[index] = outcome
        out = []
        while self.next_index in self.buffer:
            out.append(self.buffer.pop(self.next_index))
            self.next_index += 1
        return out
