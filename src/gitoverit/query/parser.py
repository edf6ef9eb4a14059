"""Text to syntax tree: the first step of compiling an expression.

:func:`parse` refuses text that is too long, empty or holds a NUL or undecodable character,
then parses the rest with :func:`ast.parse` (``mode="eval"``), so only a single expression
gets through. :class:`Source` maps the tree's positions back onto the text, and
:class:`ExprError`, the one error the language raises, renders a caret under that position.
"""

from __future__ import annotations

import ast
import unicodedata
import warnings
from dataclasses import dataclass

#: Longest expression text accepted.
MAX_TEXT = 10_000

#: Statement keywords that make a syntax error worth a clearer message.
_STATEMENTS = ("import ", "from ", "del ", "global ", "def ", "class ")


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


class Source:
    """An expression's text and the one-line source that is parsed from it, with the
    mapping from tree positions back to indexes in the text."""

    def __init__(self, text: str) -> None:
        self.text = text
        # Line breaks count as spaces, and leading blanks are skipped, so the parsed source
        # is one line whose columns map straight back onto *text*.
        self.flat = text.replace("\r", " ").replace("\n", " ")
        self.lead = len(self.flat) - len(self.flat.lstrip(" \t\x0c"))
        self.source = self.flat[self.lead :]

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

    def attr_offset(self, node: ast.Attribute) -> int | None:
        """Where the attribute's name (after the dot) starts."""
        end = self.end(node)
        return None if end is None else end - len(node.attr)


@dataclass(frozen=True, slots=True)
class Parsed:
    """An expression that is syntactically valid, not yet checked against the language."""

    source: Source
    tree: ast.Expression


def _check_text(text: str) -> None:
    if len(text) > MAX_TEXT:
        raise ExprError(f"expression too long (limit {MAX_TEXT:,} characters)", text, MAX_TEXT)
    for i, ch in enumerate(text):
        if ch == "\x00" or "\ud800" <= ch <= "\udfff":
            raise ExprError("expression contains a NUL or undecodable character", text, i)
    if not text.strip():
        raise ExprError("empty expression", text, 0)


def parse(text: str) -> Parsed:
    """The syntax tree of *text*, a single expression.

    Raises :class:`ExprError`, with the offset of the fault, for text that is too long,
    empty, holds a NUL or undecodable character, or is not a valid Python expression.
    """
    _check_text(text)
    source = Source(text)
    try:
        with warnings.catch_warnings():
            # Invalid escapes like "\d" in a pattern are fine here; do not print warnings.
            warnings.simplefilter("ignore")
            tree = ast.parse(source.source + "\n", mode="eval")
    except SyntaxError as e:
        offset = source.syntax_offset(e)
        message = e.msg
        if message == "invalid syntax" and text.lstrip().startswith(_STATEMENTS):
            message = "invalid syntax: only expressions are allowed, not statements"
        raise ExprError(message, text, offset) from None
    except (RecursionError, MemoryError):
        raise ExprError("expression is nested too deeply", text, None) from None
    except ValueError as e:
        raise ExprError(f"cannot parse: {e}", text, None) from None
    return Parsed(source, tree)
