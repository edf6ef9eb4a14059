"""What the language's operators do to values, and the size bounds every result must keep.

Each operation takes plain Python values (``None``, booleans, numbers, strings, lists and
dicts) and either returns a value or raises :class:`Fault` with a message for the user; the
evaluator adds the position of the operator. ``None`` propagates through arithmetic and
subscripts, and ordering comparisons with ``None`` are false, so a field that was not read
drops a record instead of failing the whole run.

Strings and lists may not grow past :data:`MAX_SIZE`, integers may not grow past
:data:`MAX_INT`, and exponents are checked before they are computed, so ``'a' * 10**10``
or ``2 ** 10**10`` fail at once instead of exhausting memory.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any, NoReturn

#: Largest string (characters) or list (items, counting nested items and characters)
#: that an expression may build.
MAX_SIZE = 100_000
#: Integers produced by an expression must stay below this in absolute value.
MAX_INT = 10**100


class Fault(Exception):
    """A runtime fault raised by an operation; the node that ran it adds the offset."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def fault(message: str) -> NoReturn:
    raise Fault(message)


def type_name(v: Any) -> str:
    """The name of *v*'s type as the language calls it ("string", "list", ...)."""
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


def is_num(v: Any) -> bool:
    return isinstance(v, int | float)


def measure(v: Any, already: int = 0) -> int:
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
            fault(f"result too large (limit {MAX_SIZE:,} characters or items)")
    return total


