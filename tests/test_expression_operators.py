"""The arithmetic and comparison operators of the --where / --print language: every
rule of ``None`` propagation, each fault's exact message, and the limits that stop a
computation before it starts.

Records are built directly from the model's dataclasses: the language needs no git.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from gitoverit.model import Reason, RepoError, RepoRecord, RepoRef, RepoStatus
from gitoverit.query import ExprError, compile_expr, record_env

# A record whose counts are numbers and whose branch and upstream are None (detached).
DETACHED = RepoRecord(
    RepoRef("/home/u/code/pybar", "/home/u/code/pybar/.git", "code/pybar"),
    RepoStatus(detached=True, head="89abcdef0123456789abcdef0123456789abcdef", ahead=2),
)


def ev(text: str) -> Any:
    return compile_expr(text).evaluate(record_env(DETACHED))


def message(text: str) -> str:
    with pytest.raises(ExprError) as info:
        ev(text)
    return info.value.message


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "//", "%", "**"])
def test_none_on_either_side_of_arithmetic_gives_none(op: str) -> None:
    assert ev(f"branch {op} 2") is None
    assert ev(f"2 {op} branch") is None
    assert ev(f"branch {op} upstream") is None


@pytest.mark.parametrize("op", ["-", "/", "//", "%", "**"])
def test_numbers_only_operators_name_themselves_and_both_types(op: str) -> None:
    assert message(f"'a' {op} 2") == f"unsupported operand types for {op}: string and int"
    assert message(f"2 {op} [1]") == f"unsupported operand types for {op}: int and list"


@pytest.mark.parametrize("op", ["/", "//", "%"])
def test_division_by_zero_is_a_fault_with_that_message(op: str) -> None:
    assert message(f"ahead {op} 0") == "division by zero"
    assert message(f"ahead {op} 0.0") == "division by zero"


def test_division_results() -> None:
    assert ev("7 / 2") == 3.5
    assert ev("7 // 2") == 3
    assert ev("-7 // 2") == -4
    assert ev("7 % 3") == 1
    assert ev("-7 % 3") == 2
    assert ev("ahead - 5") == -3


def test_power_results_at_the_edges() -> None:
    assert ev("0 ** 0") == 1
    assert ev("1 ** -1") == 1.0
    assert ev("2 ** -2") == 0.25
    assert ev("(-2) ** 3") == -8
    assert ev("2.0 ** 3") == 8.0
    assert ev("4 ** 0.5") == 2.0


def test_power_faults_say_exactly_why() -> None:
    assert message("0 ** -1") == "division by zero"
    # A float zero to a negative power: Python's own ZeroDivisionError, reworded.
    assert message("0.0 ** -1") == "division by zero"
    # An integer power too large is refused before it is computed, with the limit.
    assert message("2 ** 10 ** 10") == "number too large (limit 10**100)"
    assert message("2 ** 400") == "number too large (limit 10**100)"
    # A float overflows in Python; the fault has no limit to name.
    assert message("2.0 ** 100000") == "number too large"


def test_a_huge_power_with_a_huge_base_fails_at_once() -> None:
    # 10**99 ** 100000 has 9.9 million digits: it must be refused, not computed.
    started = time.perf_counter()
    assert message("(10 ** 99) ** 100000") == "number too large (limit 10**100)"
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 < 2", True),
        ("2 < 1", False),
        ("2 <= 2", True),
        ("3 <= 2", False),
        ("3 > 2", True),
        ("2 > 3", False),
        ("2 >= 2", True),
        ("1 >= 2", False),
        ("1.5 < 2", True),
        ("'a' < 'b'", True),
        ("'b' < 'a'", False),
        ("[1, 2] < [1, 3]", True),
        ("[1, 3] <= [1, 2]", False),
        ("ahead > 1", True),
        ("ahead < 1", False),
    ],
)
def test_ordering_comparisons(text: str, expected: bool) -> None:
    assert ev(text) is expected


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
def test_ordering_with_none_is_false_on_either_side(op: str) -> None:
    assert ev(f"branch {op} 'a'") is False
    assert ev(f"'a' {op} branch") is False
    assert ev(f"branch {op} upstream") is False
    assert ev(f"not (branch {op} 'a')") is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'a' < 1", "cannot compare string < int"),
        ("1 <= 'a'", "cannot compare int <= string"),
        ("[1] > 'a'", "cannot compare list > string"),
        ("ahead >= [1]", "cannot compare int >= list"),
        ("[1] < [None]", "cannot compare list < list"),
    ],
)
def test_ordering_of_unlike_values_names_both_types(text: str, expected: str) -> None:
    assert message(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 in name", "'in <string>' needs a string on the left, not int"),
        ("[1] in name", "'in <string>' needs a string on the left, not list"),
        ("ahead in 3", "'in' needs a string, list or dict on the right, not int"),
        ("1 in 2.5", "'in' needs a string, list or dict on the right, not float"),
    ],
)
def test_membership_faults_name_the_wrong_type(text: str, expected: str) -> None:
    assert message(text) == expected


def test_membership_in_a_dict_refuses_unhashable_keys_by_name() -> None:
    failed = RepoRecord(
        RepoRef("/home/u/code/broken", "/home/u/code/broken/.git", "code/broken"),
        error=RepoError(Reason.TIMEOUT, "git status timed out after 10s"),
    )
    env = record_env(failed)
    with pytest.raises(ExprError) as info:
        compile_expr("[1] in error").evaluate(env)
    assert info.value.message == "a list cannot be a dict key"
    with pytest.raises(ExprError) as info:
        compile_expr("error in error").evaluate(env)
    assert info.value.message == "a dict cannot be a dict key"
    assert compile_expr("'reason' in error").evaluate(env) is True
    assert compile_expr("'nothing' not in error").evaluate(env) is True


def test_repetition_by_one_and_by_zero_or_less() -> None:
    assert ev("'ab' * 1") == "ab"
    assert ev("1 * 'ab'") == "ab"
    assert ev("[1, 2] * 1") == [1, 2]
    assert ev("'ab' * 0") == ""
    assert ev("[1] * -3") == []
    assert ev("2 * [1]") == [1, 1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'a' * 'b'", "unsupported operand types for *: string and string"),
        ("[1] * 'a'", "unsupported operand types for *: list and string"),
        ("'a' * [1]", "unsupported operand types for *: string and list"),
        ("'a' * 1.5", "unsupported operand types for *: string and float"),
    ],
)
def test_repetition_faults_name_both_types_in_order(text: str, expected: str) -> None:
    assert message(text) == expected


def test_a_dict_is_never_repeated() -> None:
    failed = RepoRecord(
        RepoRef("/home/u/code/broken", "/home/u/code/broken/.git", "code/broken"),
        error=RepoError(Reason.TIMEOUT, "git status timed out after 10s"),
    )
    env = record_env(failed)
    for text, expected in [
        ("error * 2", "unsupported operand types for *: dict and int"),
        ("2 * error", "unsupported operand types for *: int and dict"),
    ]:
        with pytest.raises(ExprError) as info:
            compile_expr(text).evaluate(env)
        assert info.value.message == expected


def test_unary_signs_name_the_wrong_type() -> None:
    assert message("+name") == "bad operand type for unary +: string"
    assert message("-name") == "bad operand type for unary -: string"
    assert ev("+ahead") == 2
    assert ev("-ahead") == -2
    assert ev("+branch") is None
    assert ev("-branch") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 'a'", "unsupported operand types for +: int and string"),
        ("'a' + 1", "unsupported operand types for +: string and int"),
        ("[1] + 'a'", "unsupported operand types for +: list and string"),
        ("'ab' + [1]", "unsupported operand types for +: string and list"),
        ("[1] + 2", "unsupported operand types for +: list and int"),
    ],
)
def test_addition_faults_name_both_types_in_order(text: str, expected: str) -> None:
    assert message(text) == expected


def test_joining_lists_and_strings() -> None:
    assert ev("[1] + [2, 3]") == [1, 2, 3]
    assert ev("'ab' + 'cd'") == "abcd"


def test_a_list_at_the_size_limit_still_counts_what_it_holds() -> None:
    too_large = "result too large (limit 100,000 characters or items)"
    # 99,999 items and the list itself make 100,000; the one "a" among them is one more.
    assert message("('a' + ',' * 99998).split(',')") == too_large
    assert ev("len(('a' + ',' * 99997).split(','))") == 99_998
    # A list inside a list: both lists count, then the string.
    assert message("[['a' * 99997]]") == too_large
    assert ev("len([['a' * 99996]][0][0])") == 99_996


def test_a_list_holding_a_dict_counts_the_dict_and_all_before_it() -> None:
    failed = RepoRecord(
        RepoRef("/home/u/code/broken", "/home/u/code/broken/.git", "code/broken"),
        error=RepoError(Reason.TIMEOUT, "git status timed out after 10s"),
    )
    env = record_env(failed)
    # The list: 1 + 2 items; the dict: 1 + 2 keys + "reason" "timeout" "message" and
    # the message's 30 characters, 53 in all; so 99,944 more characters make 100,000.
    assert compile_expr("len([error, 'a' * 99944])").evaluate(env) == 2
    with pytest.raises(ExprError) as info:
        compile_expr("[error, 'a' * 99945]").evaluate(env)
    assert info.value.message == "result too large (limit 100,000 characters or items)"
