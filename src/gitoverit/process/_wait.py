"""Waiting for a command started by :mod:`gitoverit.process`: its output, its end, its kill.

Output is read by a selector loop rather than ``communicate()``, so that the loop can hand
progress lines to a callback as they arrive, notice a cancelled task within ``_TICK``
seconds, and stop waiting for a pipe that some escaped descendant keeps open after the
command itself has exited. A command that runs out of time or is cancelled has its whole
process group killed (:func:`terminate`).

:data:`KILL_GRACE`, :data:`DRAIN_GRACE` and ``_TICK`` are read here, by the functions of
this module.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import select
import selectors
import signal
import subprocess
import time
from collections.abc import Callable
from typing import IO

from gitoverit.parallel._cancel import CancelScope

#: After SIGTERM, how long a process group gets before SIGKILL.
KILL_GRACE = 0.5
#: After the command has exited (or been killed), how long to keep reading pipes that are
#: still open because a descendant that left the process group holds them.
DRAIN_GRACE = 0.5

#: A line longer than this is handed to an :data:`OutputCallback` in pieces of this size
#: or more, so that output without newlines is never held in memory whole.
MAX_LINE = 65536

# How often the wait loop wakes up with no output, to notice a cancelled scope or a
# command that exited while something else still holds its pipes.
_TICK = 0.1

Proc = subprocess.Popen[bytes]


def signal_group(pgid: int, sig: int) -> bool:
    """Send *sig* to process group *pgid*; ``False`` when the group no longer exists."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def terminate(proc: Proc) -> None:
    """SIGTERM the process group, wait up to ``KILL_GRACE`` for the leader, SIGKILL the rest.

    The child is a session leader, so its pid is the group id, and the group can be
    signalled even after the leader has exited while descendants live on. The leader (git)
    gets the grace to remove its lock files; whatever is left of the group afterwards is
    killed outright. An exception during the grace (a second Ctrl-C) goes straight to
    SIGKILL. The leader is always reaped.
    """
    pgid = proc.pid
    try:
        if signal_group(pgid, signal.SIGTERM):
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=KILL_GRACE)
    finally:
        signal_group(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5.0)


# poll(2) needs no extra file descriptor per call, unlike epoll.
_Selector: type[selectors.BaseSelector] = getattr(
    selectors, "PollSelector", selectors.DefaultSelector
)


#: Called with 1 (stdout) or 2 (stderr) and each whole line (without its ``\n``) a
#: command writes there, as it arrives; a last line without ``\n`` comes at the end.
OutputCallback = Callable[[int, bytes], None]


