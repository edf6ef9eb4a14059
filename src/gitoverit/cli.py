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
from typing import Any

import click

from gitoverit import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

SCAN_EXAMPLES = """
\b
Examples:
  gito ~/code                     status of every repo under ~/code
  gito -d -s branch               only repos that need attention, by branch
  gito ~/code -o json | jq '.[] | select(.ahead > 0) | .path'
  gito ~/code -o ndjson           one JSON line per repo as it finishes
  gito --exclude node_modules --max-depth 3 ~/work
"""


def _kill_children_and_exit(signum: int, frame: object) -> None:
    """Second Ctrl-C: kill every git process group we started, and leave at once."""
    from gitoverit.git import _run

    kill_all = getattr(_run, "kill_all", None)
    if kill_all is not None:
        kill_all()
    os._exit(EXIT_INTERRUPTED)


def _first_sigint(signum: int, frame: object) -> None:
    signal.signal(signal.SIGINT, _kill_children_and_exit)
    raise KeyboardInterrupt


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


def _sort_keys() -> tuple[str, ...]:
    from gitoverit.output.sorting import SORT_KEYS

    return SORT_KEYS


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
            type=click.Choice(
                [
                    "dir",
                    "path",
                    "name",
                    "status",
                    "branch",
                    "remote",
                    "url",
                    "mtime",
                    "ahead",
                    "behind",
                    "none",
                ]
            ),
            default="mtime",
            show_default=True,
            help="Sort table and json rows (mtime: most recently changed last).",
        ),
        click.option("-r", "--reverse", is_flag=True, help="Reverse the sort order."),
        click.option(
            "-j",
            "--jobs",
            type=click.IntRange(1, 1024),
            envvar="GITOVERIT_JOBS",
            show_envvar=True,
            help="Concurrent local git processes [default: 2x cores, max 8].",
        ),
        click.option(
            "--net-jobs",
            type=click.IntRange(1, 1024),
            envvar="GITOVERIT_NET_JOBS",
            show_envvar=True,
            help="Concurrent network operations (fetch, push, clone) [default: 16].",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(0, min_open=True),
            default=120.0,
            show_default=True,
            metavar="SECONDS",
            help="Time limit for each network operation; the git process group "
            "is killed when it expires.",
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
    """Report the state of every git repository under DIRS (default: the current folder)."""
    from gitoverit.actions import ActionOptions
    from gitoverit.scan import ScanOptions, default_jobs

    if metadata_only and (fetch or pull_safe or push_safe):
        raise click.UsageError("--metadata-only cannot be combined with -f, -P or -U")
    options = ScanOptions(
        roots=tuple(os.path.abspath(d) for d in dirs) or (os.path.abspath("."),),
        jobs=out["jobs"] or default_jobs(),
        exclude=exclude,
        max_depth=max_depth,
        include_ignored=include_ignored,
        metadata_only=metadata_only,
        fail_fast=out["exit_on_error"],
    )
    actions = ActionOptions(
        fetch=fetch or pull_safe or push_safe,
        pull=pull_safe,
        push=push_safe,
        timeout=out["timeout"],
        fail_fast=out["exit_on_error"],
    )
    return run_pipeline(options, actions, dirty_only=dirty_only, **out)


def run_pipeline(
    options: Any,
    actions: Any,
    *,
    fmt: str,
    sort_key: str,
    reverse: bool,
    dirty_only: bool = False,
    no_progress: bool = False,
    show_errors: bool = False,
    net_jobs: int | None = None,
    sync_targets: Any = None,
    **_: Any,
) -> int:
    """Run a scan (with actions, or a sync) and write its output; returns the exit code."""
    import threading

    from gitoverit.actions import action_task, default_net_jobs, sync_task
    from gitoverit.model import Reason, RepoDone, RepoError, RepoRecord, ScanWarning
    from gitoverit.output.escape import safe_text
    from gitoverit.scan import Scan

    live = not no_progress and sys.stderr.isatty()
    display: Any = None
    worker_display: Any = None
    if actions.any or sync_targets is not None:
        from gitoverit.ui.slots import SlotDisplay

        workers = net_jobs or default_net_jobs()
        worker_display = SlotDisplay(workers, live=live)
        local_limit = threading.BoundedSemaphore(options.jobs)
        if sync_targets is not None:
            task = sync_task(
                sync_targets, actions, local_limit=local_limit, sink=worker_display.handle
            )
            refs = [t.ref for t in sync_targets.values()]
            scan = Scan(options, task, workers=workers, refs=refs)
        else:
            task = action_task(actions, local_limit=local_limit, sink=worker_display.handle)
            scan = Scan(options, task, workers=workers)
        display = worker_display
    else:
        scan = Scan(options)
        if live:
            from gitoverit.ui.progress import ScanProgress

            display = ScanProgress()

    shown: list[RepoRecord] = []
    total = dirty = errors = 0
    ndjson = None
    if fmt == "ndjson":
        from gitoverit.output.json import NdjsonWriter

        ndjson = NdjsonWriter(sys.stdout)
    error_records: list[RepoRecord] = []
    interrupted = False

    def accept(rec: RepoRecord) -> None:
        nonlocal total, dirty, errors
        total += 1
        if rec.error is not None:
            errors += 1
            error_records.append(rec)
        elif rec.dirty:
            dirty += 1
        if dirty_only and not (rec.dirty or rec.error is not None):
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
                        accept(event.record)
        except KeyboardInterrupt:
            interrupted = True
            for ref in scan.unfinished():
                accept(RepoRecord(ref, error=RepoError(Reason.INTERRUPTED, "interrupted")))
        finish_output(shown, fmt=fmt, sort_key=sort_key, reverse=reverse)
        if ndjson is not None:
            ndjson.summary(repos=total, dirty=dirty, errors=errors, interrupted=interrupted)
        if show_errors:
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
        elif errors and not show_errors:
            summary += " (--errors for details)"
        click.echo(summary, err=True)
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if errors else EXIT_OK


def _warn(display: Any, text: str) -> None:
    if display is not None and getattr(display, "live", False):
        from rich.text import Text

        display._progress.console.print(Text(text, style="yellow"))
    else:
        click.echo(text, err=True)


def finish_output(records: list[Any], *, fmt: str, sort_key: str, reverse: bool) -> None:
    if fmt == "ndjson":
        return
    from gitoverit.output.sorting import sort_records

    records = sort_records(records, sort_key, reverse)
    if fmt == "json":
        from gitoverit.output.json import write_json

        write_json(records, sys.stdout)
    else:
        from gitoverit.output.table import render_table

        render_table(records, sys.stdout)
        sys.stdout.flush()


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
    from gitoverit.actions import ActionOptions, SyncTarget
    from gitoverit.manifest import (
        ManifestError,
        default_manifest_path,
        filter_entries,
        load_manifest,
    )
    from gitoverit.model import RepoRef
    from gitoverit.scan import ScanOptions, default_jobs

    path = manifest or str(default_manifest_path())
    if not os.path.exists(path):
        raise click.UsageError(f"manifest not found: {path}")
    try:
        entries = filter_entries(load_manifest(_path(path)), list(patterns))
    except ManifestError as exc:
        raise click.UsageError(str(exc)) from exc
    if patterns and not entries:
        raise click.UsageError(f"no manifest entry matches {' '.join(patterns)}")
    targets = {}
    for e in entries:
        ref = RepoRef(
            path=e.path, git_dir=os.path.join(e.path, ".git"), display_path=_display(e.path)
        )
        targets[e.path] = SyncTarget(ref, e.url, e.branch, tuple(e.remotes))
    options = ScanOptions(
        roots=(), jobs=out["jobs"] or default_jobs(), fail_fast=out["exit_on_error"]
    )
    actions = ActionOptions(
        fetch=True, pull=True, timeout=out["timeout"], fail_fast=out["exit_on_error"]
    )
    return run_pipeline(options, actions, sync_targets=targets, **out)


def _path(p: str) -> Any:
    from pathlib import Path

    return Path(p)


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


SUBCOMMANDS: dict[str, click.Command] = {
    "sync": sync_command,
    "freeze": freeze_command,
}


def _invoke(command: click.Command, args: list[str], prog_name: str) -> int:
    try:
        rv = command.main(args, prog_name=prog_name, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        exc.show()
        return EXIT_USAGE
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        return EXIT_INTERRUPTED
    return int(rv or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``gitoverit`` and ``gito``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-V"]):
        # Fast path: no framework import for the most common liveness check.
        print(f"gitoverit {__version__}")
        return EXIT_OK
    if args and args[0] in SUBCOMMANDS:
        return _invoke(SUBCOMMANDS[args[0]], args[1:], f"gitoverit {args[0]}")
    return _invoke(scan_command, args, "gitoverit")


def branches_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``gitob``: not available yet."""
    click.echo("gitob: the branch view is not implemented yet", err=True)
    return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
