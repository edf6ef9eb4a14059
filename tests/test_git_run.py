"""The git runner: process groups, timeouts, cancellation, environment and error types.

Every test runs real processes (git, sh, sleep) and, where a remote is needed, a real
repository or a server on 127.0.0.1.
"""

from __future__ import annotations

import _thread
import json
import os
import pickle
import shlex
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from _servers import http_401_server, silent_tcp_server
from conftest import RepoFactory
from gitoverit.errors import (
    CommandCancelledError,
    CommandError,
    CommandTimeoutError,
    GitAuthError,
    GitCorruptError,
    GitNetworkError,
    GitNotARepoError,
    GitPermissionError,
)
from gitoverit.git.command import NETWORK_TIMEOUT, classify, git, git_env, run
from gitoverit.model import Reason
from gitoverit.parallel._cancel import CancelScope, enter_scope
from gitoverit.process import DRAIN_GRACE, KILL_GRACE, executable

# ---------------------------------------------------------------------------- helpers


def _alive(pid: int) -> bool:
    """True while *pid* is a live process; a zombie waiting to be reaped counts as dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    # The state follows the command name, which is in parentheses and may contain spaces.
    state = stat.rpartition(")")[2].split()[0]
    return state not in {"Z", "X"}


def _wait_gone(pids: list[int], within: float = 2.0) -> list[int]:
    """Poll until every pid is dead; return the ones still alive after *within* seconds."""
    end = time.monotonic() + within
    while True:
        alive = [p for p in pids if _alive(p)]
        if not alive or time.monotonic() > end:
            return alive
        time.sleep(0.02)


def _procs_matching(marker: str) -> list[int]:
    """Live processes whose command line contains *marker*."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def _wait_for_file(path: Path, within: float = 5.0) -> str:
    """The content of *path* once it is written (non-empty and newline-terminated)."""
    end = time.monotonic() + within
    while time.monotonic() < end:
        if path.exists():
            text = path.read_text()
            if text.endswith("\n"):
                return text
        time.sleep(0.01)
    raise AssertionError(f"{path} was never written")


def _group_script(pidfile: Path, tail: str = "wait") -> list[str]:
    """``sh`` that starts a ``sleep 60`` grandchild, records ``<sh pid> <sleep pid>``, then
    runs *tail*."""
    return ["sh", "-c", f"sleep 60 & echo $$ $! > {shlex.quote(str(pidfile))}; {tail}"]


def _pids(pidfile: Path) -> list[int]:
    return [int(p) for p in _wait_for_file(pidfile).split()]


_CHILD_INFO = """
import json, os, sys
st = os.fstat(0)
print(json.dumps({
    "env": dict(os.environ),
    "pid": os.getpid(),
    "sid": os.getsid(0),
    "pgid": os.getpgid(0),
    "stdin_rdev": st.st_rdev,
}))
"""


def _child_info(**kwargs: object) -> dict[str, object]:
    """What a child started by :func:`run` sees: environment, session, stdin."""
    result = run([sys.executable, "-c", _CHILD_INFO], **kwargs)  # type: ignore[arg-type]
    info: dict[str, object] = json.loads(result.stdout)
    return info


def _child_env(**kwargs: object) -> dict[str, str]:
    env = _child_info(**kwargs)["env"]
    assert isinstance(env, dict)
    return env


# ------------------------------------------------------------------- timeouts and groups


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    start = time.monotonic()
    with pytest.raises(CommandTimeoutError) as info:
        run(_group_script(pidfile), timeout=0.5)
    elapsed = time.monotonic() - start
    err = info.value
    assert err.reason is Reason.TIMEOUT
    assert str(err).startswith("Command timed out after 0.5s: sh -c")
    assert err.timeout == 0.5
    assert err.returncode is None
    assert err.argv[:2] == ["sh", "-c"]
    assert 0.5 <= err.duration <= elapsed
    # The group is signalled, not waited out: well under the 60 s the grandchild wanted.
    assert elapsed < 0.5 + KILL_GRACE + 1.5
    assert _wait_gone(_pids(pidfile)) == []


