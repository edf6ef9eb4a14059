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
    relative_to,
    show,
    split_vcs,
)
from gitoverit.manifest.extras import git_url as _git_url
from gitoverit.manifest.extras import read_extras


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

    def resolve(
        self, raw: str, *, label: str | None = None, line: int | None = None, base: str = ""
    ) -> str:
        """*raw* as an absolute, normalised path (``~`` and, for vcspull, ``$VARS``
        expanded), relative to *base* (default: the manifest's folder).

        With *label*, a path whose ``..`` parts climb out of where it starts (*base*, the
        home folder for ``~``, or for an absolute path the folder before its first ``..``)
        is refused."""
        if self.expand_vars:
            raw = os.path.expandvars(raw)
        if raw.startswith("~"):
            raw = os.path.expanduser(raw)
        start = base or self.folder
        path = os.path.normpath(os.path.join(start, raw))
        if label is not None and os.pardir in raw.replace(os.sep, "/").split("/"):
            parts = raw.split(os.sep)
            if os.path.isabs(raw):
                start = os.sep.join(parts[: parts.index(os.pardir)]) or os.sep
            start = os.path.normpath(start)
            if start != os.sep and relative_to(path, start) is None:
                raise self.error(f"{label}: path {raw!r} leads outside {start} with '..'", line)
        return path

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
        spec: Mapping[Any, Any] | None = None,
        worktree_base: str | None = None,
        lines: Callable[[tuple[str, ...]], int | None] | None = None,
    ) -> None:
        """Check one repository and keep it, or skip it with a warning if it is not git.

        *spec* is the entry's table, read for vcspull's options, hooks, worktrees and
        push URLs; *worktree_base* is the folder a relative worktree path starts from;
        *lines* gives the line of a key below the entry (for warnings)."""
        try:
            url = check_url(url, "url")
            kind, bare_url = split_vcs(url)
            if isinstance(vcs, str) and vcs.lower() != "git":
                kind = vcs.lower()
            if kind is not None and kind != "git":
                self.warn(f"{label}: skipped, {kind} repositories are not supported", line)
                return
            url = check_url(bare_url, "url")
            pairs, pushes = self._remotes(remotes, url)
            if branch is not None:
                branch = check_ref(branch, "branch")
            extra = read_extras(
                self,
                spec or {},
                label=label,
                line=line,
                worktree_base=worktree_base or self.folder,
                lines=lines or (lambda _parts: line),
            )
        except ValueError as exc:
            raise self.error(f"{label}: {exc}", line) from None
        own_push = extra.pop("push_url", None)
        if isinstance(own_push, str) and own_push != url:
            pushes = (("origin", own_push), *((n, u) for n, u in pushes if n != "origin"))
        entry = ManifestEntry(
            path=path,
            url=url,
            name=name,
            remotes=pairs,
            branch=branch,
            push_urls=pushes,
            line=line,
            **extra,
        )
        self.entries.append((entry, line))

    def _remotes(
        self, remotes: object, url: str
    ) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
        """The remotes other than origin as ``(name, fetch URL)`` pairs, and the push URL
        of each remote whose push URL differs from its fetch URL."""
        if remotes is None:
            return (), ()
        if not isinstance(remotes, Mapping):
            raise ValueError(f"remotes must map remote names to URLs, got {show(remotes)}")
        pairs: list[tuple[str, str]] = []
        pushes: list[tuple[str, str]] = []
        for name, value in remotes.items():
            name = check_ref(name if isinstance(name, str) else str(name), "remote name")
            push: object = None
            if isinstance(value, Mapping):
                allowed = {"url", "fetch_url", "push_url"}
                unknown = sorted(str(k) for k in value if k not in allowed)
                if unknown and self.strict:
                    raise ValueError(f"remote {name!r}: unknown key {unknown[0]!r}")
                push = value.get("push_url")
                value = value.get("fetch_url", value.get("url"))
            remote_url = _git_url(value, f"remote {name!r}")
            push_url = None if push is None else _git_url(push, f"remote {name!r} push_url")
            if push_url is not None and push_url != remote_url:
                pushes.append((name, push_url))
            if name == "origin":
                if remote_url != url:
                    raise ValueError(
                        f"remote 'origin' ({show(remote_url)}) differs from url ({show(url)})"
                    )
                continue
            pairs.append((name, remote_url))
        return tuple(pairs), tuple(pushes)

    def groups(
        self, data: Mapping[Any, Any], lines: Callable[[tuple[str, ...]], int | None]
    ) -> None:
        """Read workspace folders: ``{folder: {name: url-or-mapping}}``."""
        for root_key, group in data.items():
            # YAML reads a bare ``~`` as null: the home folder is meant.
            root_name = "~" if root_key is None else str(root_key)
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
                self._group_repo(root_name, root, str(key), spec, lines)

    def _group_repo(
        self,
        root_name: str,
        root: str,
        name: str,
        spec: object,
        lines: Callable[[tuple[str, ...]], int | None],
    ) -> None:
        line = lines((root_name, name))
        label = f"repo {name!r} in {root_name!r}"
        if spec is None:
            raise self.error(f"{label}: missing url", line)
        if isinstance(spec, str):
            path = self._join(root, name, label, line)
            self.add(label=label, line=line, path=path, name=name, url=spec)
            return
        if not isinstance(spec, Mapping):
            raise self.error(f"{label}: expected a URL or a table, got {show(spec)}", line)
        self.check_keys(spec, GROUP_KEYS, label, line, lambda key: lines((root_name, name, key)))
        url = self._url_of(spec, label, line)
        own_name = spec.get("name", name)
        if not isinstance(own_name, str) or not own_name:
            raise self.error(f"{label}: name must be a non-empty string", line)
        raw_path = spec.get("path")
        if raw_path is None:
            path = self._join(root, own_name, label, line)
        elif isinstance(raw_path, str) and raw_path and "\x00" not in raw_path:
            path = self.resolve(raw_path, label=label, line=line)
        else:
            raise self.error(f"{label}: path must be a non-empty string", line)
        self.add(
            label=label,
            line=line,
            path=path,
            name=own_name,
            url=url,
            remotes=spec.get("remotes"),
            branch=spec.get("branch"),
            vcs=spec.get("vcs"),
            spec=spec,
            worktree_base=root,
            lines=lambda parts: lines((root_name, name, *parts)),
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
            if self.strict:
                raise self.error(f"{label}: 'repo' and 'url' differ; give one of them", line)
            # vcspull reads ``url`` when both are given.
            self.warn(f"{label}: 'repo' and 'url' differ; using url", line)
        found = url if url is not None else repo
        if found is None:
            raise self.error(f"{label}: missing url", line)
        return found

    def check_keys(
        self,
        spec: Mapping[Any, Any],
        allowed: frozenset[str] | set[str],
        label: str,
        line: int | None,
        key_line: Callable[[str], int | None] | None = None,
    ) -> None:
        """Refuse (our TOML) or warn about (vcspull's files) keys sync does not know."""
        unknown = [str(k) for k in spec if k not in allowed]
        if not unknown:
            return
        if self.strict:
            first = sorted(unknown)[0]
            raise self.error(
                f"{label}: unknown key {first!r}; valid keys: {', '.join(sorted(allowed))}",
                line,
            )
        for key in unknown:
            at = key_line(key) if key_line is not None else line
            self.warn(f"{label}: unknown key {key!r} is ignored", at if at is not None else line)

    def finish(self) -> list[ManifestEntry]:
        """The entries, once no two share a path and none lies inside another's ``.git``."""
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
        for entry, line in self.entries:
            for path in (entry.path, *(w.path for w in entry.worktrees)):
                self._outside_git_dirs(entry, path, seen, line)
        return [entry for entry, _ in self.entries]

    def _outside_git_dirs(
        self,
        entry: ManifestEntry,
        path: str,
        seen: dict[str, tuple[ManifestEntry, int | None]],
        line: int | None,
    ) -> None:
        parts = path.split(os.sep)
        if ".git" not in parts:
            if path != entry.path and path in seen:
                raise self.error(
                    f"repo {entry.name!r}: worktree {path} is the path of repo"
                    f" {seen[path][0].name!r}",
                    line,
                )
            return
        holder = os.sep.join(parts[: parts.index(".git")]) or os.sep
        owner = seen.get(holder)
        whose = f"repo {owner[0].name!r}" if owner is not None else "a repository"
        raise self.error(
            f"repo {entry.name!r}: path {path} is inside the .git folder of {whose}", line
        )


#: The keys of a repository under a workspace folder (vcspull's, and ours).
GROUP_KEYS = frozenset(
    {
        "url",
        "repo",
        "remotes",
        "branch",
        "vcs",
        "name",
        "path",
        "workspace_root",
        "options",
        "rev",
        "shallow",
        "depth",
        "shell_command_after",
        "worktrees",
        "worktree",
        "push_url",
    }
)