class Reader:
    """Collects a child's stdout and stderr, passing stderr lines to a progress callback
    (a :data:`~gitoverit.process.ProgressCallback`) and every output line to an
    :data:`OutputCallback`.

    With *limit*, at most that many bytes of each stream are kept; the rest is still read
    (so the child never blocks on a full pipe) and handed to *on_output*, but dropped, and
    :attr:`truncated` says so.
    """

    def __init__(
        self,
        proc: Proc,
        on_progress: Callable[[str], None] | None,
        *,
        limit: int | None = None,
        on_output: OutputCallback | None = None,
    ):
        self._proc = proc
        self._on_progress = on_progress
        self._on_output = on_output
        self._limit = limit
        self._kept: dict[int, int] = {}
        self._lines: dict[int, bytes] = {}
        self.truncated = False
        self._chunks: dict[int, list[bytes]] = {}
        self._stdout_fd = -1
        self._stderr_fd = -1
        self._partial = b""
        self._sel = _Selector()
        pipes: list[IO[bytes] | None] = [proc.stdout, proc.stderr]
        for pipe in pipes:
            if pipe is not None:
                self._chunks[pipe.fileno()] = []
                self._sel.register(pipe.fileno(), selectors.EVENT_READ)
        if proc.stdout is not None:
            self._stdout_fd = proc.stdout.fileno()
        if proc.stderr is not None:
            self._stderr_fd = proc.stderr.fileno()

    @property
    def open(self) -> bool:
        return bool(self._sel.get_map())

    def pump(self, wait: float) -> None:
        """Read whatever arrives within *wait* seconds (returns early on any event)."""
        for key, _ in self._sel.select(max(wait, 0.0)):
            fd = int(key.fd)
            data = os.read(fd, 65536)
            if not data:
                self._sel.unregister(fd)
                if fd == self._stderr_fd:
                    self._progress(b"", final=True)
                if self._on_output is not None:
                    self._output(fd, b"", final=True)
                continue
            self._keep(fd, data)
            if fd == self._stderr_fd:
                self._progress(data, final=False)
            if self._on_output is not None:
                self._output(fd, data, final=False)

    def _keep(self, fd: int, data: bytes) -> None:
        if self._limit is None:
            self._chunks[fd].append(data)
            return
        room = self._limit - self._kept.get(fd, 0)
        if len(data) > room:
            self.truncated = True
            data = data[: max(room, 0)]
        if data:
            self._chunks[fd].append(data)
            self._kept[fd] = self._kept.get(fd, 0) + len(data)

    def _output(self, fd: int, data: bytes, *, final: bool) -> None:
        assert self._on_output is not None
        stream = 1 if fd == self._stdout_fd else 2
        *lines, rest = (self._lines.pop(fd, b"") + data).split(b"\n")
        if rest and (final or len(rest) > MAX_LINE):
            lines.append(rest)
        elif rest:
            self._lines[fd] = rest
        for line in lines:
            self._on_output(stream, line)

    def drain(self, grace: float) -> None:
        """Read until every pipe is at EOF or *grace* seconds have passed."""
        end = time.monotonic() + grace
        while self.open:
            left = end - time.monotonic()
            if left <= 0:
                break
            self.pump(left)

    def _progress(self, data: bytes, *, final: bool) -> None:
        if self._on_progress is None:
            return
        *lines, self._partial = re.split(rb"[\r\n]", self._partial + data)
        if final:
            lines.append(self._partial)
            self._partial = b""
        for raw in lines:
            line = raw.decode("utf-8", "replace").strip()
            if line:
                self._on_progress(line)

    @property
    def stdout(self) -> bytes:
        return b"".join(self._chunks.get(self._stdout_fd, []))

    @property
    def stderr(self) -> bytes:
        return b"".join(self._chunks.get(self._stderr_fd, []))

    def close(self) -> None:
        self._sel.close()
        close_pipes(self._proc)


def close_pipes(proc: Proc) -> None:
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def finish(proc: Proc, reader: Reader, deadline: float, scope: CancelScope | None) -> str | None:
    """Collect output until the command is done (see :func:`wait`); when it is not, kill
    its process group and read what is left in its pipes for ``DRAIN_GRACE`` seconds.

    Returns ``"timeout"`` or ``"cancelled"`` for a command that did not finish, else ``None``.
    """
    stopped = wait(proc, reader, deadline, scope)
    if stopped is not None:
        terminate(proc)
        reader.drain(DRAIN_GRACE)
    return stopped


def wait(proc: Proc, reader: Reader, deadline: float, scope: CancelScope | None) -> str | None:
    """Collect output until the command is done; ``"timeout"`` or ``"cancelled"`` if not.

    Done means: every pipe is at EOF and the leader has exited, or the leader exited
    ``DRAIN_GRACE`` seconds ago and something outside its group still holds a pipe.
    """
    exited_at: float | None = None
    while reader.open:
        now = time.monotonic()
        if scope is not None and scope.cancelled:
            return "cancelled"
        if now >= deadline:
            return "timeout"
        if exited_at is None and proc.poll() is not None:
            exited_at = now
        if exited_at is not None and now - exited_at >= DRAIN_GRACE:
            return None
        reader.pump(min(deadline - now, _TICK))
    # The pipes are closed; a leader that closed them itself may still be running.
    if proc.poll() is None and not wait_exit(proc, deadline):
        return "timeout"
    return None


def wait_exit(proc: Proc, deadline: float) -> bool:
    """Wait for *proc* to exit by *deadline*; ``False`` on timeout.

    ``Popen.wait(timeout=...)`` polls with sleeps, which costs about a millisecond per
    command, as much as a whole ``git status``. A pidfd wakes us the moment the process
    exits; without one (old kernels), fall back to polling.
    """
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        delay = 0.0005
        while proc.poll() is None:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(delay, left))
            delay = min(delay * 2, 0.05)
        return True
    left = max(deadline - time.monotonic(), 0.0)
    try:
        ready, _, _ = select.select([pidfd], [], [], None if left == math.inf else left)
    finally:
        os.close(pidfd)
    if not ready:
        return False
    proc.wait()
    return True
