"""The ``--where`` / ``--print`` expression language: a small, safe, Python-like language.

Text is parsed with :func:`ast.parse` (``mode="eval"``), and the tree is checked against a
whitelist and turned into plain Python closures once, by :func:`compile_expr`. Nothing is
ever handed to ``eval``, ``exec`` or ``compile``. The whitelist allows literals, record
names, comparisons, boolean logic, arithmetic, conditional expressions, subscripts, list
literals, a handful of helper functions and a handful of string methods. Everything else
(attributes, imports, lambdas, comprehensions, arbitrary builtins) is refused before any
repository is scanned, with an :class:`ExprError` whose offset points at the fault.

Evaluation is bounded: strings and lists may not grow past :data:`MAX_SIZE`, integers may
not grow past :data:`MAX_INT`, and exponents are checked before they are computed, so
``'a' * 10**10`` or ``2 ** 10**10`` fail at once instead of exhausting memory.
"""

from __future__ import annotations

import ast
import functools
import math
import re
import time
import unicodedata
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from gitoverit.query.help import HELP_TEXT
from gitoverit.query.names import RECORD_NAMES, record_env

#: Longest expression text accepted.
MAX_TEXT = 10_000
#: Deepest nesting of the expression tree accepted.
MAX_DEPTH = 100
#: Largest string (characters) or list (items, counting nested items and characters)
#: that an expression may build.
MAX_SIZE = 100_000
#: Integers produced by an expression must stay below this in absolute value.
MAX_INT = 10**100
#: Longest regular expression pattern accepted by ``rx``.
MAX_PATTERN = 1_000

Env = Mapping[str, Any]
_Fn = Callable[[Env], Any]


