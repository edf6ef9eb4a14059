"""A failed repository's error keeps what explains it: the message holds the lines of
git's stderr that say why (ssh, a hook, the files in the way), escaped and with
credentials redacted, and ``--errors`` prints git's whole stderr. The command a message
names is cut only between arguments."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import Repo, RepoFactory, sh
from gitoverit import errors
from gitoverit.cli import main
from gitoverit.errors import COMMAND_WIDTH, CommandError, error_from_exception, short_command
from gitoverit.git import ops
from gitoverit.git.command import git
from gitoverit.model import RepoRef

ESC = "\x1b"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]], str]:
    """Run a scan with JSON output; returns the exit code, the records and stderr."""
    code = main(["--no-progress", "-o", "json", *args])
    out, err = capsys.readouterr()
    records: list[dict[str, Any]] = json.loads(out)
    return code, records, err


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed again: nothing listens there


def refusing_hook(remote: Repo, hooks: Path, *lines: str) -> None:
    """Make *remote* reject every push with a pre-receive hook that prints *lines*."""
    hooks.mkdir()
    hook = hooks / "pre-receive"
    body = "".join(f"printf '%s\\n' '{line}' >&2\n" for line in lines)
    hook.write_text(f"#!/bin/sh\n{body}exit 1\n")
    hook.chmod(0o755)
    sh("git", "config", "core.hooksPath", str(hooks), cwd=remote.path)


# ------------------------------------------------------------------------ the message


def test_an_ssh_failure_keeps_what_ssh_said(
    repos: RepoFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    script = tmp_path / "fake-ssh"
    script.write_text(
        "#!/bin/sh\n"
        "echo 'ssh: connect to host git.example.invalid port 22: Connection refused' >&2\n"
        "exit 255\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("GIT_SSH_COMMAND", str(script))
    _remote, clone = repos.remote_and_clone("app")
    clone.git("remote", "set-url", "origin", "ssh://git@git.example.invalid/app.git")
    code, (rec,), _err = run(capsys, "-f", str(repos.root))
    assert code == 1
    assert rec["error"]["reason"] == "network"
    message = rec["error"]["message"]
    assert message.startswith("git fetch --prune --progress -- origin exited with 128: ")
    assert "ssh: connect to host git.example.invalid port 22: Connection refused" in message
    assert "fatal: Could not read from remote repository." in message
    # git's generic advice after it is not worth a place.
    assert "correct access rights" not in message


def test_a_hooks_own_words_are_kept_escaped_and_redacted(
    repos: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote, clone = repos.remote_and_clone("app")
    refusing_hook(
        remote,
        tmp_path / "hooks",
        "pushes are closed today",
        f"ask {ESC}[31mops{ESC}[0m",
        "mirror https://bot:s3cret@mirror.example/app.git is down",
    )
    clone.commit("new.txt")
    code, (rec,), err = run(capsys, "-U", str(repos.root))
    assert code == 1 and rec["pushed"] is False
    message = rec["error"]["message"]
    assert "remote: pushes are closed today" in message
    assert "remote: ask \\x1b[31mops\\x1b[0m" in message and ESC not in message
    assert "remote: mirror https://***@mirror.example/app.git is down" in message
    assert "! [remote rejected] main -> main (pre-receive hook declined)" in message
    assert "error: failed to push some refs" in message
    # Progress and where the push went explain nothing.
    for noise in ("Writing objects", "Enumerating objects", "To "):
        assert noise not in message
    assert "s3cret" not in message and "s3cret" not in err and ESC not in err


def test_the_files_in_the_way_of_a_merge_are_named(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    remote, clone = repos.remote_and_clone("app")
    other = repos.push_from_other(remote)
    added = sorted(p.name for p in other.path.iterdir() if p.name.startswith("remote"))
    (clone.path / added[0]).write_text("mine, untracked\n")
    code, (rec,), _err = run(capsys, "-P", str(repos.root))
    assert code == 1 and rec["pulled"] is False
    message = rec["error"]["message"]
    assert message.startswith("git merge --ff-only --no-autostash --no-edit --quiet @{u} exited")
    assert "untracked working tree files would be overwritten by merge: | " in message
    assert f" | {added[0]} | " in message
    assert "Aborting" in message


def test_at_most_five_lines_around_the_decisive_one(repos: RepoFactory) -> None:
    """Many files in the way: the error line and the first of them, then "…"."""
    _remote, clone = repos.remote_and_clone("app")
    names = [f"f{i}.txt" for i in range(8)]
    for name in names:
        clone.write(name, "theirs\n")
    clone.git("add", "--", *names)
    clone.git("commit", "-q", "-m", "add files")
    clone.git("reset", "-q", "--keep", "HEAD~1")
    for name in names:
        clone.write(name, "mine\n")
    clone.git("branch", "-q", "theirs", "HEAD@{1}")
    clone.git("branch", "-q", "--set-upstream-to=theirs")
    ref = RepoRef(str(clone.path), str(clone.git_dir), "app")
    with pytest.raises(CommandError) as info:
        ops.merge_ff(ref)
    error = error_from_exception(info.value)
    parts = error.message.split(": ", 1)[1].split(" | ")
    assert parts == [
        "error: The following untracked working tree files would be overwritten by merge:",
        *names[:4],
        "…",
    ]
    # The whole of it is the detail.
    detail = error.detail.splitlines()
    assert [line.strip() for line in detail[1:9]] == names
    assert detail[-1] == "Aborting"


def test_a_corrupt_index_says_both_what_and_why(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = repos.repo("broken", commits=1)
    (repo.git_dir / "index").write_bytes(b"this is not an index file\n" * 4)
    code, (rec,), _err = run(capsys, str(repos.root))
    assert code == 1 and rec["error"]["reason"] == "corrupt"
    message = rec["error"]["message"]
    # The status engine's command, without its -C folder and -c overrides.
    assert message.startswith("git status --porcelain=v2 ")
    assert "error: bad signature 0x" in message and "fatal: index file corrupt" in message


def test_a_rejected_push_names_the_rejection_not_the_hints(repos: RepoFactory) -> None:
    remote, clone = repos.remote_and_clone("app")
    repos.push_from_other(remote)
    clone.commit("mine.txt")
    ref = RepoRef(str(clone.path), str(clone.git_dir), "app")
    with pytest.raises(CommandError) as info:
        ops.push(ref, "main")
    message = error_from_exception(info.value).message
    assert "! [rejected] main -> main (fetch first)" in message
    assert "hint:" not in message
    assert "hint: Updates were rejected" in info.value.detail


# ---------------------------------------------------------------------------- --errors


def test_errors_prints_gits_whole_stderr(
    repos: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote, clone = repos.remote_and_clone("app")
    refusing_hook(remote, tmp_path / "hooks", "closed", "token https://u:pw@h.example/x")
    clone.commit("new.txt")
    code, (rec,), err = run(capsys, "-U", "--errors", str(repos.root))
    assert code == 1
    lines = err.splitlines()
    head = lines.index(f"{rec['display_path']}: git_error: {rec['error']['message']}")
    detail = lines[head + 1 : -1]
    assert all(line.startswith("    ") for line in detail), detail
    shown = [line[4:] for line in detail]
    # Everything, progress included, as a terminal shows it: the last version of a line
    # that "\r" rewrote.
    assert any(line.startswith("Writing objects: 100%") for line in shown), shown
    assert not any("\\x0d" in line or "\r" in line for line in shown)
    assert "remote: closed" in shown
    assert "remote: token https://***@h.example/x" in shown
    assert f"To {remote.path.as_uri()}" in shown
    assert " ! [remote rejected] main -> main (pre-receive hook declined)" in shown
    assert shown[-1].startswith("error: failed to push some refs to ")
    assert "pw@" not in err
    # Not part of the JSON record.
    assert set(rec["error"]) == {"reason", "message"}


def test_errors_prints_the_stderr_of_a_failed_status(
    repos: RepoFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = repos.repo("broken", commits=1)
    (repo.git_dir / "index").write_bytes(b"this is not an index file\n" * 4)
    _code, (rec,), err = run(capsys, "--errors", str(repos.root))
    lines = err.splitlines()
    assert lines[-4] == f"{rec['display_path']}: corrupt: {rec['error']['message']}"
    assert rec["error"]["message"].startswith("git status --porcelain=v2 ")
    assert lines[-3:] == [
        "    error: bad signature 0x73696874",
        "    fatal: index file corrupt",
        "1 repo, 0 dirty, 1 error",
    ]


def test_a_long_stderr_keeps_its_first_and_last_lines(
    repos: RepoFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "chatty-ssh"
    script.write_text('#!/bin/sh\nfor i in $(seq 0 29); do echo "banner $i" >&2; done\nexit 255\n')
    script.chmod(0o755)
    monkeypatch.setenv("GIT_SSH_COMMAND", str(script))
    monkeypatch.setattr(errors, "DETAIL_LINES", 10)
    _remote, clone = repos.remote_and_clone("app")
    with pytest.raises(CommandError) as info:
        git("fetch", "ssh://git@git.example.invalid/app.git", cwd=clone.path, read_only=False)
    error = error_from_exception(info.value)
    detail = error.detail.splitlines()
    assert detail[:5] == [f"banner {i}" for i in range(5)]
    assert detail[5] == "… (23 more lines)"
    assert detail[6:] == [
        "banner 28",
        "banner 29",
        "fatal: Could not read from remote repository.",
        "Please make sure you have the correct access rights",
        "and the repository exists.",
    ]
    # The message keeps the lines just before git's verdict.
    assert error.message.endswith(
        "exited with 128: … | banner 26 | banner 27 | banner 28 | banner 29 | "
        "fatal: Could not read from remote repository."
    )


# ---------------------------------------------------------------------- the command shown


def test_a_clone_url_is_shown_redacted(tmp_path: Path) -> None:
    url = f"http://user:t0ken@127.0.0.1:{closed_port()}/app.git"
    with pytest.raises(CommandError) as info:
        git("clone", "--", url, str(tmp_path / "app"), read_only=False, timeout=20)
    message = error_from_exception(info.value).message
    assert message.startswith(f"git clone -- http://***@127.0.0.1:{url.split(':')[3]}")
    assert "t0ken" not in message and "t0ken" not in info.value.detail


def test_a_long_argument_is_left_out_whole(
    repos: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remote, clone = repos.remote_and_clone("app")
    branch = "feature/" + "x" * 60
    clone.git("checkout", "-q", "-b", branch)
    clone.git("push", "-q", "-u", "origin", branch)
    refusing_hook(remote, tmp_path / "hooks", "closed")
    clone.commit("new.txt")
    code, (rec,), _err = run(capsys, "-U", str(repos.root))
    assert code == 1
    message = rec["error"]["message"]
    assert message.startswith("git push ") and " origin … exited with 1: " in message


# Words that show as they are: no space, quote, control or format character, no URL;
# and not git's -c or -C, which are never shown.
_WORD = st.text(
    st.characters(
        blacklist_categories=("Cs", "Cc", "Cf", "Zs", "Zl", "Zp"), blacklist_characters="'\""
    ),
    min_size=1,
    max_size=30,
).filter(lambda w: w not in ("…", "-c", "-C") and "://" not in w)


@given(st.lists(_WORD, min_size=1, max_size=12))
def test_a_command_is_cut_only_between_arguments(args: list[str]) -> None:
    shown = short_command(["git", *args]).split(" ")
    kept = shown[:-1] if shown[-1] == "…" else shown
    assert kept == ["git", *args][: len(kept)]
    assert len(kept) >= min(2, len(args) + 1)
    if len(kept) < len(args) + 1:
        assert shown[-1] == "…"
    if len(kept) > 2:
        assert len(" ".join(kept)) <= COMMAND_WIDTH
