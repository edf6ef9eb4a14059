"""Editing the config file's ``[groups]`` table, keeping everything else as it was.

The file is read and written with tomlkit, which keeps comments, order, blank lines and
the way each value is written; only the group asked about changes. The new text is
checked as :func:`~gitoverit.config.loading.load_settings` would read it before it
replaces the file, so an edit never leaves a file that the next run refuses. The file is
replaced in one step (a temporary file renamed over it, with the old file's permissions);
a symlink to the file is followed, so a config kept elsewhere stays where it is.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, MutableMapping
from pathlib import Path
from typing import Any

from gitoverit.config.settings import ConfigError
from gitoverit.text import safe_text


class GroupEdit:
    """The config file at *path* (``config_file()``: the file the commands read), open for
    editing its groups. Nothing is written until :meth:`save`."""

    def __init__(self, path: Path) -> None:
        import tomlkit
        from tomlkit.exceptions import ParseError

        self.path = Path(os.path.realpath(path))
        text = ""
        if self.path.exists():
            try:
                text = self.path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{path}: cannot read the config file: {exc}") from exc
        try:
            self.document = tomlkit.parse(text)
        except ParseError as exc:
            raise ConfigError(f"{path}:{exc.line}: invalid TOML: {exc}") from exc

    def _table(self, create: bool) -> MutableMapping[str, Any] | None:
        import tomlkit

        groups = self.document.get("groups")
        if groups is None and create:
            groups = tomlkit.table()
            self.document["groups"] = groups
        if groups is not None and not isinstance(groups, MutableMapping):
            raise ConfigError(f"{self.path}: groups: must be a table, not {type(groups).__name__}")
        return groups

    def groups(self) -> dict[str, list[str]]:
        """Every group and its paths, as written in the file."""
        table = self._table(create=False) or {}
        return {str(name): [str(p) for p in paths] for name, paths in table.items()}

    def add(self, name: str, paths: Iterable[str]) -> None:
        """Append *paths* to group *name*, made when missing."""
        import tomlkit

        table = self._table(create=True)
        assert table is not None
        if name in table:
            for path in paths:
                table[name].append(path)
        else:
            array = tomlkit.array()
            array.extend(paths)
            table[name] = array

    def remove(self, name: str, paths: Iterable[str] | None = None) -> None:
        """Remove group *name*, or only *paths* from it (the group stays, maybe empty)."""
        table = self._table(create=False)
        if table is None or name not in table:
            return
        if paths is None:
            del table[name]
            return
        drop = set(paths)
        array = table[name]
        for index in reversed(range(len(array))):
            if str(array[index]) in drop:
                del array[index]

    def save(self) -> None:
        """Write the file back, checked first (:class:`ConfigError` leaves it untouched)."""
        from gitoverit.config.loading import load_settings

        text = self.document.as_string()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            try:
                load_settings(env={"HOME": os.environ.get("HOME", "")}, path=Path(temp))
            except ConfigError as exc:
                shown = str(exc).replace(temp, str(self.path))
                raise ConfigError(f"not saved: {safe_text(shown)}") from None
            os.chmod(temp, self._mode())
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise

    def _mode(self) -> int:
        """The permissions of the file being replaced, or those a new file gets."""
        try:
            return self.path.stat().st_mode & 0o7777
        except FileNotFoundError:
            umask = os.umask(0o022)
            os.umask(umask)
            return 0o666 & ~umask
