"""``gitob [REPO]``: every local branch of one repository, as a table or as JSON.

Argument parsing and output only; the data comes from
:func:`gitoverit.git.branches.list_branches` (one ``git for-each-ref`` call). The
``--where`` / ``--print`` expressions use :mod:`gitoverit.query`, with the branch JSON
field names as the names; they are checked before git runs.

Exit codes: 0 on success (also when no branch is listed), 1 when the repository cannot
be read, 2 for a usage error (a folder outside any git work tree, a bad expression), 130
when interrupted.
"""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any

import click

from gitoverit._entry import EXIT_FAILED, EXIT_OK, EXIT_USAGE, run_click
from gitoverit.git.branches import BRANCH_FIELDS, BranchInfo

if TYPE_CHECKING:
    from rich.text import Text

    from gitoverit.query import Expr, ExprError


#: Names a ``--where`` / ``--print`` expression can use: the JSON fields of a branch.
BRANCH_NAMES: frozenset[str] = frozenset(BRANCH_FIELDS)

#: ``-s/--sort`` keys. ``date`` puts the most recently committed branch last; ``none``
#: keeps git's order (by name, bytewise).
SORT_KEYS: tuple[str, ...] = ("date", "name", "ahead", "behind", "upstream", "author", "none")

LEGEND = "* checked out here  ↑ ahead  ↓ behind  ⊘ upstream gone"

EXAMPLES = """
\b
Examples:
  gitob                              branches of the repo in the current folder
  gitob ~/code/app -s name -r        by name, Z to A
  gitob -w 'ahead > 0'               branches with commits to push
  gitob -w upstream_gone -p name -0 | xargs -0 -r git branch -d
  gitob -w 'rx(name, "^feat/")' -o json
  gitob -w 'date < now() - days(90)' -p name     branches untouched for 90 days
"""

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


class UsageProblem(Exception):
    """Something the user can fix on the command line; exits 2 with this message."""


def _compile(text: str | None, option: str) -> Expr | None:
    from gitoverit.query import ExprError, compile_expr

    if text is None:
        return None
    try:
        return compile_expr(text, BRANCH_NAMES)
    except ExprError as err:
        raise UsageProblem(_expr_message(option, err)) from None


def _expr_message(option: str, err: ExprError, branch: str | None = None) -> str:
    """``OPTION: message``, the expression, and a caret under the fault."""
    from gitoverit.text import safe_text

    text = err.render().removeprefix("error: ")
    where = f" (branch {safe_text(branch)})" if branch is not None else ""
    first, _, rest = text.partition("\n")
    return f"{option}: {first}{where}" + (f"\n{rest}" if rest else "")


def _str_key(value: str | None) -> tuple[int, str]:
    return (0, value.casefold()) if value else (1, "")


def _num_key(value: float | None) -> tuple[int, float]:
    return (0, float(value)) if value is not None else (-1, 0.0)


_SORTS: dict[str, Callable[[BranchInfo], Any]] = {
    "date": lambda b: (_num_key(b.date), b.name),
    "name": lambda b: (b.name.casefold(), b.name),
    "ahead": lambda b: (_num_key(b.ahead), b.name),
    "behind": lambda b: (_num_key(b.behind), b.name),
    "upstream": lambda b: (_str_key(b.upstream), b.name),
    "author": lambda b: (_str_key(b.author), b.name),
}


def sort_branches(branches: Sequence[BranchInfo], key: str, reverse: bool) -> list[BranchInfo]:
    """*branches* ordered by *key* (one of :data:`SORT_KEYS`), ties broken by name.

    Numbers sort ascending with ``None`` first; text sorts case-insensitively with
    ``None`` last. ``none`` keeps the given order. *reverse* reverses the result.
    """
    if key == "none":
        ordered = list(branches)
    elif key in _SORTS:
        ordered = sorted(branches, key=_SORTS[key])
    else:
        raise ValueError(f"unknown sort key {key!r}; valid: {', '.join(SORT_KEYS)}")
    if reverse:
        ordered.reverse()
    return ordered


