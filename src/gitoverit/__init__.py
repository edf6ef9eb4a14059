"""gitoverit: status, fetch, safe pull/push and sync across many git repositories.

The package root stays import-light so that ``gitoverit --version`` is fast; import the
submodules you need (``gitoverit.parallel``, ``gitoverit.scan``, ...).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
