"""``gitoverit watch``: the click command."""

from __future__ import annotations

from typing import Any

import click

from gitoverit.cli._shared import folders_argument, output_flags, trust_option, usage_errors


def _watch_options(func: Any) -> Any:
    """The scan's output options that a watch takes: sort, reverse, where, columns,
    --help-where, jobs, net-jobs, timeout (``OUTPUT_OPTIONS[1:4]`` and ``[6:11]``)."""
    from gitoverit.cli._shared import OUTPUT_OPTIONS

    for deco in reversed((*OUTPUT_OPTIONS[1:4], *OUTPUT_OPTIONS[6:11])):
        func = deco(func)
    return func


@click.command(
    name="watch",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="""
\b
Examples:
  gitoverit watch ~/code               the table, kept current as files change
  gitoverit watch -d --fetch-every 10m only what needs attention; fetch every 10 minutes
  gitoverit watch ~/code -o ndjson     a JSON line per repo, then one per change

\b
Keys: q quit, / filter (-w), s sort, d dirty only, f fetch now, enter branches and
files, p pull if safe (-P rules), ? help.
""",
)
@folders_argument()
@click.option(
    "-o",
    "--format",
    "fmt",
    type=click.Choice(["table", "ndjson"]),
    default="table",
    show_default=True,
    help="table: full screen; ndjson: a record per repo, then one per change.",
)
@click.option(
    "-d", "--dirty-only", is_flag=True, help="Only repos with uncommitted work or an error."
)
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip folders matching GLOB.")
@click.option("--max-depth", type=click.IntRange(0), metavar="N", help="Look N folders deep.")
@click.option("-I", "--include-ignored", is_flag=True, help="Also nested repos that are ignored.")
@click.option("--no-submodules", is_flag=True, help="Leave submodules out.")
@click.option(
    "--fetch-every",
    metavar="DURATION",
    help="Fetch every repo in the background this often (90s, 10m, 1h).",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(0.1),
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    help="How often to read the repos no file watch covers (when the system's watch "
    "limit is reached).",
)
@trust_option
@_watch_options
@usage_errors
def watch_command(
    dirs: tuple[str, ...],
    fmt: str,
    dirty_only: bool,
    exclude: tuple[str, ...],
    max_depth: int | None,
    include_ignored: bool,
    no_submodules: bool,
    fetch_every: str | None,
    poll_interval: float,
    trust_repo_config: bool,
    **out: Any,
) -> int:
    """Show the status of every repo under DIRS (folders or @GROUPs) and keep it current
    as files change."""
    from gitoverit.commands import watch

    return watch.run(
        watch.WatchCommand(
            dirs=dirs,
            dirty_only=dirty_only,
            exclude=exclude,
            max_depth=max_depth,
            include_ignored=include_ignored,
            no_submodules=no_submodules,
            trust_repo_config=trust_repo_config,
            fetch_every=fetch_every,
            poll_interval=poll_interval,
            output=output_flags({"fmt": fmt, **out}),
        )
    )
