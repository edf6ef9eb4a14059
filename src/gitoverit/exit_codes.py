"""The exit codes of every command.

A module of its own, importing nothing, so that the entry points and the command line
can use them before anything heavier is loaded.
"""

from __future__ import annotations

#: Every repository succeeded (a dirty one is not a failure).
EXIT_OK = 0
#: Some repository failed.
EXIT_FAILED = 1
#: A usage error: a bad flag, expression, column, config key or manifest; reported
#: before any work starts.
EXIT_USAGE = 2
#: Interrupted (Ctrl-C).
EXIT_INTERRUPTED = 130
