"""What ``gitoverit config`` prints, and where a value came from in error messages."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gitoverit.config.paths import config_path
from gitoverit.config.settings import KEYS, Settings, SettingSource
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
