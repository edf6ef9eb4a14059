"""Running git: its environment, its ``-c`` overrides and the reading of its errors, on top
of the process runner (:mod:`gitoverit.process`).

Every git call gets an environment built explicitly for the child: the one every child
process gets (:func:`gitoverit.process.no_prompt_env`: no prompts, ssh in ``BatchMode``,
no pager or editor, inherited ``GIT_DIR`` and friends removed), plus

- ``LC_ALL=C`` so that messages can be recognised;
- ``GIT_OPTIONAL_LOCKS=0`` for read-only work.

A failed git is mapped to a typed error by :func:`classify`, from what it wrote to stderr.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence

from gitoverit.errors import (
    CommandError,
    GitAuthError,
    GitCorruptError,
    GitNetworkError,
    GitNotARepoError,
    GitPermissionError,
)
from gitoverit.process import CommandResult, ProgressCallback, Running, batch_ssh, no_prompt_env
from gitoverit.process import start as start_process

#: Default timeout for local, read-only git commands (status, rev-parse, ...).
LOCAL_TIMEOUT = 60.0
#: Default timeout for network commands (fetch, push, clone).
NETWORK_TIMEOUT = 120.0
GIT = "git"

_AUTH_PATTERNS = re.compile(
    # git itself, over http(s), with prompts disabled or credentials rejected
    r"terminal prompts disabled"
    r"|could not read (?:Username|Password)"
    r"|Authentication failed"
    r"|HTTP Basic: Access denied"
    r"|The requested URL returned error: 40[13]\b"
    r"|(?:invalid|bad) (?:credentials|username or password)"
    r"|Permission to \S+ denied to"
    r"|access denied or repository not exported"
    # ssh: rejected keys or passwords (always followed by the list of methods tried)
    r"|Permission denied \([\w@.,-]+\)"
    r"|Too many authentication failures"
    r"|sign_and_send_pubkey: signing failed"
    r"|Load key .*: (?:bad permissions|incorrect passphrase)"
    r"|UNPROTECTED PRIVATE KEY FILE"
    r"|Enter passphrase"
    # ssh: host keys that would need a human decision
    r"|Host key verification failed"
    r"|No \S+ host key is known for"
    r"|REMOTE HOST IDENTIFICATION HAS CHANGED"
    r"|Host key for \S+ has changed",
    re.IGNORECASE,
)
_NETWORK = re.compile(
    r"Could not resolve host|Could not resolve hostname|Name or service not known"
    r"|Temporary failure in name resolution|Connection refused|Connection reset"
    r"|Network is unreachable|No route to host|Connection timed out|Failed to connect to",
    re.IGNORECASE,
)
_NOT_A_REPO = re.compile(r"not a git repository", re.IGNORECASE)
_PERMISSION = re.compile(
    r"dubious ownership|Permission denied|Operation not permitted",
    re.IGNORECASE,
)
_CORRUPT = re.compile(
    r"index file corrupt|index file smaller than expected|bad index file|bad signature 0x"
    r"|unknown index entry"
    r"|bad object|\bcorrupt|invalid (?:sha1|object) pointer|unable to read tree"
    r"|fatal: bad config|bad numeric config value|unknown repository format"
    r"|packfile .* cannot be accessed|invalid gitfile format|not a gitdir"
    r"|index uses .* extension, which we do not understand",
    re.IGNORECASE,
)


def classify(stderr: bytes) -> type[CommandError]:
    """Map git's stderr to the most specific error class.

    Authentication comes first: a rejected ssh key says "Permission denied (publickey)",
    which must not be read as a filesystem permission problem.
    """
    text = stderr.decode("utf-8", "replace")
    if _AUTH_PATTERNS.search(text):
        return GitAuthError
    if _NETWORK.search(text):
        return GitNetworkError
    if _NOT_A_REPO.search(text):
        return GitNotARepoError
    if _CORRUPT.search(text):
        return GitCorruptError
    if _PERMISSION.search(text):
        return GitPermissionError
    return CommandError


def git_env(
    *,
    read_only: bool,
    base: Mapping[str, str] | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Build the child environment for one git call (never touches ``os.environ``).

    *base* defaults to ``os.environ``; *extra* is applied last and wins.
    """
    env = no_prompt_env(base)
    env["LC_ALL"] = "C"
    env["LANGUAGE"] = "C"
    if read_only:
        env["GIT_OPTIONAL_LOCKS"] = "0"
    else:
        env.pop("GIT_OPTIONAL_LOCKS", None)
    if extra:
        env.update(extra)
    return env


_ENV_CACHE: dict[tuple[bool, frozenset[tuple[bytes, bytes]]], dict[bytes, bytes]] = {}


