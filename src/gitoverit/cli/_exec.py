"""The click wiring of ``gitoverit exec``: everything before ``--`` is its own folders and
flags, everything after it the command, untouched."""

from __future__ import annotations

from typing import Any

import click

from gitoverit.cli._shared import usage_errors

EXEC_EXAMPLES = """
\b
Examples:
  gito exec -- git status -sb             in every repo under the current folder
  gito exec @work -- git pull --ff-only
  gito exec -d --shell -- 'git stash list | head -1'
  gito exec ~/code -w 'ahead > 0' -- git push
  gito exec -j 8 --timeout 60 --stream -- make test
  gito exec -o json -- git rev-parse HEAD | jq -r '.[] | .display_path + " " + .stdout'

\b
Each run gets GITO_PATH, GITO_DISPLAY_PATH, GITO_NAME, GITO_BRANCH (empty when
detached), GITO_UPSTREAM, GITO_URL (credentials removed), GITO_I (1-based) and
GITO_COUNT in its environment; stdin is /dev/null.
"""


class _ExecCommand(click.Command):
    """Splits the arguments at the first ``--``: what follows is the command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            i = args.index("--")
            ctx.meta["gitoverit.exec.command"] = tuple(args[i + 1 :])
            args = args[:i]
        return super().parse_args(ctx, args)


@click.command(
    name="exec",
    cls=_ExecCommand,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXEC_EXAMPLES,
)
@click.argument("dirs", nargs=-1)
@click.option(
    "--shell",
    is_flag=True,
    help="Run the one string after -- with sh -c (further words are $1, $2, ...).",
)
@click.option(
    "-d",
    "--dirty-only",
    is_flag=True,
    help="Only repos with uncommitted work, an operation in progress, or an error "
    "(their status is read first).",
)
@click.option(
    "-w",
    "--where",
    metavar="EXPR",
    multiple=True,
    help="Only repos for which EXPR is true (their status is read first; see "
    "gitoverit --help-where). Repeated, every one must hold.",
)
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip folders matching GLOB.")
@click.option(
    "--max-depth", type=click.IntRange(0), metavar="N", help="Look at most N folders deep."
)
@click.option(
    "-I", "--include-ignored", is_flag=True, help="Also nested repos their parent ignores."
)
@click.option("--no-submodules", is_flag=True, help="Leave submodules out.")
@click.option(
    "--trust-repo-config",
    is_flag=True,
    help="With -w/-d, let the repositories' own filter commands run during the status read.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 1024),
    help="Commands running at once [default: the number of CPUs].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0),
    metavar="SECONDS",
    help="Time limit for each run; its whole process group is killed when it expires; "
    "0: none [default: 600].",
)
@click.option(
    "-x",
    "--exit-on-error",
    is_flag=True,
    help="After the first failure start nothing new; the rest is reported as skipped.",
)
@click.option(
    "-o",
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "ndjson"]),
    default="text",
    show_default=True,
    help="text: each repo's output whole under a header; json/ndjson: one record per repo.",
)
@click.option(
    "--stream", is_flag=True, help="Lines as they come, each with its repo's path in front."
)
@click.option(
    "--ordered", is_flag=True, help="Print the repos in sorted order, not as they finish."
)
@click.option(
    "--no-progress",
    is_flag=True,
    help="Never show live progress (it only shows when stderr is a terminal).",
)
@usage_errors
def exec_command(dirs: tuple[str, ...], **flags: Any) -> int:
    """Run a command in every git repository under DIRS (default: the current folder, or
    the roots in the config file), at most -j at a time, and show what each wrote.

    Everything after -- is the command, run in each repo's work tree as it is (no shell
    unless --shell). Exit code: 0 when every run exited 0, 1 when any failed, timed out or
    was skipped, 2 for a usage error, 130 on Ctrl-C.
    """
    from gitoverit.commands import exec as exec_

    ctx = click.get_current_context()
    command = ctx.meta.get("gitoverit.exec.command")
    return exec_.run(exec_.ExecCommand(command=command, dirs=dirs, **flags))
