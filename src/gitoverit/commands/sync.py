"""``gitoverit sync [PATTERN]...``: clone what a manifest lists and is missing, and
fast-forward the rest under the same rules as ``-P``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from gitoverit.commands._output import OutputOptions, resolve, warn
from gitoverit.commands._pipeline import run_pipeline
from gitoverit.errors import UsageError


@dataclass(frozen=True, slots=True)
class SyncCommand:
    """The sync's flags, as given."""

    manifest: str | None = None
    patterns: tuple[str, ...] = ()
    trust_repo_config: bool = False
    output: OutputOptions = field(default_factory=OutputOptions)


def run(command: SyncCommand) -> int:
    """Sync the manifest's repositories; returns the exit code. Raises
    :class:`UsageError` first for bad input (a missing or invalid manifest, a pattern
    that matches nothing)."""
    import pathlib

    from gitoverit.actions import ActionOptions
    from gitoverit.git.command import NETWORK_TIMEOUT
    from gitoverit.manifest import (
        MANIFEST_ENV,
        ManifestError,
        default_manifest_path,
        filter_entries,
        load_manifest_with_warnings,
    )
    from gitoverit.scan import ScanOptions, default_jobs
    from gitoverit.select import manifest_refs
    from gitoverit.sync import SyncTarget

    out = command.output
    settings, plan = resolve(out, trust_repo_config=command.trust_repo_config)
    path = command.manifest or str(default_manifest_path())
    if not os.path.exists(path):
        if command.manifest:
            named = " (-m/--manifest)"
        elif os.environ.get(MANIFEST_ENV, "").strip():
            named = f" (named by {MANIFEST_ENV})"
        else:
            named = f"; name one with -m FILE or {MANIFEST_ENV}"
        raise UsageError(f"manifest not found: {path}{named}")
    try:
        loaded, warnings = load_manifest_with_warnings(pathlib.Path(path))
    except ManifestError as exc:
        raise UsageError(str(exc)) from exc
    for warning in warnings:
        warn(f"warning: {warning}")
    entries = filter_entries(loaded, list(command.patterns))
    if command.patterns and not entries:
        raise UsageError(f"no manifest entry matches {' '.join(command.patterns)}")
    targets = {
        ref.path: SyncTarget(ref, e.url, e.branch, tuple(e.remotes))
        for ref, e in zip(manifest_refs(entries), entries, strict=True)
    }
    options = ScanOptions(
        jobs=settings.jobs or default_jobs(), fail_fast=out.exit_on_error, extras=plan.extras()
    )
    actions = ActionOptions(
        fetch=True,
        pull=True,
        timeout=settings.timeout or NETWORK_TIMEOUT,
        fail_fast=out.exit_on_error,
        trust_repo_config=bool(settings.trust_repo_config),
    )
    return run_pipeline(options, actions, plan, net_jobs=settings.net_jobs, sync_targets=targets)
