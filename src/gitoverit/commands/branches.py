"""``gitob [REPO]``: every local branch of one repository, as a table or as JSON.

The data comes from :func:`gitoverit.git.branches.list_branches` (one ``git
for-each-ref`` call), after a fetch of every remote with ``-f``, and, when the output
needs it, the status of each work tree that has a branch checked out
(:func:`~gitoverit.git.branches.with_worktree_status`). The ``--where`` / ``--print``
expressions use :mod:`gitoverit.query`, with the branch JSON field names (and gitob
0.x's names) as the names; they are checked before git runs.

Exit codes: 0 on success (also when no branch is listed), 1 when the repository cannot
be read or ``-f`` could not fetch the upstream's remote, 2 for a usage error (a folder
outside any git work tree, a bad expression, pattern, column or sort key), 130 when
interrupted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from gitoverit.commands._output import warn
from gitoverit.errors import UsageError
from gitoverit.exit_codes import EXIT_FAILED, EXIT_OK
from gitoverit.git.branches import BRANCH_FIELDS, BranchInfo
from gitoverit.git.command import NETWORK_TIMEOUT

if TYPE_CHECKING:
    import re

    from gitoverit.query import Expr, ExprError


@dataclass(frozen=True, slots=True)
class BranchesCommand:
    """gitob's flags, as given."""

    repo: str = "."
    fmt: str = "table"
    sort_key: str = "branch"
    reverse: bool = False
    where: str | None = None
    print_expr: str | None = None
    nul: bool = False
    fetch: bool = False
    glob: str | None = None
    regex: str | None = None
    columns: str | None = None
    timeout: float | None = None


#: gitob 0.x's expression names that this version calls otherwise: old name -> field.
ALIASES: dict[str, str] = {
    "branch": "name",
    "gone": "upstream_gone",
    "worktree_path": "worktree",
    "repo": "repo_path",
    "path": "repo_path",
}

#: Names a ``--where`` / ``--print`` expression can use: the JSON fields of a branch,
#: and gitob 0.x's names for some of them.
BRANCH_NAMES: frozenset[str] = frozenset(BRANCH_FIELDS) | frozenset(ALIASES)

#: The kinds of value each branch name can hold, to find a type mismatch before git runs.
BRANCH_KINDS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("type", "name", "head", "status"), ("string",)),
    **dict.fromkeys(("upstream", "author", "author_name", "author_email"), ("string", "None")),
    **dict.fromkeys(("subject", "worktree", "repo_path"), ("string", "None")),
    **dict.fromkeys(("upstream_gone", "current", "has_upstream"), ("bool",)),
    **dict.fromkeys(("ahead", "behind"), ("int", "None")),
    **dict.fromkeys(("modified", "untracked", "deleted"), ("int", "None")),
    "dirty": ("bool", "None"),
    "date": ("float", "None"),
    "format_version": ("int",),
}
BRANCH_KINDS.update({old: BRANCH_KINDS[new] for old, new in ALIASES.items()})


def where_help() -> str:
    """The ``--help-where`` text: the query language reference, with branch names."""
    from gitoverit.commands._branches_help import where_help as text

    return text(BRANCH_NAMES)


def branch_env(b: BranchInfo) -> dict[str, Any]:
    """The names an expression sees for branch *b*: its JSON fields and their aliases."""
    from gitoverit.output.branches import branch_json

    env = branch_json(b)
    for old, new in ALIASES.items():
        env[old] = env[new]
    return env


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
        if where is None and printer is None:
            kept.append(b)
            continue
        env = branch_env(b)
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


@dataclass(frozen=True, slots=True)
class _Plan:
    """What a run does, checked before git runs."""

    columns: tuple[str, ...]
    where: Expr | None
    printer: Expr | None
    pattern: re.Pattern[str] | None
    needs_status: bool


def _plan(command: BranchesCommand) -> _Plan:
    """Check every flag; raise :class:`UsageError` for the first that is wrong."""
    import re

    from gitoverit.output.branches import SORT_KEYS, STATUS_NAMES, parse_columns

    if command.sort_key not in SORT_KEYS:
        valid = ", ".join(SORT_KEYS)
        raise UsageError(f"unknown sort key {command.sort_key!r}; valid: {valid}")
    if command.nul and command.print_expr is None:
        raise UsageError("-0 only applies to --print")
    try:
        columns = parse_columns(command.columns)
    except ValueError as err:
        raise UsageError(f"-c/--columns: {err}") from None
    table = command.fmt == "table" and command.print_expr is None
    if table and not columns:
        raise UsageError("-c/--columns leaves no column to show, e.g. -c -,branch,status")
    try:
        pattern = re.compile(command.regex) if command.regex is not None else None
    except re.error as err:
        raise UsageError(f"-r/--regex: {err}") from None
    where = _compile(command.where, "--where")
    printer = _compile(command.print_expr, "--print")
    read = set().union(*(e.names for e in (where, printer) if e is not None))
    needs_status = (
        (command.fmt != "table" and printer is None)
        or (table and "status" in columns)
        or command.sort_key == "status"
        or bool(read & STATUS_NAMES)
    )
    return _Plan(columns, where, printer, pattern, needs_status)


