"""Static types: what kinds of value each part of an expression can have, known before any
record is read, so that a type mismatch such as ``ahead > "x"`` is refused at once.

A static type is a set of kinds, named as the language's messages name them: ``None``,
``bool``, ``int``, ``float``, ``string``, ``list``, ``dict``. Each name's type comes from
the mapping the caller gives (:data:`~gitoverit.query.names.RECORD_TYPES` for a record);
a name it does not list, an item of a list or dict, and ``d.get(...)`` can be anything.

An operator, function or method is refused only when it would fail for every combination
of the kinds its operands can have, ``None`` left aside: ``None`` means "not read", and
the operators let it through (``ahead > 0`` with no upstream is false, not an error). So
``ahead > 0`` passes (``ahead`` is an int or ``None``) and ``ahead > "x"`` is refused, with
the message the evaluator would give and the offset of the operator.

Every operation is tried on sample values of each kind, with the very functions the
evaluator runs, so this check cannot drift from what happens at run time. Faults that
depend on a value rather than its kind (division by zero, a result over a limit, an
``int("x")``) are left to run time.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NoReturn

from gitoverit.query.checker import Checked
from gitoverit.query.functions import FUNCTIONS, call_method
from gitoverit.query.parser import ExprError, Source
from gitoverit.query.values import (
    BINOPS,
    CMPOPS,
    Fault,
    bounded,
    item_of,
    negate,
    plus,
    slice_of,
    type_name,
)

#: A static type: the kinds of value an expression can have.
StaticType = frozenset[str]

#: Sample values of each kind. No number is 0 and the string reads as a number, so that
#: only a fault caused by a kind, never one caused by a value, rejects an expression.
_SAMPLES: dict[str, tuple[Any, ...]] = {
    "None": (None,),
    "bool": (True, False),
    "int": (1, 2, -1),
    "float": (1.5,),
    "string": ("1",),
    "list": ([],),
    "dict": ({},),
}

#: Every kind a value of the language can have.
KINDS: tuple[str, ...] = tuple(_SAMPLES)

#: The type of a value that can be anything.
ANY: StaticType = frozenset(KINDS)

_NUMBERS = frozenset({"bool", "int", "float"})
_NONE: StaticType = frozenset({"None"})
_BOOL: StaticType = frozenset({"bool"})
_LIST: StaticType = frozenset({"list"})


def static_type(*kinds: str) -> StaticType:
    """The static type of the given kinds: ``static_type("int", "None")``."""
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown kinds {unknown}; kinds are {', '.join(KINDS)}")
    return frozenset(kinds)


def type_check(checked: Checked, types: Mapping[str, StaticType]) -> StaticType:
    """The static type of *checked*, whose names have the *types* given.

    Raises :class:`ExprError`, pointing at the operator, call or subscript, for the first
    operation (depth first, left to right) that fails for every kind its operands can have.
    """
    return _Typer(checked.source, types).type(checked.tree)


def _samples(kinds: StaticType, strict: bool) -> Iterator[Any]:
    """Sample values of *kinds*; with *strict*, of those other than ``None`` if any."""
    if strict and kinds != _NONE:
        kinds = kinds - _NONE
    for kind in KINDS:
        if kind in kinds:
            yield from _SAMPLES[kind]


def _apply(fn: Callable[..., Any], operands: Sequence[StaticType]) -> tuple[StaticType, str | None]:
    """The kinds *fn* returns for *operands*, and the fault message if it can never work.

    The message is that of the first fault, when no combination of sample values (``None``
    left aside) succeeds; else ``None``.
    """
    message: str | None = None
    for combo in itertools.product(*(list(_samples(t, strict=True)) for t in operands)):
        try:
            fn(*combo)
            break
        except Fault as e:
            message = message or e.message
        except Exception:  # not a fault of the language: leave it to run time
            break
    else:
        if message is not None:
            return ANY, message
    kinds: set[str] = set()
    for combo in itertools.product(*(list(_samples(t, strict=False)) for t in operands)):
        try:
            kinds.add(type_name(fn(*combo)))
        except Fault:
            continue
        except Exception:
            return ANY, None
    return frozenset(kinds) & ANY or ANY, None


def _method(name: str) -> Callable[..., Any]:
    def call(receiver: Any, *args: Any) -> Any:
        return call_method(receiver, name, list(args))

    return call


def _function(impl: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        return bounded(impl(*args))

    return call


class _Typer:
    """Works out the static type of each node, depth first, left to right, and raises at
    the first operation that cannot work."""

    def __init__(self, source: Source, types: Mapping[str, StaticType]) -> None:
        self.source = source
        self.types = types
        #: What :func:`_apply` found, by operation and operand types: long expressions
        #: often repeat an operation, and trying samples is the costly part.
        self.known: dict[tuple[object, tuple[StaticType, ...]], tuple[StaticType, str | None]] = {}

    def error(self, message: str, offset: int | None) -> NoReturn:
        raise ExprError(message, self.source.text, offset)

    def apply(
        self,
        fn: Callable[..., Any],
        operands: Sequence[StaticType],
        offset: int | None,
        key: object = None,
    ) -> StaticType:
        """The kinds *fn* (known as *key*, default itself) returns for *operands*; raises
        at *offset* when it can never work."""
        kinds, message = self.tried(fn, operands, key)
        if message is not None:
            self.error(message, offset)
        return kinds

    def tried(
        self, fn: Callable[..., Any], operands: Sequence[StaticType], key: object = None
    ) -> tuple[StaticType, str | None]:
        known = (fn if key is None else key, tuple(operands))
        if known not in self.known:
            self.known[known] = _apply(fn, operands)
        return self.known[known]

    def type(self, node: ast.AST) -> StaticType:
        method: Callable[[Any], StaticType] = getattr(self, f"type_{type(node).__name__}")
        return method(node)

    def type_Expression(self, node: ast.Expression) -> StaticType:
        return self.type(node.body)

    def type_Constant(self, node: ast.Constant) -> StaticType:
        return frozenset({type_name(node.value)})

    def type_Name(self, node: ast.Name) -> StaticType:
        return self.types.get(node.id, ANY)

    def type_BoolOp(self, node: ast.BoolOp) -> StaticType:
        # ``a and b`` and ``a or b`` give one of their operands, as in Python.
        return frozenset().union(*(self.type(v) for v in node.values))

    def type_UnaryOp(self, node: ast.UnaryOp) -> StaticType:
        operand = self.type(node.operand)
        if isinstance(node.op, ast.Not):
            return _BOOL
        op = negate if isinstance(node.op, ast.USub) else plus
        return self.apply(op, [operand], self.source.start(node))

    def type_BinOp(self, node: ast.BinOp) -> StaticType:
        left = self.type(node.left)
        right = self.type(node.right)
        symbol, op = BINOPS[type(node.op)]
        return self.apply(op, [left, right], self.source.between(node.left, node.right, symbol))

    def type_Compare(self, node: ast.Compare) -> StaticType:
        previous: ast.expr = node.left
        left = self.type(node.left)
        for cmpop, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.type(comparator)
            symbol, op = CMPOPS[type(cmpop)]
            _kinds, message = self.tried(op, [left, right])
            if message is not None:
                hint = _number_hint(previous, comparator, left | right)
                self.error(message + hint, self.source.between(previous, comparator, symbol))
            previous, left = comparator, right
        return _BOOL

    def type_IfExp(self, node: ast.IfExp) -> StaticType:
        self.type(node.test)
        return self.type(node.body) | self.type(node.orelse)

    def type_List(self, node: ast.List | ast.Tuple) -> StaticType:
        for element in node.elts:
            self.type(element)
        return _LIST

    type_Tuple = type_List

    def type_Subscript(self, node: ast.Subscript) -> StaticType:
        value = self.type(node.value)
        off = self.source.start(node.slice)
        if isinstance(node.slice, ast.Slice):
            bounds = [
                _NONE if part is None else self.type(part)
                for part in (node.slice.lower, node.slice.upper, node.slice.step)
            ]
            return self.apply(slice_of, [value, *bounds], off)
        self.apply(item_of, [value, self.type(node.slice)], off)
        # An item of a string is a string, or None out of range; of a list or dict, anything.
        kinds: StaticType = _NONE
        if "string" in value:
            kinds |= {"string"}
        if value & {"list", "dict"}:
            kinds = ANY
        return kinds

    def type_Call(self, node: ast.Call) -> StaticType:
        args = [self.type(a) for a in node.args]
        func = node.func
        if isinstance(func, ast.Attribute):
            receiver = self.type(func.value)
            kinds = self.apply(
                _method(func.attr),
                [receiver, *args],
                self.source.attr_offset(func),
                key=("method", func.attr),
            )
            return ANY if func.attr == "get" and "dict" in receiver else kinds
        assert isinstance(func, ast.Name)  # the checker lets no other callee through
        name = func.id
        if name == "coalesce":
            return _coalesce(args)
        if name in ("min", "max"):
            return self.extreme(node, name, args)
        return self.apply(
            _function(FUNCTIONS[name].impl), args, self.source.start(node), key=("function", name)
        )

    def extreme(self, node: ast.Call, name: str, args: list[StaticType]) -> StaticType:
        """``min`` and ``max``: all numbers or all strings, leaving ``None`` aside; or one
        list, whose items can be anything."""
        if len(args) == 1:
            return ANY if "list" in args[0] else args[0] | _NONE
        given = [t - _NONE for t in args if t != _NONE]
        if not (all(t & _NUMBERS for t in given) or all("string" in t for t in given)):
            self.error(f"{name}() needs all numbers or all strings", self.source.start(node))
        return frozenset().union(*args) | _NONE


def _coalesce(args: list[StaticType]) -> StaticType:
    """The first argument that is not ``None``: any argument up to the first that cannot
    be ``None``, and ``None`` only if every argument can be."""
    kinds: StaticType = frozenset()
    for t in args:
        kinds |= t - _NONE
        if "None" not in t:
            return kinds
    return kinds | _NONE


def _number_hint(left: ast.expr, right: ast.expr, kinds: StaticType) -> str:
    """A hint for a number written in quotes, as in ``ahead > "3"``."""
    for side in (left, right):
        if isinstance(side, ast.Constant) and isinstance(side.value, str) and kinds & _NUMBERS:
            try:
                number = float(side.value)
            except ValueError:
                continue
            if number == number and abs(number) != float("inf"):
                return f"; to compare with a number, drop the quotes: {side.value.strip()}"
    return ""
