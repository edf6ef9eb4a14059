"""Tests of the --where / --print expression language (gitoverit.query).

Records are built directly from the model's dataclasses: the language needs no git.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitoverit.model import (
    RECORD_FIELDS,
    Operation,
    Reason,
    RepoError,
    RepoRecord,
    RepoRef,
    RepoStatus,
)
from gitoverit.query import (
    FUNCTION_NAMES,
    HELP_TEXT,
    MAX_INT,
    MAX_SIZE,
    METHOD_NAMES,
    RECORD_NAMES,
    ExprError,
    compile_expr,
    record_env,
    truthy,
)
from gitoverit.query.values import Fault

NOW = time.time()

WORK = RepoRecord(
    RepoRef("/home/u/code/pyfoo", "/home/u/code/pyfoo/.git", "code/pyfoo", root="/home/u/code"),
    RepoStatus(
        branch="main",
        head="0123456789abcdef0123456789abcdef01234567",
        upstream="origin/main",
        ahead=3,
        behind=0,
        staged=0,
        modified=2,
        deleted=0,
        unstaged_modified=2,
        unstaged_deleted=0,
        untracked=1,
        conflicted=0,
        stashes=1,
        submodules=0,
        remote_url="git@github.com:me/pyfoo.git",
        mtime=NOW - 3600,
    ),
)

DETACHED = RepoRecord(
    RepoRef("/srv/tools", "/srv/tools/.git", "tools"),
    RepoStatus(
        branch=None,
        head="fedcba9876543210fedcba9876543210fedcba98",
        detached=True,
        staged=0,
        modified=0,
        deleted=0,
        untracked=0,
        conflicted=0,
        stashes=0,
        mtime=NOW - 30 * 86400,
    ),
)

MERGING = RepoRecord(
    RepoRef("/home/u/work/api", "/home/u/work/api/.git", "work/api"),
    RepoStatus(
        branch="feature/wip",
        upstream="origin/feature/wip",
        upstream_gone=True,
        ahead=0,
        behind=4,
        staged=1,
        modified=0,
        deleted=0,
        untracked=0,
        conflicted=2,
        stashes=0,
        operation=Operation.MERGE,
        remote_url="https://gitlab.com/team/api.git",
    ),
)

FAILED = RepoRecord(
    RepoRef("/home/u/code/broken", "/home/u/code/broken/.git", "code/broken"),
    error=RepoError(Reason.TIMEOUT, "git status timed out after 10s"),
)

RECORDS = (WORK, DETACHED, MERGING, FAILED)


def ev(text: str, record: RepoRecord = WORK) -> Any:
    return compile_expr(text).evaluate(record_env(record))


def fault(text: str, record: RepoRecord = WORK) -> ExprError:
    """The ExprError that compiling or evaluating *text* raises."""
    with pytest.raises(ExprError) as info:
        ev(text, record)
    return info.value


@contextmanager
def within(seconds: float) -> Iterator[None]:
    started = time.perf_counter()
    yield
    assert time.perf_counter() - started < seconds


# --------------------------------------------------------------------------- the record


def test_record_names_are_the_json_fields_plus_conveniences() -> None:
    assert set(RECORD_FIELDS) <= RECORD_NAMES
    assert RECORD_NAMES - set(RECORD_FIELDS) == {
        "dir",
        "parent",
        "name",
        "status",
        "remote",
        "url",
        "latest_mtime",
        "reason",
    }


@pytest.mark.parametrize("record", RECORDS, ids=["work", "detached", "merging", "failed"])
def test_record_env_provides_exactly_the_record_names(record: RepoRecord) -> None:
    env = record_env(record)
    assert set(env) == RECORD_NAMES
    for key, value in record.to_json().items():
        assert env[key] == value


def test_record_env_derived_names() -> None:
    env = record_env(WORK)
    assert env["dir"] == "code/pyfoo", "the path as shown, as the earlier gitoverit had it"
    assert env["parent"] == "/home/u/code"
    assert env["name"] == "pyfoo"
    assert env["status"] == "2m 1u 3↑ 1$"
    assert env["url"] == "me/pyfoo"
    assert env["remote"] == "origin/main"
    assert env["latest_mtime"] == env["mtime"]
    assert env["reason"] is None
    assert env["error"] is None


def test_record_env_clean_error_and_no_remote() -> None:
    clean = record_env(DETACHED)
    assert clean["status"] == "clean"
    assert clean["url"] == "-" and clean["remote"] == "-"
    assert clean["dirty"] is False
    failed = record_env(FAILED)
    assert failed["status"] == "error"
    assert failed["reason"] == "timeout"
    assert failed["error"] == {"reason": "timeout", "message": "git status timed out after 10s"}
    merging = record_env(MERGING)
    assert merging["url"] == "gl:team/api"
    assert merging["operation"] == "merge"
    assert "!merge" in merging["status"]


def test_record_env_dir_of_a_top_level_folder() -> None:
    record = RepoRecord(RepoRef("/repo", "/repo/.git", "repo"), RepoStatus())
    env = record_env(record)
    assert (env["dir"], env["parent"], env["name"]) == ("repo", "/", "repo")


# --------------------------------------------------------------------------- the brief's examples


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('dirty and branch != "main"', [False, False, True, False]),
        ("ahead > 0 and behind == 0", [True, False, False, False]),
        ('rx(url, "^me/")', [True, False, False, False]),
        ('name.startswith("py")', [True, False, False, False]),
        ("mtime > now() - days(7)", [True, False, False, False]),
        ("error is not None", [False, False, False, True]),
        ('reason == "timeout"', [False, False, False, True]),
        ("upstream_gone or stashes > 0", [True, False, True, False]),
        ('"wip" in branch', [False, False, True, False]),
        ("detached", [False, True, False, False]),
    ],
)
def test_filters_over_sample_records(text: str, expected: list[bool]) -> None:
    expr = compile_expr(text)
    assert [truthy(expr.evaluate(record_env(r))) for r in RECORDS] == expected


def test_one_expression_filters_many_records() -> None:
    expr = compile_expr("dirty")
    kept = [r.ref.display_path for r in RECORDS if truthy(expr.evaluate(record_env(r)))]
    assert kept == ["code/pyfoo", "work/api"]


def test_help_examples_all_compile() -> None:
    examples = re.findall(r"-[wp] '([^']*)'", HELP_TEXT)
    assert len(examples) >= 8
    for text in examples:
        expr = compile_expr(text)
        values = [expr.evaluate(record_env(record)) for record in RECORDS]
        assert all(v is None or isinstance(v, bool | int | float | str) for v in values)


# --------------------------------------------------------------------------- operators


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # literals
        ("42", 42),
        ("2.5", 2.5),
        ("'it'", "it"),
        ('"it"', "it"),
        ("True", True),
        ("None", None),
        ("[1, 'a', None]", [1, "a", None]),
        ("('a', 'b')", ["a", "b"]),
        ("[]", []),
        # arithmetic
        ("1 + 2", 3),
        ("7 - 10", -3),
        ("6 * 7", 42),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("-7 // 2", -4),
        ("7 % 3", 1),
        ("2 ** 10", 1024),
        ("2 ** -1", 0.5),
        ("-ahead", -3),
        ("+ahead", 3),
        ("ahead + modified * 2", 7),
        ("(ahead + modified) * 2", 10),
        ("True + 1", 2),
        ("'ab' + 'cd'", "abcd"),
        ("'ab' * 3", "ababab"),
        ("3 * 'ab'", "ababab"),
        ("'ab' * -1", ""),
        ("[1] + [2]", [1, 2]),
        ("[0] * 3", [0, 0, 0]),
        ("name + '@' + branch", "pyfoo@main"),
        # comparisons
        ("ahead == 3", True),
        ("ahead != 3", False),
        ("ahead < 3", False),
        ("ahead <= 3", True),
        ("ahead > 2", True),
        ("ahead >= 4", False),
        ("0 < ahead <= 5", True),
        ("0 < ahead < 2", False),
        ("1 < 2 < 3 < 4", True),
        ("'a' < 'b'", True),
        ("[1, 2] < [1, 3]", True),
        ("1 == 1.0", True),
        ("'1' == 1", False),
        ("branch == None", False),
        ("head is None", False),
        ("head is not None", True),
        ("dirty is True", True),
        ("detached is False", True),
        # membership
        ("'foo' in name", True),
        ("'bar' in name", False),
        ("'bar' not in name", True),
        ("branch in ['main', 'master']", True),
        ("branch in ('dev',)", False),
        ("branch not in ['main']", False),
        ("3 in [1, 2, 3]", True),
        ("1 in [1.0]", True),
        # boolean logic returns an operand, as in Python
        ("dirty and ahead", 3),
        ("detached or ahead", 3),
        ("detached and ahead", False),
        ("0 or 'x'", "x"),
        ("'' or None", None),
        ("not dirty", False),
        ("not detached", True),
        ("not None", True),
        ("dirty and not detached and ahead > 0", True),
        # conditional expression
        ("'ahead' if ahead else 'even'", "ahead"),
        ("'ahead' if behind else 'even'", "even"),
        ("1 if True else 1 / 0", 1),
        # subscripts and slices
        ("name[0]", "p"),
        ("name[-1]", "o"),
        ("name[:2]", "py"),
        ("name[2:]", "foo"),
        ("name[::-1]", "oofyp"),
        ("name[99]", None),
        ("[1, 2, 3][1]", 2),
        ("[1, 2, 3][1:]", [2, 3]),
        ("('a', 'b')[-1]", "b"),
        ("path.split('/')[-1]", "pyfoo"),
    ],
)
def test_operators(text: str, expected: Any) -> None:
    result = ev(text)
    assert result == expected
    assert type(result) is type(expected)


def test_boolean_operators_short_circuit() -> None:
    # The right-hand side would fail; short-circuiting must skip it.
    assert ev("detached and 1 / 0") is False
    assert ev("dirty or 1 / 0") is True
    assert ev("0 > ahead > 1 / 0") is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("error['reason']", "timeout"),
        ("error['message'].startswith('git status')", True),
        ("error['nothing']", None),
        ("error.get('reason')", "timeout"),
        ("error.get('nothing', 'dflt')", "dflt"),
        ("'reason' in error", True),
        ("'nothing' in error", False),
        ("status", "error"),
        ("reason in ['timeout', 'auth']", True),
    ],
)
def test_error_record(text: str, expected: Any) -> None:
    assert ev(text, FAILED) == expected


# --------------------------------------------------------------------------- None handling


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # ordering comparisons involving None are false, in both directions
        ("ahead > 0", False),
        ("ahead < 0", False),
        ("ahead >= 0", False),
        ("ahead <= 0", False),
        ("0 < ahead", False),
        ("0 <= ahead <= 10", False),
        ("None < None", False),
        # equality works normally
        ("ahead == None", True),
        ("ahead != 0", True),
        ("branch is None", True),
        ("not ahead", True),
        # arithmetic, subscripts and methods propagate None
        ("ahead + 1", None),
        ("1 - behind", None),
        ("ahead * 'x'", None),
        ("-ahead", None),
        ("ahead / 0", None),
        ("branch[0]", None),
        ("branch[1:]", None),
        ("branch.startswith('feat')", None),
        ("not branch.startswith('feat')", True),
        ("branch.lower().upper()", None),
        # membership in None is false
        ("'x' in branch", False),
        ("'x' not in branch", True),
        ("None in 'abc'", False),
        ("None in [None]", True),
        # helpers
        ("rx(branch, '.')", False),
        ("rx(remote_url, '.')", False),
        ("rxi(branch, '.')", False),
        ("branch.rx('.')", None),
        ("len(branch)", None),
        ("int(ahead)", None),
        ("float(ahead)", None),
        ("str(ahead)", "None"),
        ("abs(ahead)", None),
        ("days(ahead)", None),
        ("min(ahead, 5, behind, 2)", 2),
        ("max(ahead, behind)", None),
        ("max([None, 1, 3])", 3),
        ("min([])", None),
        ("coalesce(branch, upstream, 'detached')", "detached"),
        ("coalesce(ahead)", None),
        ("coalesce(branch, 'x') == 'x'", True),
        ("error['reason']", None),
    ],
)
def test_none_handling(text: str, expected: Any) -> None:
    record = RepoRecord(
        RepoRef("/r/plain", "/r/plain/.git", "plain"),
        RepoStatus(branch=None, detached=True),
    )
    result = ev(text, record)
    assert result == expected
    assert type(result) is type(expected)


# --------------------------------------------------------------------------- functions, methods


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rx(url, '^me/')", True),
        ("rx(url, 'PYFOO')", False),
        ("rx(url, '(?i)PYFOO')", True),
        (r"rx(head, '^[0-9a-f]{40}$')", True),
        (r"rx(path, '\d')", False),
        ("rx(name, 'o+$')", True),
        ("len(name)", 5),
        ("len([1, 2])", 2),
        ("len('')", 0),
        ("int('42')", 42),
        ("int(' 7 ')", 7),
        ("int(3.9)", 3),
        ("int(True)", 1),
        ("float('1.5')", 1.5),
        ("float(2)", 2.0),
        ("str(42)", "42"),
        ("str(1.5)", "1.5"),
        ("str(True)", "True"),
        ("str('x')", "x"),
        ("str([1, 'a'])", "[1, 'a']"),
        ("abs(-3)", 3),
        ("abs(2.5)", 2.5),
        ("min(3, 1, 2)", 1),
        ("max(3, 1, 2)", 3),
        ("max([3, 9, 2])", 9),
        ("min('b', 'a')", "a"),
        ("coalesce(None, 0, 1)", 0),
        ("days(2)", 172800),
        ("hours(1.5)", 5400.0),
        ("days(1) == hours(24)", True),
        ("now() > 1_600_000_000", True),
        # string methods
        ("name.startswith('py')", True),
        ("name.startswith(['x', 'py'])", True),
        ("name.startswith(('x', 'y'))", False),
        ("name.endswith('foo')", True),
        ("name.upper()", "PYFOO"),
        ("'MiXed'.lower()", "mixed"),
        ("'  pad  '.strip()", "pad"),
        ("'xxpadxx'.strip('x')", "pad"),
        ("'  pad'.lstrip()", "pad"),
        ("'pad  '.rstrip()", "pad"),
        ("'a b  c'.split()", ["a", "b", "c"]),
        ("'a/b/c'.split('/', 1)", ["a", "b/c"]),
        ("branch.replace('ma', 'MA')", "MAin"),
        ("'banana'.count('a')", 3),
        ("'banana'.find('n')", 2),
        ("'banana'.find('z')", -1),
        ("upstream.removeprefix('origin/')", "main"),
        ("name.removesuffix('foo')", "py"),
        ("'123'.isdigit()", True),
        ("name.isdigit()", False),
        ("'A-b'.lower().replace('-', '_').upper()", "A_B"),
        ("[1, 2, 1].count(1)", 2),
    ],
)
def test_functions_and_methods(text: str, expected: Any) -> None:
    result = ev(text)
    assert result == expected
    assert type(result) is type(expected)


def test_now_is_the_current_time() -> None:
    before = time.time()
    value = ev("now()")
    assert before <= value <= time.time()


def test_rx_with_a_pattern_from_a_record_value() -> None:
    assert compile_expr("rx(name, branch)").evaluate({"name": "main-x", "branch": "^main"})
    err = fault_env("rx(name, branch)", {"name": "x", "branch": "("})
    assert "bad pattern" in err.message
    err = fault_env("rx(name, branch)", {"name": "x", "branch": "(a*)*b"})
    assert "repeats a group" in err.message
    err = fault_env("rx(name, branch)", {"name": "x", "branch": None})
    assert "pattern must be a string" in err.message


def fault_env(text: str, env: dict[str, Any]) -> ExprError:
    expr = compile_expr(text)
    with pytest.raises(ExprError) as info:
        expr.evaluate(env)
    return info.value


@pytest.mark.parametrize(
    "pattern",
    ["(a+)+$", "(a*)*b", "(x+x+)+y", "((ab)*)+", "(a|b+){2,}", "(?:a+)+"],
)
def test_rx_refuses_nested_repetition_at_compile_time(pattern: str) -> None:
    with within(1.0), pytest.raises(ExprError) as info:
        compile_expr(f"rx(name, {pattern!r})")
    assert "repeats a group" in info.value.message
    assert info.value.offset == len("rx(name, ")


@pytest.mark.parametrize(
    ("pattern", "risky"),
    [
        # A repeated group with a repeat inside, however it is hidden.
        ("(a*)*", True),
        ("(a+){2,}", True),
        ("(a{2})+", True),
        ("((ab)+)+", True),
        ("((a)+)+", True),
        ("((a+))+", True),
        ("(x(a+)y)*", True),
        ("(?:a+)+", True),
        (r"(a\)+)+", True),
        ("(a[)]+)+", True),
        (r"(\w+\s?)*", True),
        ("([a-z]+)*", True),
        # After a character class, whatever it holds.
        ("[)](a+)+", True),
        ("[]](a+)+", True),
        ("[^]](a+)+", True),
        (r"[\]](a+)+", True),
        (r"\[(a+)+", True),
        ("(a+)+[", True),
        # Repeats that are not nested, or not repeats at all.
        ("[(a+)+]", False),
        ("[^(]+(a)+", False),
        ("[]()+]+", False),
        ("[^]()+]+", False),
        (r"[\](a+)+]", False),
        (r"\(a+\)+", False),
        ("(a)(b+)", False),
        ("(a+)", False),
        ("(a+)b+", False),
        ("(a+)x+", False),
        ("x(a+)", False),
        ("((a+)b)", False),
        ("((a+)b)c+", False),
        ("(a[+])+", False),
        ("(aX)+", False),
        ("(a+)X", False),
        ("[^](a+)+]", False),
        ("[](a+)+]", False),
        ("[^a][^b]", False),
    ],
)
def test_rx_refuses_exactly_the_patterns_that_repeat_a_repeat(pattern: str, risky: bool) -> None:
    text = f"rx(name, {pattern!r})"
    if risky:
        with pytest.raises(ExprError) as info:
            compile_expr(text)
        assert "repeats a group" in info.value.message
    else:
        env = {"name": "ab(a+)"}
        assert compile_expr(text).evaluate(env) is bool(re.search(pattern, env["name"]))


def test_rx_reports_a_bad_pattern_as_such() -> None:
    for pattern in ("[", "[^", "[]", "a\\", "(a", "a)", "a)+", "([]+)+", "((])+["):
        with pytest.raises(ExprError) as info:
            compile_expr(f"rx(name, {pattern!r})")
        assert info.value.message.startswith("bad pattern: "), pattern


@pytest.mark.parametrize("pattern", ["(ab)+", "(a|b)*c", "[(a+)]+", r"\(a+\)+", "a+b*", "(a+)?"])
def test_rx_accepts_patterns_without_nested_repetition(pattern: str) -> None:
    for subject in ("ab", "abab", "c", "(a)", "aab", "xyz", ""):
        env = {"name": subject}
        assert compile_expr(f"rx(name, {pattern!r})").evaluate(env) is bool(
            re.search(pattern, subject)
        ), (pattern, subject)


def test_rx_pattern_length_is_limited() -> None:
    err = fault("rx(name, 'a' * 2000)")
    assert "pattern too long" in err.message
    with pytest.raises(ExprError, match="pattern too long"):
        compile_expr(f"rx(name, '{'a' * 1001}')")


def test_rx_does_not_warn_about_escapes() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ev(r'rx(head, "^\d")')


# --------------------------------------------------------------------------- runtime faults


@pytest.mark.parametrize(
    ("text", "offset", "message"),
    [
        ("'a' - 1", 4, "unsupported operand types for -: string and int"),
        ("name + 1", 5, "unsupported operand types for +"),
        ("ahead / 0", 6, "division by zero"),
        ("ahead // 0", 6, "division by zero"),
        ("ahead % 0", 6, "division by zero"),
        ("0 ** -1", 2, "division by zero"),
        ("'%s' % name", 5, "unsupported operand types for %"),
        ("name < 3", 5, "cannot compare string < int"),
        ("1 < ahead < 'x'", 10, "cannot compare int < string"),
        ("-name", 0, "bad operand type for unary -"),
        ("ahead in 3", 6, "'in' needs a string, list or dict"),
        ("3 in name", 2, "'in <string>' needs a string on the left"),
        ("ahead[0]", 6, "int cannot be subscripted"),
        ("name['x']", 5, "string index must be an integer"),
        ("name[::0]", 5, "slice step cannot be zero"),
        ("ahead.lower()", 6, "int has no method 'lower'"),
        ("name.get('x')", 5, "string has no method 'get'"),
        ("name.startswith(1)", 5, "startswith() needs a string"),
        ("name.count(1)", 5, "count()"),
        ("len(ahead)", 0, "len() needs a string, list or dict"),
        ("int('x')", 0, "int()"),
        ("int([1])", 0, "int() cannot convert list"),
        ("abs('x')", 0, "abs() needs a number"),
        ("max(1, 'a')", 0, "max() needs all numbers or all strings"),
        ("rx(ahead, 'x')", 0, "rx() searches a string"),
        ("(-8) ** 0.5", 5, "complex"),
    ],
)
def test_runtime_faults_point_at_the_operator(text: str, offset: int, message: str) -> None:
    err = fault(text)
    assert message in err.message
    assert err.offset == offset
    assert err.text == text


def test_missing_name_in_env_is_an_expr_error() -> None:
    err = fault_env("ahead + 1", {})
    assert err.message == "name 'ahead' has no value here"
    assert err.offset == 0


# --------------------------------------------------------------------------- compile-time errors


@pytest.mark.parametrize(
    ("text", "offset", "message"),
    [
        ("import os", 0, "only expressions are allowed"),
        ("from os import path", 0, "only expressions are allowed"),
        ("x = 1", 2, "invalid syntax"),
        ("ahead >", 7, "invalid syntax"),
        ("  ahead >", 9, "invalid syntax"),
        ("ahead > and dirty", 8, "invalid syntax"),
        ("rx(url, ", 2, "'(' was never closed"),
        ("'abc", 0, "unterminated string literal"),
        ("1 if dirty", 0, "expected 'else'"),
        ("ahaed > 0", 0, "unknown name 'ahaed'; did you mean 'ahead'?"),
        ("dirty and nme", 10, "unknown name 'nme'"),
        ("dirty\n and nme", 11, "unknown name 'nme'"),
        ("'é' + nme", 6, "unknown name 'nme'"),
        ("'日本' + nme", 7, "unknown name 'nme'"),
        ("os", 0, "unknown name 'os'"),
        ("x.__class__", 2, "'__class__' is not allowed"),
        ("dirty and name.__class__", 15, "'__class__' is not allowed"),
        ("().__class__", 3, "'__class__' is not allowed"),
        ("().__class__.__bases__[0].__subclasses__()", 3, "'__class__'"),
        ("name.__len__()", 5, "'__len__' is not allowed"),
        ("name._private", 5, "'_private' is not allowed"),
        ("__import__('os')", 0, "unknown function '__import__'"),
        ("eval('1')", 0, "unknown function 'eval'"),
        ("exec('1')", 0, "unknown function 'exec'"),
        ("open('/etc/passwd')", 0, "unknown function 'open'"),
        ("getattr(name, 'x')", 0, "unknown function 'getattr'"),
        ("path()", 0, "'path' is not a function"),
        ("len", 0, "len is a function"),
        ("lambda: 1", 0, "lambda is not allowed"),
        ("(lambda: 1)()", 1, "lambda is not allowed"),
        ("[x for x in path]", 0, "comprehensions are not allowed"),
        ("{x for x in path}", 0, "comprehensions are not allowed"),
        ("{x: 1 for x in path}", 0, "comprehensions are not allowed"),
        ("len(x for x in path)", 3, "comprehensions are not allowed"),
        ("(y := 1)", 1, "assignment (:=) is not allowed"),
        ("f'{name}'", 0, "f-strings are not supported"),
        ("{'a': 1}", 0, "dict literals are not supported"),
        ("{1, 2}", 0, "set literals are not supported"),
        ("[*path]", 1, "unpacking is not supported"),
        ("b'x'", 0, "only numbers, strings, True, False and None"),
        ("1j", 0, "only numbers, strings"),
        ("...", 0, "only numbers, strings"),
        ("1" + "0" * 120, 0, "number too large"),
        ("name.format()", 5, "unknown method 'format'"),
        ("name.join([])", 5, "unknown method 'join'"),
        ("name.lower", 5, "lower is a method"),
        ("name.real", 5, "unknown attribute 'real'"),
        ("(name)()", 0, "'name' is not a function"),
        ("(name + 'x')()", 0, "only functions and string methods can be called"),
        ("name[0]()", 0, "only functions and string methods can be called"),
        ("len(name, 1)", 0, "len() takes 1 argument"),
        ("now(1)", 0, "now() takes 0 arguments"),
        ("name.lower(1)", 5, "lower() takes 0 arguments"),
        ("name.replace('a')", 5, "replace() takes 2 arguments"),
        ("len(x=1)", 4, "keyword arguments are not supported"),
        ("rx(name, '(')", 9, "bad pattern"),
        ("ahead is 1", 9, "only compare with None, True or False"),
        ("ahead is not 'x'", 13, "only compare with None, True or False"),
        ("~ahead", 0, "operator ~ is not supported"),
        ("ahead << 1", 6, "operator << is not supported"),
        ("ahead | 1", 6, "operator | is not supported"),
        ("ahead @ 1", 6, "operator @ is not supported"),
        ("", 0, "empty expression"),
        ("   ", 0, "empty expression"),
        ("a\x00", 1, "NUL"),
        ("name + '\udcff'", 8, "undecodable"),
    ],
)
def test_compile_errors_point_at_the_fault(text: str, offset: int, message: str) -> None:
    with pytest.raises(ExprError) as info:
        compile_expr(text)
    err = info.value
    assert message in err.message
    assert err.offset == offset
    assert err.text == text
    assert str(err) == err.message


def test_custom_names_for_other_views() -> None:
    expr = compile_expr("ahead > 0 and branch != 'main'", names=["ahead", "branch"])
    assert expr.evaluate({"ahead": 1, "branch": "dev"}) is True
    with pytest.raises(ExprError, match="unknown name 'path'") as info:
        compile_expr("path", names=["ahead", "branch"])
    assert info.value.offset == 0


def test_whitespace_and_line_breaks_are_spaces() -> None:
    assert ev("  ahead > 0") is True
    assert ev("\tahead > 0") is True
    assert ev("ahead > 0\n  and dirty\r\n") is True
    assert ev("(ahead\n+ 1)") == 4


def test_expression_text_is_length_limited() -> None:
    with pytest.raises(ExprError, match="too long"):
        compile_expr("1 + " * 3000 + "1")


@pytest.mark.parametrize(
    "text",
    [
        "not " * 150 + "dirty",
        "-" * 9000 + "1",
        "[" * 150 + "]" * 150,
        "-(" * 120 + "1" + ")" * 120,
        "(" * 250 + "1" + ")" * 250,
    ],
)
def test_deep_nesting_is_refused(text: str) -> None:
    with within(2.0), pytest.raises(ExprError, match="nested"):
        compile_expr(text)


def test_redundant_parentheses_are_not_nesting() -> None:
    assert ev("(" * 150 + "ahead" + ")" * 150) == 3


# --------------------------------------------------------------------------- resource bounds


@pytest.mark.parametrize(
    "text",
    [
        "'a' * 10**10",
        "10**10 * 'a'",
        "[1] * 10**9",
        "'9' * 10**6",
        "2 ** 10**10",
        "9 ** 9 ** 9",
        "10 ** 100",
        "-(10 ** 100)",
        "10**99 * 10**99",
        "(10**99 + 10**99) * 5",
        "2.0 ** 100000",
        "'ab' * 50000 + 'ab' * 50000",
        "('a' * 100000) + 'b'",
        "[[1] * 1000] * 1000",
        "[['a' * 1000] * 100] * 100",
        "str([['a' * 1000] * 100] * 100)",
        "[name * 20000, name * 20000]",
        "('a ' * 50000).split()",
        "name.replace('', 'x' * 50000)",
        "('x' * 60000).replace('x', 'yy')",
        "int('9' * 5000)",
        "int('9' * 200)",
        "float('9' * 5000)",
        "int(1e300)",
        "days(10**99)",
        "abs(-(10 ** 99)) * 100",
    ],
)
def test_resource_bounds_fail_fast(text: str) -> None:
    with within(1.0), pytest.raises(ExprError) as info:
        ev(text)
    assert re.search(r"too large|too long|limit", info.value.message)


def test_a_list_counts_itself_its_items_and_what_they_hold() -> None:
    # A list of one string: 1 for the list, 1 for its item, and the string's characters.
    n = MAX_SIZE - 2
    assert ev(f"['a' * {n}]") == ["a" * n]
    too_big = fault(f"['a' * {n + 1}]")
    assert too_big.message == f"result too large (limit {MAX_SIZE:,} characters or items)"
    # Joining two lists counts both: 2 for [1], then 2 + n - 1 for the other.
    assert ev(f"[1] + ['a' * {n - 2}]") == [1, "a" * (n - 2)]
    assert "too large" in fault(f"[1] + ['a' * {n - 1}]").message


def test_a_record_dict_counts_itself_its_keys_and_its_values() -> None:
    from dataclasses import replace

    def failed(message: str) -> RepoRecord:
        return replace(FAILED, error=RepoError(Reason.TIMEOUT, message))

    # 1 for the dict, 2 for its keys, "reason" + "timeout" + "message", then the message.
    fits = MAX_SIZE - 1 - 2 - len("reason") - len("timeout") - len("message")
    # A function's result is measured (coalesce returns its argument).
    got = ev("coalesce(error)", failed("x" * fits))
    assert got == {"reason": "timeout", "message": "x" * fits}
    assert "too large" in fault("coalesce(error)", failed("x" * (fits + 1))).message


class _Raising(dict[str, Any]):
    """A record env whose every lookup raises *error*."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    def __getitem__(self, key: str) -> Any:
        raise self.error


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (ValueError("boom"), "cannot evaluate: boom"),
        (RecursionError(), "expression is too deeply nested"),
        (Fault("out of range"), "out of range"),
        (ExprError("no value", offset=3), "no value"),
    ],
)
def test_evaluate_raises_only_expr_errors_that_name_the_expression(
    error: BaseException, message: str
) -> None:
    text = "1 + branch"
    with pytest.raises(ExprError) as info:
        compile_expr(text).evaluate(_Raising(error))
    assert (info.value.message, info.value.text) == (message, text)
    assert info.value.offset == (3 if isinstance(error, ExprError) else None)


