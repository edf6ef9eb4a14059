"""User defaults: a TOML config file, ``GITOVERIT_*`` environment variables, then flags.

Each setting is resolved from three layers; a later layer wins:

1. the config file, ``$XDG_CONFIG_HOME/gitoverit/config.toml`` (``~/.config/gitoverit/config.toml``
   when ``XDG_CONFIG_HOME`` is unset, empty or relative). ``GITOVERIT_CONFIG`` names another file.
   A missing file is not an error, unless ``GITOVERIT_CONFIG`` named it;
2. environment variables;
3. command-line flags (:func:`apply_flags`).

A setting that no layer gives stays ``None`` (or ``()`` for lists) and the CLI uses its
built-in default. :func:`load_settings` also returns, for every key, where its effective
value came from; ``gitoverit config`` prints that (:func:`describe`).

The config file (every key is optional)::

    jobs = 8                          # local (status) workers, 1..1024
    net_jobs = 16                     # network (fetch/pull/push/clone) workers, 1..1024
    timeout = 120                     # seconds per network operation (> 0; int or float)
    columns = "-url"                  # a column spec, as for -c/--columns
    sort = "mtime"                    # one of the -s/--sort keys
    roots = ["~/code", "~/work"]      # scanned when no folder is given on the command line
    exclude = ["node_modules", "archive/*"]   # folder globs, as for --exclude
    trust_repo_config = false         # let repositories' own filter commands run in a scan

``~`` at the start of a root is expanded; a relative root stays relative to the current
folder. An unknown key, a table, a value of the wrong type, out of range or unknown (a
column spec is checked by the output layer's parser), and a TOML syntax error are all a
:class:`ConfigError` whose message starts with ``<file>:<line>:`` (the line when found),
then for a value its key: ``config.toml:3: columns: unknown column 'bogus'; ...``. A bad
variable or flag is named instead: ``GITOVERIT_JOBS: must be a positive integer ...``.

Environment variables (an empty or blank variable counts as unset):

==========================  ==============================================================
``GITOVERIT_JOBS``          integer
``GITOVERIT_NET_JOBS``      integer
``GITOVERIT_TIMEOUT``       number of seconds
``GITOVERIT_COLUMNS``       column spec
``GITOVERIT_SORT``          sort key
``GITOVERIT_ROOTS``         folders separated by ``os.pathsep`` (``:`` on POSIX), like PATH
``GITOVERIT_EXCLUDE``       globs separated by commas (``node_modules,archive/*``); blanks
                            around each item are dropped. Commas, not ``:``, because a
                            glob is not a path list and ``:`` is legal in folder names.
``GITOVERIT_TRUST_REPO_CONFIG``  ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``
``GITOVERIT_CONFIG``        the config file to read instead of the default one
==========================  ==============================================================

A flag, an environment variable or a file key each *replaces* the value below it; lists
(``roots``, ``exclude``) are not merged across layers.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from gitoverit.output.sorting import SORT_KEYS
from gitoverit.text import safe_text

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

_LIST_KEYS = frozenset({"roots", "exclude"})


def env_var(key: str) -> str:
    """The environment variable for setting *key*: ``net_jobs`` -> ``GITOVERIT_NET_JOBS``."""
    return f"GITOVERIT_{key.upper()}"


def flag_name(key: str) -> str:
    """The command-line flag for setting *key*: ``net_jobs`` -> ``--net-jobs``."""
    return "--" + key.replace("_", "-")


# --- paths -------------------------------------------------------------------------------


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


# --- validation --------------------------------------------------------------------------


class _Invalid(ValueError):
    """A value that fails validation; the caller adds the file and line or the variable."""


def _show_value(value: object) -> str:
    return safe_text(repr(value))


def _check_jobs(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_JOBS:
        raise _Invalid(
            f"must be a positive integer no larger than {MAX_JOBS}, got {_show_value(value)}"
        )
    return value


def _check_timeout(value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise _Invalid(f"must be a positive number of seconds, got {_show_value(value)}")
    return float(value)


def _check_str(value: object) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"must be a string, got {_show_value(value)}")
    return value


def _check_columns(value: object) -> str:
    from gitoverit.output.columns import ColumnSpecError, parse_columns

    text = _check_str(value)
    try:
        parse_columns(text)
    except ColumnSpecError as exc:
        raise _Invalid(str(exc)) from None
    return text


def _check_sort(value: object) -> str:
    text = _check_str(value)
    if text not in SORT_KEYS:
        raise _Invalid(
            f"must be one of {', '.join(SORT_KEYS)}, got {_show_value(value)}"
            + _did_you_mean(text, SORT_KEYS)
        )
    return text


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _check_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise _Invalid(f"must be true or false, got {_show_value(value)}")


def _check_str_list(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _Invalid(f"must be a list of non-empty strings, got {_show_value(value)}")
    return tuple(value)


#: The check of each setting: its value, or :class:`_Invalid` saying what is expected.
_CHECKS: dict[str, Callable[[object], object]] = {
    "jobs": _check_jobs,
    "net_jobs": _check_jobs,
    "timeout": _check_timeout,
    "columns": _check_columns,
    "sort": _check_sort,
    "roots": _check_str_list,
    "exclude": _check_str_list,
    "trust_repo_config": _check_bool,
}


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _parse_env(key: str, raw: str) -> object:
    """The typed value of environment variable *raw* for setting *key* (not yet checked)."""
    text = raw.strip()
    if key in ("jobs", "net_jobs"):
        try:
            return int(text)
        except ValueError:
            return text
    if key == "timeout":
        try:
            return float(text)
        except ValueError:
            return text
    if key == "roots":
        return [p for p in raw.split(os.pathsep) if p.strip()]
    if key == "exclude":
        return [p.strip() for p in raw.split(",") if p.strip()]
    return text


# --- the TOML file -----------------------------------------------------------------------

_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")
_HEADER = re.compile(r"^\s*\[")


def _key_line(text: str, key: str) -> int | None:
    """The 1-based line where top-level *key* is assigned or opened as a table, if found.

    tomllib reports no positions, so this scans the raw text: a top-level assignment
    (``key = ...``, the key bare or quoted) before the first table header, or a table header
    ``[key]`` / ``[[key]]`` / ``[key.sub]`` anywhere.
    """
    k = re.escape(key)
    assign = re.compile(rf"""^\s*(?:{k}|"{k}"|'{k}')\s*=""")
    header = re.compile(rf"""^\s*\[\[?\s*(?:{k}|"{k}"|'{k}')\s*[\].]""")
    top_level = True
    for number, line in enumerate(text.splitlines(), start=1):
        if header.match(line):
            return number
        if _HEADER.match(line):
            top_level = False
        elif top_level and assign.match(line):
            return number
    return None


def _where(path: Path, line: int | None) -> str:
    return f"{path}:{line}" if line is not None else str(path)


def _read_file(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _TOML_POS.search(message)
        if m:
            detail = _TOML_POS.sub("", message)
            raise ConfigError(
                f"{path}:{m.group(1)}: invalid TOML: {detail} (column {m.group(2)})"
            ) from exc
        if _TOML_END.search(message):
            last = max(1, len(text.splitlines()))
            raise ConfigError(
                f"{path}:{last}: invalid TOML: {_TOML_END.sub('', message)} (at end of file)"
            ) from exc
        raise ConfigError(f"{path}: invalid TOML: {message}") from exc
    return data, text


def _finish(key: str, value: object, env: Mapping[str, str]) -> object:
    """*value* ready to store: roots get a leading ``~`` expanded."""
    if key == "roots" and isinstance(value, tuple):
        return tuple(expand_home(p, env) for p in value)
    return value


def _file_values(path: Path, env: Mapping[str, str]) -> dict[str, tuple[object, str]]:
    """Checked values from config file *path*, each with its source text."""
    data, text = _read_file(path)
    values: dict[str, tuple[Any, str]] = {}
    for key, raw in data.items():
        line = _key_line(text, key)
        where = _where(path, line)
        if key not in _CHECKS:
            kind = "table" if isinstance(raw, dict) else "key"
            raise ConfigError(
                f"{where}: unknown {kind} {safe_text(repr(key))}{_did_you_mean(key, KEYS)};"
                f" valid keys: {', '.join(KEYS)}"
            )
        try:
            value = _CHECKS[key](raw)
        except _Invalid as exc:
            raise ConfigError(f"{where}: {key}: {exc}") from None
        values[key] = (_finish(key, value, env), f"config file {where}")
    return values


# --- public API --------------------------------------------------------------------------


def default_sources(settings: Settings | None = None) -> dict[str, SettingSource]:
    """A sources map that says ``default`` for every key (of *settings*, or empty settings)."""
    settings = Settings() if settings is None else settings
    return {k: SettingSource(k, getattr(settings, k), "default") for k in KEYS}


def load_settings(
    *, env: Mapping[str, str] | None = None, path: Path | None = None
) -> tuple[Settings, dict[str, SettingSource]]:
    """Settings from the config file, overridden by ``GITOVERIT_*`` variables in *env*.

    *env* defaults to ``os.environ``; *path* defaults to :func:`config_path`. A missing file
    is skipped, unless it was named by ``GITOVERIT_CONFIG``. Returns the settings and, for
    every key in :data:`KEYS`, the :class:`SettingSource` of its effective value. Raises
    :class:`ConfigError` for anything that cannot be used.
    """
    env = os.environ if env is None else env
    explicit = path is None and bool(env.get(CONFIG_ENV, "").strip())
    path = config_path(env) if path is None else path
    values: dict[str, tuple[Any, str]] = {}
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, not a config file")
    if path.exists():
        values.update(_file_values(path, env))
    elif explicit:
        raise ConfigError(f"{path}: no such config file (named by {CONFIG_ENV})")

    for key in KEYS:
        name = env_var(key)
        raw = env.get(name)
        if raw is None or not raw.strip():
            continue
        try:
            value = _CHECKS[key](_parse_env(key, raw))
        except _Invalid as exc:
            raise ConfigError(f"{name}: {exc}") from None
        values[key] = (_finish(key, value, env), f"env {name}")

    settings = Settings(**{k: v for k, (v, _) in values.items()})
    sources = default_sources(settings)
    for key, (value, source) in values.items():
        sources[key] = SettingSource(key, value, source)
    return settings, sources


def apply_flags(
    settings: Settings, sources: Mapping[str, SettingSource], **flags: object
) -> tuple[Settings, dict[str, SettingSource]]:
    """*settings* with every flag that was given put on top; returns new settings and sources.

    Keyword names are setting keys (``net_jobs=32``). ``None`` means the flag was not given;
    so does an empty sequence for ``roots`` / ``exclude`` (a repeatable option that was not
    used). Values are checked as a config file's are; a bad one is a :class:`ConfigError`
    naming the flag. An unknown keyword is a :class:`TypeError` (a programming error).
    """
    unknown = sorted(set(flags) - set(KEYS))
    if unknown:
        raise TypeError(f"apply_flags() got unknown settings: {', '.join(unknown)}")
    new_sources = dict(sources)
    changes: dict[str, Any] = {}
    for key, raw in flags.items():
        if raw is None:
            continue
        if key in _LIST_KEYS:
            if isinstance(raw, str):
                raw = [raw]
            elif isinstance(raw, Iterable):
                raw = list(raw)
            if not raw:
                continue
        elif key == "timeout" and isinstance(raw, int) and not isinstance(raw, bool):
            raw = float(raw)
        try:
            value = _CHECKS[key](raw)
        except _Invalid as exc:
            raise ConfigError(f"{flag_name(key)}: {exc}") from None
        value = _finish(key, value, os.environ)
        changes[key] = value
        new_sources[key] = SettingSource(key, value, f"flag {flag_name(key)}")
    return replace(settings, **changes), new_sources


def origin(source: SettingSource) -> str:
    """Where the value of *source* came from, as an error message about it starts:
    ``<file>:<line>: <key>``, ``GITOVERIT_<KEY>``, ``--<flag>``, or the key for a default."""
    kind, _, where = source.source.partition(" ")
    if kind == "config":
        return f"{where.removeprefix('file ')}: {source.key}"
    if kind in ("env", "flag"):
        return where
    return source.key


def _format_value(value: object) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, tuple):
        return "[" + ", ".join(_format_value(v) for v in value) + "]"
    if isinstance(value, str):
        return safe_text('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
    if isinstance(value, bool):
        return "true" if value else "false"
    return safe_text(str(value))


def describe(
    settings: Settings,
    sources: Mapping[str, SettingSource],
    *,
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """The text ``gitoverit config`` prints: the config file, then each key, value and source.

    *path* is the config file that was read (default :func:`config_path` of *env*). A key
    that is not set shows ``(not set)``, meaning the built-in default applies. Values and
    paths are escaped, so no control character reaches the terminal. Example::

        config file: /home/u/.config/gitoverit/config.toml (exists)
        jobs      = 8           # config file /home/u/.config/gitoverit/config.toml:1
        net_jobs  = 32          # flag --net-jobs
        timeout   = (not set)   # default
    """
    path = config_path(env) if path is None else path
    state = "exists" if path.is_file() else "not found"
    lines = [f"config file: {safe_text(str(path))} ({state})"]
    width_key = max(len(k) for k in KEYS)
    shown = [(k, _format_value(getattr(settings, k))) for k in KEYS]
    width_value = max(len(v) for _, v in shown)
    for key, value in shown:
        source = sources.get(key)
        origin = source.source if source is not None else "default"
        lines.append(f"{key:<{width_key}} = {value:<{width_value}}  # {safe_text(origin)}")
    return "\n".join(lines) + "\n"
