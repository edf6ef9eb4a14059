"""Rewriting identities for display: the ``id_rewrite`` rules of the config file.

An identity is a text such as a commit author or the committer identity a repository
would use (``Name <email>``). People with several identities (work, personal) map each to
a short label, and give it a colour, so that a repository or branch with the wrong one
stands out::

    [[id_rewrite]]
    type = "literal_full"
    find = "Jane Doe <jane@corp.example>"
    replace = "work"
    fg = "cyan"

:func:`rewrite` tries the rules in their order; the first that matches decides the text
and the colour, and no later rule runs. What "matches" means, and what the text becomes,
depends on the rule's type:

=====================  ========================================  ============================
type                   matches when                              the text becomes
=====================  ========================================  ============================
``literal_full``       the text equals *find*                    *replace*
``literal_substring``  *find* (not empty) occurs in the text     the text with every
                                                                 occurrence replaced
``glob``               the whole text matches the glob *find*    *replace*
                       (``*``, ``?``, ``[...]``, case-sensitive)
``regex``              the regular expression *find* is found    the text with every match
                       anywhere in the text (``re.search``)      replaced (``re.sub``; ``\\1``
                                                                 and ``\\g<name>`` work)
=====================  ========================================  ============================

The colour of a rewritten identity is the rule's ``fg``, else the default colour
(``id_rewrite_fg_color``); an identity no rule matched keeps its text and gets no colour.
This module is pure: no I/O, no configuration; callers pass the rules in.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass

#: The rule types, in the order the documentation lists them.
RULE_TYPES: tuple[str, ...] = ("literal_full", "literal_substring", "glob", "regex")


class RuleError(ValueError):
    """A rule that cannot be used. The message starts with the field at fault
    (``type: ...``, ``find: ...``, ``replace: ...``)."""


@dataclass(frozen=True, slots=True)
class RewriteRule:
    """One ``id_rewrite`` rule: *type* (one of :data:`RULE_TYPES`), *find*, *replace*, and
    *fg*, a colour or style for the rewritten text (``""``: the default colour).

    Raises :class:`RuleError` for an unknown type, a regular expression that does not
    compile, or a *replace* that refers to a group the expression does not have.
    """

    type: str
    find: str
    replace: str = ""
    fg: str = ""

    def __post_init__(self) -> None:
        if self.type not in RULE_TYPES:
            raise RuleError(f"type: must be one of {', '.join(RULE_TYPES)}, got {self.type!r}")
        if self.type == "regex":
            _check_regex(self.find, self.replace)


def _check_regex(find: str, replace: str) -> None:
    """Compile *find* and expand *replace* against it, so that a bad rule is refused when
    it is read rather than when an identity first matches it."""
    try:
        pattern = re.compile(find)
    except re.error as exc:
        raise RuleError(f"find: invalid regular expression: {exc}") from None
    # A pattern with the same groups (numbers and names) that matches the empty text: the
    # substitution then parses *replace* exactly as it would for a real match.
    names = {index: name for name, index in pattern.groupindex.items()}
    same_groups = "".join(
        f"(?P<{names[i]}>)" if i in names else "()" for i in range(1, pattern.groups + 1)
    )
    try:
        re.sub(same_groups, replace, "", count=1)
    except (re.error, IndexError) as exc:
        raise RuleError(f"replace: {exc}") from None


def apply_rule(rule: RewriteRule, text: str) -> str | None:
    """*text* rewritten by *rule*, or ``None`` when the rule does not match it."""
    if rule.type == "literal_full":
        return rule.replace if text == rule.find else None
    if rule.type == "literal_substring":
        if not rule.find or rule.find not in text:
            return None
        return text.replace(rule.find, rule.replace)
    if rule.type == "glob":
        return rule.replace if fnmatch.fnmatchcase(text, rule.find) else None
    pattern = re.compile(rule.find)
    if pattern.search(text) is None:
        return None
    return pattern.sub(rule.replace, text)


def rewrite(
    text: str, rules: Sequence[RewriteRule], *, default_fg: str | None = None
) -> tuple[str, str | None]:
    """*text* rewritten by the first of *rules* that matches it, and its colour.

    Returns ``(new text, colour)``: the colour is the matching rule's ``fg``, else
    *default_fg*, else ``None``. When no rule matches: ``(text, None)``.
    """
    for rule in rules:
        new = apply_rule(rule, text)
        if new is not None:
            return new, rule.fg or default_fg or None
    return text, None


__all__ = ["RULE_TYPES", "RewriteRule", "RuleError", "apply_rule", "rewrite"]
