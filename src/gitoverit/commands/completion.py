"""``gitoverit completion SHELL``: the shell completion script."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitoverit.exit_codes import EXIT_OK


@dataclass(frozen=True, slots=True)
class CompletionCommand:
    """The shell to complete in, the command name, and the click command it completes."""

    shell: str
    prog: str
    command: Any


def run(command: CompletionCommand) -> int:
    """Print the completion script for the shell."""
    import click
    from click.shell_completion import get_completion_class

    cls = get_completion_class(command.shell)
    assert cls is not None
    var = f"_{command.prog.upper()}_COMPLETE"
    click.echo(cls(command.command, {}, command.prog, var).source())
    return EXIT_OK
