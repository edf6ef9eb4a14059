"""Where the config file is, and ``~`` in the paths it names."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from gitoverit.config.settings import CONFIG_ENV


def _home(env: Mapping[str, str]) -> Path:
    home = env.get("HOME")
    return Path(home) if home else Path.home()


def expand_home(path: str, env: Mapping[str, str] | None = None) -> str:
    """*path* with a leading ``~`` or ``~/`` replaced by the home folder (``HOME`` in *env*)."""
    env = os.environ if env is None else env
    if path == "~" or path.startswith("~/") or path.startswith("~" + os.sep):
        return str(_home(env)) + path[1:]
    if path.startswith("~"):
        # ``~user/...``: only the password database knows, as for the shell.
        return os.path.expanduser(path)
    return path


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/gitoverit``, or ``~/.config/gitoverit`` when that is unset or relative.

    The XDG base-directory rules say a relative ``XDG_CONFIG_HOME`` is to be ignored.
    """
    env = os.environ if env is None else env
    xdg = env.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else _home(env) / ".config"
    return base / "gitoverit"


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """The config file to read: ``GITOVERIT_CONFIG`` if set, else ``<config_dir>/config.toml``."""
    env = os.environ if env is None else env
    named = env.get(CONFIG_ENV, "").strip()
    if named:
        return Path(expand_home(named, env))
    return config_dir(env) / "config.toml"
