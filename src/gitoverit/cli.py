"""Command-line entry points: argument parsing only. The work lives in the library.

``main`` returns an exit code: 0 when every repository succeeded, 1 when any failed, 2 for
a usage error (always reported before any work starts), 130 when interrupted.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import click

from gitoverit import __version__
from gitoverit._entry import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, run_click
from gitoverit.output.sorting import SORT_KEYS

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


def _kill_children_and_exit(signum: int, frame: object) -> None:
    """Second Ctrl-C: kill every git process group we started, and leave at once."""
    from gitoverit.process import kill_all

    kill_all()
    os._exit(EXIT_INTERRUPTED)


#: Depth of code that must not be cut short by a first Ctrl-C, and whether one came.
_CRITICAL: list[int] = [0]
_HELD_INTERRUPT: list[bool] = []


def _first_sigint(signum: int, frame: object) -> None:
    signal.signal(signal.SIGINT, _kill_children_and_exit)
    if _CRITICAL[0]:
        _HELD_INTERRUPT.append(True)
        return
    raise KeyboardInterrupt


@contextmanager
def _holding_interrupts() -> Iterator[None]:
    """Run the block to its end even if a first Ctrl-C comes (see :func:`_held_interrupt`).

    Taking in one repo's result (counting it and writing its line) must not stop halfway,
    or the repo would be counted but never shown; writing the results must not stop
    halfway, or JSON would be cut short.
    """
    _CRITICAL[0] += 1
    try:
        yield
    finally:
        _CRITICAL[0] -= 1


def _held_interrupt() -> bool:
    """Whether a first Ctrl-C came during a finished :func:`_holding_interrupts` block."""
    if _CRITICAL[0] or not _HELD_INTERRUPT:
        return False
    _HELD_INTERRUPT.clear()
    return True


@contextmanager
def _interrupt_handling() -> Iterator[None]:
    """First Ctrl-C raises KeyboardInterrupt for a clean stop; a second one exits at once."""
    if threading_main():
        previous = signal.signal(signal.SIGINT, _first_sigint)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
    else:
        yield


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _help_where(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from gitoverit.query import HELP_TEXT

    click.echo(HELP_TEXT)
    ctx.exit(0)


def _output_options(func: Any) -> Any:
    """Options shared by every command that lists repositories."""
    decorators = [
        click.option(
            "-o",
            "--format",
            "fmt",
            type=click.Choice(["table", "json", "ndjson"]),
            default="table",
            show_default=True,
            help="Output format.",
        ),
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
            help="Only repos for which EXPR is true, e.g. 'ahead > 0 and behind == 0'"
            " (see --help-where).",
        ),
        click.option(
            "-p",
            "--print",
            "print_expr",
            metavar="EXPR",
            help="Print EXPR for each repo, one per line, instead of a table "
            "(e.g. -p path). Repos where it is null are left out.",
        ),
        click.option(
            "-0",
            "--null",
            "null_sep",
            is_flag=True,
            help="With --print, end each value with NUL instead of a newline (for xargs -0).",
        ),
        click.option(
            "-c",
            "--columns",
            metavar="SPEC",
            help="Table columns: '-' clears, '-col' removes, 'col' adds or moves to "
            "the end; comma separated (e.g. '-remote,head').",
        ),
        click.option(
            "--help-where",
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_help_where,
            help="Explain the --where/--print language.",
        ),
        click.option(
            "-j",
            "--jobs",
            type=click.IntRange(1, 1024),
            help="Concurrent local git processes [default: 2x cores, max 8; env GITOVERIT_JOBS].",
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
            help="Print each failed repo's error details on stderr.",
        ),
    ]
    for deco in reversed(decorators):
        func = deco(func)
    return func


@dataclass(frozen=True, slots=True)
class OutputPlan:
    """Output settings resolved from flags, environment and the config file."""

    fmt: str
    sort_key: str
    reverse: bool
    columns: tuple[str, ...]
    where: Any
    print_expr: Any
    null_sep: bool
    dirty_only: bool
    show_errors: bool
    no_progress: bool


def resolve(
    out: dict[str, Any], *, roots: tuple[str, ...] = (), exclude: tuple[str, ...] = ()
) -> tuple[Any, OutputPlan]:
    """Merge flags over ``GITOVERIT_*`` over the config file, and compile expressions.

    Raises ``click.UsageError`` (exit 2) for anything wrong, before any work starts.
    """
    from gitoverit.config import ConfigError, apply_flags, load_settings
    from gitoverit.output.columns import ColumnSpecError, parse_columns

    try:
        settings, sources = load_settings()
        settings, _ = apply_flags(
            settings,
            sources,
            jobs=out.get("jobs"),
            net_jobs=out.get("net_jobs"),
            timeout=out.get("timeout"),
            sort=out.get("sort_key"),
            roots=roots or None,
            exclude=exclude or None,
            columns=None,
        )
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    try:
        columns = parse_columns(settings.columns)
        columns = parse_columns(out.get("columns"), columns)
    except ColumnSpecError as exc:
        raise click.UsageError(str(exc)) from exc
    exprs: list[Any] = []
    for flag, text in (("--where", out.get("where")), ("--print", out.get("print_expr"))):
        if text is None:
            exprs.append(None)
            continue
        from gitoverit.query import ExprError, compile_expr

        try:
            exprs.append(compile_expr(text))
        except ExprError as exc:
            raise click.UsageError(f"bad {flag} expression\n{exc.render()}") from exc
    if out.get("null_sep") and out.get("print_expr") is None:
        raise click.UsageError("-0/--null only applies to --print")
    plan = OutputPlan(
        fmt=out.get("fmt") or "table",
        sort_key=settings.sort or "mtime",
        reverse=bool(out.get("reverse")),
        columns=columns,
        where=exprs[0],
        print_expr=exprs[1],
        null_sep=bool(out.get("null_sep")),
        dirty_only=bool(out.get("dirty_only")),
        show_errors=bool(out.get("show_errors")),
        no_progress=bool(out.get("no_progress")),
    )
    return settings, plan


@click.command(
    name="gitoverit",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=SCAN_EXAMPLES,
)
@click.argument("dirs", nargs=-1, type=click.Path(exists=True, file_okay=False, dir_okay=True))
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
@_output_options
@click.version_option(__version__, "-V", "--version", prog_name="gitoverit")
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
    **out: Any,
) -> int:
    """Report the state of every git repository under DIRS (default: the current folder,
    or the roots in the config file)."""
    from gitoverit.actions import ActionOptions
    from gitoverit.git._run import NETWORK_TIMEOUT
    from gitoverit.scan import ScanOptions, default_jobs

    if metadata_only and (fetch or pull_safe or push_safe):
        raise click.UsageError("--metadata-only cannot be combined with -f, -P or -U")
    settings, plan = resolve({**out, "dirty_only": dirty_only}, roots=dirs, exclude=exclude)
    roots = settings.roots or (".",)
    for root in roots:
        if not os.path.isdir(root):
            raise click.UsageError(f"not a folder: {root}")
    options = ScanOptions(
        roots=tuple(os.path.abspath(r) for r in roots),
        jobs=settings.jobs or default_jobs(),
        exclude=settings.exclude,
        max_depth=max_depth,
        include_ignored=include_ignored,
        metadata_only=metadata_only,
        fail_fast=out["exit_on_error"],
    )
    actions = ActionOptions(
        fetch=fetch or pull_safe or push_safe,
        pull=pull_safe,
        push=push_safe,
        timeout=settings.timeout or NETWORK_TIMEOUT,
        fail_fast=out["exit_on_error"],
    )
    return run_pipeline(options, actions, plan, net_jobs=settings.net_jobs)


def run_pipeline(
    options: Any,
    actions: Any,
    plan: OutputPlan,
    *,
    net_jobs: int | None = None,
    sync_targets: Any = None,
) -> int:
    """Run a scan (with actions, or a sync) and write its output; returns the exit code."""
    import threading

    from gitoverit.actions import action_task, sync_task
    from gitoverit.actions import net_jobs as net_workers
    from gitoverit.model import (
        DiscoveryDone,
        Reason,
        RepoDone,
        RepoError,
        RepoRecord,
        ScanWarning,
    )
    from gitoverit.scan import Scan
    from gitoverit.text import safe_text

    live = not plan.no_progress and sys.stderr.isatty()
    display: Any = None
    worker_display: Any = None
    if actions.any or sync_targets is not None:
        from gitoverit.ui.slots import SlotDisplay

        workers = net_workers(net_jobs)
        worker_display = SlotDisplay(workers, live=live)
        local_limit = threading.BoundedSemaphore(options.jobs)
        if sync_targets is not None:
            task = sync_task(
                sync_targets, actions, local_limit=local_limit, sink=worker_display.handle
            )
            refs = [t.ref for t in sync_targets.values()]
            scan = Scan(options, task, workers=workers, refs=refs, action="sync")
        else:
            task = action_task(actions, local_limit=local_limit, sink=worker_display.handle)
            scan = Scan(options, task, workers=workers, action=actions.name)
        display = worker_display
    else:
        scan = Scan(options)
        if live:
            from gitoverit.ui.progress import ScanProgress

            display = ScanProgress()

    shown: list[RepoRecord] = []
    total = dirty = errors = 0
    ndjson = None
    if plan.fmt == "ndjson" and plan.print_expr is None:
        from gitoverit.output.json import NdjsonWriter

        ndjson = NdjsonWriter(sys.stdout)
    error_records: list[RepoRecord] = []
    interrupted = False
    expr_warned = False

    def matches(rec: RepoRecord) -> bool:
        nonlocal expr_warned
        if plan.dirty_only and not (rec.dirty or rec.error is not None):
            return False
        if plan.where is None:
            return True
        from gitoverit.query import ExprError, record_env, truthy

        try:
            return truthy(plan.where.evaluate(record_env(rec)))
        except ExprError as exc:
            if not expr_warned:
                expr_warned = True
                click.echo(f"warning: --where: {exc} (such repos are left out)", err=True)
            return False

    reported: set[str] = set()
    _CRITICAL[0] = 0
    _HELD_INTERRUPT.clear()

    def accept(rec: RepoRecord) -> None:
        nonlocal total, dirty, errors
        reported.add(rec.ref.path)
        total += 1
        if rec.error is not None:
            errors += 1
            error_records.append(rec)
        elif rec.dirty:
            dirty += 1
        if not matches(rec):
            return
        if ndjson is not None:
            ndjson.repo(rec)
        else:
            shown.append(rec)

    with _interrupt_handling():
        try:
            with display if display is not None else nullcontext():
                for event in scan.events():
                    if display is not None and worker_display is None:
                        display.handle(event)
                    elif isinstance(event, ScanWarning):
                        _warn(
                            display, f"warning: {safe_text(event.path)}: {safe_text(event.message)}"
                        )
                    if isinstance(event, RepoDone):
                        with _holding_interrupts():
                            accept(event.record)
                        if _held_interrupt():
                            raise KeyboardInterrupt
                    elif isinstance(event, DiscoveryDone) and ndjson is not None:
                        ndjson.discovery(event.count)
        except KeyboardInterrupt:
            interrupted = True
            scan.stop()
            # Every repo found and not yet shown gets its one record, whatever stage its
            # work had reached.
            for ref in scan.found():
                if ref.path not in reported:
                    accept(scan.failed_record(ref, RepoError(Reason.INTERRUPTED, "interrupted")))
        # The work is done: a first Ctrl-C now lets the results be written whole.
        with _holding_interrupts():
            finish_output(shown, plan)
            if ndjson is not None:
                ndjson.summary(repos=total, dirty=dirty, errors=errors, interrupted=interrupted)
            if plan.show_errors:
                for rec in error_records:
                    assert rec.error is not None
                    click.echo(
                        f"{safe_text(rec.ref.display_path)}: {rec.error.reason.value}: "
                        f"{safe_text(rec.error.message)}",
                        err=True,
                    )
            summary = (
                f"{total} repo{'s' if total != 1 else ''}, {dirty} dirty, "
                f"{errors} error{'s' if errors != 1 else ''}"
            )
            if interrupted:
                summary += " (interrupted)"
            elif errors and not plan.show_errors:
                summary += " (--errors for details)"
            click.echo(summary, err=True)
        interrupted = _held_interrupt() or interrupted
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if errors else EXIT_OK


def _warn(display: Any, text: str) -> None:
    if display is not None and hasattr(display, "message"):
        display.message(text)
    else:
        click.echo(text, err=True)


def finish_output(records: list[Any], plan: OutputPlan) -> None:
    """Write the collected records: sorted, as json, table or ``--print`` values."""
    if plan.fmt == "ndjson" and plan.print_expr is None:
        return
    from gitoverit.output.sorting import sort_records

    records = sort_records(records, plan.sort_key, plan.reverse)
    if plan.print_expr is not None:
        from gitoverit.query import ExprError, record_env
        from gitoverit.text import safe_text

        warned = False
        # Byte-exact into a pipe (for xargs -0); escaped on a terminal, like every other output.
        to_pipe = plan.null_sep and not sys.stdout.isatty()
        raw = getattr(sys.stdout, "buffer", None) if to_pipe else None
        for rec in records:
            try:
                value = plan.print_expr.evaluate(record_env(rec))
            except ExprError as exc:
                if not warned:
                    warned = True
                    click.echo(f"warning: --print: {exc} (such repos are left out)", err=True)
                continue
            if value is None:
                continue
            text = _print_value(value)
            if raw is not None:
                # Byte-exact for xargs -0: a path goes out as the bytes the filesystem
                # gave, whatever the encoding of stdout.
                raw.write(os.fsencode(text) + b"\0")
            elif plan.null_sep:
                sys.stdout.write(safe_text(text) + "\0")
            else:
                sys.stdout.write(safe_text(text) + "\n")
        (raw or sys.stdout).flush()
    elif plan.fmt == "json":
        from gitoverit.output.json import write_json

        write_json(records, sys.stdout)
    else:
        from gitoverit.output.table import render_table

        render_table(records, sys.stdout, columns=plan.columns)
        sys.stdout.flush()


def _print_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        from gitoverit.output.json import dumps

        return dumps(value)
    return str(value)


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
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Manifest to read (our TOML, or vcspull's YAML) [default: "
    "$XDG_CONFIG_HOME/gitoverit/manifest.toml, then ~/.vcspull.yaml].",
)
@click.argument("patterns", nargs=-1)
@_output_options
def sync_command(manifest: str | None, patterns: tuple[str, ...], **out: Any) -> int:
    """Clone every repo the manifest lists that is missing; fast-forward the rest.

    Only fast-forwards, under the same rules as -P: never rebases, stashes or merges.
    PATTERNs (globs) select repos by name or path.
    """
    import pathlib

    from gitoverit.actions import ActionOptions, SyncTarget
    from gitoverit.git._run import NETWORK_TIMEOUT
    from gitoverit.manifest import (
        ManifestError,
        default_manifest_path,
        filter_entries,
        load_manifest_with_warnings,
    )
    from gitoverit.model import RepoRef
    from gitoverit.scan import ScanOptions, default_jobs

    settings, plan = resolve(out)
    path = manifest or str(default_manifest_path())
    if not os.path.exists(path):
        raise click.UsageError(f"manifest not found: {path}")
    try:
        loaded, warnings = load_manifest_with_warnings(pathlib.Path(path))
    except ManifestError as exc:
        raise click.UsageError(str(exc)) from exc
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    entries = filter_entries(loaded, list(patterns))
    if patterns and not entries:
        raise click.UsageError(f"no manifest entry matches {' '.join(patterns)}")
    targets = {}
    for e in entries:
        ref = RepoRef(
            path=e.path, git_dir=os.path.join(e.path, ".git"), display_path=_display(e.path)
        )
        targets[e.path] = SyncTarget(ref, e.url, e.branch, tuple(e.remotes))
    options = ScanOptions(
        roots=(), jobs=settings.jobs or default_jobs(), fail_fast=out["exit_on_error"]
    )
    actions = ActionOptions(
        fetch=True,
        pull=True,
        timeout=settings.timeout or NETWORK_TIMEOUT,
        fail_fast=out["exit_on_error"],
    )
    return run_pipeline(options, actions, plan, net_jobs=settings.net_jobs, sync_targets=targets)


def _display(path: str) -> str:
    home = os.path.expanduser("~")
    if path == home or path.startswith(home + os.sep):
        return "~" + path[len(home) :]
    return path


@click.command(
    name="freeze",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.argument("dirs", nargs=-1, type=click.Path(exists=True, file_okay=False))
@click.option(
    "-O",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    metavar="FILE",
    help="Write the manifest to FILE instead of stdout.",
)
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip folders matching GLOB.")
def freeze_command(dirs: tuple[str, ...], output: str | None, exclude: tuple[str, ...]) -> int:
    """Write a manifest (TOML) of the repos found under DIRS, for `gitoverit sync`."""
    from gitoverit.manifest import ManifestEntry, dump_toml
    from gitoverit.model import RepoDone
    from gitoverit.scan import Scan, ScanOptions

    roots = tuple(os.path.abspath(d) for d in dirs) or (os.path.abspath("."),)
    scan = Scan(ScanOptions(roots=roots, exclude=exclude, metadata_only=True))
    entries = []
    missing = 0
    for event in scan.events():
        if isinstance(event, RepoDone):
            rec = event.record
            url = rec.status.remote_url if rec.status else None
            if url:
                entries.append(ManifestEntry(path=rec.ref.path, url=url, name=rec.ref.name))
            else:
                missing += 1
    entries.sort(key=lambda e: e.path)
    text = dump_toml(entries)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    click.echo(
        f"{len(entries)} repos written"
        + (f", {missing} without a remote left out" if missing else ""),
        err=True,
    )
    return EXIT_OK


@click.command(name="config", context_settings={"help_option_names": ["-h", "--help"]})
def config_command() -> int:
    """Print the effective configuration and where each value comes from.

    Precedence: flags, then GITOVERIT_* environment variables, then the config file
    ($XDG_CONFIG_HOME/gitoverit/config.toml, or GITOVERIT_CONFIG), then built-in defaults.
    """
    from gitoverit.config import ConfigError, config_path, describe, load_settings

    try:
        settings, sources = load_settings()
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(describe(settings, sources, path=config_path()))
    return EXIT_OK


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
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    assert cls is not None
    var = f"_{prog.upper()}_COMPLETE"
    comp = cls(scan_command, {}, prog, var)
    click.echo(comp.source())
    return EXIT_OK


SUBCOMMANDS: dict[str, click.Command] = {
    "sync": sync_command,
    "freeze": freeze_command,
    "config": config_command,
    "completion": completion_command,
}


def _prog_name() -> str:
    """``gito`` or ``gitoverit``: the name this process was started as."""
    name = os.path.basename(sys.argv[0]) if sys.argv else ""
    return name if name in ("gito", "gitoverit") else "gitoverit"


def _complete(prog: str, var: str, instruction: str) -> int:
    """Answer a shell-completion request (click's protocol), routing to the subcommand
    named in the words being completed, and offering subcommand names in first place."""
    from click.shell_completion import CompletionItem, get_completion_class

    shell, _, action = instruction.partition("_")
    cls = get_completion_class(shell)
    if cls is None:
        return EXIT_USAGE
    comp = cls(scan_command, {}, prog, var)
    if action == "source":
        click.echo(comp.source())
        return EXIT_OK
    args, incomplete = comp.get_completion_args()
    if args and args[0] in SUBCOMMANDS:
        comp = cls(SUBCOMMANDS[args[0]], {}, f"{prog} {args[0]}", var)
        items = comp.get_completions(args[1:], incomplete)
    else:
        items = comp.get_completions(args, incomplete)
        if not args and not incomplete.startswith("-"):
            # After any "dir" item: bash's script resets its list on one.
            items += [CompletionItem(n) for n in SUBCOMMANDS if n.startswith(incomplete)]
    click.echo("\n".join(comp.format_completion(item) for item in items))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``gitoverit`` and ``gito``."""
    args = list(sys.argv[1:] if argv is None else argv)
    prog = _prog_name()
    complete_var = f"_{prog.upper()}_COMPLETE"
    instruction = os.environ.get(complete_var)
    if instruction:
        return _complete(prog, complete_var, instruction)
    if args in (["--version"], ["-V"]):
        # Fast path: no framework import for the most common liveness check.
        print(f"gitoverit {__version__}")
        return EXIT_OK
    if args and args[0] in SUBCOMMANDS:
        return run_click(SUBCOMMANDS[args[0]], args[1:], f"{prog} {args[0]}")
    return run_click(scan_command, args, prog)


def branches_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``gitob``, the branch view of one repository."""
    from gitoverit.branch_view import main as branch_view_main

    return branch_view_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
