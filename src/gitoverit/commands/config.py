"""``gitoverit config``: the effective configuration and where each value comes from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitoverit.errors import UsageError
from gitoverit.exit_codes import EXIT_OK

if TYPE_CHECKING:
    from gitoverit.config import Settings


@dataclass(frozen=True, slots=True)
class ConfigCommand:
    """``gitoverit config`` takes no flags."""


def builtin_defaults() -> Settings:
    """The values the commands use for the settings that nothing sets: the jobs for this
    machine, the network's jobs and time limit, the table's columns and the sort key."""
    from gitoverit.actions import DEFAULT_NET_JOBS
    from gitoverit.commands._output import DEFAULT_SORT
    from gitoverit.config import Settings
    from gitoverit.git.command import NETWORK_TIMEOUT
    from gitoverit.output.columns import DEFAULT_COLUMNS
    from gitoverit.scan import default_jobs

    return Settings(
        jobs=default_jobs(),
        net_jobs=DEFAULT_NET_JOBS,
        timeout=NETWORK_TIMEOUT,
        columns=",".join(DEFAULT_COLUMNS),
        sort=DEFAULT_SORT,
        trust_repo_config=False,
    )


def run(command: ConfigCommand) -> int:
    """Print the configuration; raises :class:`UsageError` for a bad config file."""
    import click

    from gitoverit.config import ConfigError, describe, load_settings

    try:
        settings, sources = load_settings()
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    click.echo(describe(settings, sources, defaults=builtin_defaults()), nl=False)
    return EXIT_OK
