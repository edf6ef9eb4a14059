"""JSON and NDJSON sinks.

``json`` writes one array when the run ends. ``ndjson`` writes one line per repository
as it completes, flushed at once, then a ``{"type": "summary", ...}`` line; it holds
nothing in memory. Every record carries ``format_version``. Output is ASCII-only JSON, so
control characters and undecodable bytes in paths arrive escaped, never raw.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from gitoverit.model import FORMAT_VERSION, RepoRecord


def record_dict(record: RepoRecord) -> dict[str, Any]:
    data = record.to_json()
    data["remote_url"] = _redacted(data["remote_url"])
    return data


def _redacted(url: str | None) -> str | None:
    if url is None:
        return None
    from gitoverit.text import redact_url

    return redact_url(url)


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":"))


def write_json(records: Iterable[RepoRecord], out: IO[str]) -> None:
    """Write *records* as one JSON array (pretty enough to read, valid for ``jq``)."""
    out.write("[")
    first = True
    for rec in records:
        out.write("\n  " if first else ",\n  ")
        out.write(dumps({"type": "repo", **record_dict(rec)}))
        first = False
    out.write("\n]\n" if not first else "]\n")
    out.flush()


class NdjsonWriter:
    """Writes one event per line and flushes each one."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def repo(self, record: RepoRecord) -> None:
        self.write({"type": "repo", **record_dict(record)})

    def discovery(self, repos: int) -> None:
        """Discovery finished: *repos* repositories will be reported in all."""
        self.write({"type": "discovery", "repos": repos, "format_version": FORMAT_VERSION})

    def summary(self, **counts: Any) -> None:
        self.write({"type": "summary", **counts, "format_version": FORMAT_VERSION})

    def write(self, obj: dict[str, Any]) -> None:
        self.out.write(dumps(obj) + "\n")
        self.out.flush()
