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
import unicodedata
import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from gitoverit.query.functions import (
    FUNCTION_NAMES,
    FUNCTIONS,
    METHOD_NAMES,
    arity_text,
    call_method,
    method_arity,
    regex,
)
from gitoverit.query.functions import (
    MAX_PATTERN as MAX_PATTERN,
)
from gitoverit.query.help import HELP_TEXT
from gitoverit.query.names import RECORD_NAMES, record_env
from gitoverit.query.values import (
    BINOPS,
    CMPOPS,
    MAX_INT,
    MAX_SIZE,
    Fault,
    bounded,
    item_of,
    measure,
    negate,
    plus,
    slice_of,
)

#: Longest expression text accepted.
MAX_TEXT = 10_000
#: Deepest nesting of the expression tree accepted.
MAX_DEPTH = 100

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
        except Fault as e:
            raise ExprError(e.message, self.text, None) from None
        except RecursionError:
            raise ExprError("expression is too deeply nested", self.text, None) from None
        except Exception as e:  # a last guard: the contract is "only ExprError"
            raise ExprError(f"cannot evaluate: {e}", self.text, None) from None


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
            bounded(value)
        except Fault as e:
            self.error(e.message, self.start(node))
        return lambda env: value

    def build_Name(self, node: ast.Name, depth: int) -> _Fn:
        name = node.id
        off = self.start(node)
        if name not in self.names:
            if name in FUNCTIONS:
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
            op = negate
        elif isinstance(node.op, ast.UAdd):
            op = plus
        else:
            self.error("operator ~ is not supported", off)

        def unary(env: Env) -> Any:
            value = operand(env)
            try:
                return op(value)
            except Fault as e:
                raise ExprError(e.message, offset=off) from None

        return unary

    def build_BinOp(self, node: ast.BinOp, depth: int) -> _Fn:
        left = self.build(node.left, depth)
        right = self.build(node.right, depth)
        spec = BINOPS.get(type(node.op))
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
            except Fault as e:
                raise ExprError(e.message, offset=off) from None

        return binop

    def build_Compare(self, node: ast.Compare, depth: int) -> _Fn:
        first = self.build(node.left, depth)
        parts: list[tuple[Callable[[Any, Any], bool], _Fn, int | None]] = []
        previous: ast.AST = node.left
        for cmpop, comparator in zip(node.ops, node.comparators, strict=True):
            symbol, op = CMPOPS[type(cmpop)]
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
                except Fault as e:
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
                measure(result)
            except Fault as e:
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
                    return slice_of(value, lo, hi, step)
                except Fault as e:
                    raise ExprError(e.message, offset=off) from None

            return slicing

        index = self.build(node.slice, depth)

        def subscript(env: Env) -> Any:
            value = container(env)
            key = index(env)
            try:
                return item_of(value, key)
            except Fault as e:
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
            spec = FUNCTIONS.get(func.id)
            if spec is None:
                if func.id in self.names:
                    self.error(f"{func.id!r} is not a function", off)
                self.error(
                    f"unknown function {func.id!r}; functions are: " + ", ".join(sorted(FUNCTIONS)),
                    off,
                )
            if not spec.min_args <= len(node.args) <= spec.max_args:
                self.error(f"{func.id}() takes {arity_text(spec.min_args, spec.max_args)}", off)
            if func.id == "rx" and isinstance(node.args[1], ast.Constant):
                pattern = node.args[1].value
                if isinstance(pattern, str):
                    try:
                        regex(pattern)
                    except Fault as e:
                        self.error(e.message, self.start(node.args[1]))
            args = [self.build(a, depth) for a in node.args]
            impl = spec.impl

            def call(env: Env) -> Any:
                values = [a(env) for a in args]
                try:
                    return bounded(impl(*values))
                except Fault as e:
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
            lo, hi = method_arity(name)
            if not lo <= len(node.args) <= hi:
                self.error(f"{name}() takes {arity_text(lo, hi)}", name_off)
            args = [self.build(a, depth) for a in node.args]

            def method_call(env: Env) -> Any:
                value = receiver(env)
                values = [a(env) for a in args]
                try:
                    return call_method(value, name, values)
                except Fault as e:
                    raise ExprError(e.message, offset=name_off) from None

            return method_call
        self.build(func, depth)  # a refused construct (lambda, ...) says so first
        self.error("only functions and string methods can be called", off)


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
