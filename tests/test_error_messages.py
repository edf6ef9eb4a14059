"""The command an error message names is cut only between arguments, and the URLs in it
have their credentials redacted."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import Repo, RepoFactory, sh
from gitoverit.cli import main
from gitoverit.errors import COMMAND_WIDTH, CommandError, error_from_exception, short_command
from gitoverit.git.command import git

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


# ---------------------------------------------------------------------- the command shown


def test_a_clone_url_is_shown_redacted(tmp_path: Path) -> None:
    url = f"http://user:t0ken@127.0.0.1:{closed_port()}/app.git"
    with pytest.raises(CommandError) as info:
        git("clone", "--", url, str(tmp_path / "app"), read_only=False, timeout=20)
    message = error_from_exception(info.value).message
    assert message.startswith(f"git clone -- http://***@127.0.0.1:{url.split(':')[3]}")
    assert "t0ken" not in message


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
