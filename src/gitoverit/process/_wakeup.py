"""Wake-ups between threads: one thread pokes, another waiting in a selector wakes."""

from __future__ import annotations

import contextlib
import os
import sys


def drain_pipe(fd: int) -> None:
    """Read everything waiting in the non-blocking pipe or eventfd *fd* (wake-ups)."""
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


# What one poke writes: an eventfd takes an 8-byte count, a pipe any bytes.
_ONE = (1).to_bytes(8, sys.byteorder)


class Wakeup:
    """A wake-up from one thread to another that waits in a selector: :meth:`poke` makes
    :meth:`fileno` readable until :meth:`drain`.

    One eventfd where the system has them (one descriptor), else a non-blocking pipe
    (two). Pokes never block: a pending wake-up already says all a poke would.
    """

    __slots__ = ("_r", "_w")

    def __init__(self) -> None:
        if hasattr(os, "eventfd"):
            self._r = self._w = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        else:  # pragma: no cover - systems without eventfd
            self._r, self._w = os.pipe()
            os.set_blocking(self._r, False)
            os.set_blocking(self._w, False)

    def fileno(self) -> int:
        """The descriptor that is readable while a wake-up is pending."""
        return self._r

    def poke(self) -> None:
        """Wake the waiting thread (nothing, once :meth:`close` has run)."""
        fd = self._w
        if fd >= 0:
            with contextlib.suppress(OSError):  # full: a wake-up is pending anyway
                os.write(fd, _ONE)

    def drain(self) -> None:
        """Take the pending wake-ups, if any."""
        drain_pipe(self._r)

    def close(self) -> None:
        """Close its descriptors; later pokes do nothing."""
        r, w = self._r, self._w
        self._r = self._w = -1
        if r >= 0:
            os.close(r)
        if w >= 0 and w != r:
            os.close(w)
