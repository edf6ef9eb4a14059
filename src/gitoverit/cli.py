"""Command-line entry points. Argument parsing only; the work lives in the library."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-V"]):
        from gitoverit import __version__

        print(f"gitoverit {__version__}")
        return 0
    raise NotImplementedError


def branches_main(argv: Sequence[str] | None = None) -> int:
    raise NotImplementedError


if __name__ == "__main__":
    raise SystemExit(main())
