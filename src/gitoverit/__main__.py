from __future__ import annotations

from gitoverit.cli import main

raise SystemExit(main())
