"""``gitoverit freeze [DIRS]...``: a manifest (TOML) of the repositories found, for
``gitoverit sync``."""

from __future__ import annotations

import errno
import os
import stat
import sys
from dataclasses import dataclass

from gitoverit.commands._output import warn
from gitoverit.errors import UsageError
from gitoverit.exit_codes import EXIT_OK


@dataclass(frozen=True, slots=True)
class FreezeCommand:
    """The freeze's flags, as given."""

    dirs: tuple[str, ...] = ()
    output: str | None = None
    exclude: tuple[str, ...] = ()


def run(command: FreezeCommand) -> int:
    """Write the manifest to the output file or stdout; returns the exit code. Raises
    :class:`UsageError` first for an output file that cannot be written."""
    from gitoverit.manifest import ManifestEntry, dump_toml
    from gitoverit.model import RepoDone
    from gitoverit.scan import Scan, ScanOptions
    from gitoverit.select import Selection, roots_of

    if command.output:
        check_writable(command.output)
    selection = Selection(roots=roots_of(command.dirs), exclude=command.exclude)
    scan = Scan(ScanOptions(selection=selection, metadata_only=True))
    entries = []
    missing = 0
    for event in scan.events():
        if isinstance(event, RepoDone):
            rec = event.record
            url = rec.status.remote_url if rec.status else None
            if url:
                entries.append(ManifestEntry(path=rec.ref.path, url=url, name=rec.ref.name))
            else:
                missing += 1
    entries.sort(key=lambda e: e.path)
    text = dump_toml(entries)
    if command.output:
        try:
            with open(command.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise UsageError(_cannot_write(command.output, _reason(exc))) from None
    else:
        sys.stdout.write(text)
    warn(
        f"{len(entries)} repos written"
        + (f", {missing} without a remote left out" if missing else "")
    )
    return EXIT_OK


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