def test_limit_faults_say_which_limit() -> None:
    assert fault("10 ** 99 * 10").message == "number too large (limit 10**100)"
    assert fault("(-1) ** 0.5").message == "result is a complex number"


def test_limits_allow_values_right_below_them() -> None:
    assert len(ev(f"'a' * {MAX_SIZE}")) == MAX_SIZE
    assert ev("10 ** 99") == 10**99
    assert ev(f"{MAX_INT - 1} + 0") == MAX_INT - 1
    assert ev("2 ** 332") == 2**332
    assert ev("1 ** (10 ** 99)") == 1
    assert ev("(-1) ** (10 ** 99 + 1)") == -1
    assert ev("0 ** (10 ** 99)") == 0
    assert ev("1e308 * 10") == float("inf")


def test_evaluate_raises_only_expr_error_for_a_deep_value() -> None:
    # A value from the environment is data: even odd types only fail with ExprError.
    expr = compile_expr("name + 1")
    with pytest.raises(ExprError):
        expr.evaluate({"name": object()})
    expr = compile_expr("name.lower()")
    with pytest.raises(ExprError):
        expr.evaluate({"name": object()})


# --------------------------------------------------------------------------- rendering


def test_render_points_a_caret_at_the_fault() -> None:
    with pytest.raises(ExprError) as info:
        compile_expr("dirty and nme")
    assert info.value.render() == (
        "error: unknown name 'nme'; did you mean 'name'?\n  dirty and nme\n            ^"
    )


