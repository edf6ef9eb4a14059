"""The names an expression sees for a record: the record's JSON fields plus a few
conveniences (``dir``, ``parent``, ``name``, ``status``, ``remote``, ``url``,
``latest_mtime``, ``reason``), and the static type of each."""

from __future__ import annotations

import os
from typing import Any

from gitoverit.model import RECORD_FIELDS, RepoRecord
from gitoverit.query.typecheck import StaticType, static_type
from gitoverit.text import simplify_url

#: Names every record provides: the JSON fields plus a few conveniences.
RECORD_NAMES: frozenset[str] = frozenset(RECORD_FIELDS) | {
    "dir",
    "parent",
    "name",
    "status",
    "remote",
    "url",
    "latest_mtime",
    "reason",
}

_TEXT = static_type("string")
_OPTIONAL_TEXT = static_type("string", "None")
_COUNT = static_type("int", "None")
_FLAG = static_type("bool", "None")

#: The static type of every record name: what kinds of value it can hold (None: not read,
#: or not applicable). Expressions are checked against these before any repository is read.
RECORD_TYPES: dict[str, StaticType] = {
    **dict.fromkeys(("path", "display_path", "kind", "action", "outcome"), _TEXT),
    **dict.fromkeys(("dir", "parent", "name", "status", "remote", "url"), _TEXT),
    **dict.fromkeys(
        ("superproject", "branch", "head", "upstream", "operation", "remote_url"),
        _OPTIONAL_TEXT,
    ),
    **dict.fromkeys(("note", "head_before", "head_after", "reason", "ident"), _OPTIONAL_TEXT),
    **dict.fromkeys(
        ("ahead", "behind", "staged", "modified", "deleted", "untracked", "conflicted"), _COUNT
    ),
    **dict.fromkeys(("unstaged_modified", "unstaged_deleted", "stashes", "submodules"), _COUNT),
    **dict.fromkeys(("lines_added", "lines_removed"), _COUNT),
    **dict.fromkeys(("detached", "upstream_gone"), static_type("bool")),
    **dict.fromkeys(("dirty", "fetched", "pulled", "pushed"), _FLAG),
    **dict.fromkeys(("mtime", "latest_mtime"), static_type("float", "None")),
    "duration_ms": static_type("float"),
    "format_version": static_type("int"),
    "untrusted_config": static_type("list", "None"),
    "fetch_errors": static_type("list", "None"),
    "error": static_type("dict", "None"),
}


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

    The JSON fields of :meth:`RepoRecord.to_json`, plus ``dir`` (the path as shown),
    ``parent`` (the folder holding the repository), ``name`` (the folder's own name),
    ``status`` (the table's compact status, such as ``"2m 1u 3↑"``, or ``"clean"``, or
    ``"error"``), ``remote`` (the tracking ref, such as ``"origin/main"``, or ``"-"``),
    ``url`` (the simplified remote URL, or ``"-"``), ``latest_mtime`` (``mtime``) and
    ``reason`` (the error's reason code, or ``None``).
    """
    env = record.to_json()
    path = record.ref.path
    env["dir"] = record.ref.display_path
    env["parent"] = os.path.dirname(path.rstrip(os.sep) or path)
    env["name"] = record.ref.name
    env["status"] = _status_text(record)
    env["remote"] = env["upstream"] or "-"
    remote_url = env.get("remote_url")
    env["url"] = simplify_url(remote_url) if remote_url else "-"
    env["latest_mtime"] = env["mtime"]
    env["reason"] = record.error.reason.value if record.error is not None else None
    return env
