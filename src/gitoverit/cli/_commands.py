"""The click commands: each turns its flags into its command's options dataclass and runs
it (:mod:`gitoverit.commands`)."""

from __future__ import annotations

from typing import Any

import click

from gitoverit import __version__
from gitoverit.cli._shared import (
    GITOB_EXAMPLES,
    SCAN_EXAMPLES,
    folders_argument,
    format_option,
    output_flags,
    output_options,
    trust_option,
    usage_errors,
)
from gitoverit.exit_codes import EXIT_OK
from gitoverit.output.branches import COLUMNS as BRANCH_COLUMNS
from gitoverit.output.branches import DEFAULT_COLUMNS as DEFAULT_BRANCH_COLUMNS
from gitoverit.output.branches import SORT_KEYS as BRANCH_SORT_KEYS


@click.command(
    name="gitoverit",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=SCAN_EXAMPLES,
)
@folders_argument()
@click.option("-f", "--fetch", is_flag=True, help="Fetch every remote of every repo (--prune).")
@click.option(
    "-P",
    "--pull-safe",
    is_flag=True,
    help="Fast-forward repos that are behind, clean and not ahead (implies -f).",
)
@click.option(
    "-U",
    "--push-safe",
    is_flag=True,
    help="Push clean branches that are ahead and not behind to their upstream; "
    "never forces (implies -f).",
)
@click.option(
    "-d",
    "--dirty-only",
    is_flag=True,
    help="Only repos with uncommitted work, an operation in progress, or an error.",
)
@click.option(
    "--metadata-only",
    is_flag=True,
    help="Skip worktree inspection (branch, upstream, stash only); faster.",
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="GLOB",
    help="Skip folders matching GLOB (name or path relative to the root). Repeatable.",
)
@click.option(
    "--max-depth",
    type=click.IntRange(0),
    metavar="N",
    help="Do not look deeper than N folders below each root.",
)
@click.option(
    "-I",
    "--include-ignored",
    is_flag=True,
    help="Also report nested repos that their parent repo ignores.",
)
@click.option("--no-submodules", is_flag=True, help="Leave submodules out.")
@click.option(
    "--reader",
    type=click.Choice(["auto", "git"]),
    default="auto",
    show_default=True,
    help="Who reads each status: auto reads in-process (libgit2) every repo whose record "
    "it can promise to be git's and asks git for the rest; git always asks git.",
)
@trust_option
@output_options
@click.version_option(__version__, "-V", "--version", prog_name="gitoverit")
@usage_errors
def scan_command(
    dirs: tuple[str, ...],
    fetch: bool,
    pull_safe: bool,
    push_safe: bool,
    dirty_only: bool,
    metadata_only: bool,
    exclude: tuple[str, ...],
    max_depth: int | None,
    include_ignored: bool,
    no_submodules: bool,
    reader: str,
    trust_repo_config: bool,
    **out: Any,
) -> int:
    """Report the state of every git repository under DIRS (default: the current folder,
    or the roots in the config file). A DIR may be @GROUP, a group of the config file."""
    from gitoverit.commands import scan

    return scan.run(
        scan.ScanCommand(
            dirs=dirs,
            fetch=fetch,
            pull_safe=pull_safe,
            push_safe=push_safe,
            dirty_only=dirty_only,
            metadata_only=metadata_only,
            exclude=exclude,
            max_depth=max_depth,
            include_ignored=include_ignored,
            no_submodules=no_submodules,
            reader=reader,
            trust_repo_config=trust_repo_config,
            output=output_flags(out),
        )
    )


