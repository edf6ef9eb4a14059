"""The static checks that hold an expression to the language, before anything runs.

:func:`check` walks a parsed tree and refuses, with an :class:`ExprError` pointing at the
first fault: attributes starting with ``_`` (before anything else), nodes outside the
language (lambda, comprehensions, f-strings, dict and set literals, ...), nesting past
:data:`MAX_DEPTH`, constants other than numbers, strings, booleans and ``None`` or outside
the size bounds, unknown names, functions and methods, wrong numbers of arguments,
keyword arguments, ``is`` against anything but ``None``, ``True`` or ``False``, and ``rx``
patterns that are given as text and would be refused at run time anyway.

A tree that passes is returned as :class:`Checked`, the only input the evaluator builds
from, so it can rely on every node being one it knows.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import NoReturn

from gitoverit.query.functions import FUNCTIONS, METHOD_NAMES, arity_text, method_arity, regex
from gitoverit.query.parser import ExprError, Parsed, Source
from gitoverit.query.values import BINOPS, Fault, bounded

#: A name's kinds when they are not known: it could be a string.
ANY_KIND = frozenset({"string"})

#: Deepest nesting of the expression tree accepted.
MAX_DEPTH = 100

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

#: Binary operators Python has and the language does not, for the error message.
_UNSUPPORTED_BINOPS: dict[type[ast.operator], str] = {
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.MatMult: "@",
}


@dataclass(frozen=True, slots=True)
class Checked:
    """An expression tree that passed :func:`check`."""

    source: Source
    tree: ast.Expression


def check(
    parsed: Parsed,
    names: frozenset[str],
    types: Mapping[str, frozenset[str]] | None = None,
) -> Checked:
    """*parsed*, once it is known to hold only what the language allows.

    *names* are the names a record provides, and *types*, when known, the kinds of value
    each can hold (used only to word a hint). Raises :class:`ExprError` at the first fault.
    """
    bad = _first_bad_attribute(parsed.tree, parsed.source)
    if bad is not None:
        attr, offset = bad
        raise ExprError(
            f"attribute {attr!r} is not allowed: names starting with '_' are private",
            parsed.source.text,
            offset,
        )
    _Checker(parsed.source, names, types or {}).check(parsed.tree)
    return Checked(parsed.source, parsed.tree)


def _first_bad_attribute(tree: ast.AST, source: Source) -> tuple[str, int | None] | None:
    """The earliest attribute whose name starts with ``_``, anywhere in *tree*."""
    bad = [
        (source.attr_offset(n), n.attr)
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and n.attr.startswith("_")
    ]
    if not bad:
        return None
    offset, attr = min(bad, key=lambda b: -1 if b[0] is None else b[0])
    return attr, offset


def _suggest(name: str, names: Collection[str], cutoff: float = 0.6) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(names), n=1, cutoff=cutoff)
    return f"; did you mean {close[0]!r}?" if close else ""


class _Checker:
    """Visits a tree depth first, left to right, and raises at the first fault.

    The order of the checks decides which fault is reported when there are several, so it
    is fixed: operands before their operator (``a << b`` with an unknown ``a`` reports
    ``a``), a call's keywords, function name and argument count before its arguments.
    """

    def __init__(
        self, source: Source, names: frozenset[str], types: Mapping[str, frozenset[str]]
    ) -> None:
        self.source = source
        self.names = names
        self.types = types
        #: The operand of a comparison being checked, and the other operand.
        self.compared: tuple[ast.expr, ast.expr] | None = None

    def error(self, message: str, offset: int | None) -> NoReturn:
        raise ExprError(message, self.source.text, offset)

    def check(self, node: ast.AST, depth: int = 0) -> None:
        start = self.source.start
        if depth > MAX_DEPTH:
            self.error(f"expression is nested too deeply (limit {MAX_DEPTH})", start(node))
        for kind, message in _REFUSED.items():
            if isinstance(node, kind):
                self.error(message, start(node))
        method = getattr(self, f"check_{type(node).__name__}", None)
        if method is None:
            self.error(f"{type(node).__name__} is not supported", start(node))
        method(node, depth + 1)

    def check_Expression(self, node: ast.Expression, depth: int) -> None:
        self.check(node.body, depth)

    def check_Constant(self, node: ast.Constant, depth: int) -> None:
        value = node.value
        if value is not None and not isinstance(value, bool | int | float | str):
            self.error(
                "only numbers, strings, True, False and None are allowed", self.source.start(node)
            )
        try:
            bounded(value)
        except Fault as e:
            self.error(e.message, self.source.start(node))

    def check_Name(self, node: ast.Name, depth: int) -> None:
        name = node.id
        if name not in self.names:
            off = self.source.start(node)
            if name in FUNCTIONS:
                self.error(f"{name} is a function: call it, as in {name}(...)", off)
            self._unquoted(node)
            self.error(f"unknown name {name!r}{_suggest(name, self.names)}", off)

    def check_BoolOp(self, node: ast.BoolOp, depth: int) -> None:
        for value in node.values:
            self.check(value, depth)

    def check_UnaryOp(self, node: ast.UnaryOp, depth: int) -> None:
        self.check(node.operand, depth)
        if not isinstance(node.op, ast.Not | ast.USub | ast.UAdd):
            self.error("operator ~ is not supported", self.source.start(node))

    def check_BinOp(self, node: ast.BinOp, depth: int) -> None:
        self.check(node.left, depth)
        self.check(node.right, depth)
        if type(node.op) not in BINOPS:
            symbol = _UNSUPPORTED_BINOPS.get(type(node.op), "?")
            off = self.source.between(node.left, node.right, symbol)
            self.error(f"operator {symbol} is not supported", off)

    def check_Compare(self, node: ast.Compare, depth: int) -> None:
        self._check_operand(node.left, node.comparators[0], depth)
        previous: ast.expr = node.left
        for cmpop, comparator in zip(node.ops, node.comparators, strict=True):
            if isinstance(cmpop, ast.Is | ast.IsNot) and not (
                isinstance(comparator, ast.Constant)
                and (comparator.value is None or isinstance(comparator.value, bool))
            ):
                self.error(
                    "'is' and 'is not' only compare with None, True or False; use == or !=",
                    self.source.start(comparator),
                )
            self._check_operand(comparator, previous, depth)
            previous = comparator

    def _check_operand(self, operand: ast.expr, other: ast.expr, depth: int) -> None:
        """Check one operand of a comparison, with the *other* at hand for the hint that
        :meth:`_unquoted` gives."""
        outer = self.compared
        self.compared = (operand, other)
        try:
            self.check(operand, depth)
        finally:
            self.compared = outer

    def _unknown(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Name) and node.id not in self.names | FUNCTIONS.keys()

    def _unquoted(self, node: ast.Name) -> None:
        """Refuse unknown name *node*, an operand of a comparison (or an item of a list
        that is one, as in ``branch in [main, dev]``) whose other operand can be a string,
        as most likely a string that lost its quotes. Compared with a constant (``brnach ==
        "main"``), or with a name that is never a string, it is rather taken for a misspelt
        name, and :meth:`check_Name` says so."""
        if self.compared is None:
            return
        operand, other = self.compared
        bare: list[ast.expr] = [operand] if operand is node else []
        if isinstance(operand, ast.List | ast.Tuple) and any(e is node for e in operand.elts):
            bare = [e for e in operand.elts if self._unknown(e)]
        if not bare or isinstance(other, ast.Constant) or self._unknown(other):
            return
        if isinstance(other, ast.Name) and "string" not in self.types.get(other.id, ANY_KIND):
            return
        hint = f"to compare with a string, quote it: {self._quoted(operand, other, bare)}"
        close = _suggest(node.id, self.names, cutoff=0.8)
        self.error(
            f"unknown name {node.id!r}" + (f"{close} Or, {hint}" if close else f"; {hint}"),
            self.source.start(node),
        )

    def _quoted(self, operand: ast.expr, other: ast.expr, bare: list[ast.expr]) -> str:
        """The text of a comparison of *operand* with *other*, the *bare* names quoted."""
        spans = [(self.source.start(n), self.source.end(n)) for n in (operand, other)]
        starts = [lo for lo, _ in spans if lo is not None]
        ends = [hi for _, hi in spans if hi is not None]
        if not starts or not ends:
            return ", ".join(f'"{n.id}"' for n in bare if isinstance(n, ast.Name))
        lo, hi = min(starts), max(ends)
        text = self.source.text
        pieces: list[str] = []
        at = lo
        for name in bare:
            start, end = self.source.start(name), self.source.end(name)
            if start is None or end is None:
                continue
            pieces += [text[at:start], f'"{text[start:end]}"']
            at = end
        pieces.append(text[at:hi])
        shown = " ".join("".join(pieces).split())
        if any(shown.count(o) != shown.count(c) for o, c in ("()", "[]")):
            # Parentheses around an operand lie outside its span: show the names alone.
            return ", ".join(f'"{n.id}"' for n in bare if isinstance(n, ast.Name))
        return shown

    def check_IfExp(self, node: ast.IfExp, depth: int) -> None:
        self.check(node.test, depth)
        self.check(node.body, depth)
        self.check(node.orelse, depth)

    def check_List(self, node: ast.List | ast.Tuple, depth: int) -> None:
        for element in node.elts:
            self.check(element, depth)

    check_Tuple = check_List

    def check_Subscript(self, node: ast.Subscript, depth: int) -> None:
        self.check(node.value, depth)
        if isinstance(node.slice, ast.Slice):
            for part in (node.slice.lower, node.slice.upper, node.slice.step):
                if part is not None:
                    self.check(part, depth)
        else:
            self.check(node.slice, depth)

    def check_Attribute(self, node: ast.Attribute, depth: int) -> None:
        # Reached only for an attribute that is not called: methods are checked by the call.
        off = self.source.attr_offset(node)
        if node.attr in METHOD_NAMES:
            self.error(f"{node.attr} is a method: call it, as in x.{node.attr}()", off)
        self.error(
            f"unknown attribute {node.attr!r}; only these methods can be called: "
            + ", ".join(sorted(METHOD_NAMES)),
            off,
        )

    def check_Call(self, node: ast.Call, depth: int) -> None:
        if node.keywords:
            self.error("keyword arguments are not supported", self.source.start(node.keywords[0]))
        func = node.func
        if isinstance(func, ast.Name):
            self._check_function(node, func.id)
        elif isinstance(func, ast.Attribute):
            self.check(func.value, depth)
            self._check_method(node, func)
        else:
            self.check(func, depth)  # a refused construct (lambda, ...) says so first
            self.error("only functions and string methods can be called", self.source.start(node))
        for arg in node.args:
            self.check(arg, depth)

    def _check_function(self, node: ast.Call, name: str) -> None:
        """The called name is a function, given as many arguments as it takes."""
        off = self.source.start(node)
        spec = FUNCTIONS.get(name)
        if spec is None:
            if name in self.names:
                self.error(f"{name!r} is not a function", off)
            self.error(
                f"unknown function {name!r}; functions are: " + ", ".join(sorted(FUNCTIONS)),
                off,
            )
        if not spec.min_args <= len(node.args) <= spec.max_args:
            self.error(f"{name}() takes {arity_text(spec.min_args, spec.max_args)}", off)
        if name == "rx" and isinstance(node.args[1], ast.Constant):
            pattern = node.args[1].value
            if isinstance(pattern, str):
                try:
                    regex(pattern)
                except Fault as e:
                    self.error(e.message, self.source.start(node.args[1]))

    def _check_method(self, node: ast.Call, func: ast.Attribute) -> None:
        """The called attribute is a method of some type, given as many arguments as it
        takes there."""
        name = func.attr
        name_off = self.source.attr_offset(func)
        if name not in METHOD_NAMES:
            self.error(
                f"unknown method {name!r}; methods are: " + ", ".join(sorted(METHOD_NAMES)),
                name_off,
            )
        lo, hi = method_arity(name)
        if not lo <= len(node.args) <= hi:
            self.error(f"{name}() takes {arity_text(lo, hi)}", name_off)
