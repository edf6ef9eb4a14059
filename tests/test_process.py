"""The one process runner, as any command uses it (``gitoverit exec``) and not only git:
output kept up to a limit, every line handed on as it comes, no time limit, and the
environment every child gets."""

from __future__ import annotations

import math
import os
import select
import signal
import sys
import threading
import time

import pytest

from gitoverit.git.command import git_env
from gitoverit.process import (
    LOCATION_VARS,
    Wakeup,
    _popen,
    forget,
    no_prompt_env,
    run,
    spawn,
    start,
)


def test_output_past_the_limit_is_read_and_dropped() -> None:
    # Three times the limit on each stream: the child must never block on a full pipe.
    code = "import sys; sys.stdout.write('o' * 300000); sys.stderr.write('e' * 300000)"
    running = start([sys.executable, "-c", code], timeout=30, max_output=100000)
    res = running.result()
    assert res.returncode == 0
    assert res.stdout == b"o" * 100000 and res.stderr == b"e" * 100000
    assert running.truncated
    small = start([sys.executable, "-c", "print('x')"], timeout=30, max_output=100000)
    assert small.result().stdout == b"x\n" and not small.truncated


def test_each_line_of_both_streams_is_handed_on_as_it_comes() -> None:
    seen: list[tuple[int, bytes, float]] = []
    code = (
        "import sys, time\n"
        "print('one', flush=True); time.sleep(0.5)\n"
        "sys.stderr.write('err\\n'); sys.stderr.flush(); time.sleep(0.5)\n"
        "sys.stdout.write('two\\nlast')"
    )
    t0 = time.monotonic()
    res = run(
        [sys.executable, "-c", code],
        timeout=30,
        on_output=lambda fd, line: seen.append((fd, line, time.monotonic() - t0)),
    )
    assert [(fd, line) for fd, line, _ in seen] == [
        (1, b"one"),
        (2, b"err"),
        (1, b"two"),
        (1, b"last"),
    ]
    # The first line arrived before the command ended, not at its end.
    assert seen[0][2] < 0.4 < seen[-1][2]
    assert res.stdout == b"one\ntwo\nlast"


def test_no_time_limit() -> None:
    res = run([sys.executable, "-c", "import time; time.sleep(0.2)"], timeout=math.inf)
    assert res.returncode == 0


def test_every_child_gets_the_no_prompt_environment_and_git_builds_on_it() -> None:
    base = {"PATH": "/bin", "GIT_DIR": "/elsewhere", "GIT_WORK_TREE": "/w", "HOME": "/h"}
    env = no_prompt_env(base)
    assert not LOCATION_VARS & set(env)
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert env["SSH_ASKPASS_REQUIRE"] == "never"
    assert env["GIT_SSH_COMMAND"] == "ssh -o BatchMode=yes -o ConnectTimeout=30"
    assert "LC_ALL" not in env  # a user's command keeps the user's locale
    assert no_prompt_env(base, ssh_command="ssh -i k")["GIT_SSH_COMMAND"] == (
        "ssh -o BatchMode=yes -i k"
    )
    git = git_env(read_only=True, base=base)
    assert {k: git[k] for k in env} == env
    assert git["LC_ALL"] == "C" and git["GIT_OPTIONAL_LOCKS"] == "0"


def test_a_wakeup_is_readable_from_a_poke_until_it_is_drained() -> None:
    wake = Wakeup()
    try:
        poll = select.poll()
        poll.register(wake.fileno(), select.POLLIN)
        assert poll.poll(0) == [], "nothing pending yet"
        for _ in range(3):  # pokes before the waiter wakes add up to one wake-up
            wake.poke()
        assert poll.poll(0) == [(wake.fileno(), select.POLLIN)]
        wake.drain()
        assert poll.poll(0) == [], "drained"
        wake.drain()  # nothing pending: returns at once
        wake.poke()
        assert poll.poll(0) == [(wake.fileno(), select.POLLIN)]
    finally:
        wake.close()
    assert wake.fileno() == -1
    wake.poke()  # a poke after close does nothing, and never writes to a reused number
    wake.close()  # closing twice closes nothing else


def test_a_wakeup_holds_one_descriptor_where_the_system_has_eventfd() -> None:
    if not hasattr(os, "eventfd") or not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs eventfd and /proc")
    before = len(os.listdir("/proc/self/fd"))
    wake = Wakeup()
    try:
        assert len(os.listdir("/proc/self/fd")) == before + 1
    finally:
        wake.close()
    assert len(os.listdir("/proc/self/fd")) == before


def test_starts_from_several_threads_take_turns() -> None:
    """While one process starts, another thread's start waits: at most one start at a
    time holds its extra descriptors (pipes on both ends, ``/dev/null``)."""
    finished = threading.Event()

    def other() -> None:
        run([sys.executable, "-c", "pass"], timeout=30)
        finished.set()

    with _popen.START_LOCK:
        thread = threading.Thread(target=other)
        thread.start()
        assert not finished.wait(0.5), "it started while another start was under way"
    thread.join(30)
    assert finished.is_set()


def test_the_status_engines_starts_take_turns_too() -> None:
    started: list[int] = []

    def other() -> None:
        env = {os.fsencode(k): os.fsencode(v) for k, v in os.environ.items()}
        pid, out_r, err_r = spawn(
            ["true"], env, "/bin/true" if os.path.exists("/bin/true") else "true"
        )
        started.append(pid)
        os.close(out_r)
        os.close(err_r)
        os.waitpid(pid, 0)
        forget(pid)

    with _popen.START_LOCK:
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(0.5)
        assert started == [], "it started while another start was under way"
    thread.join(30)
    assert len(started) == 1


def test_a_process_forked_during_a_start_can_start_processes() -> None:
    """The start lock is not inherited held by a process forked while another thread
    was starting one."""
    with _popen.START_LOCK:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            signal.alarm(10)  # a start that waits for ever ends it, and the test fails
            try:
                code = run(["true"], timeout=10, check=False).returncode
            finally:
                os._exit(0 if code == 0 else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
