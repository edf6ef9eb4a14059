"""What a command run in a repository (``gitoverit exec``) learns about it, read without a
git process, and the environment it runs in.

:func:`repo_facts` reads the branch, its upstream and the upstream remote's URL from the
git dir's files (``HEAD`` and the config), as :mod:`gitoverit.git.metadata` does for
``--metadata-only``. :class:`ExecEnvironment` builds each run's environment: the one every
child gets (:func:`gitoverit.process.no_prompt_env`: no prompts, ssh in batch mode, no
inherited ``GIT_DIR``) with the ``core.sshCommand`` that applies in that repository kept,
in batch mode, and the ``GITO_*`` variables.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from gitoverit.errors import CommandError
from gitoverit.git.command import git, git_env
from gitoverit.git.gitconfig import ConfigEntry, _get, read_config
from gitoverit.git.gitdir import configured_remote_url
from gitoverit.model import RepoRef, RepoStatus
from gitoverit.process import inherited_ssh_command, no_prompt_env
from gitoverit.text import strip_credentials


@dataclass(frozen=True, slots=True)
class RepoFacts:
    """A repository's branch (``None`` when detached or unreadable), its upstream as git
    shows it (``origin/main``), and the URL of the remote it pulls from, credentials
    removed (:func:`gitoverit.text.strip_credentials`)."""

    branch: str | None = None
    upstream: str | None = None
    url: str | None = None


def _upstream(config: list[ConfigEntry], branch: str) -> str | None:
    """``branch.<branch>.remote`` and ``.merge`` as git's ``%(upstream:short)`` shows them
    for the usual fetch refspec: ``origin/main``, or ``main`` for a local upstream."""
    remote = _get(config, "branch", branch, "remote")
    merge = _get(config, "branch", branch, "merge")
    if remote is None or merge is None:
        return None
    name = merge.removeprefix("refs/heads/")
    return name if remote == "." else f"{remote}/{name}"


def repo_facts(
    ref: RepoRef, status: RepoStatus | None = None, config: list[ConfigEntry] | None = None
) -> RepoFacts:
    """*ref*'s :class:`RepoFacts`, from *status* when a scan read one, else from its
    ``HEAD`` and config files (*config*, when already read). Never raises: what cannot be
    read is ``None``."""
    if config is None:
        config = read_config(ref.git_dir)
    if status is not None:
        branch, upstream = status.branch, status.upstream
    else:
        try:
            with open(os.path.join(ref.git_dir, "HEAD"), "rb") as fh:
                head = fh.read(512).strip()
        except OSError:
            head = b""
        branch = upstream = None
        if head.startswith(b"ref: refs/heads/"):
            branch = os.fsdecode(head[len(b"ref: refs/heads/") :].strip())
            upstream = _upstream(config, branch)
    url = configured_remote_url(config, branch, upstream)
    return RepoFacts(branch, upstream, strip_credentials(url) if url is not None else None)


class ExecEnvironment:
    """Builds the environment of each run of a command: one per run, never touching
    ``os.environ``. Thread-safe."""

    def __init__(self, base: Mapping[str, str] | None = None, *, timeout: float = 10.0) -> None:
        self._base = dict(os.environ if base is None else base)
        self._timeout = timeout
        self._lock = threading.Lock()
        self._user: tuple[str | None, bool] | None = None

    def _user_ssh(self) -> tuple[str | None, bool]:
        """The ``core.sshCommand`` outside any repository, and whether the user's config
        has an ``includeIf`` (then it may differ from one repository to another)."""
        with self._lock:
            if self._user is None:
                self._user = (
                    self._config("core.sshCommand", os.sep),
                    self._config(r"^includeif\.", os.sep, regexp=True) is not None,
                )
            return self._user

    def _config(self, key: str, cwd: str, *, regexp: bool = False) -> str | None:
        args = ("config", "--get-regexp" if regexp else "--get", key)
        try:
            env = git_env(read_only=True, base=self._base)
            res = git(*args, cwd=cwd, check=False, timeout=self._timeout, env=env)
        except CommandError:
            return None
        text = res.stdout.decode("utf-8", "surrogateescape").strip()
        return text if res.returncode == 0 and text else None

    def ssh_command(self, ref: RepoRef, config: list[ConfigEntry]) -> str | None:
        """The ``core.sshCommand`` git would use in *ref*, whose own config is *config*
        (``None``: none), unless the environment names one, which wins anyway."""
        if inherited_ssh_command(self._base) is not None:
            return None
        own = _get(config, "core", None, "sshcommand")
        if own:
            return own
        user, conditional = self._user_ssh()
        if conditional:
            return self._config("core.sshCommand", ref.path)
        return user

    def build(
        self, ref: RepoRef, index: int, count: int, status: RepoStatus | None = None
    ) -> dict[str, str]:
        """The environment of the run in *ref*, the *index*-th (1-based) of *count*;
        *status*, when a scan read one, gives the branch and upstream."""
        config = read_config(ref.git_dir)
        facts = repo_facts(ref, status, config)
        env = no_prompt_env(self._base, ssh_command=self.ssh_command(ref, config))
        env.update(
            GITO_PATH=ref.path,
            GITO_DISPLAY_PATH=ref.display_path,
            GITO_NAME=ref.name,
            GITO_BRANCH=facts.branch or "",
            GITO_UPSTREAM=facts.upstream or "",
            GITO_URL=facts.url or "",
            GITO_I=str(index),
            GITO_COUNT=str(count),
        )
        return env
