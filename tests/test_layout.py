"""The layout rules that keep the code readable: no module over 500 lines, no function
over 80. (The import layers are checked by import-linter in ``make lint``.)"""

from __future__ import annotations

import ast
from pathlib import Path

import gitoverit

SRC = Path(gitoverit.__file__).parent
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_the_rules_see_the_whole_package() -> None:
    names = {p.relative_to(SRC).as_posix() for p in _modules()}
    assert {"cli/__init__.py", "commands/scan.py", "errors.py", "select.py"} <= names


def test_no_module_is_longer_than_the_limit() -> None:
    long = {
        p.relative_to(SRC).as_posix(): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_longer_than_the_limit() -> None:
    long: dict[str, int] = {}
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(SRC).as_posix()}:{node.name}"] = n
    assert long == {}
