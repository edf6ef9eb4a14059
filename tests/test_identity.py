"""The id_rewrite rule engine: each rule type, the order of rules, colours, bad rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitoverit.identity import RULE_TYPES, RewriteRule, RuleError, apply_rule, rewrite

JANE = "Jane Doe <jane@corp.example>"


@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        (RewriteRule("literal_full", JANE, "work"), JANE, "work"),
        (RewriteRule("literal_full", JANE, "work"), JANE + " ", None),
        (RewriteRule("literal_full", "jane doe <jane@corp.example>", "work"), JANE, None),
        # every occurrence is replaced, the rest of the text kept
        (RewriteRule("literal_substring", "a", "4"), "banana", "b4n4n4"),
        (RewriteRule("literal_substring", "@corp.example", ""), JANE, "Jane Doe <jane>"),
        (RewriteRule("literal_substring", "", "x"), JANE, None),
        (RewriteRule("literal_substring", "zzz", "x"), JANE, None),
        # a glob matches the whole text, case-sensitively, and replaces all of it
        (RewriteRule("glob", "*@corp.example>", "work"), JANE, "work"),
        (RewriteRule("glob", "*@corp.example", "work"), JANE, None),
        (RewriteRule("glob", "*@CORP.example>", "work"), JANE, None),
        (RewriteRule("glob", "Jane ??? <*>", "j"), JANE, "j"),
        (RewriteRule("glob", "[JK]ane*", "j"), JANE, "j"),
        # a regular expression is searched anywhere; every match is substituted
        (RewriteRule("regex", r"@corp\.example", "@work"), JANE, "Jane Doe <jane@work>"),
        (RewriteRule("regex", r"^(\w+) \w+ <.*>$", r"\1 (work)"), JANE, "Jane (work)"),
        (
            RewriteRule("regex", r"(?P<user>\w+)@", r"[\g<user>]@"),
            JANE,
            "Jane Doe <[jane]@corp.example>",
        ),
        (RewriteRule("regex", "o", "0"), "foo boo", "f00 b00"),
        (RewriteRule("regex", "^x", "y"), JANE, None),
        # a regex that matches only the empty text still matches
        (RewriteRule("regex", "^", "> "), JANE, "> " + JANE),
    ],
)
def test_each_rule_type(rule: RewriteRule, text: str, expected: str | None) -> None:
    assert apply_rule(rule, text) == expected


def test_the_first_matching_rule_wins_and_no_later_rule_runs() -> None:
    rules = [
        RewriteRule("literal_full", "nobody", "n"),
        RewriteRule("glob", "Jane*", "first", "green"),
        RewriteRule("regex", "Jane", "second", "red"),
    ]
    assert rewrite(JANE, rules) == ("first", "green")
    # the result of one rule is not fed to the next
    chained = [RewriteRule("literal_full", JANE, "work"), RewriteRule("literal_full", "work", "x")]
    assert rewrite(JANE, chained) == ("work", None)


def test_colour_is_the_rules_then_the_default_and_none_without_a_match() -> None:
    own = [RewriteRule("literal_full", JANE, "work", "cyan")]
    plain = [RewriteRule("literal_full", JANE, "work")]
    assert rewrite(JANE, own, default_fg="magenta") == ("work", "cyan")
    assert rewrite(JANE, plain, default_fg="magenta") == ("work", "magenta")
    assert rewrite(JANE, plain) == ("work", None)
    assert rewrite(JANE, plain, default_fg="") == ("work", None)
    assert rewrite("Someone Else <s@x>", own, default_fg="magenta") == ("Someone Else <s@x>", None)
    assert rewrite(JANE, [], default_fg="magenta") == (JANE, None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"type": "exact", "find": "x"}, "type: must be one of literal_full, literal_substring"),
        ({"type": "regex", "find": "(unclosed"}, "find: invalid regular expression: missing )"),
        ({"type": "regex", "find": "(a)", "replace": r"\2"}, "replace: invalid group reference 2"),
        ({"type": "regex", "find": "(a)", "replace": r"\g<who>"}, "replace: unknown group name"),
        ({"type": "regex", "find": "a", "replace": r"\d"}, r"replace: bad escape \d"),
    ],
)
def test_a_bad_rule_is_refused_when_made(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(RuleError) as info:
        RewriteRule(**kwargs)
    assert str(info.value).startswith(message)


def test_group_references_that_exist_are_accepted() -> None:
    rule = RewriteRule("regex", r"(\w+)(?P<rest> .*)", r"\g<rest> \1 \g<2> \g<0>")
    assert apply_rule(rule, "a b") == " b a  b a b"


@given(text=st.text(max_size=30), rules=st.lists(st.sampled_from(RULE_TYPES), max_size=4))
def test_a_text_no_rule_matches_is_returned_unchanged(text: str, rules: list[str]) -> None:
    # Rules that look for a character no generated text contains never match.
    never = [RewriteRule(t, "\x00\x01", "x", "red") for t in rules]
    assert rewrite(text.replace("\x00", ""), never, default_fg="blue") == (
        text.replace("\x00", ""),
        None,
    )