def test_timeout_escalates_to_sigkill_when_the_group_ignores_sigterm(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    script = f"trap '' TERM; sleep 60 & echo $$ $! > {shlex.quote(str(pidfile))}; wait"
    start = time.monotonic()
    with pytest.raises(CommandTimeoutError):
        run(["sh", "-c", script], timeout=0.3)
    elapsed = time.monotonic() - start
    # SIGTERM is ignored by sh (and by the sleep, which inherits the ignore): the runner
    # must wait out KILL_GRACE and then SIGKILL the group.
    assert elapsed >= 0.3 + KILL_GRACE
    assert elapsed < 0.3 + KILL_GRACE + 1.5
    assert _wait_gone(_pids(pidfile)) == []


def test_timeout_returns_even_when_an_escaped_process_holds_the_pipes(tmp_path: Path) -> None:
    # ``setsid`` moves the sleep into its own session: the group kill cannot reach it, and
    # it keeps stdout/stderr open. The runner must still return soon after the timeout.
    pidfile = tmp_path / "pids"
    script = f"setsid sleep 60 & echo $! > {shlex.quote(str(pidfile))}; sleep 60"
    start = time.monotonic()
    try:
        with pytest.raises(CommandTimeoutError):
            run(["sh", "-c", script], timeout=0.5)
        elapsed = time.monotonic() - start
        assert elapsed < 0.5 + KILL_GRACE + DRAIN_GRACE + 1.5
    finally:
        for pid in _pids(pidfile):
            os.kill(pid, 9)


def test_exit_is_not_held_up_by_an_escaped_process_holding_the_pipes(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    script = f"setsid sleep 60 & echo $! > {shlex.quote(str(pidfile))}; echo done"
    start = time.monotonic()
    try:
        result = run(["sh", "-c", script], timeout=20)
        elapsed = time.monotonic() - start
        assert result.returncode == 0
        assert result.stdout == b"done\n"
        assert elapsed < DRAIN_GRACE + 1.5
    finally:
        for pid in _pids(pidfile):
            os.kill(pid, 9)


def test_keyboard_interrupt_kills_the_group_and_propagates(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            run(_group_script(pidfile, tail="exec sleep 30"), timeout=30)
    finally:
        timer.cancel()
    assert time.monotonic() - start < 0.3 + KILL_GRACE + 1.5
    leader, grandchild = _pids(pidfile)
    assert _wait_gone([leader, grandchild]) == []


def test_large_output_is_read_without_deadlock() -> None:
    result = run(["sh", "-c", "head -c 3000000 /dev/zero; head -c 300000 /dev/zero >&2"])
    assert len(result.stdout) == 3_000_000
    assert len(result.stderr) == 300_000


# ------------------------------------------------------------------------ cancellation


@pytest.mark.parametrize(
    ("reason", "expected", "code"),
    [
        ("interrupted", CommandCancelledError, Reason.INTERRUPTED),
        ("timeout", CommandTimeoutError, Reason.TIMEOUT),
    ],
)
def test_cancelling_the_scope_kills_the_group(
    tmp_path: Path, reason: str, expected: type[CommandError], code: Reason
) -> None:
    pidfile = tmp_path / "pids"
    scope = CancelScope()
    caught: list[BaseException] = []

    def task() -> None:
        with enter_scope(scope):
            try:
                run(_group_script(pidfile), timeout=30)
            except BaseException as exc:
                caught.append(exc)

    worker = threading.Thread(target=task)
    worker.start()
    pids = _pids(pidfile)
    before = time.monotonic()
    scope.cancel(reason)
    # The callback only signals; it never blocks the cancelling thread.
    assert time.monotonic() - before < 0.2
    worker.join(5)
    assert not worker.is_alive()
    assert len(caught) == 1
    err = caught[0]
    assert type(err) is expected
    assert isinstance(err, CommandError)
    assert err.reason is code
    assert err.argv[:2] == ["sh", "-c"]
    assert err.duration > 0
    assert _wait_gone(pids) == []


def test_cancelling_many_scopes_at_once_is_quick(tmp_path: Path) -> None:
    scopes = [CancelScope() for _ in range(8)]
    pidfiles = [tmp_path / f"pids{i}" for i in range(8)]
    caught: list[BaseException] = []

    def task(scope: CancelScope, pidfile: Path) -> None:
        with enter_scope(scope):
            try:
                run(_group_script(pidfile), timeout=30)
            except BaseException as exc:
                caught.append(exc)

    workers = [
        threading.Thread(target=task, args=(scope, pidfile))
        for scope, pidfile in zip(scopes, pidfiles, strict=True)
    ]
    for w in workers:
        w.start()
    pids = [pid for pidfile in pidfiles for pid in _pids(pidfile)]
    before = time.monotonic()
    for scope in scopes:
        scope.cancel("interrupted")
    cancelled_in = time.monotonic() - before
    for w in workers:
        w.join(5)
    finished_in = time.monotonic() - before
    assert cancelled_in < 0.2
    assert finished_in < KILL_GRACE + 1.5
    assert len(caught) == 8
    assert all(type(e) is CommandCancelledError for e in caught)
    assert _wait_gone(pids) == []


def test_a_cancelled_scope_starts_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    scope = CancelScope()
    scope.cancel()
    with enter_scope(scope), pytest.raises(CommandCancelledError) as info:
        run(["touch", str(marker)])
    assert info.value.reason is Reason.INTERRUPTED
    assert not marker.exists()


# ------------------------------------------------------------------------- environment


def test_child_has_devnull_stdin_and_its_own_session() -> None:
    start = time.monotonic()
    result = run(["sh", "-c", "cat"], timeout=10)
    assert result.stdout == b""
    assert time.monotonic() - start < 5
    info = _child_info()
    assert info["stdin_rdev"] == os.stat("/dev/null").st_rdev
    assert info["sid"] == info["pid"] == info["pgid"]
    assert info["sid"] != os.getsid(0)


def test_child_env_is_hardened(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "1")
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    monkeypatch.setenv("GIT_OPTIONAL_LOCKS", "0")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
        monkeypatch.setenv(var, "/somewhere/else")
    read_only = _child_env(read_only=True)
    writing = _child_env(read_only=False)
    for env in (read_only, writing):
        assert env["GIT_TERMINAL_PROMPT"] == "0"
        assert env["LC_ALL"] == "C"
        assert env["GCM_INTERACTIVE"] == "never"
        assert env["GIT_ASKPASS"] == ""
        assert "BatchMode=yes" in env["GIT_SSH_COMMAND"]
        for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
            assert var not in env
    assert read_only["GIT_OPTIONAL_LOCKS"] == "0"
    assert "GIT_OPTIONAL_LOCKS" not in writing
    assert os.environ["GIT_DIR"] == "/somewhere/else"


def test_inherited_git_dir_does_not_redirect_git(
    repos: RepoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = repos.repo("mine")
    other = repos.repo("other")
    monkeypatch.setenv("GIT_DIR", str(other.git_dir))
    monkeypatch.setenv("GIT_WORK_TREE", str(other.path))
    top = git("rev-parse", "--show-toplevel", cwd=str(mine.path)).stdout.decode().strip()
    assert Path(top) == mine.path


def test_git_env_never_mutates_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_DIR", "/x")
    monkeypatch.setenv("GIT_SSH_COMMAND", "ssh -i key")
    before = dict(os.environ)
    env = git_env(read_only=True, extra={"GIT_TRACE": "0"})
    assert dict(os.environ) == before
    assert "GIT_DIR" not in env
    assert env["GIT_TRACE"] == "0"
    assert env is not os.environ


def test_git_env_base_and_extra() -> None:
    env = git_env(read_only=False, base={"PATH": "/bin", "GIT_DIR": "/x"}, extra={"LC_ALL": "X"})
    assert env["PATH"] == "/bin"
    assert "GIT_DIR" not in env
    # extra is applied last, so callers can deliberately override a default.
    assert env["LC_ALL"] == "X"


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ({}, "ssh -o BatchMode=yes -o ConnectTimeout=30"),
        ({"GIT_SSH_COMMAND": "ssh -i ~/.ssh/work"}, "ssh -o BatchMode=yes -i ~/.ssh/work"),
        # ssh keeps the first value of an option, so ours must come before the user's.
        ({"GIT_SSH_COMMAND": "ssh -o BatchMode=no"}, "ssh -o BatchMode=yes -o BatchMode=no"),
        ({"GIT_SSH_COMMAND": "/usr/bin/ssh"}, "/usr/bin/ssh -o BatchMode=yes"),
        ({"GIT_SSH_COMMAND": "plink -ssh"}, "plink -batch -ssh"),
        ({"GIT_SSH": "/opt/my ssh"}, "'/opt/my ssh' -o BatchMode=yes"),
        ({"GIT_SSH": "C:/PuTTY/plink.exe"}, "C:/PuTTY/plink.exe -batch"),
        ({"GIT_SSH_COMMAND": "'/opt/my ssh' -p 22"}, "'/opt/my ssh' -o BatchMode=yes -p 22"),
        ({"GIT_SSH_COMMAND": "A=1 B='x y' ssh -v"}, "A=1 B='x y' ssh -o BatchMode=yes -v"),
        ({"GIT_SSH_COMMAND": "my\\ ssh -v"}, "my\\ ssh -o BatchMode=yes -v"),
    ],
)
def test_ssh_runs_in_batch_mode(base: dict[str, str], expected: str) -> None:
    assert git_env(read_only=True, base=base)["GIT_SSH_COMMAND"] == expected


def _fake_ssh(tmp_path: Path, stderr: str) -> tuple[Path, Path]:
    """An executable named ``ssh`` that records its arguments and fails with *stderr*."""
    bindir = tmp_path / "fake-bin"
    bindir.mkdir()
    log = tmp_path / "ssh-args"
    ssh = bindir / "ssh"
    ssh.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > {shlex.quote(str(log))}\n'
        f"printf '%s\\n' {shlex.quote(stderr)} >&2\n"
        "exit 255\n"
    )
    ssh.chmod(0o755)
    return ssh, log


@pytest.mark.parametrize(
    ("ssh_stderr", "expected"),
    [
        ("git@127.0.0.1: Permission denied (publickey).", GitAuthError),
        ("Host key verification failed.", GitAuthError),
        # No server listening is a network failure, not an authentication problem.
        ("ssh: connect to host 127.0.0.1 port 1: Connection refused", GitNetworkError),
    ],
)
def test_ssh_failures_are_classified_and_batch_mode_reaches_ssh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ssh_stderr: str, expected: type[CommandError]
) -> None:
    ssh, log = _fake_ssh(tmp_path, ssh_stderr)
    monkeypatch.setenv("GIT_SSH_COMMAND", f"{ssh} -o BatchMode=no")
    start = time.monotonic()
    with pytest.raises(CommandError) as info:
        git("ls-remote", "ssh://git@127.0.0.1:1/x.git", timeout=NETWORK_TIMEOUT)
    assert time.monotonic() - start < 3
    assert type(info.value) is expected
    assert ssh_stderr in info.value.stderr_text
    args = log.read_text().splitlines()
    # Our BatchMode comes first, so it wins over the user's own option.
    assert args[:4] == ["-o", "BatchMode=yes", "-o", "BatchMode=no"]
    assert "git@127.0.0.1" in args
    assert args[args.index("-p") + 1] == "1"