def default_env(read_only: bool) -> dict[bytes, bytes]:
    """``git_env(read_only=...)`` for the current ``os.environ``, encoded for ``Popen``.

    Building and encoding the environment costs about 0.1 ms per call, which is a tenth of
    a small repo's ``git status``; the result is cached, keyed on the raw environment, so
    any change to ``os.environ`` still takes effect on the next call. Treat it as
    read-only.
    """
    data = getattr(os.environ, "_data", None)
    key = (read_only, frozenset(data.items())) if isinstance(data, dict) else None
    if key is not None:
        cached = _ENV_CACHE.get(key)
        if cached is not None:
            return cached
    env = {os.fsencode(k): os.fsencode(v) for k, v in git_env(read_only=read_only).items()}
    if key is not None:
        if len(_ENV_CACHE) >= 8:
            _ENV_CACHE.clear()
        _ENV_CACHE[key] = env
    return env


#: ``-c`` options for every call: no fsmonitor daemon or command, no automatic
#: gc/maintenance after network operations, no colour, no pager.
SAFE_CONFIG: tuple[str, ...] = (
    "-c",
    "core.fsmonitor=false",
    "-c",
    "gc.auto=0",
    "-c",
    "maintenance.auto=false",
    "-c",
    "color.ui=false",
    "-c",
    "core.pager=cat",
)


#: More ``-c`` options for the read-only status calls: no hook runs (git calls
#: ``post-index-change`` when it writes the refreshed index, which the status engine lets
#: it do on a private copy).
READ_ONLY_CONFIG: tuple[str, ...] = ("-c", f"core.hooksPath={os.devnull}")


def start(
    argv: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = LOCAL_TIMEOUT,
    read_only: bool = True,
    env: Mapping[str, str] | Mapping[bytes, bytes] | None = None,
    check: bool = True,
    on_progress: ProgressCallback | None = None,
) -> Running:
    """Start *argv* like :func:`run` does, without waiting for it."""
    return start_process(
        argv,
        cwd=cwd,
        timeout=timeout,
        env=env if env is not None else default_env(read_only),
        check=check,
        on_progress=on_progress,
        classify=classify,
    )


def run(
    argv: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = LOCAL_TIMEOUT,
    read_only: bool = True,
    env: Mapping[str, str] | Mapping[bytes, bytes] | None = None,
    check: bool = True,
    on_progress: ProgressCallback | None = None,
) -> CommandResult:
    """Run *argv* (usually git) with git's hardened environment and error reading.

    *env*, when given, is the child's complete environment (build it with
    :func:`git_env`); otherwise ``git_env(read_only=read_only)`` is used. Errors are as
    for :func:`gitoverit.process.run`, with a failed exit classified by :func:`classify`.
    """
    return start(
        argv,
        cwd=cwd,
        timeout=timeout,
        read_only=read_only,
        env=env,
        check=check,
        on_progress=on_progress,
    ).result()


def git(
    *args: str,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = LOCAL_TIMEOUT,
    read_only: bool = True,
    check: bool = True,
    env: Mapping[str, str] | Mapping[bytes, bytes] | None = None,
    on_progress: ProgressCallback | None = None,
) -> CommandResult:
    """Run ``git <SAFE_CONFIG> <args>`` through :func:`run`."""
    return run(
        [GIT, *SAFE_CONFIG, *args],
        cwd=cwd,
        timeout=timeout,
        read_only=read_only,
        check=check,
        env=env,
        on_progress=on_progress,
    )


def start_git(
    *args: str,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = LOCAL_TIMEOUT,
    read_only: bool = True,
    check: bool = True,
    env: Mapping[str, str] | Mapping[bytes, bytes] | None = None,
) -> Running:
    """Start ``git <SAFE_CONFIG> <args>`` without waiting (see :class:`Running`)."""
    return start(
        [GIT, *SAFE_CONFIG, *args],
        cwd=cwd,
        timeout=timeout,
        read_only=read_only,
        check=check,
        env=env,
    )


def network_env(cwd: str | os.PathLike[str] | None = None) -> dict[str, str] | None:
    """The child environment for a network command run in *cwd*, or ``None`` for the
    default one.

    The default environment sets ``GIT_SSH_COMMAND`` (ssh in batch mode), which would take
    precedence over a ``core.sshCommand`` that the repository or the user configured (a
    per-repository key, a jump host). When git config names one, and neither
    ``GIT_SSH_COMMAND`` nor ``GIT_SSH`` is set, that command is used, in batch mode. Costs
    one ``git config`` call, next to a network operation.
    """
    if os.environ.get("GIT_SSH_COMMAND", "").strip() or os.environ.get("GIT_SSH", "").strip():
        return None
    res = git("config", "--get", "core.sshCommand", cwd=cwd, check=False)
    command = res.stdout.decode("utf-8", "surrogateescape").strip()
    if res.returncode != 0 or not command:
        return None
    env = git_env(read_only=False)
    env["GIT_SSH_COMMAND"] = batch_ssh(command)
    return env
