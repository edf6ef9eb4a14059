"""Reading one manifest file, whatever its format.

:class:`Reader` checks each repository (URL, remotes, branch; other version-control
systems are skipped with a warning), reads workspace folders (``{folder: {name: url or
table}}``, the shape our TOML and vcspull share) and rejects two entries with one path.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitoverit.manifest.entries import (
    ManifestEntry,
    ManifestError,
    check_ref,
    check_url,
    show,
    split_vcs,
)


@dataclass(slots=True)
class Reader:
    """State while one manifest file is read."""

    file: Path
    strict: bool
    expand_vars: bool
    warnings: list[str]
    entries: list[tuple[ManifestEntry, int | None]]

    @property
    def folder(self) -> str:
        return os.path.dirname(os.path.abspath(self.file))

    def error(self, message: str, line: int | None) -> ManifestError:
        return ManifestError(message, file=self.file, line=line)

    def warn(self, message: str, line: int | None) -> None:
        where = f"{self.file}:{line}" if line is not None else str(self.file)
        self.warnings.append(f"{where}: {message}")

    def resolve(self, raw: str) -> str:
        """*raw* as an absolute, normalised path (``~`` and, for vcspull, ``$VARS`` expanded)."""
        if self.expand_vars:
            raw = os.path.expandvars(raw)
        if raw.startswith("~"):
            raw = os.path.expanduser(raw)
        return os.path.normpath(os.path.join(self.folder, raw))

    def add(
        self,
        *,
        label: str,
        line: int | None,
        path: str,
        name: str,
        url: object,
        remotes: object = None,
        branch: object = None,
        vcs: object = None,
    ) -> None:
        """Check one repository and keep it, or skip it with a warning if it is not git."""
        try:
            url = check_url(url, "url")
            kind, bare_url = split_vcs(url)
            if isinstance(vcs, str) and vcs.lower() != "git":
                kind = vcs.lower()
            if kind is not None and kind != "git":
                self.warn(f"{label}: skipped, {kind} repositories are not supported", line)
                return
            url = check_url(bare_url, "url")
            pairs = self._remotes(remotes, url)
            if branch is not None:
                branch = check_ref(branch, "branch")
        except ValueError as exc:
            raise self.error(f"{label}: {exc}", line) from None
        entry = ManifestEntry(path=path, url=url, name=name, remotes=pairs, branch=branch)
        self.entries.append((entry, line))

    def _remotes(self, remotes: object, url: str) -> tuple[tuple[str, str], ...]:
        if remotes is None:
            return ()
        if not isinstance(remotes, Mapping):
            raise ValueError(f"remotes must map remote names to URLs, got {show(remotes)}")
        pairs: list[tuple[str, str]] = []
        for name, value in remotes.items():
            name = check_ref(name if isinstance(name, str) else str(name), "remote name")
            if isinstance(value, Mapping) and not self.strict:
                value = value.get("fetch_url", value.get("url"))
            remote_url = check_url(value, f"remote {name!r}")
            kind, bare = split_vcs(remote_url)
            if kind == "git":
                remote_url = check_url(bare, f"remote {name!r}")
            if name == "origin":
                if remote_url != url:
                    raise ValueError(
                        f"remote 'origin' ({show(remote_url)}) differs from url ({show(url)})"
                    )
                continue
            pairs.append((name, remote_url))
        return tuple(pairs)

    def groups(
        self, data: Mapping[Any, Any], lines: Callable[[tuple[str, ...]], int | None]
    ) -> None:
        """Read workspace folders: ``{folder: {name: url-or-mapping}}``."""
        for root_key, group in data.items():
            root_name = str(root_key)
            root_line = lines((root_name,))
            if group is None:
                continue
            if not isinstance(group, Mapping):
                raise self.error(
                    f"workspace {root_name!r} must map repo names to URLs, got {show(group)}",
                    root_line,
                )
            root = self.resolve(root_name)
            for key, spec in group.items():
                name = str(key)
                line = lines((root_name, name))
                label = f"repo {name!r} in {root_name!r}"
                path = self._join(root, name, label, line)
                if spec is None:
                    raise self.error(f"{label}: missing url", line)
                if isinstance(spec, str):
                    self.add(label=label, line=line, path=path, name=name, url=spec)
                    continue
                if not isinstance(spec, Mapping):
                    raise self.error(f"{label}: expected a URL or a table, got {show(spec)}", line)
                self.check_keys(spec, {"url", "repo", "remotes", "branch", "vcs"}, label, line)
                url = self._url_of(spec, label, line)
                self.add(
                    label=label,
                    line=line,
                    path=path,
                    name=name,
                    url=url,
                    remotes=spec.get("remotes"),
                    branch=spec.get("branch"),
                    vcs=spec.get("vcs"),
                )

    def _join(self, root: str, name: str, label: str, line: int | None) -> str:
        parts = name.replace(os.sep, "/").split("/")
        if (
            not name
            or "\x00" in name
            or os.path.isabs(name)
            or any(p in ("", ".", "..") for p in parts)
        ):
            raise self.error(
                f"{label}: a repo name must be a folder name inside the workspace", line
            )
        return os.path.normpath(os.path.join(root, name))

    def _url_of(self, spec: Mapping[Any, Any], label: str, line: int | None) -> object:
        repo, url = spec.get("repo"), spec.get("url")
        if repo is not None and url is not None and repo != url:
            raise self.error(f"{label}: 'repo' and 'url' differ; give one of them", line)
        found = repo if repo is not None else url
        if found is None:
            raise self.error(f"{label}: missing url", line)
        return found

    def check_keys(
        self, spec: Mapping[Any, Any], allowed: set[str], label: str, line: int | None
    ) -> None:
        if not self.strict:
            return
        unknown = sorted(str(k) for k in spec if k not in allowed)
        if unknown:
            raise self.error(
                f"{label}: unknown key {unknown[0]!r}; valid keys: {', '.join(sorted(allowed))}",
                line,
            )

    def finish(self) -> list[ManifestEntry]:
        seen: dict[str, tuple[ManifestEntry, int | None]] = {}
        for entry, line in self.entries:
            if entry.path in seen:
                other, other_line = seen[entry.path]
                at = f" (line {other_line})" if other_line is not None else ""
                raise self.error(
                    f"repo {entry.name!r}: path {entry.path} is already used by repo"
                    f" {other.name!r}{at}",
                    line,
                )
            seen[entry.path] = (entry, line)
        return [entry for entry, _ in self.entries]
