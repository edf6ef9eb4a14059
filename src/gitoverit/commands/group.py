"""``gitoverit group list|add|rm``: the named groups of repositories in the config file.

A group names folders, and globs of repository paths, that ``@NAME`` stands for wherever
a folder is accepted (see :mod:`gitoverit.select`). ``add`` and ``rm`` edit the
``[groups]`` table of the config file that the commands read (:func:`config_file`),
keeping its comments and layout (:mod:`gitoverit.config.edit`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from gitoverit.commands._output import warn
from gitoverit.errors import UsageError
from gitoverit.exit_codes import EXIT_OK
from gitoverit.text import safe_text


@dataclass(frozen=True, slots=True)
class GroupCommand:
    """``group list``, ``group add NAME PATH...`` or ``group rm NAME [PATH...]``."""

    action: str = "list"
    name: str | None = None
    paths: tuple[str, ...] = ()


def run(command: GroupCommand) -> int:
    """Do what *command* asks; returns the exit code. Raises :class:`UsageError` for a bad
    name, an unknown group or path, or a config file that cannot be used."""
    from gitoverit.config import ConfigError

    try:
        if command.action == "list":
            return _list()
        name = _name(command.name or "")
        if command.action == "add":
            return _add(name, command.paths)
        return _remove(name, command.paths)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc


def _name(text: str) -> str:
    """A group's name, without the ``@`` one may write before it."""
    from gitoverit.config.settings import GROUP_NAME

    name = text.removeprefix("@")
    if not GROUP_NAME.fullmatch(name):
        raise UsageError(
            f"bad group name '{safe_text(text)}': use letters, digits, '_', '-' and '.',"
            " not starting with '-' or '.'"
        )
    return name


def _list() -> int:
    """Print each group and its paths, one group a line."""
    import click

    from gitoverit.config import load_settings

    settings, _sources = load_settings()
    if not settings.groups:
        warn("no groups (add one with: gitoverit group add NAME PATH...)")
        return EXIT_OK
    width = max(len(name) for name, _ in settings.groups) + 1
    for name, paths in settings.groups:
        shown = ", ".join(safe_text(p) for p in paths) or "(empty)"
        click.echo(f"{'@' + safe_text(name):<{width}}  {shown}")
    return EXIT_OK


def _home(path: str) -> str:
    """*path* with the home folder written ``~``, as a config file reads best."""
    home = os.path.expanduser("~")
    if home not in ("", "~", os.sep) and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home) :]
    return path


def _is_glob(path: str) -> bool:
    return any(c in path for c in "*?[")


def stored(path: str) -> str:
    """*path* as a group keeps it: absolute, the home folder as ``~``. A folder must
    exist; a glob is kept as given (its ``~`` too), made absolute."""
    expanded = os.path.expanduser(path) if path.startswith("~") else os.path.abspath(path)
    if not _is_glob(path) and not os.path.isdir(expanded):
        raise UsageError(f"not a folder: {safe_text(path)} (a group holds folders or globs)")
    if path.startswith("~") and _is_glob(path):
        return path
    return _home(os.path.abspath(expanded))


def _same(a: str, b: str) -> bool:
    """Whether two of a group's paths name the same folder or glob."""
    return os.path.abspath(os.path.expanduser(a)) == os.path.abspath(os.path.expanduser(b))


def _add(name: str, paths: Sequence[str]) -> int:
    from gitoverit.config import config_file
    from gitoverit.config.edit import GroupEdit

    if not paths:
        raise UsageError("group add: name at least one folder or glob: group add NAME PATH...")
    edit = GroupEdit(config_file())
    have = edit.groups().get(name, [])
    new: list[str] = []
    for path in map(stored, paths):
        if any(_same(path, p) for p in have + new):
            warn(f"@{name} already has {safe_text(path)}")
        else:
            new.append(path)
    if new:
        edit.add(name, new)
        edit.save()
    for path in new:
        warn(f"@{name}: added {safe_text(path)} ({safe_text(str(edit.path))})")
    return EXIT_OK


def _remove(name: str, paths: Sequence[str]) -> int:
    from gitoverit.config import config_file
    from gitoverit.config.edit import GroupEdit

    edit = GroupEdit(config_file())
    groups = edit.groups()
    if name not in groups:
        known = ", ".join("@" + g for g in groups) or "none"
        raise UsageError(f"unknown group '@{safe_text(name)}'; known groups: {safe_text(known)}")
    if not paths:
        edit.remove(name)
        edit.save()
        warn(f"@{name}: removed ({safe_text(str(edit.path))})")
        return EXIT_OK
    drop: list[str] = []
    for path in paths:
        match = [p for p in groups[name] if p == path or _same(p, path)]
        if not match:
            have = ", ".join(safe_text(p) for p in groups[name]) or "(empty)"
            raise UsageError(f"@{name} has no {safe_text(path)}; it has: {have}")
        drop += match
    edit.remove(name, drop)
    edit.save()
    for path in dict.fromkeys(drop):
        warn(f"@{name}: removed {safe_text(path)} ({safe_text(str(edit.path))})")
    return EXIT_OK
