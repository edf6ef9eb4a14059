"""``gitob [REPO]``: every local branch of one repository, as a table or as JSON.

The data comes from :func:`gitoverit.git.branches.list_branches` (one ``git
for-each-ref`` call). The ``--where`` / ``--print`` expressions use
:mod:`gitoverit.query`, with the branch JSON field names as the names; they are checked
before git runs.

Exit codes: 0 on success (also when no branch is listed), 1 when the repository cannot
be read, 2 for a usage error (a folder outside any git work tree, a bad expression), 130
when interrupted.
"""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from gitoverit.commands._output import user_settings, warn
from gitoverit.errors import UsageError
from gitoverit.exit_codes import EXIT_FAILED, EXIT_OK
from gitoverit.git.branches import BRANCH_FIELDS, BranchInfo

if TYPE_CHECKING:
    from gitoverit.query import Expr, ExprError


@dataclass(frozen=True, slots=True)
class BranchesCommand:
    """gitob's flags, as given."""

    repo: str = "."
    fmt: str = "table"
    sort_key: str = "date"
    reverse: bool = False
    where: str | None = None
    print_expr: str | None = None
    nul: bool = False


#: Names a ``--where`` / ``--print`` expression can use: the JSON fields of a branch.
BRANCH_NAMES: frozenset[str] = frozenset(BRANCH_FIELDS)

#: The kinds of value each branch name can hold, to find a type mismatch before git runs.
BRANCH_KINDS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("type", "name", "head"), ("string",)),
    **dict.fromkeys(("upstream", "author", "subject", "worktree"), ("string", "None")),
    **dict.fromkeys(("upstream_gone", "current"), ("bool",)),
    **dict.fromkeys(("ahead", "behind"), ("int", "None")),
    "date": ("float", "None"),
    "format_version": ("int",),
}

_NAMES_HELP = """\
Expressions for gitob --where (keep a branch when the expression is true) and --print
(print its value for each branch). The syntax is a small, safe subset of Python.

Names (one per branch field, as in the JSON output):
  name head                 the branch, and the commit it points at (full sha)
  upstream upstream_gone    short upstream name ("origin/main") or None; whether it is gone
  ahead behind              commits ahead of / behind the upstream; None without one
  date                      last commit's committer date, seconds since the epoch
  author subject            last commit's author name and subject line
  worktree current          path of the worktree that has the branch checked out, or None;
                            whether it is checked out in the repo shown
  type format_version       always "branch", and the JSON format version
  Every name: {names}

"""

_BRANCH_EXAMPLES = """\
Examples:
  -w 'ahead > 0 and behind == 0'     ready to push
  -w 'upstream is None'              never pushed
  -w upstream_gone                   the upstream branch was deleted
  -w 'rx(name, "^feat")'
  -w 'date < now() - days(30) and not current'
  -w 'worktree is not None'
  -p name -0                         one name per branch, NUL-separated, for xargs -0
  -p 'name + " " + coalesce(upstream, "-")'

"""


def where_help() -> str:
    """The ``--help-where`` text: the query language reference, with branch names."""
    from gitoverit.query import HELP_TEXT

    names = textwrap.fill(" ".join(sorted(BRANCH_NAMES)), width=88, subsequent_indent="    ")
    head = _NAMES_HELP.replace("{names}", names)
    start = HELP_TEXT.find("Operators:")
    examples = HELP_TEXT.find("Examples:", start)
    rest = HELP_TEXT.find("Not allowed:", examples)
    if min(start, examples, rest) < 0:
        return head + HELP_TEXT
    return head + HELP_TEXT[start:examples] + _BRANCH_EXAMPLES + HELP_TEXT[rest:]


def _compile(text: str | None, option: str) -> Expr | None:
    from gitoverit.query import ExprError, compile_expr, static_type

    if text is None:
        return None
    types = {name: static_type(*kinds) for name, kinds in BRANCH_KINDS.items()}
    try:
        return compile_expr(text, BRANCH_NAMES, types)
    except ExprError as err:
        raise UsageError(_expr_message(option, err)) from None


def _expr_message(option: str, err: ExprError, branch: str | None = None) -> str:
    """``OPTION: message``, the expression, and a caret under the fault."""
    from gitoverit.text import safe_text

    text = err.render().removeprefix("error: ")
    where = f" (branch {safe_text(branch)})" if branch is not None else ""
    first, _, rest = text.partition("\n")
    return f"{option}: {first}{where}" + (f"\n{rest}" if rest else "")


def _select(
    branches: Sequence[BranchInfo], where: Expr | None, printer: Expr | None
) -> tuple[list[BranchInfo], list[Any]]:
    """The branches *where* keeps, and the *printer* value of each (empty without one)."""
    from gitoverit.query import ExprError, truthy

    kept: list[BranchInfo] = []
    values: list[Any] = []
    for b in branches:
        env = b.to_json()
        try:
            if where is not None and not truthy(where.evaluate(env)):
                continue
        except ExprError as err:
            raise UsageError(_expr_message("--where", err, b.name)) from None
        if printer is not None:
            try:
                values.append(printer.evaluate(env))
            except ExprError as err:
                raise UsageError(_expr_message("--print", err, b.name)) from None
        kept.append(b)
    return kept, values


def run(command: BranchesCommand, out: IO[str] | None = None) -> int:
    """List the branches of the repository and write them to *out* (default stdout).

    Returns the exit code. Expressions and the sort key are checked before git runs;
    problems the user can fix raise :class:`UsageError`.
    """
    from gitoverit.errors import CommandError
    from gitoverit.git.branches import list_branches
    from gitoverit.output.branches import (
        SORT_KEYS,
        render_branch_table,
        sort_branches,
        write_branch_json,
        write_printed,
    )
    from gitoverit.select import enclosing_repo
    from gitoverit.text import safe_text

    repo, fmt, sort_key = command.repo, command.fmt, command.sort_key
    print_expr, nul = command.print_expr, command.nul
    if sort_key not in SORT_KEYS:
        raise UsageError(f"unknown sort key {sort_key!r}; valid: {', '.join(SORT_KEYS)}")
    if nul and print_expr is None:
        raise UsageError("-0 only applies to --print")
    where_expr = _compile(command.where, "--where")
    printer = _compile(print_expr, "--print")
    user_settings()  # a bad config file stops gitob too; starts the debug log
    stream = sys.stdout if out is None else out
    try:
        top = enclosing_repo(repo)
        branches = list_branches(top)
    except CommandError as err:
        shown = safe_text(os.path.abspath(repo))
        warn(f"gitob: cannot read {shown}: {err.reason.value}: {safe_text(str(err))}")
        return EXIT_FAILED
    kept, values = _select(sort_branches(branches, sort_key, command.reverse), where_expr, printer)
    if printer is not None:
        write_printed(values, stream, nul=nul, exact=nul and not stream.isatty())
    elif fmt in ("json", "ndjson"):
        write_branch_json(kept, stream, ndjson=fmt == "ndjson")
    elif kept:
        render_branch_table(kept, stream)
    else:
        warn("no branch matches --where" if branches else "no branches (no commits yet)")
    return EXIT_OK