def _fetch(top: str, timeout: float | None) -> bool:
    """Fetch every remote of the repository at *top*, with ``--prune``; warn about each
    that failed. False when the upstream's remote (or, without one, every remote) did."""
    from gitoverit.git.branches import worktree_ref
    from gitoverit.git.ops import fetch
    from gitoverit.text import safe_text

    ref = worktree_ref(top)
    if ref is None:
        warn(f"gitob: cannot fetch: no git dir found for {safe_text(top)}")
        return False
    report = fetch(ref, timeout=NETWORK_TIMEOUT if timeout is None else timeout)
    for remote, err in report.failed:
        warn(f"gitob: fetch {safe_text(remote)}: {err.reason.value}: {safe_text(str(err))}")
    return report.decisive is None


def _pick(branches: list[BranchInfo], command: BranchesCommand, plan: _Plan) -> list[BranchInfo]:
    """The branches whose name matches ``--glob`` and ``--regex``."""
    import fnmatch

    if command.glob is not None:
        branches = [b for b in branches if fnmatch.fnmatchcase(b.name, command.glob)]
    if plan.pattern is not None:
        pattern = plan.pattern
        branches = [b for b in branches if pattern.search(b.name)]
    return branches


def _remote_urls(top: str, branches: Sequence[BranchInfo]) -> dict[str, str]:
    """The fetch URL of each remote an upstream lives on, read from the config file."""
    from gitoverit.git.branches import worktree_ref
    from gitoverit.git.gitdir import read_remote_url

    ref = worktree_ref(top)
    urls: dict[str, str] = {}
    for name in {b.upstream_remote for b in branches if b.upstream_remote}:
        url = read_remote_url(ref.git_dir, name) if ref is not None else None
        if url:
            urls[name] = url
    return urls


def run(command: BranchesCommand, out: IO[str] | None = None) -> int:
    """List the branches of the repository and write them to *out* (default stdout).

    Returns the exit code. Flags and expressions are checked before git runs; problems
    the user can fix raise :class:`UsageError`.
    """
    from gitoverit.errors import CommandError
    from gitoverit.git.branches import list_branches, with_worktree_status
    from gitoverit.select import enclosing_repo
    from gitoverit.text import safe_text

    plan = _plan(command)
    stream = sys.stdout if out is None else out
    fetched = True
    try:
        top = enclosing_repo(command.repo)
        if command.fetch:
            fetched = _fetch(top, command.timeout)
        branches = _pick(list_branches(top), command, plan)
        if plan.needs_status:
            branches = with_worktree_status(branches)
    except CommandError as err:
        shown = safe_text(os.path.abspath(command.repo))
        warn(f"gitob: cannot read {shown}: {err.reason.value}: {safe_text(str(err))}")
        return EXIT_FAILED
    _write(branches, command, plan, stream, top)
    return EXIT_OK if fetched else EXIT_FAILED


def _write(
    branches: list[BranchInfo], command: BranchesCommand, plan: _Plan, stream: IO[str], top: str
) -> None:
    """Sort, filter and write *branches* as the command asks."""
    from gitoverit.output.branch_table import render_branch_table
    from gitoverit.output.branches import sort_branches, write_branch_json, write_printed

    ordered = sort_branches(branches, command.sort_key, command.reverse)
    kept, values = _select(ordered, plan.where, plan.printer)
    if plan.printer is not None:
        exact = command.nul and not stream.isatty()
        write_printed(values, stream, nul=command.nul, exact=exact)
    elif command.fmt in ("json", "ndjson"):
        write_branch_json(kept, stream, ndjson=command.fmt == "ndjson")
    elif kept:
        links = stream.isatty()
        urls = _remote_urls(top, kept) if links and "upstream" in plan.columns else {}
        render_branch_table(kept, stream, columns=plan.columns, links=links, remote_urls=urls)
    elif branches:
        warn("no branch matches --where")
    elif command.glob is not None or plan.pattern is not None:
        warn("no branch name matches --glob / --regex")
    else:
        warn("no branches (no commits yet)")
