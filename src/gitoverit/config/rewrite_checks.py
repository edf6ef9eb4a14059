"""The checks of ``id_rewrite`` (a list of rules) and of the colours identities are shown in.

In the config file the rules are an array of tables, tried in order::

    id_rewrite_fg_color = "yellow"          # the colour of a rewritten identity

    [[id_rewrite]]
    type = "glob"                           # literal_full, literal_substring, glob, regex
    find = "* <*@corp.example>"
    replace = "work"
    fg = "cyan"                             # optional: this rule's own colour

A rule with an unknown key, a missing ``type`` or ``find``, a value that is not a string,
a regular expression that does not compile, a ``replace`` that names a group the
expression lacks, or a colour that is not one, is an :class:`Invalid` that names the rule
and its key, so that the caller can find its line.
"""

from __future__ import annotations

from gitoverit.config.settings import Invalid, did_you_mean
from gitoverit.identity import RewriteRule, RuleError
from gitoverit.text import safe_text

#: The keys of one rule, in the order they are documented.
RULE_KEYS: tuple[str, ...] = ("type", "find", "replace", "fg")


def check_colour(value: object) -> str | None:
    """A colour or style for rich (``"cyan"``, ``"#ff8800"``, ``"color(33)"``, ``"bold red"``);
    ``None`` for an empty one."""
    if not isinstance(value, str):
        raise Invalid(f'must be a colour name such as "cyan", got {safe_text(repr(value))}')
    if not value.strip():
        return None
    from rich.errors import StyleSyntaxError
    from rich.style import Style

    try:
        Style.parse(value)
    except StyleSyntaxError as exc:
        raise Invalid(f"not a colour: {safe_text(str(exc))}") from None
    return value.strip()


def _rule(index: int, raw: object) -> RewriteRule:
    """Rule number *index* (from 0) of the list, checked."""
    where = f"id_rewrite[{index}]"
    if not isinstance(raw, dict):
        raise Invalid(
            f"{where}: must be a table with type, find and replace, got {safe_text(repr(raw))}",
            item=index,
        )
    for key in raw:
        if key not in RULE_KEYS:
            raise Invalid(
                f"{where}: unknown key {safe_text(repr(key))}{did_you_mean(key, RULE_KEYS)};"
                f" valid keys: {', '.join(RULE_KEYS)}",
                item=index,
                field=key,
            )
    for key in ("type", "find"):
        if key not in raw:
            raise Invalid(f"{where}: missing {key}", item=index)
    for key in RULE_KEYS:
        if key in raw and not isinstance(raw[key], str):
            raise Invalid(
                f"{where}: {key}: must be a string, got {safe_text(repr(raw[key]))}",
                item=index,
                field=key,
            )
    if "fg" in raw:
        try:
            check_colour(raw["fg"])
        except Invalid as exc:
            raise Invalid(f"{where}: fg: {exc}", item=index, field="fg") from None
    try:
        return RewriteRule(raw["type"], raw["find"], raw.get("replace", ""), raw.get("fg", ""))
    except RuleError as exc:
        field, _, _ = str(exc).partition(":")
        raise Invalid(f"{where}: {safe_text(str(exc))}", item=index, field=field) from None


def check_rules(value: object) -> tuple[RewriteRule, ...]:
    """The ``id_rewrite`` rules, in order."""
    if not isinstance(value, list):
        raise Invalid(
            "must be a list of rules ([[id_rewrite]] tables with type, find and replace),"
            f" got {safe_text(repr(value))}"
        )
    return tuple(_rule(index, raw) for index, raw in enumerate(value))