def test_render_without_offset_or_text() -> None:
    assert ExprError("boom").render() == "error: boom"
    assert ExprError("boom", "a + b").render() == "error: boom\n  a + b"
    assert ExprError("end", "a +", 3).render() == "error: end\n  a +\n     ^"


def test_render_counts_wide_characters_and_escapes_control_characters() -> None:
    with pytest.raises(ExprError) as info:
        compile_expr("'日本' + nme")
    lines = info.value.render().splitlines()
    assert lines[1] == "  '日本' + nme"
    assert lines[2] == "  " + " " * 9 + "^"  # two wide characters take two columns each
    err = ExprError("bad", "'\x1b[31m' + x", 10)
    lines = err.render().splitlines()
    assert "\x1b" not in err.render()
    assert lines[1] == "  '\\x1b[31m' + x"
    assert lines[2].index("^") == lines[1].index("x", 5)


def test_render_multiline_expression_on_one_line() -> None:
    with pytest.raises(ExprError) as info:
        compile_expr("dirty\n and nme")
    lines = info.value.render().splitlines()
    assert lines[1] == "  dirty  and nme"
    assert lines[2].index("^") == lines[1].index("nme")


# --------------------------------------------------------------------------- truthy, help


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        (False, False),
        (0, False),
        (0.0, False),
        ("", False),
        ([], False),
        ({}, False),
        (True, True),
        (1, True),
        (-1.5, True),
        ("0", True),
        ([0], True),
        ({"reason": "x"}, True),
    ],
)
def test_truthy(value: Any, expected: bool) -> None:
    assert truthy(value) is expected


