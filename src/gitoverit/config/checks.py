"""The check of each setting's value, and the parsing of its environment variable."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable

from gitoverit.config.rewrite_checks import check_colour, check_rules
from gitoverit.config.settings import (
    DEFAULT_COLUMN_PRIORITIES,
    GROUP_NAME,
    LOG_LEVELS,
    MAX_JOBS,
    POSITIONAL_PRIORITY_COLUMNS,
    Invalid,
    did_you_mean,
)
from gitoverit.output.sorting import SORT_KEYS
from gitoverit.text import safe_text


def show_value(value: object) -> str:
    """*value* as an error message quotes it: its repr, escaped."""
    return safe_text(repr(value))


def _check_jobs(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_JOBS:
        raise Invalid(
            f"must be a positive integer no larger than {MAX_JOBS}, got {show_value(value)}"
        )
    return value


def _check_timeout(value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise Invalid(f"must be a positive number of seconds, got {show_value(value)}")
    return float(value)


def _check_str(value: object) -> str:
    if not isinstance(value, str):
        raise Invalid(f"must be a string, got {show_value(value)}")
    return value


def _check_columns(value: object) -> str:
    from gitoverit.output.columns import ColumnSpecError, parse_columns

    text = _check_str(value)
    try:
        parse_columns(text)
    except ColumnSpecError as exc:
        raise Invalid(str(exc)) from None
    return text


def _check_sort(value: object) -> str:
    text = _check_str(value)
    if text not in SORT_KEYS:
        raise Invalid(
            f"must be one of {', '.join(SORT_KEYS)}, got {show_value(value)}"
            + did_you_mean(text, SORT_KEYS)
        )
    return text


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _check_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise Invalid(f"must be true or false, got {show_value(value)}")


def _check_str_list(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise Invalid(f"must be a list of non-empty strings, got {show_value(value)}")
    return tuple(value)


def _check_groups(value: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A table of groups: each name a list of folders or globs of repository paths
    (``work = ["~/work", "~/code/api-*"]``). An :class:`Invalid` about one group names it
    in *field*, so that the caller can find its line."""
    if not isinstance(value, dict):
        raise Invalid(
            'must be a table of groups, each a list of folders or globs (work = ["~/work"]),'
            f" got {show_value(value)}"
        )
    groups = []
    for name, paths in value.items():
        if not GROUP_NAME.fullmatch(name):
            raise Invalid(
                f"{show_value(name)}: a group name is letters, digits, '_', '-' and '.',"
                " not starting with '-' or '.'",
                field=name,
            )
        if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
            raise Invalid(
                f"{name}: must be a list of folders or globs (non-empty strings),"
                f" got {show_value(paths)}",
                field=name,
            )
        nested = [p for p in paths if p.startswith("@")]
        if nested:
            raise Invalid(
                f"{name}: a group lists folders or globs, not other groups"
                f" ({show_value(nested[0])})",
                field=name,
            )
        groups.append((name, tuple(paths)))
    return tuple(groups)


def _check_log_file(value: object) -> str | None:
    text = _check_str(value)
    if "\0" in text:
        raise Invalid(f"must be a file name, got {show_value(value)}")
    return text if text.strip() else None


def _check_log_level(value: object) -> str:
    text = _check_str(value).strip().upper()
    if not text:
        return "DEBUG"
    if text not in LOG_LEVELS:
        raise Invalid(
            f"must be one of {', '.join(LOG_LEVELS)} (any case), got {show_value(value)}"
            + did_you_mean(text, LOG_LEVELS)
        )
    return "WARNING" if text == "WARN" else text


def _priority_columns() -> tuple[str, ...]:
    """The column names a priority may be given for: the table's columns, and the
    earlier gitoverit's."""
    from gitoverit.output.columns import ALIASES, COLUMNS

    names = list(COLUMNS)
    names += [name for name, _ in DEFAULT_COLUMN_PRIORITIES if name not in COLUMNS]
    return (*names, *ALIASES)


def _priority(column: str, raw: object) -> int:
    if isinstance(raw, str) and re.fullmatch(r"[+-]?[0-9]+", raw.strip()):
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise Invalid(f"{column}: must be a whole number, 0 or more, got {show_value(raw)}")
    return raw


def _check_column_priorities(value: object) -> tuple[tuple[str, int], ...]:
    """Six numbers for the earlier gitoverit's default columns (``"500,500,500,300,300,1"``),
    or ``column=number`` pairs (``"dir=500,mtime=1"``), or a table of them; each over
    :data:`DEFAULT_COLUMN_PRIORITIES`."""
    given: list[tuple[str, object]]
    if isinstance(value, dict):
        given = list(value.items())
    elif isinstance(value, str):
        items = [item.strip() for item in value.split(",") if item.strip()]
        if items and not any("=" in item for item in items):
            if len(items) != len(POSITIONAL_PRIORITY_COLUMNS):
                raise Invalid(
                    f"must be {len(POSITIONAL_PRIORITY_COLUMNS)} numbers, for "
                    f"{', '.join(POSITIONAL_PRIORITY_COLUMNS)}, or column=number pairs,"
                    f" got {show_value(value)}"
                )
            given = list(zip(POSITIONAL_PRIORITY_COLUMNS, items, strict=True))
        else:
            pairs = [item.partition("=") for item in items]
            given = [(name.strip(), number) for name, _, number in pairs]
    else:
        raise Invalid(
            'must be a string such as "dir=500,mtime=1" or "500,500,500,300,300,1",'
            f" or a table, got {show_value(value)}"
        )
    known = _priority_columns()
    merged = dict(DEFAULT_COLUMN_PRIORITIES)
    for column, raw in given:
        if column not in known:
            raise Invalid(
                f"unknown column {show_value(column)}{did_you_mean(column, known)};"
                f" valid columns: {', '.join(known)}"
            )
        merged[_canonical(column)] = _priority(column, raw)
    return tuple(merged.items())


def _canonical(column: str) -> str:
    """The column *column* names: ``repo`` is ``dir``, ``age`` is ``mtime``..."""
    from gitoverit.output.columns import ALIASES

    return ALIASES.get(column, column)


#: The check of each setting: its value, or :class:`Invalid` saying what is expected.
CHECKS: dict[str, Callable[[object], object]] = {
    "jobs": _check_jobs,
    "net_jobs": _check_jobs,
    "timeout": _check_timeout,
    "columns": _check_columns,
    "sort": _check_sort,
    "roots": _check_str_list,
    "exclude": _check_str_list,
    "groups": _check_groups,
    "trust_repo_config": _check_bool,
    "column_priorities": _check_column_priorities,
    "log_file": _check_log_file,
    "log_level": _check_log_level,
    "id_rewrite_fg_color": check_colour,
    "id_rewrite": check_rules,
}


def parse_env(key: str, raw: str) -> object:
    """The typed value of environment variable *raw* for setting *key* (not yet checked)."""
    text = raw.strip()
    if key == "log_file":
        return raw
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
