"""Reading the config file and the environment, and putting the flags on top."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from gitoverit.config.checks import CHECKS, parse_env
from gitoverit.config.paths import config_file, expand_home
from gitoverit.config.settings import (
    CONFIG_ENV,
    KEYS,
    LIST_KEYS,
    ConfigError,
    Invalid,
    Settings,
    SettingSource,
    did_you_mean,
    env_vars,
    flag_name,
)
from gitoverit.text import safe_text

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


def _item_line(text: str, key: str, item: int, field: str | None) -> int | None:
    """The line of table number *item* (from 0) of the array of tables *key*, or of its
    *field* when that is found in it; the key's own line when the array is written inline."""
    k = re.escape(key)
    header = re.compile(rf"""^\s*\[\[\s*(?:{k}|"{k}"|'{k}')\s*\]\]""")
    lines = text.splitlines()
    starts = [n for n, line in enumerate(lines) if header.match(line)]
    if item >= len(starts):
        return _key_line(text, key)
    start = starts[item]
    if field is not None:
        f = re.escape(field)
        assign = re.compile(rf"""^\s*(?:{f}|"{f}"|'{f}')\s*=""")
        for n in range(start + 1, len(lines)):
            if _HEADER.match(lines[n]):
                break
            if assign.match(lines[n]):
                return n + 1
    return start + 1


def _field_line(text: str, key: str, field: str) -> int | None:
    """The line of *field* in table *key* (``work = [...]`` under ``[groups]``, or a
    ``[groups.work]`` header), if found; else the line of the table itself."""
    k, f = re.escape(key), re.escape(field)
    header = re.compile(rf"""^\s*\[\s*(?:{k}|"{k}"|'{k}')\s*\]""")
    sub = re.compile(rf"""^\s*\[\s*(?:{k}|"{k}"|'{k}')\s*\.\s*(?:{f}|"{f}"|'{f}')\s*\]""")
    assign = re.compile(rf"""^\s*(?:{f}|"{f}"|'{f}')\s*=""")
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        if sub.match(line):
            return number
        if _HEADER.match(line):
            inside = bool(header.match(line))
        elif inside and assign.match(line):
            return number
    return _key_line(text, key)


def _where(path: Path, line: int | None) -> str:
    return f"{path}:{line}" if line is not None else str(path)


def _read_file(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror or exc}") from exc
    import tomllib  # here: only a config file needs it

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
    """*value* ready to store: roots and the log file get a leading ``~`` expanded."""
    if key == "roots" and isinstance(value, tuple):
        return tuple(expand_home(p, env) for p in value)
    if key == "log_file" and isinstance(value, str):
        return expand_home(value, env)
    return value


def _file_values(path: Path, env: Mapping[str, str]) -> dict[str, tuple[object, str]]:
    """Checked values from config file *path*, each with its source text."""
    data, text = _read_file(path)
    values: dict[str, tuple[Any, str]] = {}
    for key, raw in data.items():
        line = _key_line(text, key)
        where = _where(path, line)
        if key not in CHECKS:
            kind = "table" if isinstance(raw, dict) else "key"
            raise ConfigError(
                f"{where}: unknown {kind} {safe_text(repr(key))}{did_you_mean(key, KEYS)};"
                f" valid keys: {', '.join(KEYS)}"
            )
        try:
            value = CHECKS[key](raw)
        except Invalid as exc:
            if exc.item is None and exc.field is not None:
                # A table's entry at fault (``groups: work: ...``).
                field_where = _where(path, _field_line(text, key, exc.field))
                raise ConfigError(f"{field_where}: {key}: {exc}") from None
            if exc.item is None:
                raise ConfigError(f"{where}: {key}: {exc}") from None
            # The message names the item (``id_rewrite[2]: find: ...``).
            item_where = _where(path, _item_line(text, key, exc.item, exc.field))
            raise ConfigError(f"{item_where}: {exc}") from None
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

    *env* defaults to ``os.environ``; *path* defaults to :func:`config_file` (this
    project's file, else the earlier gitoverit's). A missing file is skipped, unless it was
    named by ``GITOVERIT_CONFIG``. Each setting's variables are those of :func:`env_vars`.
    Returns the settings and, for every key in :data:`KEYS`, the :class:`SettingSource` of
    its effective value. Raises :class:`ConfigError` for anything that cannot be used.
    """
    env = os.environ if env is None else env
    explicit = path is None and bool(env.get(CONFIG_ENV, "").strip())
    path = config_file(env) if path is None else path
    values: dict[str, tuple[Any, str]] = {}
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, not a config file")
    if path.exists():
        values.update(_file_values(path, env))
    elif explicit:
        raise ConfigError(f"{path}: no such config file (named by {CONFIG_ENV})")

    for key in KEYS:
        for name in env_vars(key):
            raw = env.get(name)
            if raw is None or not raw.strip():
                continue
            try:
                value = CHECKS[key](parse_env(key, raw))
            except Invalid as exc:
                raise ConfigError(f"{name}: {exc}") from None
            values[key] = (_finish(key, value, env), f"env {name}")
            break

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
        if key in LIST_KEYS:
            if isinstance(raw, str):
                raw = [raw]
            elif isinstance(raw, Iterable):
                raw = list(raw)
            if not raw:
                continue
        try:
            value = CHECKS[key](raw)
        except Invalid as exc:
            raise ConfigError(f"{flag_name(key)}: {exc}") from None
        value = _finish(key, value, os.environ)
        changes[key] = value
        new_sources[key] = SettingSource(key, value, f"flag {flag_name(key)}")
    return replace(settings, **changes), new_sources
