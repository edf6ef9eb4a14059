"""The helper functions (``rx``, ``len``, ``now``, ``days``, ...) and the methods
(``s.startswith``, ``d.get``, ...) an expression may call, with the number of arguments
each takes.

Like the operators in :mod:`gitoverit.query.values`, they report a problem as a fault with
a message for the user, not as a Python error, and what they return is held to the same
size bounds. Regular expressions get extra care, since Python's ``re`` has no timeout:
patterns are limited in length, and patterns that repeat a repeating group are refused.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gitoverit.query.values import MAX_SIZE, bounded, fault, is_num, measure, type_name

#: Longest regular expression pattern accepted by ``rx``.
MAX_PATTERN = 1_000

_NESTED_REPEAT_MSG = (
    "pattern repeats a group that itself repeats, like (a+)+; it could run for ever"
)


# --------------------------------------------------------------------------- patterns


def _risky_pattern(pattern: str) -> bool:
    """Whether *pattern* repeats a group that contains a repeat (``(a+)+``, ``(a*)*``).

    Such patterns can backtrack exponentially and Python's ``re`` has no timeout, so they
    are refused. This is a heuristic, not a proof of safety.
    """
    stack: list[bool] = []  # per open group: does it contain an unbounded repeat?
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            if i < n and pattern[i] == "]":
                i += 1
            while i < n and pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
            i += 1
            continue
        if ch == "(":
            stack.append(False)
        elif ch == ")":
            inner = stack.pop() if stack else False
            repeated = i + 1 < n and pattern[i + 1] in "*+{"
            if inner and repeated:
                return True
            if stack and (inner or repeated):
                stack[-1] = True
        elif ch in "*+{" and stack:
            stack[-1] = True
        i += 1
    return False


@functools.lru_cache(maxsize=256)
def regex(pattern: str) -> re.Pattern[str]:
    """*pattern* compiled, or a fault if it is too long, risky or invalid."""
    if len(pattern) > MAX_PATTERN:
        fault(f"pattern too long (limit {MAX_PATTERN:,} characters)")
    if _risky_pattern(pattern):
        fault(_NESTED_REPEAT_MSG)
    try:
        return re.compile(pattern)
    except re.error as e:
        fault(f"bad pattern: {e}")
    except (RecursionError, OverflowError):
        fault("bad pattern: too complex")


# --------------------------------------------------------------------------- functions


def _search(name: str, flags: int) -> Callable[[Any, Any], bool]:
    """``rx`` (case-sensitive) or ``rxi`` (case-insensitive): whether *pattern* matches
    somewhere in *s*; ``False`` for ``None``."""

    def search(s: Any, pattern: Any) -> bool:
        if not isinstance(pattern, str):
            fault(f"{name}() pattern must be a string, not {type_name(pattern)}")
        compiled = regex(pattern) if not flags else regex_i(pattern)
        if s is None:
            return False
        if not isinstance(s, str):
            fault(f"{name}() searches a string, not {type_name(s)}")
        if len(s) > MAX_SIZE:
            fault(f"{name}() subject too long (limit {MAX_SIZE:,} characters)")
        return compiled.search(s) is not None

    return search


_fn_rx = _search("rx", 0)
_fn_rxi = _search("rxi", re.IGNORECASE)


@functools.lru_cache(maxsize=256)
def regex_i(pattern: str) -> re.Pattern[str]:
    """*pattern* compiled to ignore case (see :func:`regex`)."""
    regex(pattern)  # the same checks
    return re.compile(pattern, re.IGNORECASE)


def _fn_len(x: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, str | list | tuple | dict):
        return len(x)
    fault(f"len() needs a string, list or dict, not {type_name(x)}")


def _convert(kind: type[int] | type[float], x: Any) -> Any:
    if x is None:
        return None
    if not isinstance(x, int | float | str):
        fault(f"{kind.__name__}() cannot convert {type_name(x)}")
    if isinstance(x, str) and len(x) > 1_000:
        fault(f"{kind.__name__}(): string too long to be a number")
    try:
        return bounded(kind(x))
    except (ValueError, OverflowError) as e:
        fault(f"{kind.__name__}(): {e}")


def _fn_str(x: Any) -> str:
    if isinstance(x, str):
        return x
    if x is None or isinstance(x, int | float):
        return str(x)
    measure(x)
    result = str(x)
    bounded(result)
    return result


def _fn_abs(x: Any) -> Any:
    if x is None:
        return None
    if not is_num(x):
        fault(f"abs() needs a number, not {type_name(x)}")
    return abs(x)


def _extreme(name: str, pick: Callable[[list[Any]], Any]) -> Callable[..., Any]:
    def impl(*args: Any) -> Any:
        items: Sequence[Any] = args
        if len(args) == 1 and isinstance(args[0], list | tuple):
            items = args[0]
        values = [v for v in items if v is not None]
        if not values:
            return None
        if not (all(is_num(v) for v in values) or all(isinstance(v, str) for v in values)):
            fault(f"{name}() needs all numbers or all strings")
        return pick(values)

    return impl


def _fn_coalesce(*args: Any) -> Any:
    for v in args:
        if v is not None:
            return v
    return None


def _scaled(name: str, factor: int) -> Callable[[Any], Any]:
    def impl(n: Any) -> Any:
        if n is None:
            return None
        if not is_num(n):
            fault(f"{name}() needs a number, not {type_name(n)}")
        return bounded(n * factor)

    return impl


@dataclass(frozen=True, slots=True)
class Func:
    """A callable of the language and how many arguments it takes."""

    impl: Callable[..., Any]
    min_args: int
    max_args: int


#: The functions an expression may call, by name.
FUNCTIONS: dict[str, Func] = {
    "rx": Func(_fn_rx, 2, 2),
    "rxi": Func(_fn_rxi, 2, 2),
    "len": Func(_fn_len, 1, 1),
    "int": Func(functools.partial(_convert, int), 1, 1),
    "float": Func(functools.partial(_convert, float), 1, 1),
    "str": Func(_fn_str, 1, 1),
    "abs": Func(_fn_abs, 1, 1),
    "min": Func(_extreme("min", min), 1, 64),
    "max": Func(_extreme("max", max), 1, 64),
    "coalesce": Func(_fn_coalesce, 1, 64),
    "now": Func(time.time, 0, 0),
    "days": Func(_scaled("days", 86400), 1, 1),
    "hours": Func(_scaled("hours", 3600), 1, 1),
}

#: Functions an expression may call.
FUNCTION_NAMES: frozenset[str] = frozenset(FUNCTIONS)


# --------------------------------------------------------------------------- methods


def _str_replace(s: str, old: Any, new: Any) -> Any:
    if not (isinstance(old, str) and isinstance(new, str)):
        fault("replace() needs two strings")
    count = len(s) + 1 if old == "" else s.count(old)
    if len(s) + count * (len(new) - len(old)) > MAX_SIZE:
        fault(f"result too large (limit {MAX_SIZE:,} characters or items)")
    return s.replace(old, new)


def _str_affix(method: str) -> Callable[..., bool]:
    def impl(s: str, affix: Any) -> bool:
        if isinstance(affix, list | tuple):
            affix = tuple(affix)
            if not all(isinstance(a, str) for a in affix):
                fault(f"{method}() needs a string or a list of strings")
        elif not isinstance(affix, str):
            fault(f"{method}() needs a string or a list of strings")
        return bool(getattr(s, method)(affix))

    return impl


def _plain(method: str) -> Callable[..., Any]:
    def impl(receiver: Any, *args: Any) -> Any:
        return getattr(receiver, method)(*args)

    return impl


#: Methods per receiver type: name -> (implementation, min args, max args).
_METHODS: dict[type, dict[str, Func]] = {
    str: {
        "startswith": Func(_str_affix("startswith"), 1, 1),
        "endswith": Func(_str_affix("endswith"), 1, 1),
        "lower": Func(_plain("lower"), 0, 0),
        "upper": Func(_plain("upper"), 0, 0),
        "strip": Func(_plain("strip"), 0, 1),
        "lstrip": Func(_plain("lstrip"), 0, 1),
        "rstrip": Func(_plain("rstrip"), 0, 1),
        "split": Func(_plain("split"), 0, 2),
        "replace": Func(_str_replace, 2, 2),
        "count": Func(_plain("count"), 1, 1),
        "find": Func(_plain("find"), 1, 1),
        "removeprefix": Func(_plain("removeprefix"), 1, 1),
        "removesuffix": Func(_plain("removesuffix"), 1, 1),
        "isdigit": Func(_plain("isdigit"), 0, 0),
        "rx": Func(_fn_rx, 1, 1),
        "rxi": Func(_fn_rxi, 1, 1),
    },
    dict: {"get": Func(_plain("get"), 1, 2)},
    list: {"count": Func(_plain("count"), 1, 1)},
}

#: Every method name an expression may call, on some type.
METHOD_NAMES: frozenset[str] = frozenset(name for table in _METHODS.values() for name in table)


def method_arity(name: str) -> tuple[int, int]:
    """The fewest and most arguments method *name* takes, over the types that have it."""
    specs = [table[name] for table in _METHODS.values() if name in table]
    return min(s.min_args for s in specs), max(s.max_args for s in specs)


def call_method(receiver: Any, name: str, args: list[Any]) -> Any:
    """``receiver.name(*args)``, for a method of the receiver's type; ``None`` on ``None``."""
    if receiver is None:
        return None
    kind = list if isinstance(receiver, tuple) else type(receiver)
    spec = _METHODS.get(kind, {}).get(name)
    if spec is None:
        fault(f"{type_name(receiver)} has no method {name!r}")
    if not spec.min_args <= len(args) <= spec.max_args:
        fault(f"{name}() takes {arity_text(spec.min_args, spec.max_args)}")
    try:
        result = spec.impl(receiver, *args)
    except (TypeError, ValueError) as e:
        fault(f"{name}(): {e}")
    return bounded(result)


def arity_text(lo: int, hi: int) -> str:
    """How many arguments, in words: "1 argument", "0 to 2 arguments"."""
    if lo == hi:
        return f"{lo} argument{'s' if lo != 1 else ''}"
    return f"{lo} to {hi} arguments"