@click.command(
    name="sync",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="""
\b
Examples:
  gitoverit sync                       clone what is missing, fast-forward the rest
  gitoverit sync -m ~/.vcspull.yaml 'py*'
  gitoverit sync -o ndjson --net-jobs 8
""",
)
@click.option(
    "-m",
    "--manifest",
    "manifests",
    multiple=True,
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Manifest to read (our TOML, or vcspull's YAML or JSON); repeatable [default: "
    "$GITOVERIT_MANIFEST, $XDG_CONFIG_HOME/gitoverit/manifest.toml, else vcspull's configs].",
)
@click.option(
    "-n",
    "--dry-run",
    is_flag=True,
    help="Say what sync would do for each entry; change nothing, touch no network.",
)
@click.option("--no-hooks", is_flag=True, help="Do not run the entries' shell_command_after.")
@click.option(
    "--recurse-submodules",
    is_flag=True,
    help="Initialise and update submodules after a clone or an update.",
)
@click.argument("patterns", nargs=-1)
@trust_option
@output_options
@usage_errors
def sync_command(
    manifests: tuple[str, ...],
    dry_run: bool,
    no_hooks: bool,
    recurse_submodules: bool,
    patterns: tuple[str, ...],
    trust_repo_config: bool,
    **out: Any,
) -> int:
    """Clone every repo the manifest lists that is missing; fast-forward the rest.

    Only fast-forwards, under the same rules as -P: never rebases, stashes or merges.
    Parents are synced before the repos inside them, worktrees after their main repo.
    PATTERNs (globs) select repos by name or path; @GROUP selects those at or below the
    folders of a group of the config file.
    """
    from gitoverit.commands import sync

    return sync.run(
        sync.SyncCommand(
            manifest=manifests[0] if manifests else None,
            more_manifests=manifests[1:],
            patterns=patterns,
            trust_repo_config=trust_repo_config,
            output=output_flags(out),
            dry_run=dry_run,
            hooks=not no_hooks,
            recurse_submodules=recurse_submodules,
        )
    )


@click.command(
    name="freeze",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@folders_argument()
@click.option(
    "-O",
    "--output",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Write the manifest to FILE instead of stdout; an existing FILE needs --force.",
)
@click.option("--force", is_flag=True, help="With -O: overwrite FILE when it exists.")
@click.option(
    "-F",
    "--format",
    "fmt",
    type=click.Choice(["toml", "vcspull"]),
    default=None,
    help="toml (ours) or vcspull (its YAML) [default: toml, or by FILE's extension].",
)
@click.option(
    "-u",
    "--update",
    type=click.Path(dir_okay=False, exists=True),
    metavar="FILE",
    help="Add the repos found to manifest FILE, keeping its entries, order and comments.",
)
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip folders matching GLOB.")
@usage_errors
def freeze_command(
    dirs: tuple[str, ...],
    output: str | None,
    force: bool,
    fmt: str | None,
    update: str | None,
    exclude: tuple[str, ...],
) -> int:
    """Write a manifest of the repos found under DIRS (folders or @GROUPs), for `gitoverit
    sync`: each repo's branch, remotes and worktrees (submodules are left to their
    superproject)."""
    from gitoverit.commands import freeze

    return freeze.run(
        freeze.FreezeCommand(
            dirs=dirs, output=output, exclude=exclude, force=force, fmt=fmt, update=update
        )
    )


@click.command(
    name="add",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@folders_argument()
@click.option(
    "-m",
    "--manifest",
    type=click.Path(dir_okay=False, exists=True),
    metavar="FILE",
    help="The manifest to add to [default: as for sync].",
)
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip folders matching GLOB.")
@usage_errors
def add_command(dirs: tuple[str, ...], manifest: str | None, exclude: tuple[str, ...]) -> int:
    """Add the repos found under DIRS to a manifest (as freeze --update does), keeping
    its entries, order and comments."""
    from gitoverit.commands import freeze

    if manifest is None:
        from gitoverit.manifest import default_manifest_paths

        found = default_manifest_paths()
        if not found:
            from gitoverit.errors import UsageError

            raise UsageError("no manifest found; name one with -m FILE")
        manifest = str(found[0])
    return freeze.run(freeze.FreezeCommand(dirs=dirs, exclude=exclude, update=manifest))


@click.command(name="config", context_settings={"help_option_names": ["-h", "--help"]})
@usage_errors
def config_command() -> int:
    """Print the effective configuration and where each value comes from.

    Precedence: flags, then environment variables (GITOVERIT_*, and the earlier GITO_*),
    then the config file ($XDG_CONFIG_HOME/gitoverit/config.toml, or GITOVERIT_CONFIG; else
    the earlier $XDG_CONFIG_HOME/gito/config.toml), then built-in defaults.
    """
    from gitoverit.commands import config

    return config.run(config.ConfigCommand())


@click.group(
    name="group",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="""
\b
Examples:
  gitoverit group add work ~/work '~/code/api-*'    folders, or globs of repo paths
  gitoverit group list
  gito @work -d                                     what needs attention at work
  gitob @work -w 'ahead > 0 or upstream is None'    unpushed work on any branch
  gitoverit group rm work '~/code/api-*'
  gitoverit group rm work                           the whole group
""",
)
def group_command() -> None:
    """Named groups of repositories: @NAME stands for a group's folders wherever a folder
    is accepted (a scan, sync patterns, freeze, gitob). Groups live in the config file's
    [groups] table; add and rm edit it and keep its comments."""


@group_command.command(name="list")
@usage_errors
def group_list_command() -> int:
    """Print each group and its folders and globs."""
    from gitoverit.commands import group

    return group.run(group.GroupCommand("list"))


@group_command.command(name="add")
@click.argument("name")
@click.argument("paths", nargs=-1, required=True)
@usage_errors
def group_add_command(name: str, paths: tuple[str, ...]) -> int:
    """Add folders or globs of repo paths (quote them: '~/code/api-*') to group NAME,
    made when missing. A folder must exist; it is kept absolute, with ~ for home."""
    from gitoverit.commands import group

    return group.run(group.GroupCommand("add", name, paths))


@group_command.command(name="rm")
@click.argument("name")
@click.argument("paths", nargs=-1)
@usage_errors
def group_rm_command(name: str, paths: tuple[str, ...]) -> int:
    """Remove group NAME, or only the PATHs given from it."""
    from gitoverit.commands import group

    return group.run(group.GroupCommand("rm", name, paths))


@click.command(
    name="completion",
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="""
\b
Install:
  bash:  eval "$(gitoverit completion bash)"      (in ~/.bashrc)
  zsh:   eval "$(gitoverit completion zsh)"       (in ~/.zshrc)
  fish:  gitoverit completion fish > ~/.config/fish/completions/gitoverit.fish
""",
)
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.option(
    "--prog",
    default="gitoverit",
    show_default=True,
    type=click.Choice(["gitoverit", "gito"]),
    help="Command name to complete.",
)
def completion_command(shell: str, prog: str) -> int:
    """Print the shell completion script for SHELL."""
    from gitoverit.commands import completion

    return completion.run(completion.CompletionCommand(shell, prog, scan_command))


def _branches_where_help(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from gitoverit.commands.branches import where_help

        click.echo(where_help(), nl=False)
        ctx.exit(EXIT_OK)


@click.command(
    name="gitob",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=GITOB_EXAMPLES,
)
@folders_argument()
@click.option(
    "-f", "--fetch", is_flag=True, help="Fetch every remote first (--prune), as gitoverit -f does."
)
@click.option(
    "--timeout",
    type=click.FloatRange(0, min_open=True),
    metavar="SECONDS",
    help="Time limit for each remote's fetch; git's process group is killed when it "
    "expires [default: 120].",
)
@format_option
@click.option("-j", "--json", "json_flag", is_flag=True, help="JSON output (same as -o json).")
@click.option(
    "-g", "--glob", metavar="PATTERN", help="Only branches whose name matches the glob PATTERN."
)
@click.option(
    "-r",
    "--regex",
    metavar="PATTERN",
    help="Only branches whose name matches the regular expression PATTERN (re.search).",
)
@click.option(
    "-s",
    "--sort",
    "sort_key",
    type=click.Choice(list(BRANCH_SORT_KEYS)),
    default="branch",
    show_default=True,
    help="Sort order (branch: by name; date: most recent commit last; none: git's order).",
)
@click.option("--reverse", is_flag=True, help="Reverse the sort order.")
@click.option(
    "-c",
    "--columns",
    metavar="SPEC",
    help="Table columns: '-' clears, '-col' removes, 'col' adds or moves to the end; comma "
    f"separated. Columns: {', '.join(BRANCH_COLUMNS)} "
    f"[default: {','.join(DEFAULT_BRANCH_COLUMNS)}].",
)
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
    help="Print the value of EXPR for each branch, one a line, instead of a table; branches "
    "where it is None are left out. Control characters are escaped, except with -0 into a pipe.",
)
@click.option(
    "-0",
    "--print0",
    "--null",
    "nul",
    is_flag=True,
    help="With --print: end each value with NUL instead of a newline, for xargs -0.",
)
@click.option(
    "--help-where",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_branches_where_help,
    help="Describe the --where / --print expression language and exit.",
)
@click.version_option(
    __version__, "-V", "--version", prog_name="gitob", message="%(prog)s %(version)s"
)
def branches_command(
    dirs: tuple[str, ...],
    fmt: str,
    json_flag: bool,
    sort_key: str,
    print_expr: str | None,
    **flags: Any,
) -> int:
    """List the local branches of every repository under DIRS (folders or @GROUPs;
    default: the current folder, or the repository it is in): upstream, status (the
    worktree's, for a branch checked out in one; = when in sync with the upstream), the
    last commit's author, subject and date, and the worktree that has each branch checked
    out. Several repositories are listed one after the other, each under its path."""
    from gitoverit.commands import branches
    from gitoverit.errors import UsageError

    if json_flag and fmt not in ("table", "json"):
        raise UsageError(f"-j/--json and -o {fmt} do not go together")
    return branches.run(
        branches.BranchesCommand(
            dirs=dirs,
            fmt="json" if json_flag else fmt,
            sort_key=sort_key,
            print_expr=print_expr,
            **flags,
        )
    )