def test_help_text_documents_every_function_method_and_name() -> None:
    for fn in FUNCTION_NAMES:
        assert re.search(rf"\b{fn}\(", HELP_TEXT), fn
    for method in METHOD_NAMES:
        assert f".{method}(" in HELP_TEXT, method
    for name in RECORD_NAMES:
        assert re.search(rf"\b{name}\b", HELP_TEXT), name
    for example in (
        'dirty and branch != "main"',
        "ahead > 0 and behind == 0",
        'rx(url, "^me/")',
        'name.startswith("py")',
        "mtime > now() - days(7)",
        "error is not None",
    ):
        assert example in HELP_TEXT


def test_every_documented_function_is_callable() -> None:
    calls = {
        "rx": ("rx(branch, '^ma')", True),
        "rxi": ("rxi(branch, '^MA')", True),
        "len": ("len(branch)", 4),
        "int": ("int('42') + 1", 43),
        "float": ("float('2.5') * 2", 5.0),
        "str": ("str(3) + 'x'", "3x"),
        "abs": ("abs(-3)", 3),
        "min": ("min(3, 1, 2)", 1),
        "max": ("max([3, 1, 2])", 3),
        "coalesce": ("coalesce(None, 'y')", "y"),
        "now": ("now() > 1700000000", True),
        "days": ("days(2)", 2 * 86400),
        "hours": ("hours(3)", 3 * 3600),
    }
    assert set(calls) == FUNCTION_NAMES
    for text, expected in calls.values():
        assert ev(text) == expected, text


