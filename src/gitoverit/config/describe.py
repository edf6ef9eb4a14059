"""What ``gitoverit config`` prints, and where a value came from in error messages."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from gitoverit.config.paths import config_file, config_path, earlier_config_path
from gitoverit.config.settings import KEYS, Settings, SettingSource
from gitoverit.identity import RewriteRule
from gitoverit.text import safe_text


def origin(source: SettingSource) -> str:
    """Where the value of *source* came from, as an error message about it starts:
    ``<file>:<line>: <key>``, ``GITOVERIT_<KEY>``, ``--<flag>``, or the key for a default."""
    kind, _, where = source.source.partition(" ")
    if kind == "config":
        return f"{where.removeprefix('file ')}: {source.key}"
    if kind in ("env", "flag"):
        return where
    return source.key


#: What the default of a setting means, where its value alone does not say.
_DEFAULT_NOTES = {
    "roots": "the folders given, else the current folder",
    "groups": "no groups",
    "log_file": "no debug log",
    "id_rewrite_fg_color": "a rewritten identity keeps the column's colour",
}

#: Values longer than this do not widen the value column (the sources stay aligned).
_ALIGN_LIMIT = 40


def _quote(text: str) -> str:
    return safe_text('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')


def _key(name: str) -> str:
    """*name* as a TOML key: bare when it can be, else quoted."""
    bare = name.replace("_", "").replace("-", "").isalnum() and name.isascii()
    return name if bare else _quote(name)


def _format_value(value: object) -> str:
    """*value* as TOML would write it, escaped for the terminal."""
    if value is None:
        return "(none)"
    if isinstance(value, RewriteRule):
        parts = [f"type = {_quote(value.type)}", f"find = {_quote(value.find)}"]
        parts.append(f"replace = {_quote(value.replace)}")
        if value.fg:
            parts.append(f"fg = {_quote(value.fg)}")
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, tuple):
        return "[" + ", ".join(_format_value(v) for v in value) + "]"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return safe_text(str(value))


def _shown(key: str, value: object) -> str:
    if key == "column_priorities" and isinstance(value, tuple):
        return _quote(",".join(f"{column}={number}" for column, number in value))
    if key == "groups" and isinstance(value, tuple):
        # A table, as the config file writes it inline: {work = ["~/work"], oss = [...]}.
        return "{" + ", ".join(f"{_key(n)} = {_format_value(p)}" for n, p in value) + "}"
    return _format_value(value)


def _file_lines(path: Path, env: Mapping[str, str]) -> list[str]:
    """The first lines: which config file was read, and why when it is the earlier one."""
    own, earlier = config_path(env), earlier_config_path(env)
    state = "exists" if path.is_file() else "not found"
    if path == earlier != own:
        state += f"; the earlier gitoverit's file, read because {own} does not exist"
    lines = [f"config file: {safe_text(str(path))} ({safe_text(state)})"]
    if path == own and own != earlier and own.is_file() and earlier.is_file():
        lines.append(
            f"not read: {safe_text(str(earlier))} (the earlier gitoverit's file; "
            "this project's file takes its place)"
        )
    return lines


def describe(
    settings: Settings,
    sources: Mapping[str, SettingSource],
    *,
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    defaults: Settings | None = None,
) -> str:
    """The text ``gitoverit config`` prints: the config file, then each key, its effective
    value and where it came from.

    *path* is the config file that was read (default :func:`config_file` of *env*). A
    setting left unset (``None``) shows its value in *defaults*, the commands' own defaults
    (the number of jobs that depends on the machine, ...). Values are written as in the
    config file, and escaped with the paths, so that no control character reaches the
    terminal. Example::

        config file: /home/u/.config/gitoverit/config.toml (exists)
        jobs      = 8           # config file /home/u/.config/gitoverit/config.toml:1
        net_jobs  = 32          # flag --net-jobs
        timeout   = 120.0       # default
        log_file  = (none)      # default (no debug log)
    """
    env = os.environ if env is None else env
    path = config_file(env) if path is None else path
    lines = _file_lines(path, env)
    shown = []
    for key in KEYS:
        value = getattr(settings, key)
        if value is None and defaults is not None:
            value = getattr(defaults, key)
        shown.append((key, _shown(key, value)))
    width_key = max(len(k) for k in KEYS)
    width_value = max(len(v) for _, v in shown if len(v) <= _ALIGN_LIMIT)
    for key, value in shown:
        source = sources.get(key)
        origin = source.source if source is not None else "default"
        if origin == "default" and key in _DEFAULT_NOTES:
            origin += f" ({_DEFAULT_NOTES[key]})"
        lines.append(f"{key:<{width_key}} = {value:<{width_value}}  # {safe_text(origin)}")
    return "\n".join(lines) + "\n"
