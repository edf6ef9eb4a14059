"""The command line: flags become an options dataclass, options go to a command.

Only click wiring lives in this package; each command's work is in
:mod:`gitoverit.commands`. Every command returns an exit code: 0 when every repository
succeeded, 1 when any failed, 2 for a usage error (always reported before any work
starts), 130 when interrupted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

from gitoverit import __version__
from gitoverit.cli._commands import (
    add_command,
    branches_command,
    completion_command,
    config_command,
    freeze_command,
    group_command,
    scan_command,
    sync_command,
)
from gitoverit.cli._exec import exec_command
from gitoverit.cli._watch import watch_command
from gitoverit.exit_codes import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

__all__ = [
    "add_command",
    "branches_command",
    "branches_main",
    "completion_command",
    "config_command",
    "exec_command",
    "freeze_command",
    "group_command",
    "main",
    "run_click",
    "scan_command",
    "sync_command",
    "watch_command",
]


SUBCOMMANDS: dict[str, click.Command] = {
    "exec": exec_command,
    "sync": sync_command,
    "freeze": freeze_command,
    "add": add_command,
    "config": config_command,
    "group": group_command,
    "completion": completion_command,
    "watch": watch_command,
}


def _prog_name() -> str:
    """``gito`` or ``gitoverit``: the name this process was started as."""
    name = os.path.basename(sys.argv[0]) if sys.argv else ""
    return name if name in ("gito", "gitoverit") else "gitoverit"


def _complete(prog: str, var: str, instruction: str) -> int:
    """Answer a shell-completion request (click's protocol), routing to the subcommand
    named in the words being completed, and offering subcommand names in first place."""
    from click.shell_completion import CompletionItem, get_completion_class

    shell, _, action = instruction.partition("_")
    cls = get_completion_class(shell)
    if cls is None:
        return EXIT_USAGE
    comp = cls(scan_command, {}, prog, var)
    if action == "source":
        click.echo(comp.source())
        return EXIT_OK
    args, incomplete = comp.get_completion_args()
    if args and args[0] in SUBCOMMANDS:
        comp = cls(SUBCOMMANDS[args[0]], {}, f"{prog} {args[0]}", var)
        items = comp.get_completions(args[1:], incomplete)
    else:
        items = comp.get_completions(args, incomplete)
        if not args and not incomplete.startswith("-"):
            # After any "dir" item: bash's script resets its list on one.
            items += [CompletionItem(n) for n in SUBCOMMANDS if n.startswith(incomplete)]
    click.echo("\n".join(comp.format_completion(item) for item in items))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``gitoverit`` and ``gito``."""
    args = list(sys.argv[1:] if argv is None else argv)
    prog = _prog_name()
    complete_var = f"_{prog.upper()}_COMPLETE"
    instruction = os.environ.get(complete_var)
    if instruction:
        return _complete(prog, complete_var, instruction)
    if args in (["--version"], ["-V"]):
        # Fast path: no framework import for the most common liveness check.
        print(f"gitoverit {__version__}")
        return EXIT_OK
    if args and args[0] in SUBCOMMANDS:
        return run_click(SUBCOMMANDS[args[0]], args[1:], f"{prog} {args[0]}")
    mistyped = _mistyped_command(args)
    if mistyped is not None:
        click.echo(mistyped, err=True)
        return EXIT_USAGE
    return run_click(scan_command, args, prog)


def _mistyped_command(args: Sequence[str]) -> str | None:
    """The error for a first argument that is no folder but looks like a misspelt
    command (``frezee``), else ``None``. A folder of that name is scanned as usual."""
    if not args or args[0].startswith(("-", "@")) or os.path.exists(args[0]):
        return None
    import difflib

    close = difflib.get_close_matches(args[0], list(SUBCOMMANDS), n=1)
    if not close:
        return None
    from gitoverit.text import safe_text

    return f"Error: no folder or command named '{safe_text(args[0])}'; did you mean '{close[0]}'?"


def branches_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``gitob``; returns the exit code."""
    from gitoverit.errors import UsageError

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return run_click(branches_command, args, "gitob")
    except UsageError as exc:
        click.echo(f"gitob: error: {exc}", err=True)
        return EXIT_USAGE


def run_click(command: click.Command, args: Sequence[str], prog_name: str) -> int:
    """Run a click *command* on *args* and return its exit code, without click's
    standalone mode: a usage error is shown and exits 2, Ctrl-C exits 130, any other
    exception propagates to the caller."""
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
