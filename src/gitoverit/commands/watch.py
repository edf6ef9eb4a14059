"""``gitoverit watch [DIRS]``: the scan's table kept current as the files change, full
screen; or, with ``-o ndjson``, a record each time a repository's changes."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field

from gitoverit.commands._output import OutputOptions, resolve
from gitoverit.errors import UsageError


@dataclass(frozen=True, slots=True)
class WatchCommand:
    """watch's flags, as given."""

    dirs: tuple[str, ...] = ()
    dirty_only: bool = False
    exclude: tuple[str, ...] = ()
    max_depth: int | None = None
    include_ignored: bool = False
    no_submodules: bool = False
    trust_repo_config: bool = False
    fetch_every: str | None = None
    poll_interval: float = 5.0
    output: OutputOptions = field(default_factory=OutputOptions)


_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float:
    """Seconds in *text*: ``90``, ``30s``, ``10m``, ``1h``, ``1h30m``. Raises
    :class:`UsageError` for anything else."""
    parts = re.findall(r"(\d+(?:\.\d+)?)([smhd]?)", text.strip().lower())
    if not parts or "".join(n + u for n, u in parts) != text.strip().lower():
        raise UsageError(f"--fetch-every: not a duration: {text!r} (e.g. 90s, 10m, 1h)")
    seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise UsageError(f"--fetch-every: must be more than 0: {text!r}")
    return seconds


def run(command: WatchCommand) -> int:
    """Watch until quit or signalled; returns the exit code. Raises :class:`UsageError`
    first for bad input."""
    from gitoverit.git.command import NETWORK_TIMEOUT
    from gitoverit.scan import ScanOptions, default_jobs
    from gitoverit.select import Selection, roots_of
    from gitoverit.watch import Filter, WatchOptions

    c, out = command, command.output
    fetch_every = parse_duration(c.fetch_every) if c.fetch_every is not None else None
    if out.fmt not in ("table", "ndjson"):
        raise UsageError(f"watch writes a table or ndjson, not {out.fmt}")
    if out.fmt == "table" and not (sys.stdout.isatty() and sys.stdin.isatty()):
        raise UsageError("watch needs a terminal; for other programs use -o ndjson")
    settings, plan = resolve(
        out,
        dirty_only=c.dirty_only,
        roots=c.dirs,
        exclude=c.exclude,
        trust_repo_config=c.trust_repo_config,
        scans_roots=True,
    )
    selection = Selection(
        roots=roots_of(settings.roots),
        exclude=settings.exclude,
        max_depth=c.max_depth,
        include_ignored=c.include_ignored,
        no_submodules=c.no_submodules,
    )
    options = WatchOptions(
        scan=ScanOptions(
            selection=selection,
            jobs=settings.jobs or default_jobs(),
            trust_repo_config=bool(settings.trust_repo_config),
            extras=plan.extras(),
        ),
        poll_interval=c.poll_interval,
        fetch_every=fetch_every,
        net_jobs=settings.net_jobs,
        timeout=settings.timeout or NETWORK_TIMEOUT,
    )
    keep = Filter(dirty_only=plan.dirty_only, where=plan.where)
    if out.fmt == "ndjson":
        from gitoverit.watch.headless import run_headless

        return run_headless(options, keep)
    from gitoverit.watch.app import run_app

    return run_app(options, plan, keep)
