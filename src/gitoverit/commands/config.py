"""``gitoverit config``: the effective configuration and where each value comes from."""

from __future__ import annotations

from dataclasses import dataclass

from gitoverit.errors import UsageError
from gitoverit.exit_codes import EXIT_OK


@dataclass(frozen=True, slots=True)
class ConfigCommand:
    """``gitoverit config`` takes no flags."""


def run(command: ConfigCommand) -> int:
    """Print the configuration; raises :class:`UsageError` for a bad config file."""
    import click

    from gitoverit.config import ConfigError, config_path, describe, load_settings

    try:
        settings, sources = load_settings()
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    click.echo(describe(settings, sources, path=config_path()))
    return EXIT_OK