class ExprError(Exception):
    """A problem with an expression: a syntax error, a refused construct, or a runtime fault.

    ``text`` is the expression and ``offset`` the 0-based character index of the fault in
    it, or ``None`` when no single place is to blame.
    """

    def __init__(self, message: str, text: str = "", offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.text = text
        self.offset = offset

    def __str__(self) -> str:
        return self.message

    def render(self) -> str:
        """The message, the expression on one line, and a caret under the fault."""
        lines = [f"error: {self.message}"]
        if self.text:
            shown, widths = _display(self.text)
            lines.append(f"  {shown}")
            if self.offset is not None:
                pad = sum(widths[: max(0, min(self.offset, len(widths)))])
                lines.append("  " + " " * pad + "^")
        return "\n".join(lines)


def _display(text: str) -> tuple[str, list[int]]:
    """*text* made printable on one line, and the display width of each source character."""
    parts: list[str] = []
    widths: list[int] = []
    for ch in text:
        if ch in "\t\n\r\x0b\x0c":
            shown = " "
        elif unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp", "Cf"):
            code = ord(ch)
            shown = f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
        else:
            shown = ch
        parts.append(shown)
        if len(shown) > 1:
            widths.append(len(shown))
        elif unicodedata.combining(ch):
            widths.append(0)
        elif unicodedata.east_asian_width(ch) in ("W", "F"):
            widths.append(2)
        else:
            widths.append(1)
    return "".join(parts), widths


class _Fault(Exception):
    """A runtime fault raised by an operation; the node that ran it adds the offset."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _fault(message: str) -> NoReturn:
    raise _Fault(message)


def truthy(value: Any) -> bool:
    """Whether *value* counts as true for ``--where``: Python truthiness.

    ``None``, ``False``, ``0``, ``0.0``, ``""``, ``[]`` and ``{}`` are false; anything else
    is true.
    """
    return bool(value)


@dataclass(frozen=True, slots=True)
class Expr:
    """A checked expression, ready to evaluate against many records. Build with
    :func:`compile_expr`."""

    text: str
    _fn: _Fn = field(repr=False, compare=False)

    def evaluate(self, env: Env) -> Any:
        """The value of the expression for one record's names (see :func:`record_env`).

        Raises :class:`ExprError` for a runtime fault (a type mismatch, a division by zero,
        a result too large), and never any other exception.
        """
        try:
            return self._fn(env)
        except ExprError as e:
            raise ExprError(e.message, self.text, e.offset) from None
        except _Fault as e:
            raise ExprError(e.message, self.text, None) from None
        except RecursionError:
            raise ExprError("expression is too deeply nested", self.text, None) from None
        except Exception as e:  # a last guard: the contract is "only ExprError"
            raise ExprError(f"cannot evaluate: {e}", self.text, None) from None


# --------------------------------------------------------------------------- value rules


def _type_name(v: Any) -> str:
    if v is None:
        return "None"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list | tuple):
        return "list"
    if isinstance(v, dict):
        return "dict"
    return type(v).__name__


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float)


def _measure(v: Any, already: int = 0) -> int:
    """The size of *v*: characters of strings plus items of lists and dicts, nested.

    Stops and faults as soon as the total passes :data:`MAX_SIZE`, so shared nested lists
    cannot make this slow.
    """
    total = already
    stack = [v]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, list | tuple):
            total += 1 + len(item)
            if total <= MAX_SIZE:
                stack.extend(x for x in item if isinstance(x, str | list | tuple | dict))
        elif isinstance(item, dict):
            total += 1 + len(item)
            if total <= MAX_SIZE:
                stack.extend(item.keys())
                stack.extend(item.values())
        if total > MAX_SIZE:
            _fault(f"result too large (limit {MAX_SIZE:,} characters or items)")
    return total


def _bounded(v: Any) -> Any:
    """*v*, after checking it is within the size limits."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        if abs(v) >= MAX_INT:
            _fault("number too large (limit 10**100)")
    elif isinstance(v, complex):
        _fault("result is a complex number")
    elif isinstance(v, str | list | tuple | dict):
        _measure(v)
    return v


def _numbers(op: str, a: Any, b: Any) -> None:
    if not (_is_num(a) and _is_num(b)):
        _fault(f"unsupported operand types for {op}: {_type_name(a)} and {_type_name(b)}")


def _add(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if _is_num(a) and _is_num(b):
        return _bounded(a + b)
    if isinstance(a, str) and isinstance(b, str):
        _measure(b, _measure(a))
        return a + b
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        _measure(b, _measure(a))
        return [*a, *b]
    _fault(f"unsupported operand types for +: {_type_name(a)} and {_type_name(b)}")


def _sub(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    _numbers("-", a, b)
    return _bounded(a - b)


def _mul(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if _is_num(a) and _is_num(b):
        return _bounded(a * b)
    if isinstance(b, str | list | tuple) and isinstance(a, int):
        a, b = b, a
    if isinstance(a, str | list | tuple) and isinstance(b, int):
        if b <= 0:
            return "" if isinstance(a, str) else []
        if _measure(a) * b > MAX_SIZE:
            _fault(f"result too large (limit {MAX_SIZE:,} characters or items)")
        return a * b if isinstance(a, str) else list(a) * b
    _fault(f"unsupported operand types for *: {_type_name(a)} and {_type_name(b)}")


def _nonzero(b: Any) -> None:
    if b == 0:
        _fault("division by zero")


def _div(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    _numbers("/", a, b)
    _nonzero(b)
    return _bounded(a / b)


def _floordiv(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    _numbers("//", a, b)
    _nonzero(b)
    return _bounded(a // b)


def _mod(a: Any, b: Any) -> Any:
    # Only numbers: '%' on a string would be printf-style formatting, which can allocate
    # without bound ('%*d' % (10**9, 1)).
    if a is None or b is None:
        return None
    _numbers("%", a, b)
    _nonzero(b)
    return _bounded(a % b)


def _pow(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    _numbers("**", a, b)
    if isinstance(a, int) and isinstance(b, int):
        if b < 0 and a == 0:
            _fault("division by zero")
        if b > 0 and abs(a) > 1 and b * math.log2(abs(a)) > math.log2(MAX_INT) + 1:
            _fault("number too large (limit 10**100)")
    try:
        return _bounded(a**b)
    except OverflowError:
        _fault("number too large")
    except ZeroDivisionError:
        _fault("division by zero")


def _neg(a: Any) -> Any:
    if a is None:
        return None
    if not _is_num(a):
        _fault(f"bad operand type for unary -: {_type_name(a)}")
    return -a


def _pos(a: Any) -> Any:
    if a is None:
        return None
    if not _is_num(a):
        _fault(f"bad operand type for unary +: {_type_name(a)}")
    return +a


def _ordered(symbol: str, op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        if a is None or b is None:
            return False
        if (
            (_is_num(a) and _is_num(b))
            or (isinstance(a, str) and isinstance(b, str))
            or (isinstance(a, list | tuple) and isinstance(b, list | tuple))
        ):
            try:
                return bool(op(a, b))
            except TypeError:
                pass
        _fault(f"cannot compare {_type_name(a)} {symbol} {_type_name(b)}")

    return compare


def _contains(a: Any, b: Any) -> bool:
    if b is None:
        return False
    if isinstance(b, str):
        if a is None:
            return False
        if not isinstance(a, str):
            _fault(f"'in <string>' needs a string on the left, not {_type_name(a)}")
        return a in b
    if isinstance(b, list | tuple):
        return a in b
    if isinstance(b, dict):
        if isinstance(a, list | tuple | dict):
            _fault(f"a {_type_name(a)} cannot be a dict key")
        return a in b
    _fault(f"'in' needs a string, list or dict on the right, not {_type_name(b)}")


_BINOPS: dict[type[ast.operator], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", _add),
    ast.Sub: ("-", _sub),
    ast.Mult: ("*", _mul),
    ast.Div: ("/", _div),
    ast.FloorDiv: ("//", _floordiv),
    ast.Mod: ("%", _mod),
    ast.Pow: ("**", _pow),
}

_CMPOPS: dict[type[ast.cmpop], tuple[str, Callable[[Any, Any], bool]]] = {
    ast.Eq: ("==", lambda a, b: bool(a == b)),
    ast.NotEq: ("!=", lambda a, b: bool(a != b)),
    ast.Lt: ("<", _ordered("<", lambda a, b: a < b)),
    ast.LtE: ("<=", _ordered("<=", lambda a, b: a <= b)),
    ast.Gt: (">", _ordered(">", lambda a, b: a > b)),
    ast.GtE: (">=", _ordered(">=", lambda a, b: a >= b)),
    ast.In: ("in", _contains),
    ast.NotIn: ("not", lambda a, b: not _contains(a, b)),
    ast.Is: ("is", lambda a, b: a is b),
    ast.IsNot: ("is", lambda a, b: a is not b),
}


# --------------------------------------------------------------------------- functions

_NESTED_REPEAT_MSG = (
    "pattern repeats a group that itself repeats, like (a+)+; it could run for ever"
)


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
def _regex(pattern: str) -> re.Pattern[str]:
    if len(pattern) > MAX_PATTERN:
        _fault(f"pattern too long (limit {MAX_PATTERN:,} characters)")
    if _risky_pattern(pattern):
        _fault(_NESTED_REPEAT_MSG)
    try:
        return re.compile(pattern)
    except re.error as e:
        _fault(f"bad pattern: {e}")
    except (RecursionError, OverflowError):
        _fault("bad pattern: too complex")


def _fn_rx(s: Any, pattern: Any) -> bool:
    if not isinstance(pattern, str):
        _fault(f"rx() pattern must be a string, not {_type_name(pattern)}")
    compiled = _regex(pattern)
    if s is None:
        return False
    if not isinstance(s, str):
        _fault(f"rx() searches a string, not {_type_name(s)}")
    if len(s) > MAX_SIZE:
        _fault(f"rx() subject too long (limit {MAX_SIZE:,} characters)")
    return compiled.search(s) is not None


def _fn_len(x: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, str | list | tuple | dict):
        return len(x)
    _fault(f"len() needs a string, list or dict, not {_type_name(x)}")


def _convert(kind: type[int] | type[float], x: Any) -> Any:
    if x is None:
        return None
    if not isinstance(x, int | float | str):
        _fault(f"{kind.__name__}() cannot convert {_type_name(x)}")
    if isinstance(x, str) and len(x) > 1_000:
        _fault(f"{kind.__name__}(): string too long to be a number")
    try:
        return _bounded(kind(x))
    except (ValueError, OverflowError) as e:
        _fault(f"{kind.__name__}(): {e}")


def _fn_str(x: Any) -> str:
    if isinstance(x, str):
        return x
    if x is None or isinstance(x, int | float):
        return str(x)
    _measure(x)
    result = str(x)
    _bounded(result)
    return result


def _fn_abs(x: Any) -> Any:
    if x is None:
        return None
    if not _is_num(x):
        _fault(f"abs() needs a number, not {_type_name(x)}")
    return abs(x)


def _extreme(name: str, pick: Callable[[list[Any]], Any]) -> Callable[..., Any]:
    def impl(*args: Any) -> Any:
        items: Sequence[Any] = args
        if len(args) == 1 and isinstance(args[0], list | tuple):
            items = args[0]
        values = [v for v in items if v is not None]
        if not values:
            return None
        if not (all(_is_num(v) for v in values) or all(isinstance(v, str) for v in values)):
            _fault(f"{name}() needs all numbers or all strings")
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
        if not _is_num(n):
            _fault(f"{name}() needs a number, not {_type_name(n)}")
        return _bounded(n * factor)

    return impl


@dataclass(frozen=True, slots=True)
class _Func:
    impl: Callable[..., Any]
    min_args: int
    max_args: int


_FUNCTIONS: dict[str, _Func] = {
    "rx": _Func(_fn_rx, 2, 2),
    "len": _Func(_fn_len, 1, 1),
    "int": _Func(functools.partial(_convert, int), 1, 1),
    "float": _Func(functools.partial(_convert, float), 1, 1),
    "str": _Func(_fn_str, 1, 1),
    "abs": _Func(_fn_abs, 1, 1),
    "min": _Func(_extreme("min", min), 1, 64),
    "max": _Func(_extreme("max", max), 1, 64),
    "coalesce": _Func(_fn_coalesce, 1, 64),
    "now": _Func(time.time, 0, 0),
    "days": _Func(_scaled("days", 86400), 1, 1),
    "hours": _Func(_scaled("hours", 3600), 1, 1),
}

#: Functions an expression may call.
FUNCTION_NAMES: frozenset[str] = frozenset(_FUNCTIONS)


def _str_replace(s: str, old: Any, new: Any) -> Any:
    if not (isinstance(old, str) and isinstance(new, str)):
        _fault("replace() needs two strings")
    count = len(s) + 1 if old == "" else s.count(old)
    if len(s) + count * (len(new) - len(old)) > MAX_SIZE:
        _fault(f"result too large (limit {MAX_SIZE:,} characters or items)")
    return s.replace(old, new)


def _str_affix(method: str) -> Callable[..., bool]:
    def impl(s: str, affix: Any) -> bool:
        if isinstance(affix, list | tuple):
            affix = tuple(affix)
            if not all(isinstance(a, str) for a in affix):
                _fault(f"{method}() needs a string or a list of strings")
        elif not isinstance(affix, str):
            _fault(f"{method}() needs a string or a list of strings")
        return bool(getattr(s, method)(affix))

    return impl


def _plain(method: str) -> Callable[..., Any]:
    def impl(receiver: Any, *args: Any) -> Any:
        return getattr(receiver, method)(*args)

    return impl


#: Methods per receiver type: name -> (implementation, min args, max args).
_METHODS: dict[type, dict[str, _Func]] = {
    str: {
        "startswith": _Func(_str_affix("startswith"), 1, 1),
        "endswith": _Func(_str_affix("endswith"), 1, 1),
        "lower": _Func(_plain("lower"), 0, 0),
        "upper": _Func(_plain("upper"), 0, 0),
        "strip": _Func(_plain("strip"), 0, 1),
        "lstrip": _Func(_plain("lstrip"), 0, 1),
        "rstrip": _Func(_plain("rstrip"), 0, 1),
        "split": _Func(_plain("split"), 0, 2),
        "replace": _Func(_str_replace, 2, 2),
        "count": _Func(_plain("count"), 1, 1),
        "find": _Func(_plain("find"), 1, 1),
        "removeprefix": _Func(_plain("removeprefix"), 1, 1),
        "removesuffix": _Func(_plain("removesuffix"), 1, 1),
        "isdigit": _Func(_plain("isdigit"), 0, 0),
    },
    dict: {"get": _Func(_plain("get"), 1, 2)},
    list: {"count": _Func(_plain("count"), 1, 1)},
}

#: Every method name an expression may call, on some type.
METHOD_NAMES: frozenset[str] = frozenset(name for table in _METHODS.values() for name in table)


def _method_arity(name: str) -> tuple[int, int]:
    specs = [table[name] for table in _METHODS.values() if name in table]
    return min(s.min_args for s in specs), max(s.max_args for s in specs)


def _call_method(receiver: Any, name: str, args: list[Any]) -> Any:
    if receiver is None:
        return None
    kind = list if isinstance(receiver, tuple) else type(receiver)
    spec = _METHODS.get(kind, {}).get(name)
    if spec is None:
        _fault(f"{_type_name(receiver)} has no method {name!r}")
    if not spec.min_args <= len(args) <= spec.max_args:
        _fault(f"{name}() takes {_arity_text(spec.min_args, spec.max_args)}")
    try:
        result = spec.impl(receiver, *args)
    except (TypeError, ValueError) as e:
        _fault(f"{name}(): {e}")
    return _bounded(result)


def _arity_text(lo: int, hi: int) -> str:
    if lo == hi:
        return f"{lo} argument{'s' if lo != 1 else ''}"
    return f"{lo} to {hi} arguments"


# --------------------------------------------------------------------------- compiling

_REFUSED: dict[type[ast.AST], str] = {
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.NamedExpr: "assignment (:=) is not allowed",
    ast.JoinedStr: "f-strings are not supported",
    ast.FormattedValue: "f-strings are not supported",
    ast.Dict: "dict literals are not supported",
    ast.Set: "set literals are not supported",
    ast.Starred: "* unpacking is not supported",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.Slice: "a slice is only allowed directly inside [...]",
}


class _Compiler:
    """Checks an expression tree and turns each node into a closure over its children."""

    def __init__(self, text: str, names: frozenset[str]) -> None:
        self.text = text
        self.names = names
        # Line breaks count as spaces, and leading blanks are skipped, so the parsed source
        # is one line whose columns map straight back onto *text*.
        self.flat = text.replace("\r", " ").replace("\n", " ")
        self.lead = len(self.flat) - len(self.flat.lstrip(" \t\x0c"))
        self.source = self.flat[self.lead :]

    # -- positions

    def at(self, lineno: int | None, col: int | None) -> int | None:
        """The index in the text of an ast (line, UTF-8 byte column) position."""
        if lineno is None or col is None:
            return None
        if lineno != 1:
            return len(self.text)
        prefix = self.source.encode("utf-8")[:col]
        return self.lead + len(prefix.decode("utf-8", "ignore"))

    def syntax_offset(self, e: SyntaxError) -> int | None:
        """The index in the text that a parser error points at (its offset counts
        characters, from 1)."""
        if e.lineno is None or e.offset is None:
            return None
        if e.lineno != 1:
            return len(self.text)
        return min(self.lead + max(e.offset - 1, 0), len(self.text))

    def start(self, node: ast.AST) -> int | None:
        return self.at(getattr(node, "lineno", None), getattr(node, "col_offset", None))

    def end(self, node: ast.AST) -> int | None:
        return self.at(getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None))

    def between(self, left: ast.AST, right: ast.AST, symbol: str) -> int | None:
        """Where *symbol* (an operator) sits between two operands; else the left's start."""
        lo, hi = self.end(left), self.start(right)
        if lo is not None and hi is not None:
            found = self.flat.find(symbol, lo, hi)
            if found >= 0:
                return found
        return self.start(left)

    def error(self, message: str, offset: int | None) -> NoReturn:
        raise ExprError(message, self.text, offset)

    # -- nodes

    def build(self, node: ast.AST, depth: int = 0) -> _Fn:
        if depth > MAX_DEPTH:
            self.error(f"expression is nested too deeply (limit {MAX_DEPTH})", self.start(node))
        for kind, message in _REFUSED.items():
            if isinstance(node, kind):
                self.error(message, self.start(node))
        method = getattr(self, f"build_{type(node).__name__}", None)
        if method is None:
            self.error(f"{type(node).__name__} is not supported", self.start(node))
        fn: _Fn = method(node, depth + 1)
        return fn

    def build_Constant(self, node: ast.Constant, depth: int) -> _Fn:
        value = node.value
        if value is not None and not isinstance(value, bool | int | float | str):
            self.error("only numbers, strings, True, False and None are allowed", self.start(node))
        try:
            _bounded(value)
        except _Fault as e:
            self.error(e.message, self.start(node))
        return lambda env: value

    def build_Name(self, node: ast.Name, depth: int) -> _Fn:
        name = node.id
        off = self.start(node)
        if name not in self.names:
            if name in _FUNCTIONS:
                self.error(f"{name} is a function: call it, as in {name}(...)", off)
            self.error(f"unknown name {name!r}{_suggest(name, self.names)}", off)

        def lookup(env: Env) -> Any:
            try:
                return env[name]
            except KeyError:
                raise ExprError(f"name {name!r} has no value here", offset=off) from None

        return lookup

    def build_Expression(self, node: ast.Expression, depth: int) -> _Fn:
        return self.build(node.body, depth)

    def build_BoolOp(self, node: ast.BoolOp, depth: int) -> _Fn:
        parts = [self.build(v, depth) for v in node.values]
        if isinstance(node.op, ast.And):

            def and_(env: Env) -> Any:
                value: Any = True
                for part in parts:
                    value = part(env)
                    if not truthy(value):
                        return value
                return value

            return and_

        def or_(env: Env) -> Any:
            value: Any = False
            for part in parts:
                value = part(env)
                if truthy(value):
                    return value
            return value

        return or_

    def build_UnaryOp(self, node: ast.UnaryOp, depth: int) -> _Fn:
        operand = self.build(node.operand, depth)
        off = self.start(node)
        if isinstance(node.op, ast.Not):
            return lambda env: not truthy(operand(env))
        if isinstance(node.op, ast.USub):
            op = _neg
        elif isinstance(node.op, ast.UAdd):
            op = _pos
        else:
            self.error("operator ~ is not supported", off)

        def unary(env: Env) -> Any:
            value = operand(env)
            try:
                return op(value)
            except _Fault as e:
                raise ExprError(e.message, offset=off) from None

        return unary

    def build_BinOp(self, node: ast.BinOp, depth: int) -> _Fn:
        left = self.build(node.left, depth)
        right = self.build(node.right, depth)
        spec = _BINOPS.get(type(node.op))
        if spec is None:
            symbol = {
                ast.LShift: "<<",
                ast.RShift: ">>",
                ast.BitAnd: "&",
                ast.BitOr: "|",
                ast.BitXor: "^",
                ast.MatMult: "@",
            }.get(type(node.op), "?")
            off = self.between(node.left, node.right, symbol)
            self.error(f"operator {symbol} is not supported", off)
        symbol, op = spec
        off = self.between(node.left, node.right, symbol)

        def binop(env: Env) -> Any:
            a = left(env)
            b = right(env)
            try:
                return op(a, b)
            except _Fault as e:
                raise ExprError(e.message, offset=off) from None

        return binop

    def build_Compare(self, node: ast.Compare, depth: int) -> _Fn:
        first = self.build(node.left, depth)
        parts: list[tuple[Callable[[Any, Any], bool], _Fn, int | None]] = []
        previous: ast.AST = node.left
        for cmpop, comparator in zip(node.ops, node.comparators, strict=True):
            symbol, op = _CMPOPS[type(cmpop)]
            off = self.between(previous, comparator, symbol)
            if isinstance(cmpop, ast.Is | ast.IsNot) and not (
                isinstance(comparator, ast.Constant)
                and (comparator.value is None or isinstance(comparator.value, bool))
            ):
                self.error(
                    "'is' and 'is not' only compare with None, True or False; use == or !=",
                    self.start(comparator),
                )
            parts.append((op, self.build(comparator, depth), off))
            previous = comparator

        def compare(env: Env) -> bool:
            a = first(env)
            for op, part, off in parts:
                b = part(env)
                try:
                    if not op(a, b):
                        return False
                except _Fault as e:
                    raise ExprError(e.message, offset=off) from None
                a = b
            return True

        return compare

    def build_IfExp(self, node: ast.IfExp, depth: int) -> _Fn:
        test = self.build(node.test, depth)
        body = self.build(node.body, depth)
        orelse = self.build(node.orelse, depth)
        return lambda env: body(env) if truthy(test(env)) else orelse(env)

    def build_List(self, node: ast.List | ast.Tuple, depth: int) -> _Fn:
        items = [self.build(e, depth) for e in node.elts]
        off = self.start(node)

        def listing(env: Env) -> list[Any]:
            result = [item(env) for item in items]
            try:
                _measure(result)
            except _Fault as e:
                raise ExprError(e.message, offset=off) from None
            return result

        return listing

    build_Tuple = build_List

    def build_Subscript(self, node: ast.Subscript, depth: int) -> _Fn:
        container = self.build(node.value, depth)
        off = self.start(node.slice)
        if isinstance(node.slice, ast.Slice):
            bounds = [
                None if part is None else self.build(part, depth)
                for part in (node.slice.lower, node.slice.upper, node.slice.step)
            ]

            def slicing(env: Env) -> Any:
                value = container(env)
                lo, hi, step = (None if b is None else b(env) for b in bounds)
                try:
                    return _slice(value, lo, hi, step)
                except _Fault as e:
                    raise ExprError(e.message, offset=off) from None

            return slicing

        index = self.build(node.slice, depth)

        def subscript(env: Env) -> Any:
            value = container(env)
            key = index(env)
            try:
                return _item(value, key)
            except _Fault as e:
                raise ExprError(e.message, offset=off) from None

        return subscript

    def build_Attribute(self, node: ast.Attribute, depth: int) -> _Fn:
        off = self.attr_offset(node)
        if node.attr in METHOD_NAMES:
            self.error(f"{node.attr} is a method: call it, as in x.{node.attr}()", off)
        self.error(
            f"unknown attribute {node.attr!r}; only these methods can be called: "
            + ", ".join(sorted(METHOD_NAMES)),
            off,
        )

    def attr_offset(self, node: ast.Attribute) -> int | None:
        end = self.end(node)
        return None if end is None else end - len(node.attr)

    def build_Call(self, node: ast.Call, depth: int) -> _Fn:
        off = self.start(node)
        if node.keywords:
            self.error("keyword arguments are not supported", self.start(node.keywords[0]))
        func = node.func
        if isinstance(func, ast.Name):
            spec = _FUNCTIONS.get(func.id)
            if spec is None:
                if func.id in self.names:
                    self.error(f"{func.id!r} is not a function", off)
                self.error(
                    f"unknown function {func.id!r}; functions are: "
                    + ", ".join(sorted(_FUNCTIONS)),
                    off,
                )
            if not spec.min_args <= len(node.args) <= spec.max_args:
                self.error(f"{func.id}() takes {_arity_text(spec.min_args, spec.max_args)}", off)
            if func.id == "rx" and isinstance(node.args[1], ast.Constant):
                pattern = node.args[1].value
                if isinstance(pattern, str):
                    try:
                        _regex(pattern)
                    except _Fault as e:
                        self.error(e.message, self.start(node.args[1]))
            args = [self.build(a, depth) for a in node.args]
            impl = spec.impl

            def call(env: Env) -> Any:
                values = [a(env) for a in args]
                try:
                    return _bounded(impl(*values))
                except _Fault as e:
                    raise ExprError(e.message, offset=off) from None

            return call
        if isinstance(func, ast.Attribute):
            receiver = self.build(func.value, depth)
            name = func.attr
            name_off = self.attr_offset(func)
            if name not in METHOD_NAMES:
                self.error(
                    f"unknown method {name!r}; methods are: " + ", ".join(sorted(METHOD_NAMES)),
                    name_off,
                )
            lo, hi = _method_arity(name)
            if not lo <= len(node.args) <= hi:
                self.error(f"{name}() takes {_arity_text(lo, hi)}", name_off)
            args = [self.build(a, depth) for a in node.args]

            def method_call(env: Env) -> Any:
                value = receiver(env)
                values = [a(env) for a in args]
                try:
                    return _call_method(value, name, values)
                except _Fault as e:
                    raise ExprError(e.message, offset=name_off) from None

            return method_call
        self.build(func, depth)  # a refused construct (lambda, ...) says so first
        self.error("only functions and string methods can be called", off)


def _item(value: Any, key: Any) -> Any:
    if value is None or key is None:
        return None
    if isinstance(value, dict):
        if isinstance(key, list | tuple | dict):
            _fault(f"a {_type_name(key)} cannot be a dict key")
        return value.get(key)
    if isinstance(value, str | list | tuple):
        if not isinstance(key, int):
            _fault(f"{_type_name(value)} index must be an integer, not {_type_name(key)}")
        if -len(value) <= key < len(value):
            return value[key]
        return None
    _fault(f"{_type_name(value)} cannot be subscripted")


def _slice(value: Any, lo: Any, hi: Any, step: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str | list | tuple):
        _fault(f"{_type_name(value)} cannot be sliced")
    for bound in (lo, hi, step):
        if bound is not None and not isinstance(bound, int):
            _fault(f"slice bounds must be integers, not {_type_name(bound)}")
    if step == 0:
        _fault("slice step cannot be zero")
    result = value[lo:hi:step]
    return list(result) if isinstance(result, tuple) else result


def _suggest(name: str, names: Collection[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(names), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _first_bad_attribute(tree: ast.AST, compiler: _Compiler) -> tuple[str, int | None] | None:
    """The earliest attribute whose name starts with ``_``, anywhere in *tree*."""
    bad = [
        (compiler.attr_offset(n), n.attr)
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and n.attr.startswith("_")
    ]
    if not bad:
        return None
    offset, attr = min(bad, key=lambda b: -1 if b[0] is None else b[0])
    return attr, offset


def compile_expr(text: str, names: Collection[str] | None = None) -> Expr:
    """Check *text* and return an :class:`Expr` for it.

    *names* are the names a record provides (default :data:`RECORD_NAMES`). Raises
    :class:`ExprError`, with the offset of the fault, for a syntax error, an unknown name
    or function, an attribute starting with ``_``, or any construct outside the language.
    """
    allowed = RECORD_NAMES if names is None else frozenset(names)
    if len(text) > MAX_TEXT:
        raise ExprError(f"expression too long (limit {MAX_TEXT:,} characters)", text, MAX_TEXT)
    for i, ch in enumerate(text):
        if ch == "\x00" or "\ud800" <= ch <= "\udfff":
            raise ExprError("expression contains a NUL or undecodable character", text, i)
    if not text.strip():
        raise ExprError("empty expression", text, 0)
    compiler = _Compiler(text, allowed)
    try:
        with warnings.catch_warnings():
            # Invalid escapes like "\d" in a pattern are fine here; do not print warnings.
            warnings.simplefilter("ignore")
            tree = ast.parse(compiler.source + "\n", mode="eval")
    except SyntaxError as e:
        offset = compiler.syntax_offset(e)
        message = e.msg
        if message == "invalid syntax" and text.lstrip().startswith(
            ("import ", "from ", "del ", "global ", "def ", "class ")
        ):
            message = "invalid syntax: only expressions are allowed, not statements"
        raise ExprError(message, text, offset) from None
    except (RecursionError, MemoryError):
        raise ExprError("expression is nested too deeply", text, None) from None
    except ValueError as e:
        raise ExprError(f"cannot parse: {e}", text, None) from None
    bad = _first_bad_attribute(tree, compiler)
    if bad is not None:
        attr, offset = bad
        raise ExprError(
            f"attribute {attr!r} is not allowed: names starting with '_' are private", text, offset
        )
    return Expr(text, compiler.build(tree))


__all__ = [
    "FUNCTION_NAMES",
    "HELP_TEXT",
    "MAX_INT",
    "MAX_SIZE",
    "METHOD_NAMES",
    "RECORD_NAMES",
    "Expr",
    "ExprError",
    "compile_expr",
    "record_env",
    "truthy",
]
