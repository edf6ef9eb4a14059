"""The ``--where`` / ``--print`` expression language: a small, safe, Python-like language.

Text is parsed with :func:`ast.parse` (``mode="eval"``), and the tree is checked against a
whitelist and turned into plain Python closures once, by :func:`compile_expr`. Nothing is
ever handed to ``eval``, ``exec`` or ``compile``. The whitelist allows literals, record
names, comparisons, boolean logic, arithmetic, conditional expressions, subscripts, list
literals, a handful of helper functions and a handful of string methods. Everything else
(attributes, imports, lambdas, comprehensions, arbitrary builtins) is refused before any
repository is scanned, with an :class:`ExprError` whose offset points at the fault. Given
the static type of each name (:data:`RECORD_TYPES` for a record), :func:`compile_expr`
also refuses an operation that cannot work for those types, such as ``ahead > "x"``.

Evaluation is bounded: strings and lists may not grow past :data:`MAX_SIZE`, integers may
not grow past :data:`MAX_INT`, and exponents are checked before they are computed, so
``'a' * 10**10`` or ``2 ** 10**10`` fail at once instead of exhausting memory.

The modules, from the bottom up; each imports only modules above it in this list:

- :mod:`~gitoverit.query.parser`: text to syntax tree, and :class:`ExprError`;
- :mod:`~gitoverit.query.values`: what operators do to values, and the size bounds;
- :mod:`~gitoverit.query.functions`: the helper functions and methods;
- :mod:`~gitoverit.query.checker`: the static checks a tree must pass before it runs;
- :mod:`~gitoverit.query.typecheck`: the static types, which find a type mismatch
  before anything runs;
- :mod:`~gitoverit.query.names`: the names a record exposes, their values and types;
- :mod:`~gitoverit.query.evaluator`: :func:`compile_expr`, and the closures that evaluate;
- :mod:`~gitoverit.query.help`: the ``--help-where`` text.
"""

from __future__ import annotations

from gitoverit.query.checker import MAX_DEPTH as MAX_DEPTH
from gitoverit.query.evaluator import Env as Env
from gitoverit.query.evaluator import Expr, compile_expr, truthy
from gitoverit.query.functions import FUNCTION_NAMES, METHOD_NAMES
from gitoverit.query.functions import MAX_PATTERN as MAX_PATTERN
from gitoverit.query.help import HELP_TEXT
from gitoverit.query.names import RECORD_NAMES, RECORD_TYPES, record_env
from gitoverit.query.parser import MAX_TEXT as MAX_TEXT
from gitoverit.query.parser import ExprError
from gitoverit.query.typecheck import StaticType, static_type
from gitoverit.query.values import MAX_INT, MAX_SIZE

__all__ = [
    "FUNCTION_NAMES",
    "HELP_TEXT",
    "MAX_INT",
    "MAX_SIZE",
    "METHOD_NAMES",
    "RECORD_NAMES",
    "RECORD_TYPES",
    "Expr",
    "ExprError",
    "StaticType",
    "compile_expr",
    "record_env",
    "static_type",
    "truthy",
]