def _display_path(path: str) -> str:
    home = os.path.expanduser("~")
    if home not in ("", "~", os.sep) and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home) :]
    return path


def _upstream_cell(b: BranchInfo) -> Text:
    from rich.text import Text

    from gitoverit.text import safe_text

    cell = Text(no_wrap=True, overflow="ellipsis")
    if b.upstream is not None:
        cell.append(safe_text(b.upstream), style="dim" if b.upstream_gone else "")
    marks: list[tuple[str, str]] = []
    if b.upstream_gone:
        marks.append(("⊘", "red"))
    if b.ahead:
        marks.append((f"↑{b.ahead}", "cyan"))
    if b.behind:
        marks.append((f"↓{b.behind}", "blue"))
    for text, style in marks:
        if len(cell):
            cell.append(" ")
        cell.append(text, style=style)
    return cell


#: Table columns: header, and the widest the column grows (``None``: no limit).
_COLUMNS: tuple[tuple[str, int | None], ...] = (
    ("branch", None),
    ("upstream", 32),
    ("age", None),
    ("author", 20),
    ("subject", None),
    ("worktree", 40),
)
# When the table is too wide, columns give up width in these steps, each down to its
# floor (or its natural width, if that is smaller): the subject first, to a width that
# still reads well, then the worktree and author, then the subject to its minimum, then
# the rest.
_SQUEEZE: tuple[tuple[str, int], ...] = (
    ("subject", 24),
    ("worktree", 16),
    ("author", 10),
    ("subject", 12),
    ("worktree", 8),
    ("author", 6),
    ("upstream", 8),
    ("branch", 8),
)


def fit_widths(natural: dict[str, int], total: int) -> dict[str, int]:
    """Column widths for a table *total* cells wide (separators excluded).

    Each column gets its natural width, capped; when the sum is too wide, columns give
    up width in the steps of ``_SQUEEZE``, the subject first. Whatever still does not
    fit is left for Rich to cut.
    """
    widths = {}
    for name, cap in _COLUMNS:
        widths[name] = natural[name] if cap is None else min(natural[name], cap)
    excess = sum(widths.values()) - total
    for name, floor in _SQUEEZE:
        if excess <= 0:
            break
        take = max(0, min(excess, widths[name] - floor))
        widths[name] -= take
        excess -= take
    return widths


def _tail(text: str, width: int) -> str:
    """*text* cut to *width* cells from the left, with a leading ellipsis: paths keep
    their most telling part, the end."""
    from rich.cells import cell_len

    if cell_len(text) <= width:
        return text
    kept: list[str] = []
    used = 1
    for ch in reversed(text):
        w = cell_len(ch)
        if used + w > width:
            break
        kept.append(ch)
        used += w
    return "…" + "".join(reversed(kept))