# ---------------------------------------------------------------------------------- auth


@pytest.mark.parametrize(
    ("userinfo", "expected_text"),
    [
        ("", "could not read Username"),
        ("someone@", "could not read Password"),
        ("someone:wrong@", "Authentication failed"),
    ],
)
def test_http_401_fails_fast_as_auth(
    monkeypatch: pytest.MonkeyPatch, userinfo: str, expected_text: str
) -> None:
    # Even a parent that allows terminal prompts must not get one.
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "1")
    with http_401_server() as server:
        url = f"http://{userinfo}{server.host}:{server.port}/repo.git"
        start = time.monotonic()
        with pytest.raises(GitAuthError) as info:
            git("ls-remote", url, timeout=NETWORK_TIMEOUT)
        elapsed = time.monotonic() - start
        assert server.requests, "git never reached the server"
    err = info.value
    assert elapsed < 3
    assert err.reason is Reason.AUTH
    assert not isinstance(err, CommandTimeoutError)
    assert err.returncode == 128
    assert expected_text in err.stderr_text
    assert err.argv[-2:] == ["ls-remote", url]
    assert 0 < err.duration < 3


def test_http_401_fetch_from_a_repo_is_auth(repos: RepoFactory) -> None:
    clone = repos.repo("clone")
    with http_401_server() as server:
        clone.git("remote", "add", "origin", f"{server.url}/private.git")
        with pytest.raises(GitAuthError) as info:
            git("fetch", "origin", cwd=str(clone.path), read_only=False, timeout=NETWORK_TIMEOUT)
    assert info.value.duration < 3
    assert "terminal prompts disabled" in info.value.stderr_text


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        ("git@github.com: Permission denied (publickey).", GitAuthError),
        ("git@host: Permission denied (publickey,gssapi-keyex,password).", GitAuthError),
        ("user@host: Permission denied (gssapi-with-mic,keyboard-interactive).", GitAuthError),
        ("Host key verification failed.", GitAuthError),
        ("No ED25519 host key is known for github.com and you have requested strict checking.",
         GitAuthError),
        ("@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@", GitAuthError),
        ("Received disconnect from 1.2.3.4: Too many authentication failures", GitAuthError),
        ("fatal: could not read Username for 'https://github.com': terminal prompts disabled",
         GitAuthError),
        ("remote: HTTP Basic: Access denied\nfatal: Authentication failed for 'https://x/'",
         GitAuthError),
        ("remote: Invalid username or password.\nfatal: Authentication failed", GitAuthError),
        ("fatal: unable to access 'https://x/y.git/': The requested URL returned error: 403",
         GitAuthError),
        ("ERROR: Permission to owner/repo.git denied to someone.", GitAuthError),
        ("fatal: not a git repository (or any of the parent directories): .git",
         GitNotARepoError),
        ("error: bad signature 0x00000000\nfatal: index file corrupt", GitCorruptError),
        ("fatal: .git/index: index file smaller than expected", GitCorruptError),
        ("error: object file .git/objects/ab/cd is empty\nfatal: loose object abcd is corrupt",
         GitCorruptError),
        ("fatal: bad config line 3 in file .git/config", GitCorruptError),
        ("fatal: detected dubious ownership in repository at '/srv/repo'", GitPermissionError),
        ("fatal: could not create work tree dir 'x': Permission denied", GitPermissionError),
        ("error: cannot open .git/FETCH_HEAD: Permission denied", GitPermissionError),
        # An unreachable remote is a network failure: not auth, not a timeout; a missing
        # repository is a plain git error.
        ("ssh: connect to host 127.0.0.1 port 1: Connection refused\n"
         "fatal: Could not read from remote repository.\n\n"
         "Please make sure you have the correct access rights\nand the repository exists.",
         GitNetworkError),
        ("fatal: '/gone/x.git' does not appear to be a git repository\n"
         "fatal: Could not read from remote repository.", CommandError),
        ("fatal: unable to access 'https://x/': The requested URL returned error: 404",
         CommandError),
        ("fatal: unable to access 'https://x/': Could not resolve host: x", GitNetworkError),
        ("fatal: Needed a single revision", CommandError),
        ("", CommandError),
    ],
)  # fmt: skip
def test_classify(stderr: str, expected: type[CommandError]) -> None:
    assert classify(stderr.encode()) is expected


