"""``gitoverit exec``: a command in every repository, against real repositories.

Most tests run the command line in-process and read its output; the Ctrl-C test runs it
as a real subprocess in its own session and sends it a real SIGINT.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import RepoFactory, sh
from gitoverit.cli import main
from gitoverit.model import ExecResult, Reason, RepoError, RepoRef
from gitoverit.output.exec_results import ExecWriter
from test_actions import procs_matching, unique_marker, wait_no_procs


def run(capfdbinary: pytest.CaptureFixture[bytes], *args: str) -> tuple[int, bytes, bytes]:
    """``gitoverit exec ARGS`` in-process: (exit code, stdout bytes, stderr bytes)."""
    code = main(["exec", *args])
    out, err = capfdbinary.readouterr()
    return code, out, err


def records(out: bytes) -> dict[str, dict[str, Any]]:
    """JSON records keyed by the repository's folder name."""
    return {os.path.basename(r["path"]): r for r in json.loads(out)}


def make(repos: RepoFactory, *names: str) -> None:
    for name in names:
        repos.repo(name)


@pytest.fixture
def inside(repos: RepoFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Work from the repositories' folder, so that their shown paths are their names."""
    monkeypatch.chdir(repos.root)


# ----------------------------------------------------------------------- environment


def test_every_run_gets_its_repositorys_variables(
    repos: RepoFactory, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    _remote, clone = repos.remote_and_clone("tracked")
    clone.git("remote", "set-url", "origin", "https://alice:s3cret@example.com/me/tracked.git")
    detached = repos.repo("detached", commits=2)
    detached.git("checkout", "-q", "HEAD~1")
    code, out, _ = run(capfdbinary, str(repos.root), "-o", "json", "--", "env")
    assert code == 0
    envs = {
        name: dict(line.split("=", 1) for line in rec["stdout"].splitlines() if "=" in line)
        for name, rec in records(out).items()
    }
    t, d = envs["tracked"], envs["detached"]
    assert t["GITO_PATH"] == str(clone.path)
    assert t["GITO_DISPLAY_PATH"] == records(out)["tracked"]["display_path"]
    assert t["GITO_NAME"] == "tracked"
    assert t["GITO_BRANCH"] == "main"
    assert t["GITO_UPSTREAM"] == "origin/main"
    # Credentials removed, not masked: the URL stays usable.
    assert t["GITO_URL"] == "https://example.com/me/tracked.git"
    assert d["GITO_BRANCH"] == "" and d["GITO_UPSTREAM"] == "" and d["GITO_URL"] == ""
    # Repositories are numbered in sorted order.
    assert (d["GITO_I"], t["GITO_I"]) == ("1", "2")
    assert d["GITO_COUNT"] == t["GITO_COUNT"] == "2"


def test_runs_in_the_work_tree_with_no_stdin_and_no_prompts(
    repos: RepoFactory,
    capfdbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    make(repos, "a")
    elsewhere = repos.repo("elsewhere", aux=True)
    # An inherited GIT_DIR would point every git at another repository.
    monkeypatch.setenv("GIT_DIR", str(elsewhere.path / ".git"))
    monkeypatch.delenv("GIT_TERMINAL_PROMPT", raising=False)
    script = "pwd -P; readlink /proc/self/fd/0; git rev-parse --show-toplevel; "
    script += 'echo "prompt=$GIT_TERMINAL_PROMPT ssh=$GIT_SSH_COMMAND askpass=[$GIT_ASKPASS]"'
    code, out, _ = run(capfdbinary, str(repos.root), "-o", "json", "--shell", "--", script)
    assert code == 0
    lines = records(out)["a"]["stdout"].splitlines()
    real = os.path.realpath(repos.root / "a")
    assert lines[0] == real
    assert lines[1] == "/dev/null"
    assert os.path.realpath(lines[2]) == real
    assert lines[3] == "prompt=0 ssh=ssh -o BatchMode=yes -o ConnectTimeout=30 askpass=[]"


def test_a_repositorys_own_ssh_command_is_kept_in_batch_mode(
    repos: RepoFactory, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    make(repos, "plain")
    repos.repo("keyed").git("config", "core.sshCommand", "ssh -i ~/.ssh/work")
    code, out, _ = run(
        capfdbinary, str(repos.root), "-o", "json", "--shell", "--", "echo $GIT_SSH_COMMAND"
    )
    assert code == 0
    got = {name: rec["stdout"].strip() for name, rec in records(out).items()}
    assert got["keyed"] == "ssh -o BatchMode=yes -i ~/.ssh/work"
    assert got["plain"] == "ssh -o BatchMode=yes -o ConnectTimeout=30"


# ------------------------------------------------------------------ exit codes, usage


def test_exit_codes_and_records(
    repos: RepoFactory, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    make(repos, "a", "b")
    assert run(capfdbinary, str(repos.root), "--", "true")[0] == 0
    code, out, err = run(
        capfdbinary,
        str(repos.root),
        "-o",
        "json",
        "--shell",
        "--",
        '[ "$GITO_NAME" = a ] || exit 3',
    )
    assert code == 1
    recs = records(out)
    assert recs["a"]["exit_code"] == 0 and recs["a"]["error"] is None
    assert recs["b"]["exit_code"] == 3
    assert recs["b"]["error"] == {"reason": "exit", "message": "exited with 3"}
    assert set(recs["b"]) == {
        "type", "path", "display_path", "exit_code", "stdout", "stderr", "duration_ms",
        "error", "truncated", "format_version",
    }  # fmt: skip
    assert b"2 repos, 1 ok, 1 failed" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), b"missing '--'"),
        (("--",), b"no command after '--'"),
        (("--", ""), b"no command after '--'"),
        (("--", "no-such-program-x"), b"command not found: no-such-program-x"),
        (("--stream", "-o", "json", "--", "true"), b"--stream"),
    ],
)
def test_usage_errors_exit_2_before_any_run(
    repos: RepoFactory,
    capfdbinary: pytest.CaptureFixture[bytes],
    tmp_path: Path,
    args: tuple[str, ...],
    message: bytes,
) -> None:
    make(repos, "a")
    code, out, err = run(capfdbinary, str(repos.root), *args)
    assert code == 2
    assert message in err
    assert out == b""


# ----------------------------------------------------------------------- concurrency


def test_jobs_bound_the_runs_and_are_all_used(
    repos: RepoFactory, capfdbinary: pytest.CaptureFixture[bytes], tmp_path: Path
) -> None:
    make(repos, *(f"r{i}" for i in range(7)))
    log = tmp_path / "log"
    script = f'echo "start $(date +%s.%N)" >> {log}; sleep 0.4; echo "end $(date +%s.%N)" >> {log}'
    code, _, _ = run(capfdbinary, str(repos.root), "-j", "3", "--shell", "--", script)
    assert code == 0
    points = sorted(
        (float(stamp), 1 if kind == "start" else -1)
        for kind, stamp in (ln.split() for ln in log.read_text().splitlines())
    )
    peak = cur = 0
    for _, step in points:
        cur += step
        peak = max(peak, cur)
    assert peak == 3


def test_a_timeout_kills_the_whole_process_group(
    repos: RepoFactory, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    make(repos, "slow")
    marker = unique_marker("40.")
    # A grandchild in the background, and a shell that ignores SIGTERM: only the group's
    # SIGKILL ends them.
    script = f"trap '' TERM; sleep {marker} & echo started; sleep {marker}"
    t0 = time.monotonic()
    code, out, _ = run(
        capfdbinary, str(repos.root), "-o", "json", "--timeout", "1", "--shell", "--", script
    )
    assert time.monotonic() - t0 < 6
    assert code == 1
    rec = records(out)["slow"]
    assert rec["exit_code"] is None
    assert rec["error"]["reason"] == "timeout"
    assert rec["stdout"] == "started\n"
    assert wait_no_procs(marker) == []


def test_exit_on_error_starts_nothing_new_and_lets_running_ones_finish(
    repos: RepoFactory, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    make(repos, "a-fails", "b-slow", "c", "d")
    script = "case $GITO_NAME in a-fails) exit 5;; b-slow) sleep 0.5; echo done;; esac"
    code, out, err = run(
        capfdbinary, str(repos.root), "-o", "json", "-x", "-j", "2", "--shell", "--", script
    )
    assert code == 1
    recs = records(out)
    assert recs["a-fails"]["exit_code"] == 5
    assert recs["b-slow"]["exit_code"] == 0 and recs["b-slow"]["stdout"] == "done\n"
    for name in ("c", "d"):
        assert recs[name]["exit_code"] is None
        assert recs[name]["error"]["reason"] == "skipped"
    assert b"2 skipped" in err


def _start_hanging(
    repos: RepoFactory, marker: str, *, ignore_term: bool
) -> subprocess.Popen[bytes]:
    """``gitoverit exec`` over a, b and c, each running a shell that waits on a background
    sleep (ignoring SIGTERM with *ignore_term*); returns once every one is running."""
    make(repos, "a", "b", "c")
    trap = "trap '' TERM; " if ignore_term else ""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitoverit", "exec", str(repos.root), "-o", "json", "-j", "3",
         "--shell", "--", f"{trap}echo begun; sleep {marker} & sleep {marker}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    end = time.monotonic() + 20
    while len(procs_matching(marker)) < 9 and time.monotonic() < end:
        time.sleep(0.05)
    assert len(procs_matching(marker)) >= 6
    return proc


def test_ctrl_c_kills_every_run_and_leaves_no_orphan(repos: RepoFactory) -> None:
    marker = unique_marker("50.")
    proc = _start_hanging(repos, marker, ignore_term=False)
    try:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert wait_no_procs(marker) == []
    recs = records(out)
    assert set(recs) == {"a", "b", "c"}
    for rec in recs.values():
        assert rec["exit_code"] is None
        assert rec["error"]["reason"] == "interrupted"
        assert rec["stdout"] == "begun\n"


def test_a_second_ctrl_c_exits_at_once_and_kills_everything(repos: RepoFactory) -> None:
    marker = unique_marker("60.")
    proc = _start_hanging(repos, marker, ignore_term=True)
    try:
        proc.send_signal(signal.SIGINT)
        time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert wait_no_procs(marker) == []


# --------------------------------------------------------------------------- output


def test_grouped_output_is_whole_per_repository(
    repos: RepoFactory, capfdbinary: pytest.CaptureFixture[bytes], inside: None
) -> None:
    names = ["a", "b", "c", "d"]
    make(repos, *names)
    script = (
        'for i in $(seq 40); do echo "$GITO_NAME $i"; sleep 0.002; done; echo "$GITO_NAME err" >&2'
    )
    code, out, err = run(capfdbinary, str(repos.root), "-j", "4", "--shell", "--", script)
    assert code == 0
    blocks = out.decode().split("==> ")[1:]
    assert sorted(b.split(" ", 1)[0] for b in blocks) == names
    for block in blocks:
        head, *lines = block.rstrip("\n").split("\n")
        name = head.split(" ")[0]
        assert head == f"{name} <== exit 0"
        assert lines == [f"{name} {i}" for i in range(1, 41)]
    assert sorted(err.decode().splitlines()[:4]) == [f"{n} err" for n in names]


def test_ordered_prints_in_sorted_order(
    repos: RepoFactory, capfdbinary: pytest.CaptureFixture[bytes], inside: None
) -> None:
    make(repos, "a", "b", "c")
    script = 'case $GITO_NAME in a) sleep 0.6;; b) sleep 0.3;; esac; echo "$GITO_NAME"'
    _, out, _ = run(capfdbinary, str(repos.root), "-j", "3", "--shell", "--", script)
    assert [ln for ln in out.decode().splitlines() if not ln.startswith("==>")] == ["c", "b", "a"]
    _, out, _ = run(capfdbinary, str(repos.root), "-j", "3", "--ordered", "--shell", "--", script)
    assert [ln for ln in out.decode().splitlines() if not ln.startswith("==>")] == ["a", "b", "c"]


def test_stream_prefixes_each_line_with_the_padded_path(
    repos: RepoFactory, capfdbinary: pytest.CaptureFixture[bytes], inside: None
) -> None:
    make(repos, "a", "longer-name")
    script = 'echo "one $GITO_NAME"; echo "two $GITO_NAME"; echo "oops" >&2; exit $((GITO_I - 1))'
    code, out, err = run(capfdbinary, str(repos.root), "--stream", "--shell", "--", script)
    assert code == 1
    lines = out.decode().splitlines()
    assert sorted(lines) == sorted([
        "a           | one a", "a           | two a",
        "longer-name | one longer-name", "longer-name | two longer-name",
    ])  # fmt: skip
    assert lines.index("a           | one a") < lines.index("a           | two a")
    assert "longer-name | oops" in err.decode()
    assert "longer-name | [exit 1]" in err.decode()


def test_shell_runs_a_string_with_pipes_and_positional_words(
    repos: RepoFactory, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    make(repos, "a")
    code, out, _ = run(
        capfdbinary,
        str(repos.root),
        "-o",
        "json",
        "--shell",
        "--",
        'echo "$1" | tr a-z A-Z',
        "word",
    )
    assert code == 0
    assert records(out)["a"]["stdout"] == "WORD\n"
    # Without --shell the words are an argv: no shell sees the pipe.
    code, out, _ = run(capfdbinary, str(repos.root), "-o", "json", "--", "echo", "x", "|", "tr")
    assert records(out)["a"]["stdout"] == "x | tr\n"


def test_ndjson_writes_one_record_per_line(
    repos: RepoFactory, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    make(repos, "a", "b")
    code, out, _ = run(
        capfdbinary, str(repos.root), "-o", "ndjson", "--", "git", "rev-parse", "HEAD"
    )
    assert code == 0
    lines = [json.loads(ln) for ln in out.splitlines()]
    assert len(lines) == 2
    for rec in lines:
        assert rec["format_version"] == 1
        assert rec["stdout"] == sh("git", "rev-parse", "HEAD", cwd=rec["path"]) + "\n"


def test_output_over_the_limit_is_truncated(
    repos: RepoFactory, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    make(repos, "big", "small")
    script = '[ "$GITO_NAME" = big ] && head -c 1200000 /dev/zero | tr "\\0" x; echo'
    code, out, _ = run(capfdbinary, str(repos.root), "-o", "json", "--shell", "--", script)
    assert code == 0
    recs = records(out)
    assert recs["big"]["truncated"] is True and len(recs["big"]["stdout"]) == 1 << 20
    assert recs["small"]["truncated"] is False


def test_undecodable_output_never_crashes(
    repos: RepoFactory, capfdbinary: pytest.CaptureFixture[bytes], inside: None
) -> None:
    make(repos, "a")
    code, out, _ = run(
        capfdbinary, str(repos.root), "-o", "json", "--", "printf", "ok\\377\\033[31m"
    )
    assert code == 0
    assert b'"stdout":"ok\\udcff\\u001b[31m"' in out
    assert records(out)["a"]["stdout"].encode("utf-8", "surrogateescape") == b"ok\xff\x1b[31m"
    # Into a pipe, the bytes as written.
    code, out, _ = run(capfdbinary, str(repos.root), "--", "printf", "ok\\377\\n")
    assert out.endswith(b"ok\xff\n")
    code, out, _ = run(capfdbinary, str(repos.root), "--stream", "--", "printf", "ok\\377\\n")
    assert out == b"a | ok\xff\n"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_output_is_escaped() -> None:
    out, err = _Terminal(), _Terminal()
    writer = ExecWriter(out, err)
    ref = RepoRef("/x/a\x1b", "/x/a/.git", "a\x1b")
    writer.block(ExecResult(ref, 0, b"ok\xff\x1b[2J\rdone\tx\n", b"e\x07\n"))
    assert out.getvalue() == "==> a\\x1b <== exit 0\ndone    x\n"
    assert err.getvalue() == "e\\x07\n"
    writer.width = 3
    writer.line(ref, 1, b"\xfe")
    assert out.getvalue().endswith("a\\x1b | \\xfe\n")


def test_dirty_only_and_where_run_only_in_matching_repositories(
    repos: RepoFactory, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    make(repos, "clean")
    repos.repo("dirty").write("new.txt")
    repos.repo("feature").git("checkout", "-q", "-b", "feat")
    code, out, _ = run(capfdbinary, str(repos.root), "-d", "-o", "json", "--", "true")
    assert code == 0 and set(records(out)) == {"dirty"}
    code, out, _ = run(
        capfdbinary,
        str(repos.root),
        "-w",
        'branch == "feat"',
        "-o",
        "json",
        "--shell",
        "--",
        "echo $GITO_BRANCH",
    )
    assert set(records(out)) == {"feature"}
    assert records(out)["feature"]["stdout"] == "feat\n"


def test_selection_options_apply(
    repos: RepoFactory, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    make(repos, "keep", "skip-me", "deep/er/repo")
    code, out, _ = run(
        capfdbinary,
        str(repos.root),
        "--exclude",
        "skip-*",
        "--max-depth",
        "1",
        "-o",
        "json",
        "--",
        "true",
    )
    assert code == 0 and set(records(out)) == {"keep"}


def test_exec_is_listed_where_commands_are(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exce"]) == 2
    assert "did you mean 'exec'?" in capsys.readouterr().err
    assert main(["--help"]) == 0
    assert "gitoverit exec" in capsys.readouterr().out


def test_the_record_of_a_run_that_could_not_start() -> None:
    ref = RepoRef("/nowhere", "/nowhere/.git", "nowhere")
    rec = ExecResult(ref, 127, error=RepoError(Reason.EXIT, "cannot run x")).to_json()
    assert rec["exit_code"] == 127 and rec["error"]["reason"] == "exit"


def test_readme_documents_exec() -> None:
    import re

    import click

    from gitoverit.cli import exec_command

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    flags = {
        opt
        for param in exec_command.params
        if isinstance(param, click.Option)
        for opt in param.opts
        if opt.startswith("--")
    }
    missing = sorted(f for f in flags if not re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", text))
    assert missing == []
    assert "gito exec @work -- git pull --ff-only" in text
    assert "gito exec -d --shell -- 'git stash list | head -1'" in text
    for name in ("GITO_PATH", "GITO_DISPLAY_PATH", "GITO_NAME", "GITO_BRANCH", "GITO_UPSTREAM",
                 "GITO_URL", "GITO_I", "GITO_COUNT"):  # fmt: skip
        assert f"`{name}`" in text


def test_a_reader_that_stops_early_ends_the_run_quietly(repos: RepoFactory) -> None:
    make(repos, "a", "b")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitoverit", "exec", str(repos.root), "--", "seq", "300000"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith(b"==> ")
    proc.stdout.close()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert b"Traceback" not in err


def test_an_ssh_command_the_users_config_sets_for_some_repositories_is_kept(
    repos: RepoFactory,
    capfdbinary: pytest.CaptureFixture[bytes],
    git_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    work = repos.repo("work")
    make(repos, "other")
    extra = tmp_path / "work.gitconfig"
    extra.write_text("[core]\n\tsshCommand = ssh -i ~/.ssh/work\n")
    with open(git_env / ".gitconfig", "a") as fh:
        fh.write(f'[includeIf "gitdir:{work.path}/"]\n\tpath = {extra}\n')
    # An inherited GIT_DIR must not make the lookup read another repository's config.
    monkeypatch.setenv("GIT_DIR", str(repos.repo("elsewhere", aux=True).path / ".git"))
    script = "echo $GIT_SSH_COMMAND"
    code, out, _ = run(capfdbinary, str(repos.root), "-o", "json", "--shell", "--", script)
    assert code == 0
    got = {name: rec["stdout"].strip() for name, rec in records(out).items()}
    assert got == {
        "work": "ssh -o BatchMode=yes -i ~/.ssh/work",
        "other": "ssh -o BatchMode=yes -o ConnectTimeout=30",
    }


def test_a_group_selects_the_repos_exec_runs_in(
    repos: RepoFactory, tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    work = repos.root / "work"
    repos.repo("work/api")
    repos.repo("work/web")
    repos.repo("personal/blog")
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "gitoverit" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[groups]\nwork = ["{work}"]\n')
    code, out, _err = run(capfdbinary, "@work", "-o", "json", "--", "true")
    assert code == 0
    assert sorted(Path(r["path"]).name for r in json.loads(out)) == ["api", "web"]
    code, _out, err = run(capfdbinary, "@wrok", "--", "true")
    assert code == 2 and b"unknown group '@wrok'" in err
