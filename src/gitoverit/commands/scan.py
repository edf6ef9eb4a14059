"""``gitoverit [DIRS]``: the status of every repository under the folders named, with
``-f``/``-P``/``-U`` to fetch, fast-forward and push the ones that are safe to move."""

from __future__ import annotations

from dataclasses import dataclass, field

from gitoverit.commands._output import OutputOptions, resolve
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
    if c.metadata_only and (c.fetch or c.pull_safe or c.push_safe):
        raise UsageError("--metadata-only cannot be combined with -f, -P or -U")
    settings, plan = resolve(
        out,
        dirty_only=c.dirty_only,
        roots=c.dirs,
        exclude=c.exclude,
        trust_repo_config=c.trust_repo_config,
    )
    trust = bool(settings.trust_repo_config)
    selection = Selection(
        roots=roots_of(settings.roots),
        exclude=settings.exclude,
        max_depth=c.max_depth,
        include_ignored=c.include_ignored,
    )
    options = ScanOptions(
        selection=selection,
        jobs=settings.jobs or default_jobs(),
        metadata_only=c.metadata_only,
        fail_fast=out.exit_on_error,
        trust_repo_config=trust,
    )
    actions = ActionOptions(
        fetch=c.fetch or c.pull_safe or c.push_safe,
        pull=c.pull_safe,
        push=c.push_safe,
        timeout=settings.timeout or NETWORK_TIMEOUT,
        fail_fast=out.exit_on_error,
        trust_repo_config=trust,
    )
    return run_pipeline(options, actions, plan, net_jobs=settings.net_jobs)
