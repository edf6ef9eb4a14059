"""``gitob [DIRS]...``: every local branch of every repository under the folders named (or
of the one that encloses a folder), as a table or as JSON.

The repositories come from :mod:`gitoverit.select`, as a scan's do (``@GROUP`` included),
one work tree per repository. The data comes from
:func:`gitoverit.git.branches.list_branches_of` (one ``git for-each-ref`` per repository,
on a bounded pool), after a fetch of every remote with ``-f``, and, when the output
needs it, the status of each work tree that has a branch checked out
(:func:`~gitoverit.git.branches.with_worktree_status`). The ``--where`` / ``--print``
expressions use :mod:`gitoverit.query`, with the branch JSON field names (and gitob
0.x's names) as the names; they are checked before git runs.

Exit codes: 0 on success (also when no branch is listed), 1 when a repository cannot
be read or ``-f`` could not fetch its upstream's remote, 2 for a usage error (a folder
with no repository below it and outside any git work tree, an unknown group, a bad
expression, pattern, column or sort key), 130 when interrupted.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from gitoverit.commands._output import user_settings, warn
from gitoverit.errors import UsageError
from gitoverit.exit_codes import EXIT_FAILED, EXIT_OK
from gitoverit.git.branches import BRANCH_FIELDS, BranchInfo
from gitoverit.git.command import NETWORK_TIMEOUT

if TYPE_CHECKING:
    import re

    from gitoverit.model import RepoRef
    from gitoverit.query import Expr, ExprError


@dataclass(frozen=True, slots=True)
class BranchesCommand:
    """gitob's flags, as given. *dirs* are the folders named (or ``@GROUP`` names);
    without any, *repo*."""

    repo: str = "."
    dirs: tuple[str, ...] = ()
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
    "path": "repo_path",
}

#: Names a ``--where`` / ``--print`` expression can use: the JSON fields of a branch,
#: and gitob 0.x's names for some of them.
BRANCH_NAMES: frozenset[str] = frozenset(BRANCH_FIELDS) | frozenset(ALIASES)

#: The kinds of value each branch name can hold, to find a type mismatch before git runs.
BRANCH_KINDS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("type", "name", "head", "status"), ("string",)),
    **dict.fromkeys(("upstream", "author", "author_name", "author_email"), ("string", "None")),
    **dict.fromkeys(("subject", "worktree", "repo", "repo_path"), ("string", "None")),
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


def _fetch(refs: Sequence[RepoRef], timeout: float | None, jobs: int | None) -> bool:
    """Fetch every remote of each repository, with ``--prune``, several repositories at
    once; warn about each remote that failed. False when the upstream's remote (or,
    without one, every remote) of some repository did."""
    from gitoverit.actions import net_jobs
    from gitoverit.errors import error_from_exception
    from gitoverit.git.ops import fetch
    from gitoverit.parallel import run_parallel
    from gitoverit.text import safe_text

    limit = NETWORK_TIMEOUT if timeout is None else timeout
    ok = True
    workers = max(1, min(net_jobs(jobs), len(refs)))
    for outcome in run_parallel(lambda r: fetch(r, timeout=limit), refs, max_workers=workers):
        if isinstance(outcome.error, KeyboardInterrupt):
            raise outcome.error
        repo = f"{safe_text(outcome.item.display_path)}: " if len(refs) > 1 else ""
        if outcome.error is not None or outcome.result is None:
            err = error_from_exception(outcome.error or ValueError("no result"))
            warn(f"gitob: fetch {repo}{err.reason.value}: {err.message}")
            ok = False
            continue
        for remote, exc in outcome.result.failed:
            warn(
                f"gitob: fetch {repo}{safe_text(remote)}: {exc.reason.value}: {safe_text(str(exc))}"
            )
        ok = ok and outcome.result.decisive is None
    return ok


def _pick(branches: list[BranchInfo], command: BranchesCommand, plan: _Plan) -> list[BranchInfo]:
    """The branches whose name matches ``--glob`` and ``--regex``."""
    import fnmatch

    if command.glob is not None:
        branches = [b for b in branches if fnmatch.fnmatchcase(b.name, command.glob)]
    if plan.pattern is not None:
        pattern = plan.pattern
        branches = [b for b in branches if pattern.search(b.name)]
    return branches


def _with_urls(branches: Sequence[BranchInfo]) -> list[BranchInfo]:
    """*branches*, each with the fetch URL of the remote its upstream lives on, read from
    its repository's config file."""
    from dataclasses import replace

    from gitoverit.git.branches import worktree_ref
    from gitoverit.git.gitdir import read_remote_url

    urls: dict[tuple[str, str], str | None] = {}
    out = []
    for b in branches:
        key = (b.repo_path or "", b.upstream_remote or "")
        if b.upstream_remote and key not in urls:
            ref = worktree_ref(key[0])
            urls[key] = read_remote_url(ref.git_dir, key[1]) if ref is not None else None
        url = urls.get(key)
        out.append(replace(b, upstream_url=url) if url else b)
    return out


