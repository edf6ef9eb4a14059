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


def _config_home(env: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME``, or ``~/.config`` when that is unset or relative.

    The XDG base-directory rules say a relative ``XDG_CONFIG_HOME`` is to be ignored.
    """
    xdg = env.get("XDG_CONFIG_HOME", "")
    return Path(xdg) if xdg and os.path.isabs(xdg) else _home(env) / ".config"


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/gitoverit``, or ``~/.config/gitoverit`` when that is unset or relative."""
    return _config_home(os.environ if env is None else env) / "gitoverit"


def earlier_config_path(env: Mapping[str, str] | None = None) -> Path:
    """The earlier gitoverit's config file: ``$XDG_CONFIG_HOME/gito/config.toml``
    (``~/.config/gito/config.toml``)."""
    return _config_home(os.environ if env is None else env) / "gito" / "config.toml"


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """This project's config file: ``GITOVERIT_CONFIG`` if set, else
    ``<config_dir>/config.toml``."""
    env = os.environ if env is None else env
    named = env.get(CONFIG_ENV, "").strip()
    if named:
        return Path(expand_home(named, env))
    return config_dir(env) / "config.toml"


def config_file(env: Mapping[str, str] | None = None) -> Path:
    """The config file to read: :func:`config_path`, unless ``GITOVERIT_CONFIG`` is unset
    and that file does not exist while the earlier gitoverit's
    (:func:`earlier_config_path`) does. Both hold the same keys."""
    env = os.environ if env is None else env
    own = config_path(env)
    if env.get(CONFIG_ENV, "").strip() or os.path.lexists(own):
        return own
    earlier = earlier_config_path(env)
    return earlier if os.path.lexists(earlier) else own
