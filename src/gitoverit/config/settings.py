"""The settings: their keys, their values' type, and where a value came from."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields

from gitoverit.identity import RewriteRule

MAX_JOBS = 1024
"""The largest accepted ``jobs`` / ``net_jobs``."""

CONFIG_ENV = "GITOVERIT_CONFIG"
"""The environment variable that names a config file to read instead of the default."""

#: The table's column priorities when none are configured: a column with a higher number
#: keeps its width longer when the table is too wide. The earlier gitoverit's values.
DEFAULT_COLUMN_PRIORITIES: tuple[tuple[str, int], ...] = (
    ("dir", 500),
    ("status", 500),
    ("branch", 500),
    ("branch_remote", 500),
    ("remote", 300),
    ("url", 300),
    ("mtime", 1),
    ("ident", 1),
)

#: The columns that ``column_priorities`` given as six bare numbers applies to, in order
#: (the earlier gitoverit's default columns).
POSITIONAL_PRIORITY_COLUMNS: tuple[str, ...] = ("dir", "status", "branch", "remote", "url", "mtime")

#: A group's name: what may follow ``@`` (``@work``, ``@api-v2``, ``@team.infra``).
GROUP_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")

#: The log levels ``log_level`` accepts (any case); ``WARN`` means ``WARNING``.
LOG_LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL")


@dataclass(frozen=True, slots=True)
class Settings:
    """Effective user defaults.

    For the scan's settings, ``None`` (or ``()``) means not set: the command's own default
    applies. The others hold their effective value: *log_file* ``None`` means no debug
    log; *log_level* is a name from :data:`LOG_LEVELS` (never ``WARN``);
    *column_priorities* holds ``(column, priority)`` pairs, a higher priority keeping its
    width longer, :data:`DEFAULT_COLUMN_PRIORITIES` unless configured; *id_rewrite* holds
    the rules for :func:`gitoverit.identity.rewrite`, in order, and
    *id_rewrite_fg_color* its ``default_fg`` (``None``: no colour); *groups* holds
    ``(name, paths)`` pairs in the file's order, each path a folder or a glob of repository
    paths as written (``~`` not yet expanded), which ``@name`` stands for.
    """

    jobs: int | None = None
    net_jobs: int | None = None
    timeout: float | None = None
    columns: str | None = None
    sort: str | None = None
    roots: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    trust_repo_config: bool | None = None
    column_priorities: tuple[tuple[str, int], ...] = DEFAULT_COLUMN_PRIORITIES
    log_file: str | None = None
    log_level: str = "DEBUG"
    id_rewrite_fg_color: str | None = None
    id_rewrite: tuple[RewriteRule, ...] = ()


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


class Invalid(ValueError):
    """A value that fails validation; the caller adds the file and line or the variable.

    For a value that is a list of tables (``id_rewrite``), *item* is the index of the table
    at fault and *field* its key, so that the caller can find their line.
    """

    def __init__(self, message: str, *, item: int | None = None, field: str | None = None):
        super().__init__(message)
        self.item = item
        self.field = field


KEYS: tuple[str, ...] = tuple(f.name for f in fields(Settings))
"""Every setting, in the order :func:`describe` shows them."""

LIST_KEYS = frozenset({"roots", "exclude"})


def env_var(key: str) -> str:
    """The environment variable for setting *key*: ``net_jobs`` -> ``GITOVERIT_NET_JOBS``."""
    return f"GITOVERIT_{key.upper()}"


#: The variables of the settings that the earlier gitoverit read from its own names. The
#: first that is set wins, as it did there.
_ENV_VARS: dict[str, tuple[str, ...]] = {
    "log_file": ("GITO_DEBUG_LOG", "GITOVERIT_DEBUG_LOG"),
    "log_level": ("GITO_LOG_LEVEL", "GITOVERIT_LOG_LEVEL"),
    "column_priorities": ("GITO_COLUMN_PRIORITIES", "GITOVERIT_COLUMN_PRIORITIES"),
    # A list of rules, or a table of groups, does not fit in a variable.
    "id_rewrite": (),
    "groups": (),
}


def env_vars(key: str) -> tuple[str, ...]:
    """The environment variables that set *key*, the one that wins first:
    ``("GITOVERIT_JOBS",)``, ``("GITO_DEBUG_LOG", "GITOVERIT_DEBUG_LOG")`` for ``log_file``,
    ``()`` for ``id_rewrite`` and ``groups``."""
    return _ENV_VARS.get(key, (env_var(key),))


def flag_name(key: str) -> str:
    """The command-line flag for setting *key*: ``net_jobs`` -> ``--net-jobs``."""
    return "--" + key.replace("_", "-")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the choice closest to *word*, or ``""``."""
    import difflib  # here: only a mistake needs it

    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
