"""The one process runner, as any command uses it (``gitoverit exec``) and not only git:
output kept up to a limit, every line handed on as it comes, no time limit, and the
environment every child gets."""

from __future__ import annotations

import math
import sys
import time

from gitoverit.git.command import git_env
from gitoverit.process import LOCATION_VARS, no_prompt_env, run, start


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