# --------------------------------------------------------------------------- properties

_SMALL = st.integers(min_value=0, max_value=20).map(str)
_LEAF = _SMALL | _SMALL.map(lambda s: f"-{s}")


def _arith(ops: list[str]) -> st.SearchStrategy[str]:
    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(children, st.sampled_from(ops), children).map(lambda t: " ".join(t)),
            children.map(lambda c: f"({c})"),
        )

    return st.recursive(_LEAF, extend, max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(_arith(["+", "-", "*"]))
def test_integer_arithmetic_matches_python(text: str) -> None:
    oracle = eval(text, {"__builtins__": {}}, {})  # the test's oracle only
    assert compile_expr(text, names=()).evaluate({}) == oracle


@settings(max_examples=300, deadline=None)
@given(_arith(["+", "-", "*", "//", "%"]))
def test_integer_division_matches_python_or_faults(text: str) -> None:
    expr = compile_expr(text, names=())
    try:
        oracle = eval(text, {"__builtins__": {}}, {})  # the test's oracle only
    except ZeroDivisionError:
        with pytest.raises(ExprError, match="division by zero"):
            expr.evaluate({})
        return
    assert expr.evaluate({}) == oracle


_GARBAGE_ALPHABET = st.characters(codec="utf-8") | st.sampled_from(
    list("()[]{}.,:'\"_\\ \n+-*/%<>=!")
)


@settings(max_examples=500, deadline=None)
@given(st.text(_GARBAGE_ALPHABET, max_size=60))
def test_garbage_text_only_raises_expr_error(text: str) -> None:
    try:
        expr = compile_expr(text)
    except ExprError as err:
        assert err.text == text
        assert err.offset is None or 0 <= err.offset <= len(text)
        return
    for record in RECORDS:
        try:
            value = expr.evaluate(record_env(record))
        except ExprError as err:
            assert err.text == text
            continue
        assert value is None or isinstance(value, bool | int | float | str | list | dict)


_TOKENS = [
    *sorted(RECORD_NAMES),
    *(f"{fn}(" for fn in sorted(FUNCTION_NAMES)),
    *(f".{m}(" for m in sorted(METHOD_NAMES)),
    *"()[],:+-*/%<>",
    "**",
    "//",
    "==",
    "!=",
    "<=",
    ">=",
    "and",
    "or",
    "not",
    "in",
    "is",
    "if",
    "else",
    "None",
    "True",
    "0",
    "1",
    "7",
    "10",
    "99",
    "2.5",
    "'a'",
    "'main'",
    "'(a+)+'",
    "''",
    ".__class__",
    "lambda",
    "for",
]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=14).map(" ".join))
def test_token_soup_only_raises_expr_error_and_stays_fast(text: str) -> None:
    started = time.perf_counter()
    try:
        expr = compile_expr(text)
    except ExprError as err:
        assert err.offset is None or 0 <= err.offset <= len(text)
        return
    for record in RECORDS:
        try:
            value = expr.evaluate(record_env(record))
        except ExprError as err:
            assert err.text == text
            continue
        assert value is None or isinstance(value, bool | int | float | str | list | dict)
    assert time.perf_counter() - started < 1.0
