"""``gitoverit freeze [DIRS]...``: a manifest (TOML) of the repositories found, for
``gitoverit sync``."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from gitoverit.commands._output import warn
from gitoverit.exit_codes import EXIT_OK


@dataclass(frozen=True, slots=True)
class FreezeCommand:
    """The freeze's flags, as given."""

    dirs: tuple[str, ...] = ()
    output: str | None = None
    exclude: tuple[str, ...] = ()


def run(command: FreezeCommand) -> int:
    """Write the manifest to the output file or stdout; returns the exit code."""
    from gitoverit.manifest import ManifestEntry, dump_toml
    from gitoverit.model import RepoDone
    from gitoverit.scan import Scan, ScanOptions
    from gitoverit.select import Selection, roots_of

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
        with open(command.output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    warn(
        f"{len(entries)} repos written"
        + (f", {missing} without a remote left out" if missing else "")
    )
    return EXIT_OK
