"""Console-script entry points, kept tiny so that even start-up can be interrupted cleanly.

A Ctrl-C while the command-line modules are still being imported exits 130, like one
at any later moment, instead of printing a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click

#: The exit codes of every command: success, some repository failed, a usage error
#: (reported before any work starts), interrupted.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def gitoverit() -> int:
    """``gitoverit`` and ``gito``."""
    try:
        from gitoverit.cli import main
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return main()


def gitob() -> int:
    """``gitob``."""
    try:
        from gitoverit.cli import branches_main
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return branches_main()


def run_click(command: click.Command, args: Sequence[str], prog_name: str) -> int:
    """Run a click *command* on *args* and return its exit code, without click's
    standalone mode: a usage error is shown and exits 2, Ctrl-C exits 130, any other
    exception propagates to the caller."""
    import click

    try:
        rv = command.main(list(args), prog_name=prog_name, standalone_mode=False)
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
