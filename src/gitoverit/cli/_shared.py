"""What the commands' click wiring shares: help texts, the output options of every
command that lists repositories, and the mapping of a command's usage error to click's."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from gitoverit.output.sorting import SORT_KEYS


def complete_columns(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[click.shell_completion.CompletionItem]:
    """Column names for the token being typed in ``-c``: after its commas, with its
    ``-`` or ``+``."""
    from click.shell_completion import CompletionItem

    from gitoverit.output.columns import ALIASES, COLUMNS

    head, _, token = incomplete.rpartition(",")
    sign = token[:1] if token[:1] in "+-" else ""
    prefix = f"{head}," if head else ""
    return [
        CompletionItem(f"{prefix}{sign}{name}", help=COLUMNS[ALIASES.get(name, name)].help)
        for name in (*COLUMNS, *ALIASES)
        if name.startswith(token[len(sign) :])
    ]


SCAN_EXAMPLES = """
\b
Examples:
  gito ~/code                     status of every repo under ~/code
  gito -d -s branch               only repos that need attention, by branch
  gito ~/code -o json | jq '.[] | select(.ahead > 0) | .path'
  gito ~/code -o ndjson           one JSON line per repo as it finishes
  gito --exclude node_modules --max-depth 3 ~/work
  gito ~/code -f -P               fetch everything, fast-forward what is safe
  gito ~/code -w 'ahead > 0 and behind == 0' -p path -0 |
      xargs -0 -I{} git -C {} log --oneline @{u}..

\b
Other commands (each has --help):
  gitoverit sync [PATTERN]...     clone what a manifest lists, fast-forward the rest
  gitoverit freeze [DIRS]...      write a manifest of the repos found
  gitoverit config                the effective configuration and where it comes from
  gitoverit completion SHELL      shell completion script (bash, zsh, fish)
  gitob [REPO]                    the branches of one repository
"""


def help_where(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from gitoverit.query import HELP_TEXT

    click.echo(HELP_TEXT)
    ctx.exit(0)


#: ``-o/--format``, for every command that lists repositories or branches.
format_option = click.option(
    "-o",
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "ndjson"]),
    default="table",
    show_default=True,
    help="Output format.",
)

#: Options shared by every command that lists repositories.
OUTPUT_OPTIONS: tuple[Callable[[Any], Any], ...] = (
    format_option,
    click.option(
        "-s",
        "--sort",
        "sort_key",
        type=click.Choice(SORT_KEYS),
        help="Sort table and json rows [default: mtime, most recently changed last].",
    ),
    click.option("-r", "--reverse", is_flag=True, help="Reverse the sort order."),
    click.option(
        "-w",
        "--where",
        metavar="EXPR",
        multiple=True,
        help="Only repos for which EXPR is true, e.g. 'ahead > 0 and behind == 0'"
        " (see --help-where). Repeated, every one must hold.",
    ),
    click.option(
        "-p",
        "--print",
        "print_expr",
        metavar="EXPR",
        multiple=True,
        help="Print EXPR for each repo, one per line, instead of a table "
        "(e.g. -p path). Repos where it is null are left out.",
    ),
    click.option(
        "-0",
        "--print0",
        "--null",
        "null_sep",
        is_flag=True,
        help="With --print, end each value with NUL instead of a newline (for xargs -0).",
    ),
    click.option(
        "-c",
        "--columns",
        metavar="SPEC",
        shell_complete=complete_columns,
        help="Table columns: '-' clears, '-col' removes, 'col' adds or moves to "
        "the end; comma separated (e.g. '-remote,head').",
    ),
    click.option(
        "--help-where",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=help_where,
        help="Explain the --where/--print language.",
    ),
    click.option(
        "-j",
        "--jobs",
        type=click.IntRange(0, 1024),
        help="Concurrent local git processes; 0 or 1 runs them one at a time "
        "[default: 2x cores, max 8; env GITOVERIT_JOBS].",
    ),
    click.option(
        "--net-jobs",
        type=click.IntRange(1, 1024),
        help="Concurrent network operations (fetch, push, clone) [default: 16; "
        "env GITOVERIT_NET_JOBS].",
    ),
    click.option(
        "--timeout",
        type=click.FloatRange(0, min_open=True),
        metavar="SECONDS",
        help="Time limit for each network operation; the git process group is "
        "killed when it expires [default: 120; env GITOVERIT_TIMEOUT].",
    ),
    click.option(
        "-x",
        "--exit-on-error",
        is_flag=True,
        help="After the first failure start nothing new; the rest is skipped.",
    ),
    click.option(
        "--no-progress",
        is_flag=True,
        help="Never show live progress (it only shows when stderr is a terminal).",
    ),
    click.option(
        "--errors",
        "show_errors",
        is_flag=True,
        help="Print each failed repo's error and git's whole stderr for it on stderr.",
    ),
)


#: ``--trust-repo-config``, for the commands that read repositories' status.
trust_option = click.option(
    "--trust-repo-config",
    is_flag=True,
    help="Let filter commands that a repository's own config defines run during status "
    "reads, as git would [config key trust_repo_config; env GITOVERIT_TRUST_REPO_CONFIG].",
)


def output_options(func: Any) -> Any:
    """Add :data:`OUTPUT_OPTIONS` to a command."""
    for deco in reversed(OUTPUT_OPTIONS):
        func = deco(func)
    return func


def output_flags(flags: dict[str, Any]) -> Any:
    """The shared output flags as :class:`~gitoverit.commands._output.OutputOptions`."""
    from gitoverit.commands._output import OutputOptions

    return OutputOptions(**flags)


def usage_errors(func: Callable[..., int]) -> Callable[..., int]:
    """Show a command's :class:`UsageError` as click shows a bad flag (exit 2)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> int:
        from gitoverit.errors import UsageError

        try:
            return func(*args, **kwargs)
        except UsageError as exc:
            raise click.UsageError(str(exc)) from exc

    return wrapper


GITOB_EXAMPLES = """
\b
Examples:
  gitob                              branches of the repo in the current folder
  gitob ~/app -s date --reverse      newest commit first
  gitob -f -g 'feature/*'            fetch, then the feature branches
  gitob -w 'ahead > 0'               branches with commits to push
  gitob -w upstream_gone -p name -0 | xargs -0 -r git branch -d
  gitob -r '^feat/' -j               JSON, branches whose name starts with feat/
  gitob -w 'date < now() - days(90)' -p name     branches untouched for 90 days
"""