def render_branch_table(
    branches: Sequence[BranchInfo],
    out: IO[str],
    *,
    width: int | None = None,
    color: bool | None = None,
    legend: bool = True,
    now: float | None = None,
) -> None:
    """Write *branches* (already sorted) to *out* as a table, one line per branch.

    Every untrusted string goes through :func:`~gitoverit.text.safe_text` and
    reaches Rich as ``Text``, so neither control sequences nor markup get through. The
    table fits *width* (default: the terminal's): the subject is cut first (see
    :func:`fit_widths`); worktree paths are cut from the left, to keep their end. Colour
    follows Rich: none when ``NO_COLOR`` is set or *out* is not a terminal, unless
    *color* says otherwise.
    """
    import time

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from gitoverit.output.table import age
    from gitoverit.text import safe_text

    console = Console(
        file=out,
        width=width,
        highlight=False,
        soft_wrap=False,
        no_color=None if color is None else not color,
        force_terminal=color if color else None,
    )
    when = time.time() if now is None else now

    def cell(text: str | None, style: str = "") -> Text:
        return Text(safe_text(text or ""), style=style, no_wrap=True, overflow="ellipsis")

    rows: list[dict[str, Text]] = []
    paths: list[str] = []
    for b in branches:
        name = Text(no_wrap=True, overflow="ellipsis")
        name.append("* " if b.current else "  ", style="bold green")
        name.append(safe_text(b.name), style="bold" if b.current else "")
        rows.append(
            {
                "branch": name,
                "upstream": _upstream_cell(b),
                "age": cell(age(b.date, when), "dim"),
                "author": cell(b.author),
                "subject": cell(b.subject),
            }
        )
        paths.append(safe_text(_display_path(b.worktree)) if b.worktree else "")
    natural = {header: len(header) for header, _cap in _COLUMNS}
    for row, path in zip(rows, paths, strict=True):
        for header, text in row.items():
            natural[header] = max(natural[header], text.cell_len)
        natural["worktree"] = max(natural["worktree"], Text(path).cell_len)
    widths = fit_widths(natural, console.width - 2 * (len(_COLUMNS) - 1))

    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, expand=False)
    for header, _cap in _COLUMNS:
        table.add_column(
            header,
            width=widths[header],
            no_wrap=True,
            overflow="ellipsis",
            justify="right" if header == "age" else "left",
        )
    for row, path in zip(rows, paths, strict=True):
        row["worktree"] = Text(_tail(path, widths["worktree"]), style="dim", no_wrap=True)
        table.add_row(*(row[header] for header, _cap in _COLUMNS))
    console.print(table)
    if legend and branches:
        console.print(Text(LEGEND, style="dim"), overflow="ellipsis", no_wrap=True)


def _printable(value: Any) -> str:
    """The text ``--print`` writes for one value: ``None`` is an empty string."""
    if value is None:
        return ""
    return str(value)


def write_printed(values: Sequence[Any], out: IO[str], *, nul: bool, exact: bool) -> None:
    """Write one ``--print`` value per branch: NUL-terminated with *nul*, else one a line.

    With *exact* (``-0`` into a pipe or file) values are written unchanged, so that names
    and paths reach ``xargs -0`` byte for byte; otherwise control characters (including
    line breaks) are shown as escapes, so each value stays on its line and no terminal
    sequence gets through.
    """
    from gitoverit.text import safe_text

    end = "\0" if nul else "\n"
    buffer = getattr(out, "buffer", None)
    for value in values:
        text = _printable(value)
        if not exact:
            text = safe_text(text)
        if buffer is not None:
            out.flush()
            buffer.write(text.encode("utf-8", "surrogateescape") + end.encode())
        else:
            out.write(text + end)
    out.flush()


def write_branch_json(branches: Sequence[BranchInfo], out: IO[str], *, ndjson: bool) -> None:
    """Write *branches* as one JSON array, or with *ndjson* as one object a line."""
    from gitoverit.output.json import dumps

    if ndjson:
        for b in branches:
            out.write(dumps(b.to_json()) + "\n")
    elif branches:
        out.write("[\n  " + ",\n  ".join(dumps(b.to_json()) for b in branches) + "\n]\n")
    else:
        out.write("[]\n")
    out.flush()


def _toplevel(repo: str) -> str:
    """The top of the work tree that contains *repo*.

    Raises :class:`UsageProblem` when *repo* is not inside a git work tree; other git
    errors propagate.
    """
    from gitoverit.errors import CommandError, GitNotARepoError
    from gitoverit.git._run import git
    from gitoverit.text import safe_text

    try:
        result = git("rev-parse", "--show-toplevel", cwd=repo)
    except GitNotARepoError:
        raise UsageProblem(f"not a git repository: {safe_text(os.path.abspath(repo))}") from None
    except CommandError as err:
        if "work tree" in err.stderr_text:
            where = safe_text(os.path.abspath(repo))
            raise UsageProblem(f"not inside a git work tree: {where}") from None
        raise
    top = os.fsdecode(result.stdout.rstrip(b"\n"))
    if not top:
        raise UsageProblem(f"not inside a git work tree: {safe_text(os.path.abspath(repo))}")
    return top


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
            raise UsageProblem(_expr_message("--where", err, b.name)) from None
        if printer is not None:
            try:
                values.append(printer.evaluate(env))
            except ExprError as err:
                raise UsageProblem(_expr_message("--print", err, b.name)) from None
        kept.append(b)
    return kept, values


