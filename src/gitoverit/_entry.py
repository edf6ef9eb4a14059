"""Console-script entry points, kept tiny so that even start-up can be interrupted cleanly.

A Ctrl-C while the command-line modules are still being imported exits 130, like one
at any later moment, instead of printing a traceback.
"""

from __future__ import annotations

import sys

from gitoverit.exit_codes import EXIT_INTERRUPTED, EXIT_OK


def gitoverit() -> int:
    """``gitoverit`` and ``gito``."""
    if sys.argv[1:] in (["--version"], ["-V"]):
        # The most common liveness check answers before the command line is imported.
        from gitoverit import __version__

        print(f"gitoverit {__version__}")
        return EXIT_OK
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
