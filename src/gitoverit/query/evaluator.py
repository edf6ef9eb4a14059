"""Evaluation: a checked tree turned into plain Python closures, run against records.

:func:`compile_expr` parses and checks the text, then builds one closure per node, once;
:meth:`Expr.evaluate` runs them against each record's names. Nothing is ever handed to
``eval``, ``exec`` or ``compile``: the closures only call the operations of
:mod:`gitoverit.query.values` and the functions and methods of
:mod:`gitoverit.query.functions`, and turn their faults into an :class:`ExprError` that
points at the operator, call or subscript that failed.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from gitoverit.query.checker import check
from gitoverit.query.functions import FUNCTIONS, call_method
from gitoverit.query.names import RECORD_NAMES
from gitoverit.query.parser import ExprError, Source, parse
from gitoverit.query.typecheck import StaticType, type_check
from gitoverit.query.values import (
    BINOPS,
    CMPOPS,
    Fault,
    bounded,
    item_of,
    measure,
    negate,
    plus,
    slice_of,
)

#: The names an expression is evaluated against, as
#: :func:`~gitoverit.query.names.record_env` gives them.
Env = Mapping[str, Any]
_Fn = Callable[[Env], Any]


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
    #: The record names the expression reads.
    names: frozenset[str] = frozenset()

    def evaluate(self, env: Env) -> Any:
        """The value of the expression for one record's names (see
        :func:`~gitoverit.query.names.record_env`).

        Raises :class:`ExprError` for a runtime fault (a type mismatch, a division by zero,
        a result too large), and never any other exception.
        """
        try:
            return self._fn(env)
        except ExprError as e:
            raise ExprError(e.message, self.text, e.offset) from None
        except Fault as e:
            raise ExprError(e.message, self.text, None) from None
        except RecursionError:
            raise ExprError("expression is too deeply nested", self.text, None) from None
        except Exception as e:  # a last guard: the contract is "only ExprError"
            raise ExprError(f"cannot evaluate: {e}", self.text, None) from None


def compile_expr(
    text: str,
    names: Collection[str] | None = None,
    types: Mapping[str, StaticType] | None = None,
) -> Expr:
    """Check *text* and return an :class:`Expr` for it.

    *names* are the names a record provides (default
    :data:`~gitoverit.query.names.RECORD_NAMES`). Raises
    :class:`ExprError`, with the offset of the fault, for a syntax error, an unknown name
    or function, an attribute starting with ``_``, or any construct outside the language.

    With *types*, the static type of each name (such as
    :data:`~gitoverit.query.names.RECORD_TYPES`), an operation that cannot work for the
    kinds of its operands (``ahead > "x"``, ``len(ahead)``) is an :class:`ExprError` too
    (see :mod:`~gitoverit.query.typecheck`); without, it faults when evaluated.
    """
    allowed = RECORD_NAMES if names is None else frozenset(names)
    checked = check(parse(text), allowed, types)
    if types is not None:
        type_check(checked, types)
    used = frozenset(
        n.id for n in ast.walk(checked.tree) if isinstance(n, ast.Name) and n.id in allowed
    )
    return Expr(text, _Builder(checked.source).build(checked.tree), used)


class _Builder:
    """Turns each node of a checked tree into a closure over its children's closures.

    The tree passed :func:`~gitoverit.query.checker.check`, so every node is one the
    language has, and every name, function and method exists.
    """

    def __init__(self, source: Source) -> None:
        self.source = source

    def build(self, node: ast.AST) -> _Fn:
        method: Callable[[Any], _Fn] = getattr(self, f"build_{type(node).__name__}")
        return method(node)

    def build_Expression(self, node: ast.Expression) -> _Fn:
        return self.build(node.body)

    def build_Constant(self, node: ast.Constant) -> _Fn:
        value = node.value
        return lambda env: value

    def build_Name(self, node: ast.Name) -> _Fn:
        name = node.id
        off = self.source.start(node)

        def lookup(env: Env) -> Any:
            try:
                return env[name]
            except KeyError:
                raise ExprError(f"name {name!r} has no value here", offset=off) from None

        return lookup

    def build_BoolOp(self, node: ast.BoolOp) -> _Fn:
        parts = [self.build(v) for v in node.values]
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

    def build_UnaryOp(self, node: ast.UnaryOp) -> _Fn:
        operand = self.build(node.operand)
        off = self.source.start(node)
        if isinstance(node.op, ast.Not):
            return lambda env: not truthy(operand(env))
        op = negate if isinstance(node.op, ast.USub) else plus

        def unary(env: Env) -> Any:
            value = operand(env)
            try:
                return op(value)
            except Fault as e:
                raise ExprError(e.message, offset=off) from None

        return unary

    def build_BinOp(self, node: ast.BinOp) -> _Fn:
        left = self.build(node.left)
        right = self.build(node.right)
        symbol, op = BINOPS[type(node.op)]
        off = self.source.between(node.left, node.right, symbol)

        def binop(env: Env) -> Any:
            a = left(env)
            b = right(env)
            try:
                return op(a, b)
            except Fault as e:
                raise ExprError(e.message, offset=off) from None

        return binop

    def build_Compare(self, node: ast.Compare) -> _Fn:
        first = self.build(node.left)
        parts: list[tuple[Callable[[Any, Any], bool], _Fn, int | None]] = []
        previous: ast.AST = node.left
        for cmpop, comparator in zip(node.ops, node.comparators, strict=True):
            symbol, op = CMPOPS[type(cmpop)]
            off = self.source.between(previous, comparator, symbol)
            parts.append((op, self.build(comparator), off))
            previous = comparator

        def compare(env: Env) -> bool:
            a = first(env)
            for op, part, off in parts:
                b = part(env)
                try:
                    if not op(a, b):
                        return False
                except Fault as e:
                    raise ExprError(e.message, offset=off) from None
                a = b
            return True

        return compare

    def build_IfExp(self, node: ast.IfExp) -> _Fn:
        test = self.build(node.test)
        body = self.build(node.body)
        orelse = self.build(node.orelse)
        return lambda env: body(env) if truthy(test(env)) else orelse(env)

    def build_List(self, node: ast.List | ast.Tuple) -> _Fn:
        items = [self.build(e) for e in node.elts]
        off = self.source.start(node)

        def listing(env: Env) -> list[Any]:
            result = [item(env) for item in items]
            try:
                measure(result)
            except Fault as e:
                raise ExprError(e.message, offset=off) from None
            return result

        return listing

    build_Tuple = build_List

    def build_Subscript(self, node: ast.Subscript) -> _Fn:
        container = self.build(node.value)
        off = self.source.start(node.slice)
        if isinstance(node.slice, ast.Slice):
            bounds = [
                None if part is None else self.build(part)
                for part in (node.slice.lower, node.slice.upper, node.slice.step)
            ]

            def slicing(env: Env) -> Any:
                value = container(env)
                lo, hi, step = (None if b is None else b(env) for b in bounds)
                try:
                    return slice_of(value, lo, hi, step)
                except Fault as e:
                    raise ExprError(e.message, offset=off) from None

            return slicing

        index = self.build(node.slice)

        def subscript(env: Env) -> Any:
            value = container(env)
            key = index(env)
            try:
                return item_of(value, key)
            except Fault as e:
                raise ExprError(e.message, offset=off) from None

        return subscript

    def build_Call(self, node: ast.Call) -> _Fn:
        if isinstance(node.func, ast.Attribute):
            return self.method_call(node, node.func)
        assert isinstance(node.func, ast.Name)  # the checker lets no other callee through
        return self.function_call(node, node.func.id)

    def function_call(self, node: ast.Call, name: str) -> _Fn:
        off = self.source.start(node)
        args = [self.build(a) for a in node.args]
        impl = FUNCTIONS[name].impl

        def call(env: Env) -> Any:
            values = [a(env) for a in args]
            try:
                return bounded(impl(*values))
            except Fault as e:
                raise ExprError(e.message, offset=off) from None

        return call

    def method_call(self, node: ast.Call, func: ast.Attribute) -> _Fn:
        receiver = self.build(func.value)
        name = func.attr
        name_off = self.source.attr_offset(func)
        args = [self.build(a) for a in node.args]

        def call(env: Env) -> Any:
            value = receiver(env)
            values = [a(env) for a in args]
            try:
                return call_method(value, name, values)
            except Fault as e:
                raise ExprError(e.message, offset=name_off) from None

        return call