def run(
    *,
    repo: str,
    fmt: str = "table",
    sort_key: str = "date",
    reverse: bool = False,
    where: str | None = None,
    print_expr: str | None = None,
    nul: bool = False,
    out: IO[str] | None = None,
) -> int:
    """List the branches of *repo* and write them to *out* (default stdout).

    Returns the exit code. Expressions and the sort key are checked before git runs;
    problems the user can fix raise :class:`UsageProblem`.
    """
    from gitoverit.errors import CommandError
    from gitoverit.git.branches import list_branches
    from gitoverit.text import safe_text

    if sort_key not in SORT_KEYS:
        raise UsageProblem(f"unknown sort key {sort_key!r}; valid: {', '.join(SORT_KEYS)}")
    if nul and print_expr is None:
        raise UsageProblem("-0 only applies to --print")
    where_expr = _compile(where, "--where")
    printer = _compile(print_expr, "--print")
    stream = sys.stdout if out is None else out
    try:
        top = _toplevel(repo)
        branches = list_branches(top)
    except CommandError as err:
        shown = safe_text(os.path.abspath(repo))
        click.echo(
            f"gitob: cannot read {shown}: {err.reason.value}: {safe_text(str(err))}", err=True
        )
        return EXIT_FAILED
    kept, values = _select(sort_branches(branches, sort_key, reverse), where_expr, printer)
    if printer is not None:
        write_printed(values, stream, nul=nul, exact=nul and not stream.isatty())
    elif fmt in ("json", "ndjson"):
        write_branch_json(kept, stream, ndjson=fmt == "ndjson")
    elif kept:
        render_branch_table(kept, stream)
    else:
        click.echo(
            "no branch matches --where" if branches else "no branches (no commits yet)", err=True
        )
    return EXIT_OK


def _show_where_help(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(where_help(), nl=False)
        ctx.exit(EXIT_OK)


@click.command(
    name="gitob",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXAMPLES,
)
@click.argument(
    "repo",
    required=False,
    default=".",
    type=click.Path(exists=True, file_okay=False, dir_okay=True),
)
@click.option(
    "-o",
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "ndjson"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "-s",
    "--sort",
    "sort_key",
    type=click.Choice(list(SORT_KEYS)),
    default="date",
    show_default=True,
    help="Sort order (date: most recent commit last; none: git's order).",
)
@click.option("-r", "--reverse", is_flag=True, help="Reverse the sort order.")
@click.option(
    "-w",
    "--where",
    metavar="EXPR",
    help="Only branches for which EXPR is true (see --help-where).",
)
@click.option(
    "-p",
    "--print",
    "print_expr",
    metavar="EXPR",
    help="Print the value of EXPR for each branch, one a line (None prints an empty line), "
    "instead of a table. Control characters are escaped, except with -0 into a pipe.",
)
@click.option(
    "-0",
    "nul",
    is_flag=True,
    help="With --print: end each value with NUL instead of a newline, for xargs -0.",
)
@click.option(
    "--help-where",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_where_help,
    help="Describe the --where / --print expression language and exit.",
)
def command(
    repo: str,
    fmt: str,
    sort_key: str,
    reverse: bool,
    where: str | None,
    print_expr: str | None,
    nul: bool,
) -> int:
    """List the local branches of REPO (default: the current folder): upstream,
    ahead/behind, whether the upstream is gone, the last commit's age, author and subject,
    and the worktree that has each branch checked out."""
    return run(
        repo=repo,
        fmt=fmt,
        sort_key=sort_key,
        reverse=reverse,
        where=where,
        print_expr=print_expr,
        nul=nul,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``gitob``; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return run_click(command, args, "gitob")
    except UsageProblem as exc:
        click.echo(f"gitob: error: {exc}", err=True)
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
