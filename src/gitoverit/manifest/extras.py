"""What a manifest entry says besides its path and URLs: vcspull's ``options`` (``rev``,
``shallow``, ``depth``, ``pin``) and their older top-level spellings,
``shell_command_after``, worktrees, and the origin's push URL."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from gitoverit.manifest.entries import WorktreeEntry, check_ref, check_url, show, split_vcs

#: The reader of the file (:class:`gitoverit.manifest.reader.Reader`), which imports this
#: module: its ``check_keys`` and ``expand_vars`` are used.
Reader = Any

#: vcspull's ``options:`` keys. ``pin_reason`` and ``allow_overwrite`` guard vcspull's
#: own edits of its file and mean nothing to sync.
OPTION_KEYS = frozenset({"rev", "shallow", "depth", "pin", "pin_reason", "allow_overwrite"})
#: The keys of one worktree: vcspull's (``dir``) and our TOML's (``path``).
WORKTREE_KEYS = frozenset(
    {"dir", "path", "branch", "tag", "commit", "lock", "lock_reason", "detach"}
)


def git_url(value: object, what: str) -> str:
    """*value* as a git URL: checked, with vcspull's ``git+`` prefix removed."""
    url = check_url(value, what)
    kind, bare = split_vcs(url)
    return check_url(bare, what) if kind == "git" else url


def read_extras(
    reader: Reader,
    spec: Mapping[Any, Any],
    *,
    label: str,
    line: int | None,
    worktree_base: str,
    lines: Callable[[tuple[str, ...]], int | None],
) -> dict[str, Any]:
    """The entry fields that *spec* sets beyond path, URL, remotes and branch. Raises
    ``ValueError`` for a value that cannot be used."""
    options = spec.get("options")
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise ValueError(f"options must be a table, got {show(options)}")
    reader.check_keys(options, OPTION_KEYS, label, line, lambda key: lines(("options", key)))
    # ``options:`` is where vcspull keeps them; a top-level key is the older spelling,
    # and ``options:`` wins when both are set.
    merged = {k: spec[k] for k in ("rev", "shallow", "depth", "pin") if k in spec}
    merged.update({k: v for k, v in options.items() if k in OPTION_KEYS})
    fields: dict[str, Any] = {}
    if merged.get("rev") is not None:
        fields["rev"] = check_ref(str(merged["rev"]), "rev")
    fields["depth"] = _depth(merged.get("depth"), merged.get("shallow"))
    fields["pinned"] = _pinned(merged.get("pin"))
    fields["hooks"] = _hooks(spec.get("shell_command_after"))
    if spec.get("push_url") is not None:
        fields["push_url"] = git_url(spec["push_url"], "push_url")
    raw = spec.get("worktrees", spec.get("worktree"))
    if raw is not None:
        fields["worktrees"] = _worktrees(reader, raw, label, line, worktree_base, lines)
    return fields


def _depth(depth: object, shallow: object) -> int | None:
    if depth is not None and depth is not False:
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"depth must be a positive whole number, got {show(depth)}")
        return depth
    if shallow is None:
        return None
    if not isinstance(shallow, bool):
        raise ValueError(f"shallow must be true or false, got {show(shallow)}")
    return 1 if shallow else None


def _pinned(pin: object) -> bool:
    """``pin: true`` pins every operation; a table pins those it sets true (sync's
    is ``sync``)."""
    if pin is None or isinstance(pin, bool):
        return bool(pin)
    if isinstance(pin, Mapping):
        return pin.get("sync") is True
    raise ValueError(f"pin must be true, false or a table, got {show(pin)}")


def _hooks(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    commands = [value] if isinstance(value, str) else value
    if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
        raise ValueError(
            f"shell_command_after must be a command or a list of commands, got {show(value)}"
        )
    return tuple(c for c in commands if c.strip())


def _worktrees(
    reader: Reader,
    raw: object,
    label: str,
    line: int | None,
    base: str,
    lines: Callable[[tuple[str, ...]], int | None],
) -> tuple[WorktreeEntry, ...]:
    if not isinstance(raw, list):
        raise ValueError(f"worktrees must be a list, got {show(raw)}")
    found: list[WorktreeEntry] = []
    for index, item in enumerate(raw):
        what = f"worktree #{index + 1}"
        if not isinstance(item, Mapping):
            raise ValueError(f"{what} must be a table, got {show(item)}")
        reader.check_keys(item, WORKTREE_KEYS, f"{label}: {what}", line)
        where = item.get("path", item.get("dir"))
        if not isinstance(where, str) or not where or "\x00" in where:
            raise ValueError(f"{what}: needs a path ('dir'), got {show(where)}")
        refs = {k: item[k] for k in ("branch", "tag", "commit") if item.get(k) not in (None, "")}
        if len(refs) != 1:
            raise ValueError(f"{what}: give exactly one of branch, tag or commit")
        kind, value = next(iter(refs.items()))
        value = check_ref(str(value), f"{what}: {kind}")
        if reader.expand_vars:
            where = os.path.expandvars(where)
        path = os.path.normpath(os.path.join(base, os.path.expanduser(where)))
        found.append(WorktreeEntry(path=path, **{kind: value}))
    return tuple(found)
