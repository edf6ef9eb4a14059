"""The names an expression sees for a record: the record's JSON fields plus a few
conveniences (``dir``, ``name``, ``status``, ``url``, ``reason``)."""

from __future__ import annotations

import os
from typing import Any

from gitoverit.model import RECORD_FIELDS, RepoRecord
from gitoverit.text import simplify_url

#: Names every record provides: the JSON fields plus a few conveniences.
RECORD_NAMES: frozenset[str] = frozenset(RECORD_FIELDS) | {"dir", "name", "status", "url", "reason"}


def _status_text(record: RepoRecord) -> str:
    if record.error is not None:
        return "error"
    if record.status is None:
        return ""
    # Imported here: the table module may itself come to import this one.
    from gitoverit.output.cells import status_segments

    text = " ".join(seg for seg, _style in status_segments(record))
    return text or "clean"


def record_env(record: RepoRecord) -> dict[str, Any]:
    """The names an expression sees for *record*.

    The JSON fields of :meth:`RepoRecord.to_json`, plus ``dir`` (the parent folder of
    ``path``), ``name`` (its last component), ``status`` (the table's compact status, such
    as ``"2m 1u 3↑"``, or ``"clean"``, or ``"error"``), ``url`` (the simplified remote URL,
    or ``None`` without a remote) and ``reason`` (the error's reason code, or ``None``).
    """
    env = record.to_json()
    path = record.ref.path
    env["dir"] = os.path.dirname(path.rstrip(os.sep) or path)
    env["name"] = record.ref.name
    env["status"] = _status_text(record)
    remote = env.get("remote_url")
    env["url"] = simplify_url(remote) if remote else None
    env["reason"] = record.error.reason.value if record.error is not None else None
    return env