def _repositories(command: BranchesCommand, settings: Any) -> list[RepoRef]:
    """One work tree of each repository under the folders named (see :func:`find`).
    Raises :class:`UsageError` when there is none: the folder is not in a work tree."""
    from gitoverit.select import Selection, enclosing_repo, find, one_per_repository, roots_of
    from gitoverit.text import safe_text

    named = command.dirs or (command.repo,)
    roots = roots_of(named, dict(settings.groups))
    refs = one_per_repository(list(find(Selection(roots=roots, exclude=settings.exclude))))
    if not refs:
        for root in roots:
            enclosing_repo(root)  # says why: not a repository, not a work tree
        raise UsageError(f"no git repository under {safe_text(' '.join(named))}")
    return refs


def run(command: BranchesCommand, out: IO[str] | None = None) -> int:
    """List the branches of the repositories and write them to *out* (default stdout).

    Returns the exit code. Flags and expressions are checked before git runs; problems
    the user can fix raise :class:`UsageError`.
    """
    from gitoverit.git.branches import list_branches_of, with_worktree_status
    from gitoverit.model import RepoError
    from gitoverit.scan import default_jobs
    from gitoverit.text import safe_text

    plan = _plan(command)
    settings, _sources = user_settings()  # a bad config file stops gitob; starts the log
    stream = sys.stdout if out is None else out
    refs = _repositories(command, settings)
    jobs = settings.jobs or default_jobs()
    fetched = _fetch(refs, command.timeout, settings.net_jobs) if command.fetch else True
    branches: list[BranchInfo] = []
    failed = 0
    for ref, got in list_branches_of(refs, jobs=jobs):
        if isinstance(got, RepoError):
            warn(f"gitob: cannot read {safe_text(ref.path)}: {got.reason.value}: {got.message}")
            failed += 1
        else:
            branches += got
    branches = _rewritten(_pick(branches, command, plan), settings)
    if plan.needs_status:
        branches = with_worktree_status(branches, jobs=jobs)
    if failed < len(refs):
        _write(branches, command, plan, stream)
    return EXIT_OK if fetched and not failed else EXIT_FAILED


def _rewritten(branches: list[BranchInfo], settings: Any) -> list[BranchInfo]:
    """*branches* with each author rewritten by the ``id_rewrite`` rules, and coloured."""
    if not settings.id_rewrite:
        return branches
    from dataclasses import replace

    from gitoverit.identity import rewrite

    out = []
    for b in branches:
        if b.author is None:
            out.append(b)
            continue
        text, colour = rewrite(
            b.author, settings.id_rewrite, default_fg=settings.id_rewrite_fg_color
        )
        out.append(replace(b, author=text, author_style=colour or b.author_style))
    return out


def _write(
    branches: list[BranchInfo], command: BranchesCommand, plan: _Plan, stream: IO[str]
) -> None:
    """Sort, filter and write *branches* as the command asks: repository by repository,
    each one's branches in the order asked for."""
    from gitoverit.output.branch_table import render_branch_table
    from gitoverit.output.branches import by_repo, sort_branches, write_branch_json, write_printed

    ordered = by_repo(sort_branches(branches, command.sort_key, command.reverse))
    kept, values = _select(ordered, plan.where, plan.printer)
    if plan.printer is not None:
        exact = command.nul and not stream.isatty()
        write_printed(values, stream, nul=command.nul, exact=exact)
    elif command.fmt in ("json", "ndjson"):
        write_branch_json(kept, stream, ndjson=command.fmt == "ndjson")
    elif kept:
        links = stream.isatty()
        if links and "upstream" in plan.columns:
            kept = _with_urls(kept)
        render_branch_table(kept, stream, columns=plan.columns, links=links)
    elif branches:
        warn("no branch matches --where")
    elif command.glob is not None or plan.pattern is not None:
        warn("no branch name matches --glob / --regex")
    else:
        warn("no branches (no commits yet)")
