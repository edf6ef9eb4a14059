"""``gitoverit freeze [DIRS]...``: a manifest (TOML) of the repositories found, for
``gitoverit sync``."""

from __future__ import annotations

import errno
import os
import stat
import sys
from dataclasses import dataclass
from typing import Any

from gitoverit.commands._output import user_settings, warn
from gitoverit.errors import UsageError
from gitoverit.exit_codes import EXIT_OK


@dataclass(frozen=True, slots=True)
class FreezeCommand:
    """The freeze's flags, as given."""

    dirs: tuple[str, ...] = ()
    output: str | None = None
    exclude: tuple[str, ...] = ()
    #: Overwrite an existing output file.
    force: bool = False
    #: ``toml`` or ``vcspull``; ``None``: by the output file's extension, else TOML.
    fmt: str | None = None
    #: Add to this manifest instead of writing a new one.
    update: str | None = None


def run(command: FreezeCommand) -> int:
    """Write the manifest to the output file or stdout (or add to the ``--update`` file);
    returns the exit code. Raises :class:`UsageError` first for an output file that
    cannot (or may not) be written."""
    from gitoverit.commands._freezing import collect

    user_settings()  # a bad config file stops freeze too; starts the debug log
    fmt = command.fmt or _format_of(command.output)
    if command.update and command.output:
        raise UsageError("--update and -O/--output do not go together")
    if command.output:
        if os.path.lexists(command.output) and not command.force:
            raise UsageError(
                f"-O/--output: {command.output} exists; --force overwrites it, --update adds to it"
            )
        check_writable(command.output)
    if command.update:
        check_writable(command.update)
    frozen = collect(command.dirs, command.exclude)
    for warning in frozen.warnings:
        warn(f"warning: {warning}")
    if command.update:
        written = _update(command.update, frozen.entries)
    else:
        text = _render(frozen.entries, fmt, command.output)
        written = len(frozen.entries)
        if command.output:
            try:
                with open(command.output, "w", encoding="utf-8") as fh:
                    fh.write(text)
            except OSError as exc:
                raise UsageError(_cannot_write(command.output, _reason(exc))) from None
        else:
            sys.stdout.write(text)
    line = f"{written} repo{'s' if written != 1 else ''} written"
    if command.update:
        line = f"{written} repo{'s' if written != 1 else ''} added to {command.update}"
    if frozen.left_out:
        line += "; left out: " + ", ".join(f"{p} ({why})" for p, why in frozen.left_out)
    warn(line)
    return EXIT_OK


def _format_of(output: str | None) -> str:
    if output and output.lower().endswith((".yaml", ".yml")):
        return "vcspull"
    return "toml"


def _render(entries: list[Any], fmt: str, output: str | None) -> str:
    from gitoverit.errors import UsageError as _Usage
    from gitoverit.manifest import ManifestError, dump_toml
    from gitoverit.manifest.writing import dump_vcspull

    try:
        if fmt == "vcspull":
            return dump_vcspull(entries)
        return dump_toml(entries, base=os.path.dirname(os.path.abspath(output)) if output else None)
    except ManifestError as exc:
        raise _Usage(str(exc)) from exc


def _update(path: str, entries: list[Any]) -> int:
    """Add *entries* that manifest *path* lacks to it; returns how many were added."""
    import pathlib

    from gitoverit.manifest import ManifestError, load_manifest
    from gitoverit.manifest.writing import update_manifest

    file = pathlib.Path(path)
    try:
        known = load_manifest(file)
        text = update_manifest(file, known, entries)
    except ManifestError as exc:
        raise UsageError(str(exc)) from exc
    have = {e.path for e in known} | {w.path for e in known for w in e.worktrees}
    added = sum(1 for e in entries if e.path not in have)
    if added:
        try:
            file.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--update: cannot write {path}: {_reason(exc)}") from None
    return added


def _cannot_write(path: str, reason: str) -> str:
    return f"-O/--output: cannot write {path}: {reason}"


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def check_writable(path: str) -> None:
    """Refuse *path* as the manifest file when it cannot be written: its folder is missing
    or is a file, or the file cannot be created or opened for writing there. Nothing is
    changed: an existing file is opened to append nothing, a new one is removed again.

    Raises :class:`UsageError` with one line naming the path and the reason.
    """
    folder = os.path.dirname(path) or os.curdir
    ancestor = folder
    while not os.path.exists(ancestor):
        ancestor = os.path.dirname(ancestor) or os.curdir
    if not os.path.isdir(ancestor):
        raise UsageError(_cannot_write(path, f"{ancestor} is not a folder"))
    if ancestor != folder:
        raise UsageError(_cannot_write(path, f"folder {folder} does not exist"))
    try:
        if os.path.lexists(path):
            if stat.S_ISREG(os.stat(path).st_mode):
                with open(path, "a", encoding="utf-8"):
                    pass
            return
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise UsageError(_cannot_write(path, f"no file can be created in {folder}")) from None
        raise UsageError(_cannot_write(path, _reason(exc))) from None
    os.close(fd)
    os.unlink(path)