# ------------------------------------------------------------------------- other errors


def test_not_a_repo(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(GitNotARepoError) as info:
        git("status", "--porcelain=v2", cwd=str(empty))
    err = info.value
    assert err.reason is Reason.NOT_A_REPO
    assert err.returncode == 128
    assert err.argv[0] == "git" and err.argv[-2:] == ["status", "--porcelain=v2"]
    assert err.command == "git status --porcelain=v2"
    assert err.stdout == b""
    assert b"not a git repository" in err.stderr
    assert err.duration > 0
    assert "fatal: not a git repository" in str(err)


def test_corrupt_index(repos: RepoFactory) -> None:
    repo = repos.repo("broken", commits=2)
    (repo.git_dir / "index").write_bytes(b"this is not an index file\n" * 4)
    with pytest.raises(GitCorruptError) as info:
        git("status", "--porcelain=v2", cwd=str(repo.path))
    err = info.value
    assert err.reason is Reason.CORRUPT
    assert err.returncode == 128
    assert "index file corrupt" in err.stderr_text
    assert "index file corrupt" in str(err)


def test_missing_cwd(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    with pytest.raises(GitNotARepoError) as info:
        git("status", cwd=str(gone))
    assert info.value.returncode is None
    assert str(gone) in str(info.value)
    assert info.value.argv[-1] == "status"


def test_cwd_that_is_a_file(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(GitNotARepoError):
        git("status", cwd=str(afile))


def test_missing_program(tmp_path: Path) -> None:
    with pytest.raises(CommandError) as info:
        run([str(tmp_path / "no-such-program")], cwd=str(tmp_path))
    assert type(info.value) is CommandError
    assert "cannot run" in str(info.value)


def test_check_false_returns_the_failed_result(tmp_path: Path) -> None:
    result = git("rev-parse", "--verify", "HEAD", cwd=str(tmp_path), check=False)
    assert result.returncode == 128
    assert b"not a git repository" in result.stderr
    assert result.argv[-3:] == ("rev-parse", "--verify", "HEAD")
    assert result.duration > 0


def test_generic_failure_keeps_its_output(repos: RepoFactory) -> None:
    repo = repos.repo("plain")
    with pytest.raises(CommandError) as info:
        git("rev-parse", "--verify", "no-such-branch", cwd=str(repo.path))
    err = info.value
    assert type(err) is CommandError
    assert err.reason is Reason.GIT_ERROR
    assert err.returncode == 128
    assert "Needed a single revision" in str(err)


def test_errors_survive_pickling(tmp_path: Path) -> None:
    with pytest.raises(GitNotARepoError) as info:
        git("status", cwd=str(tmp_path))
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is GitNotARepoError
    assert (copy.argv, copy.returncode, copy.stderr, str(copy)) == (
        info.value.argv,
        128,
        info.value.stderr,
        str(info.value),
    )
    timeout = CommandTimeoutError(["git", "fetch"], 2.5, b"", b"partial", 2.6)
    copy_t = pickle.loads(pickle.dumps(timeout))
    assert type(copy_t) is CommandTimeoutError
    assert str(copy_t) == "Command timed out after 2.5s: git fetch"
    assert copy_t.timeout == 2.5 and copy_t.reason is Reason.TIMEOUT


# ------------------------------------------------------------------------------ remotes


def _slow_uploadpack(tmp_path: Path, seconds: str) -> tuple[Path, str]:
    """A wrapper that sleeps before running git-upload-pack; returns (script, marker).

    *seconds* is a decimal prefix ("30." or "0.3"); unique digits appended to it make the
    sleep's command line a marker by which leftover processes can be found.
    """
    marker = f"{seconds}{os.getpid()}{time.monotonic_ns() % 10**6:06d}"
    script = tmp_path / f"slow-upload-pack-{marker}"
    script.write_text(f'#!/bin/sh\nsleep {marker}\nexec git-upload-pack "$@"\n')
    script.chmod(0o755)
    return script, marker


def test_slow_remote_times_out_and_leaves_nothing_behind(
    repos: RepoFactory, tmp_path: Path
) -> None:
    _remote, clone = repos.remote_and_clone("slow")
    script, marker = _slow_uploadpack(tmp_path, "30.")
    clone.git("config", "remote.origin.uploadpack", str(script))
    start = time.monotonic()
    with pytest.raises(CommandTimeoutError) as info:
        git("fetch", "origin", cwd=str(clone.path), read_only=False, timeout=1)
    elapsed = time.monotonic() - start
    assert elapsed < 1 + KILL_GRACE + 1.5
    assert info.value.reason is Reason.TIMEOUT
    assert str(info.value) == "Command timed out after 1s: git fetch origin"
    # Both the wrapper (named by its path) and its sleep (named by the marker) are gone.
    end = time.monotonic() + 2
    while (_procs_matching(marker) or _procs_matching(script.name)) and time.monotonic() < end:
        time.sleep(0.02)
    assert _procs_matching(marker) == []
    assert _procs_matching(script.name) == []
    assert not list(clone.git_dir.glob("**/*.lock"))


def test_slow_remote_within_the_timeout_succeeds(repos: RepoFactory, tmp_path: Path) -> None:
    remote, clone = repos.remote_and_clone("slowish")
    repos.push_from_other(remote, 1)
    script, _ = _slow_uploadpack(tmp_path, "0.3")
    clone.git("config", "remote.origin.uploadpack", str(script))
    result = git("fetch", "origin", cwd=str(clone.path), read_only=False, timeout=10)
    assert result.returncode == 0
    assert result.duration >= 0.3
    assert clone.git("rev-parse", "origin/main") == remote.git("rev-parse", "main")


def test_remote_that_never_answers_times_out() -> None:
    with silent_tcp_server() as server:
        start = time.monotonic()
        with pytest.raises(CommandTimeoutError) as info:
            git("ls-remote", f"{server.url}/repo.git", timeout=1)
        elapsed = time.monotonic() - start
        assert server.connections >= 1
    assert info.value.reason is Reason.TIMEOUT
    assert elapsed < 1 + KILL_GRACE + 1.5


def test_remote_that_no_longer_exists_is_a_plain_git_error(repos: RepoFactory) -> None:
    remote, clone = repos.remote_and_clone("vanished")
    shutil.rmtree(remote.path)
    start = time.monotonic()
    with pytest.raises(CommandError) as info:
        git("fetch", "origin", cwd=str(clone.path), read_only=False, timeout=NETWORK_TIMEOUT)
    assert time.monotonic() - start < 3
    err = info.value
    assert type(err) is CommandError
    assert err.reason is Reason.GIT_ERROR
    assert err.returncode == 128
    assert "does not appear to be a git repository" in err.stderr_text


# ----------------------------------------------------------------------------- progress


def test_progress_lines_arrive_split_on_carriage_returns() -> None:
    lines: list[str] = []
    result = run(["sh", "-c", r"printf 'one\rtwo\n\nthree' >&2"], on_progress=lines.append)
    assert lines == ["one", "two", "three"]
    assert result.stderr == b"one\rtwo\n\nthree"


def test_clone_progress_is_reported_and_stderr_still_captured(
    repos: RepoFactory, tmp_path: Path
) -> None:
    remote, _clone = repos.remote_and_clone("progress", commits=5)
    lines: list[str] = []
    dest = tmp_path / "dest"
    result = git(
        "clone",
        "--progress",
        remote.path.as_uri(),
        str(dest),
        read_only=False,
        timeout=NETWORK_TIMEOUT,
        on_progress=lines.append,
    )
    assert any("objects" in line for line in lines), lines
    assert all("\r" not in line and "\n" not in line for line in lines)
    text = result.stderr.decode()
    assert all(line in text for line in lines)
    assert (dest / "file.txt").exists()


def test_progress_callback_error_kills_the_group_and_propagates(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"

    def explode(_line: str) -> None:
        raise RuntimeError("display failed")

    on_progress: Callable[[str], None] = explode
    with pytest.raises(RuntimeError, match="display failed"):
        run(_group_script(pidfile, tail="echo hello >&2; wait"), on_progress=on_progress)
    assert _wait_gone(_pids(pidfile)) == []


def test_executable_is_looked_up_in_path_once(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "tool").write_text("not executable\n")
    tool = second / "tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    search = os.pathsep.join([str(first), str(second)])
    assert executable("tool", search) == str(tool)
    tool.unlink()
    assert executable("tool", search) == str(tool), "remembered"
    assert executable("no-such-tool", search) == "no-such-tool"
    assert executable("./rel/tool", search) == "./rel/tool"
