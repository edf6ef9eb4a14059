"""The settings: their keys, their values' type, and where a value came from."""

from __future__ import annotations

from dataclasses import dataclass, fields

MAX_JOBS = 1024
"""The largest accepted ``jobs`` / ``net_jobs``."""

CONFIG_ENV = "GITOVERIT_CONFIG"
"""The environment variable that names a config file to read instead of the default."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Effective user defaults. ``None`` (or ``()``) means not set: the CLI's default applies."""

    jobs: int | None = None
    net_jobs: int | None = None
    timeout: float | None = None
    columns: str | None = None
    sort: str | None = None
    roots: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    trust_repo_config: bool | None = None


@dataclass(frozen=True, slots=True)
class SettingSource:
    """Where the effective value of one setting came from.

    *source* is ``"default"``, ``"config file <path>:<line>"``, ``"env GITOVERIT_JOBS"`` or
    ``"flag --jobs"``.
    """

    key: str
    value: object
    source: str


class ConfigError(Exception):
    """A config file or ``GITOVERIT_*`` variable that cannot be used.

    The message names the file, line and key (``/home/u/.config/gitoverit/config.toml:3:
    jobs: ...``) or the variable (``GITOVERIT_JOBS: ...``) and says what is expected.
    """


KEYS: tuple[str, ...] = tuple(f.name for f in fields(Settings))
"""Every setting, in the order :func:`describe` shows them."""

LIST_KEYS = frozenset({"roots", "exclude"})


def env_var(key: str) -> str:
    """The environment variable for setting *key*: ``net_jobs`` -> ``GITOVERIT_NET_JOBS``."""
    return f"GITOVERIT_{key.upper()}"


def flag_name(key: str) -> str:
    """The command-line flag for setting *key*: ``net_jobs`` -> ``--net-jobs``."""
    return "--" + key.replace("_", "-")
