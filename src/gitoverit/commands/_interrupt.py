"""Ctrl-C during a command: the first one stops cleanly, a second one exits at once.

The first Ctrl-C raises ``KeyboardInterrupt``, unless it comes inside a
:func:`holding_interrupts` block: then it is held until the block ends (see
:func:`held_interrupt`). A second Ctrl-C kills every process group we started, removes
our temporary files and exits 130 without waiting for anything.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from gitoverit.exit_codes import EXIT_INTERRUPTED


def _kill_children_and_exit(signum: int, frame: object) -> None:
    """Second Ctrl-C: kill every process group we started, and leave at once."""
    from gitoverit.process import kill_all

    kill_all()
    os._exit(EXIT_INTERRUPTED)


#: Depth of code that must not be cut short by a first Ctrl-C, and whether one came.
_CRITICAL: list[int] = [0]
_HELD_INTERRUPT: list[bool] = []


def _first_sigint(signum: int, frame: object) -> None:
    signal.signal(signal.SIGINT, _kill_children_and_exit)
    if _CRITICAL[0]:
        _HELD_INTERRUPT.append(True)
        return
    raise KeyboardInterrupt


def reset() -> None:
    """Forget any held interrupt, before a new run."""
    _CRITICAL[0] = 0
    _HELD_INTERRUPT.clear()


@contextmanager
def holding_interrupts() -> Iterator[None]:
    """Run the block to its end even if a first Ctrl-C comes (see :func:`held_interrupt`).

    Taking in one repo's result (counting it and writing its line) must not stop halfway,
    or the repo would be counted but never shown; writing the results must not stop
    halfway, or JSON would be cut short.
    """
    _CRITICAL[0] += 1
    try:
        yield
    finally:
        _CRITICAL[0] -= 1


def held_interrupt() -> bool:
    """Whether a first Ctrl-C came during a finished :func:`holding_interrupts` block."""
    if _CRITICAL[0] or not _HELD_INTERRUPT:
        return False
    _HELD_INTERRUPT.clear()
    return True


@contextmanager
def interrupt_handling() -> Iterator[None]:
    """First Ctrl-C raises KeyboardInterrupt for a clean stop; a second one exits at once."""
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, _first_sigint)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
    else:
        yield
