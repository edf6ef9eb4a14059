"""The check of each setting's value, and the parsing of its environment variable."""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Callable, Iterable

from gitoverit.config.settings import MAX_JOBS
from gitoverit.output.sorting import SORT_KEYS
from gitoverit.text import safe_text


class Invalid(ValueError):
    """A value that fails validation; the caller adds the file and line or the variable."""


def _show_value(value: object) -> str:
    return safe_text(repr(value))


def _check_jobs(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_JOBS:
        raise Invalid(
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
        raise Invalid(f"must be a positive number of seconds, got {_show_value(value)}")
    return float(value)


def _check_str(value: object) -> str:
    if not isinstance(value, str):
        raise Invalid(f"must be a string, got {_show_value(value)}")
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
            f"must be one of {', '.join(SORT_KEYS)}, got {_show_value(value)}"
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
    raise Invalid(f"must be true or false, got {_show_value(value)}")


def _check_str_list(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise Invalid(f"must be a list of non-empty strings, got {_show_value(value)}")
    return tuple(value)


#: The check of each setting: its value, or :class:`Invalid` saying what is expected.
CHECKS: dict[str, Callable[[object], object]] = {
    "jobs": _check_jobs,
    "net_jobs": _check_jobs,
    "timeout": _check_timeout,
    "columns": _check_columns,
    "sort": _check_sort,
    "roots": _check_str_list,
    "exclude": _check_str_list,
    "trust_repo_config": _check_bool,
}


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_env(key: str, raw: str) -> object:
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