def bounded(v: Any) -> Any:
    """*v*, after checking it is within the size limits."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        if abs(v) >= MAX_INT:
            fault("number too large (limit 10**100)")
    elif isinstance(v, complex):
        fault("result is a complex number")
    elif isinstance(v, str | list | tuple | dict):
        measure(v)
    return v


# --------------------------------------------------------------------------- arithmetic


def _numbers(op: str, a: Any, b: Any) -> None:
    if not (is_num(a) and is_num(b)):
        fault(f"unsupported operand types for {op}: {type_name(a)} and {type_name(b)}")


def _add(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if is_num(a) and is_num(b):
        return bounded(a + b)
    if isinstance(a, str) and isinstance(b, str):
        measure(b, measure(a))
        return a + b
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        measure(b, measure(a))
        return [*a, *b]
    fault(f"unsupported operand types for +: {type_name(a)} and {type_name(b)}")


def _sub(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    _numbers("-", a, b)
    return bounded(a - b)


def _mul(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if is_num(a) and is_num(b):
        return bounded(a * b)
    if isinstance(b, str | list | tuple) and isinstance(a, int):
        a, b = b, a
    if isinstance(a, str | list | tuple) and isinstance(b, int):
        if b <= 0:
            return "" if isinstance(a, str) else []
        if measure(a) * b > MAX_SIZE:
            fault(f"result too large (limit {MAX_SIZE:,} characters or items)")
        return a * b if isinstance(a, str) else list(a) * b
    fault(f"unsupported operand types for *: {type_name(a)} and {type_name(b)}")


def _nonzero(b: Any) -> None:
    if b == 0:
        fault("division by zero")


def _div(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    _numbers("/", a, b)
    _nonzero(b)
    return bounded(a / b)


def _floordiv(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    _numbers("//", a, b)
    _nonzero(b)
    return bounded(a // b)


def _mod(a: Any, b: Any) -> Any:
    # Only numbers: '%' on a string would be printf-style formatting, which can allocate
    # without bound ('%*d' % (10**9, 1)).
    if a is None or b is None:
        return None
    _numbers("%", a, b)
    _nonzero(b)
    return bounded(a % b)


def _pow(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    _numbers("**", a, b)
    if isinstance(a, int) and isinstance(b, int):
        if b < 0 and a == 0:
            fault("division by zero")
        if b > 0 and abs(a) > 1 and b * math.log2(abs(a)) > math.log2(MAX_INT) + 1:
            fault("number too large (limit 10**100)")
    try:
        return bounded(a**b)
    except OverflowError:
        fault("number too large")
    except ZeroDivisionError:
        fault("division by zero")


def negate(a: Any) -> Any:
    """Unary ``-``."""
    if a is None:
        return None
    if not is_num(a):
        fault(f"bad operand type for unary -: {type_name(a)}")
    return -a


def plus(a: Any) -> Any:
    """Unary ``+``."""
    if a is None:
        return None
    if not is_num(a):
        fault(f"bad operand type for unary +: {type_name(a)}")
    return +a


# --------------------------------------------------------------------------- comparisons


def _ordered(symbol: str, op: Callable[[Any, Any], Any], a: Any, b: Any) -> bool:
    """``a <symbol> b`` with *op*, for two numbers, two strings or two lists; false when
    either is ``None``."""
    if a is None or b is None:
        return False
    if (
        (is_num(a) and is_num(b))
        or (isinstance(a, str) and isinstance(b, str))
        or (isinstance(a, list | tuple) and isinstance(b, list | tuple))
    ):
        try:
            return bool(op(a, b))
        except TypeError:
            pass
    fault(f"cannot compare {type_name(a)} {symbol} {type_name(b)}")


def _contains(a: Any, b: Any) -> bool:
    if b is None:
        return False
    if isinstance(b, str):
        if a is None:
            return False
        if not isinstance(a, str):
            fault(f"'in <string>' needs a string on the left, not {type_name(a)}")
        return a in b
    if isinstance(b, list | tuple):
        return a in b
    if isinstance(b, dict):
        if isinstance(a, list | tuple | dict):
            fault(f"a {type_name(a)} cannot be a dict key")
        return a in b
    fault(f"'in' needs a string, list or dict on the right, not {type_name(b)}")


#: The binary operators of the language: ast operator -> (symbol, operation).
BINOPS: dict[type[ast.operator], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", _add),
    ast.Sub: ("-", _sub),
    ast.Mult: ("*", _mul),
    ast.Div: ("/", _div),
    ast.FloorDiv: ("//", _floordiv),
    ast.Mod: ("%", _mod),
    ast.Pow: ("**", _pow),
}

#: Every comparison operator: ast operator -> (the symbol an error points at, operation).
CMPOPS: dict[type[ast.cmpop], tuple[str, Callable[[Any, Any], bool]]] = {
    ast.Eq: ("==", lambda a, b: bool(a == b)),
    ast.NotEq: ("!=", lambda a, b: bool(a != b)),
    ast.Lt: ("<", lambda a, b: _ordered("<", operator.lt, a, b)),
    ast.LtE: ("<=", lambda a, b: _ordered("<=", operator.le, a, b)),
    ast.Gt: (">", lambda a, b: _ordered(">", operator.gt, a, b)),
    ast.GtE: (">=", lambda a, b: _ordered(">=", operator.ge, a, b)),
    ast.In: ("in", _contains),
    ast.NotIn: ("not", lambda a, b: not _contains(a, b)),
    ast.Is: ("is", lambda a, b: a is b),
    ast.IsNot: ("is", lambda a, b: a is not b),
}


# --------------------------------------------------------------------------- subscripts


def item_of(value: Any, key: Any) -> Any:
    """``value[key]``: ``None`` for a missing dict key or an index out of range."""
    if value is None or key is None:
        return None
    if isinstance(value, dict):
        if isinstance(key, list | tuple | dict):
            fault(f"a {type_name(key)} cannot be a dict key")
        return value.get(key)
    if isinstance(value, str | list | tuple):
        if not isinstance(key, int):
            fault(f"{type_name(value)} index must be an integer, not {type_name(key)}")
        if -len(value) <= key < len(value):
            return value[key]
        return None
    fault(f"{type_name(value)} cannot be subscripted")


def slice_of(value: Any, lo: Any, hi: Any, step: Any) -> Any:
    """``value[lo:hi:step]``, a list for a list."""
    if value is None:
        return None
    if not isinstance(value, str | list | tuple):
        fault(f"{type_name(value)} cannot be sliced")
    for bound in (lo, hi, step):
        if bound is not None and not isinstance(bound, int):
            fault(f"slice bounds must be integers, not {type_name(bound)}")
    if step == 0:
        fault("slice step cannot be zero")
    result = value[lo:hi:step]
    return list(result) if isinstance(result, tuple) else result
