"""``gitoverit [DIRS]``: the status of every repository under the folders named, with
``-f``/``-P``/``-U`` to fetch, fast-forward and push the ones that are safe to move."""

from __future__ import annotations

from dataclasses import dataclass, field

from gitoverit.commands._output import OutputOptions, OutputPlan, resolve
from gitoverit.commands._pipeline import run_pipeline
from gitoverit.errors import UsageError


@dataclass(frozen=True, slots=True)
class ScanCommand:
    """The scan's flags, as given."""

    dirs: tuple[str, ...] = ()
    fetch: bool = False
    pull_safe: bool = False
    push_safe: bool = False
    dirty_only: bool = False
    metadata_only: bool = False
    exclude: tuple[str, ...] = ()
    max_depth: int | None = None
    include_ignored: bool = False
    no_submodules: bool = False
    #: ``auto`` (in-process where exact, else git) or ``git``.
    reader: str = "auto"
    trust_repo_config: bool = False
    output: OutputOptions = field(default_factory=OutputOptions)


def run(command: ScanCommand) -> int:
    """Scan, act, report; returns the exit code. Raises :class:`UsageError` first for
    bad input."""
    from gitoverit.actions import ActionOptions
    from gitoverit.git.command import NETWORK_TIMEOUT
    from gitoverit.scan import ScanOptions, default_jobs
    from gitoverit.select import Selection, roots_of

    c, out = command, command.output
    if c.metadata_only:
        _check_metadata_only(c)
    settings, plan = resolve(
        out,
        dirty_only=c.dirty_only,
        roots=c.dirs,
        exclude=c.exclude,
        trust_repo_config=c.trust_repo_config,
        scans_roots=True,
        metadata_only=c.metadata_only,
    )
    trust = bool(settings.trust_repo_config)
    if c.metadata_only:
        _check_metadata_plan(plan)
    selection = Selection(
        roots=roots_of(settings.roots, dict(settings.groups)),
        exclude=settings.exclude,
        max_depth=c.max_depth,
        include_ignored=c.include_ignored,
        no_submodules=c.no_submodules,
    )
    options = ScanOptions(
        selection=selection,
        jobs=settings.jobs or default_jobs(),
        metadata_only=c.metadata_only,
        fail_fast=out.exit_on_error,
        trust_repo_config=trust,
        extras=plan.extras(),
        reader=c.reader,
    )
    actions = ActionOptions(
        fetch=c.fetch or c.pull_safe or c.push_safe,
        pull=c.pull_safe,
        push=c.push_safe,
        timeout=settings.timeout or NETWORK_TIMEOUT,
        fail_fast=out.exit_on_error,
        trust_repo_config=trust,
        metadata_only=c.metadata_only,
    )
    return run_pipeline(options, actions, plan, net_jobs=settings.net_jobs)


#: The record names ``--metadata-only`` leaves null: it never reads the work tree.
WORK_TREE_NAMES = frozenset(
    {
        "staged",
        "modified",
        "deleted",
        "unstaged_modified",
        "unstaged_deleted",
        "untracked",
        "conflicted",
        "dirty",
        "mtime",
        "latest_mtime",
        "lines_added",
        "lines_removed",
    }
)


def _check_metadata_only(c: ScanCommand) -> None:
    """Refuse, before any work, what needs the work tree that ``--metadata-only`` skips."""
    needs = [
        flag
        for flag, given in (
            ("-d/--dirty-only", c.dirty_only),
            ("-P/--pull-safe", c.pull_safe),
            ("-U/--push-safe", c.push_safe),
            ("-s mtime", c.output.sort_key == "mtime"),
        )
        if given
    ]
    if needs:
        raise UsageError(
            f"--metadata-only does not read the work tree, which {', '.join(needs)} needs"
        )


def _check_metadata_plan(plan: OutputPlan) -> None:
    """Refuse expressions that read what a scan without the work tree leaves null. (The
    default sort is then by path, and the default columns leave out the time.)"""
    for flag, expr in (("--where", plan.where), ("--print", plan.print_expr)):
        unread = sorted(expr.names & WORK_TREE_NAMES) if expr is not None else []
        if unread:
            raise UsageError(
                f"{flag} reads {', '.join(unread)}, which --metadata-only leaves null "
                "(it does not read the work tree)"
            )
