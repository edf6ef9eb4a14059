from __future__ import annotations

from gitoverit._entry import gitoverit

raise SystemExit(gitoverit())
