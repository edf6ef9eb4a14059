"""``gitoverit sync [PATTERN]...``: clone what a manifest lists and is missing, and
fast-forward the rest under the same rules as ``-P``; ``--dry-run`` says what it would
do."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gitoverit.commands._output import OutputOptions, resolve, warn
from gitoverit.commands._pipeline import run_pipeline
from gitoverit.errors import UsageError

if TYPE_CHECKING:
    from gitoverit.manifest import ManifestEntry
    from gitoverit.sync import SyncTarget


@dataclass(frozen=True, slots=True)
class SyncCommand:
    """The sync's flags, as given."""

    manifest: str | None = None
    patterns: tuple[str, ...] = ()
    trust_repo_config: bool = False
    output: OutputOptions = field(default_factory=OutputOptions)
    #: More manifests (``-m`` given several times); read after *manifest*.
    more_manifests: tuple[str, ...] = ()
    dry_run: bool = False
    hooks: bool = True
    recurse_submodules: bool = False


def _manifest_paths(command: SyncCommand) -> list[str]:
    """The manifests to read: those named, else the defaults (see
    :func:`gitoverit.manifest.default_manifest_paths`). Raises :class:`UsageError` when
    one named is missing or none is found."""
    from gitoverit.manifest import MANIFEST_ENV, default_manifest_path, default_manifest_paths

    named = [m for m in (command.manifest, *command.more_manifests) if m]
    if named:
        for path in named:
            if not os.path.exists(path):
                raise UsageError(f"manifest not found: {path} (-m/--manifest)")
        return named
    found = [str(p) for p in default_manifest_paths()]
    if found and os.path.exists(found[0]):
        return found
    path = found[0] if found else str(default_manifest_path())
    if os.environ.get(MANIFEST_ENV, "").strip():
        raise UsageError(f"manifest not found: {path} (named by {MANIFEST_ENV})")
    raise UsageError(f"manifest not found: {path}; name one with -m FILE or {MANIFEST_ENV}")


def _load(command: SyncCommand, settings: Any) -> list[ManifestEntry]:
    import pathlib

    from gitoverit.manifest import ManifestError, load_manifests
    from gitoverit.select import pick_entries

    try:
        loaded, warnings = load_manifests([pathlib.Path(p) for p in _manifest_paths(command)])
    except ManifestError as exc:
        raise UsageError(str(exc)) from exc
    for warning in warnings:
        warn(f"warning: {warning}")
    entries = pick_entries(loaded, command.patterns, dict(settings.groups))
    if command.patterns and not entries:
        raise UsageError(f"no manifest entry matches {' '.join(command.patterns)}")
    return entries


def _unlisted(entries: list[ManifestEntry]) -> list[SyncTarget]:
    """The repos found under the folders of *entries* that the manifest does not list."""
    from gitoverit.select import Selection, find
    from gitoverit.sync import SyncTarget

    listed = {e.path for e in entries} | {w.path for e in entries for w in e.worktrees}
    folders = sorted({os.path.dirname(e.path) for e in entries})
    roots = tuple(f for f in folders if os.path.isdir(f))
    if not roots:
        return []
    found = find(Selection(roots=roots, no_submodules=True))
    return [SyncTarget(ref, ref.path, unlisted=True) for ref in found if ref.path not in listed]


def run(command: SyncCommand) -> int:
    """Sync the manifest's repositories; returns the exit code. Raises
    :class:`UsageError` first for bad input (a missing or invalid manifest, a pattern
    that matches nothing)."""
    from gitoverit.actions import ActionOptions
    from gitoverit.git.command import NETWORK_TIMEOUT
    from gitoverit.scan import ScanOptions, default_jobs
    from gitoverit.select import manifest_refs
    from gitoverit.sync import SyncSettings, plan_targets

    out = command.output
    settings, plan = resolve(out, trust_repo_config=command.trust_repo_config)
    entries = _load(command, settings)
    targets: dict[str, Any] = {}
    for target in plan_targets(entries, manifest_refs(entries)):
        targets.setdefault(target.ref.path, target)
    if command.dry_run:
        for target in _unlisted(entries):
            targets.setdefault(target.ref.path, target)
        if plan.fmt == "table" and "outcome" not in plan.columns:
            plan = dataclasses.replace(plan, columns=(*plan.columns, "outcome"))
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
    sync = SyncSettings(
        dry_run=command.dry_run,
        hooks=command.hooks,
        recurse_submodules=command.recurse_submodules,
        # A shell_command_after has the time limit of git's own network steps.
        hook_timeout=actions.timeout,
    )
    return run_pipeline(
        options,
        actions,
        plan,
        net_jobs=settings.net_jobs,
        sync_targets=targets,
        sync_settings=sync,
    )
