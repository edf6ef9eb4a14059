"""The repo list that ``gitoverit sync`` reads and ``gitoverit freeze`` writes.

A manifest says, for each repository: where it lives, the URL to clone it from, and
optionally a display name, the branch a fresh clone checks out, and extra remotes.
:func:`load_manifest` reads three formats, chosen by the file's extension (``.toml``;
``.yaml`` / ``.yml``; ``.json``) or, for any other name, by trying TOML and then YAML.

Our TOML format (what ``gitoverit freeze`` writes)
-------------------------------------------------
One ``[[repo]]`` table per repository::

    [[repo]]
    path = "~/code/gitoverit"
    url = "git@github.com:me/gitoverit.git"

    [[repo]]
    path = "~/work/api"
    url = "https://github.com/acme/api.git"
    name = "acme-api"           # optional; default: the last part of path
    branch = "main"             # optional; the branch a fresh clone checks out
    [repo.remotes]              # optional; remotes besides origin (origin is url)
    upstream = "https://github.com/upstream/api.git"

``path`` and ``url`` are required. A ``path`` starting with ``~`` is under the home folder;
a relative ``path`` is relative to the folder holding the manifest. Nothing else in a
path is expanded, so a path is always taken literally.

The same file may also group repositories by workspace folder, in the shape vcspull
uses: each other top-level table is a folder, and each key in it is a repository name
(the repository lives at ``<folder>/<name>``) mapped to a URL or to a table::

    ["~/code"]
    gitoverit = "git@github.com:me/gitoverit.git"
    api = { url = "https://github.com/acme/api.git", branch = "main" }

    ["~/code".tool]
    url = "https://github.com/acme/tool.git"
    remotes = { upstream = "https://github.com/upstream/tool.git" }

In our TOML an unknown key is an error, so a typo is never silently ignored.

vcspull's YAML (and JSON), read as they are
-------------------------------------------
::

    ~/code/:
      flask: "git+https://github.com/pallets/flask.git"
      libds:
        repo: "git+git@github.com:zhemao/libds.git"
        remotes:
          tony: "git+ssh://git@github.com/tony/libds.git"
        shell_command_after: make      # ignored
    ../study:                          # relative to the manifest's folder
      awesome: https://github.com/awesome/awesome.git

Top-level keys are workspace folders; ``~`` and ``$VARS`` in them are expanded, as
vcspull does, and a relative folder is relative to the manifest's folder. A repository is
a URL string or a mapping with ``repo`` (or the older ``url``), optional ``remotes``
(name to URL, or to a mapping with ``fetch_url``) and optional ``branch``; other keys
(``shell_command_after``, ...) are ignored. vcspull's ``git+`` prefix is removed from every
URL. Repositories of other version-control systems (an ``hg+`` / ``svn+`` / ``bzr+`` URL,
or ``vcs: hg``) are skipped, and :func:`load_manifest_with_warnings` reports each one.

Rules for every format
----------------------
- Every ``path`` is made absolute and normalised; two entries with the same path are an
  error naming both.
- A URL must not be empty, start with ``-`` (git would read it as an option) or contain
  control characters. A remote named ``origin`` is the ``url``: listing it with the same
  URL is allowed and dropped, with a different URL it is an error.
- A repository name under a workspace folder must stay inside that folder (no ``..``, no
  absolute name).
- Every problem is a :class:`ManifestError` whose message starts with ``<file>:<line>:``
  (the line when it is known).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from gitoverit.config import config_dir, expand_home

MANIFEST_ENV = "GITOVERIT_MANIFEST"
"""The environment variable that names the manifest to use when ``-m`` is not given."""


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One repository of a manifest.

    *path* is absolute and normalised; *url* is the origin remote's URL; *remotes* holds
    the other remotes as ``(name, url)`` pairs in file order; *branch* is the branch a
    fresh clone checks out (``None``: the remote's default).
    """

    path: str
    url: str
    name: str
    remotes: tuple[tuple[str, str], ...] = ()
    branch: str | None = None


class ManifestError(Exception):
    """A manifest that cannot be used. The message starts with ``<file>:<line>:``.

    *file* and *line* are also kept as attributes (*line* is ``None`` when unknown).
    """

    def __init__(self, message: str, *, file: Path | str | None = None, line: int | None = None):
        self.file = None if file is None else str(file)
        self.line = line
        self.message = message
        where = "" if file is None else (f"{file}:{line}: " if line is not None else f"{file}: ")
        super().__init__(where + message)


# --- validation --------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_VCS_PREFIX = re.compile(r"^([A-Za-z][A-Za-z0-9]*)\+")
_OTHER_VCS = frozenset({"hg", "svn", "bzr", "cvs", "fossil", "darcs"})
_BAD_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")


def _check_url(url: object, what: str) -> str:
    if not isinstance(url, str):
        raise ValueError(f"{what} must be a string, got {_show(url)}")
    if not url.strip():
        raise ValueError(f"{what} is empty")
    if url.startswith("-"):
        raise ValueError(f"{what} must not start with '-', got {_show(url)}")
    if _CONTROL.search(url):
        raise ValueError(f"{what} contains a control character: {_show(url)}")
    return url


def _check_ref(value: object, what: str) -> str:
    """*value* if it is a plausible git branch or remote name (``git check-ref-format`` rules)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {_show(value)}")
    if (
        value.startswith(("-", "/", "."))
        or value.endswith(("/", ".", ".lock"))
        or value == "@"
        or "/." in value
        or _BAD_REF.search(value)
    ):
        raise ValueError(f"{what} is not a valid git name: {_show(value)}")
    return value


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _split_vcs(url: str) -> tuple[str | None, str]:
    """``("git", rest)`` for ``git+rest``, ``("hg", rest)`` for ``hg+rest``; ``(None, url)``."""
    m = _VCS_PREFIX.match(url)
    if m and (m.group(1).lower() == "git" or m.group(1).lower() in _OTHER_VCS):
        return m.group(1).lower(), url[m.end() :]
    return None, url


# --- where things are in the file --------------------------------------------------------

_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_KEY = re.compile(
    r"""^\s*((?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[A-Za-z0-9_-]+)"""
    r"""(?:\s*\.\s*(?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[A-Za-z0-9_-]+))*)\s*="""
)
_BARE_DOTTED = re.compile(r"\s*[A-Za-z0-9_-]+(?:\s*\.\s*[A-Za-z0-9_-]+)*\s*")
_TOML_HEADER = re.compile(r"^\s*(\[\[?)(.*?)\]\]?\s*(?:#.*)?$")


def _decode_toml_key(text: str) -> tuple[str, ...] | None:
    """The parts of a TOML dotted key written as *text*, decoded by tomllib itself."""
    if _BARE_DOTTED.fullmatch(text):
        return tuple(part.strip() for part in text.split("."))
    try:
        data: Any = tomllib.loads(f"{text} = 0")
    except tomllib.TOMLDecodeError:
        return None
    parts: list[str] = []
    while isinstance(data, dict) and len(data) == 1:
        key, data = next(iter(data.items()))
        parts.append(key)
    return tuple(parts)


class _TomlLines:
    """Line numbers of tables and keys in a TOML text, found by scanning its lines.

    tomllib reports no positions. Headers and ``key =`` lines are good enough to point a
    person at the right place; a key inside a multi-line value may be missed, and then the
    enclosing table's line is given.
    """

    def __init__(self, text: str) -> None:
        self.arrays: dict[tuple[str, ...], list[int]] = {}
        self.tables: dict[tuple[str, ...], int] = {}
        self.keys: dict[tuple[str, ...], int] = {}
        section: tuple[str, ...] = ()
        for number, line in enumerate(text.splitlines(), start=1):
            header = _TOML_HEADER.match(line)
            if header:
                parts = _decode_toml_key(header.group(2))
                if parts is None:
                    continue
                section = parts
                if header.group(1) == "[[":
                    self.arrays.setdefault(parts, []).append(number)
                else:
                    self.tables.setdefault(parts, number)
                continue
            key = _TOML_KEY.match(line)
            if key:
                parts = _decode_toml_key(key.group(1))
                if parts is not None:
                    self.keys.setdefault(section + parts, number)

    def item(self, name: str, index: int) -> int | None:
        numbers = self.arrays.get((name,), [])
        return numbers[index] if index < len(numbers) else None

    def table(self, parts: tuple[str, ...]) -> int | None:
        if parts in self.tables:
            return self.tables[parts]
        return self.keys.get(parts)

    def key(self, parts: tuple[str, ...]) -> int | None:
        found = self.keys.get(parts)
        return found if found is not None else self.table(parts[:-1])


# --- reading -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Reader:
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
            url = _check_url(url, "url")
            kind, bare_url = _split_vcs(url)
            if isinstance(vcs, str) and vcs.lower() != "git":
                kind = vcs.lower()
            if kind is not None and kind != "git":
                self.warn(f"{label}: skipped, {kind} repositories are not supported", line)
                return
            url = _check_url(bare_url, "url")
            pairs = self._remotes(remotes, url)
            if branch is not None:
                branch = _check_ref(branch, "branch")
        except ValueError as exc:
            raise self.error(f"{label}: {exc}", line) from None
        entry = ManifestEntry(path=path, url=url, name=name, remotes=pairs, branch=branch)
        self.entries.append((entry, line))

    def _remotes(self, remotes: object, url: str) -> tuple[tuple[str, str], ...]:
        if remotes is None:
            return ()
        if not isinstance(remotes, Mapping):
            raise ValueError(f"remotes must map remote names to URLs, got {_show(remotes)}")
        pairs: list[tuple[str, str]] = []
        for name, value in remotes.items():
            name = _check_ref(name if isinstance(name, str) else str(name), "remote name")
            if isinstance(value, Mapping) and not self.strict:
                value = value.get("fetch_url", value.get("url"))
            remote_url = _check_url(value, f"remote {name!r}")
            kind, bare = _split_vcs(remote_url)
            if kind == "git":
                remote_url = _check_url(bare, f"remote {name!r}")
            if name == "origin":
                if remote_url != url:
                    raise ValueError(
                        f"remote 'origin' ({_show(remote_url)}) differs from url ({_show(url)})"
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
                    f"workspace {root_name!r} must map repo names to URLs, got {_show(group)}",
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
                    raise self.error(f"{label}: expected a URL or a table, got {_show(spec)}", line)
                self._check_keys(spec, {"url", "repo", "remotes", "branch", "vcs"}, label, line)
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

    def _check_keys(
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

    def repo_list(self, items: object, lines: _TomlLines) -> None:
        """Read our ``[[repo]]`` entries."""
        if not isinstance(items, list):
            raise self.error(
                "'repo' must be written as [[repo]] tables; a workspace folder named 'repo'"
                ' can be written ["./repo"]',
                lines.table(("repo",)),
            )
        for index, item in enumerate(items):
            line = lines.item("repo", index)
            if not isinstance(item, dict):
                raise self.error(f"repo #{index + 1}: expected a table, got {_show(item)}", line)
            raw_path = item.get("path")
            name = item.get("name")
            label = f"repo #{index + 1}"
            if isinstance(name, str) and name:
                label = f"repo {name!r}"
            elif isinstance(raw_path, str) and raw_path:
                label = f"repo {raw_path!r}"
            self._check_keys(item, {"path", "url", "name", "branch", "remotes"}, label, line)
            if not isinstance(raw_path, str) or not raw_path or "\x00" in raw_path:
                raise self.error(f"{label}: missing path (a non-empty string)", line)
            path = self.resolve(raw_path)
            if name is None:
                name = os.path.basename(path) or path
            elif not isinstance(name, str) or not name or "\x00" in name:
                raise self.error(f"{label}: name must be a non-empty string", line)
            if "url" not in item:
                raise self.error(f"{label}: missing url", line)
            self.add(
                label=label,
                line=line,
                path=path,
                name=name,
                url=item["url"],
                remotes=item.get("remotes"),
                branch=item.get("branch"),
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


def _read_toml(reader: _Reader, text: str) -> None:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(reader.file, exc) from exc
    lines = _TomlLines(text)
    groups: dict[str, Any] = {}
    for key, value in data.items():
        if key == "repo":
            reader.repo_list(value, lines)
        elif isinstance(value, dict):
            groups[key] = value
        else:
            raise reader.error(
                f"unexpected top-level key {key!r}: expected [[repo]] tables or workspace"
                ' tables such as ["~/code"]',
                lines.key((key,)),
            )
    reader.groups(groups, lambda parts: lines.key(parts) if len(parts) > 1 else lines.table(parts))


def _toml_error(file: Path, exc: tomllib.TOMLDecodeError) -> ManifestError:
    message = str(exc)
    m = _TOML_POS.search(message)
    if m:
        detail = _TOML_POS.sub("", message)
        return ManifestError(
            f"invalid TOML: {detail} (column {m.group(2)})", file=file, line=int(m.group(1))
        )
    return ManifestError(f"invalid TOML: {message}", file=file)


def _yaml_document(file: Path, text: str) -> tuple[Any, dict[tuple[str, ...], int]]:
    """The YAML document in *text* and the line of each folder and repo key in it."""
    loader = yaml.SafeLoader(text)
    lines: dict[tuple[str, ...], int] = {}
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines
        if isinstance(node, yaml.MappingNode):
            _yaml_lines(file, node, (), lines, depth=2)
        return loader.construct_document(node), lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        detail = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise ManifestError(f"invalid YAML: {detail or exc}", file=file, line=line) from exc
    except yaml.YAMLError as exc:
        raise ManifestError(f"invalid YAML: {exc}", file=file) from exc
    finally:
        loader.dispose()


def _yaml_lines(
    file: Path,
    node: yaml.MappingNode,
    prefix: tuple[str, ...],
    lines: dict[tuple[str, ...], int],
    depth: int,
) -> None:
    """Record key lines of *node* (and of its mappings, *depth* levels down); reject repeats."""
    seen: set[str] = set()
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        key = str(key_node.value)
        line = key_node.start_mark.line + 1
        if key in seen and key != "<<":
            raise ManifestError(f"duplicate key {key!r}", file=file, line=line)
        seen.add(key)
        lines.setdefault((*prefix, key), line)
        if depth > 1 and isinstance(value_node, yaml.MappingNode):
            _yaml_lines(file, value_node, (*prefix, key), lines, depth - 1)


def _read_yaml(reader: _Reader, text: str) -> None:
    data, lines = _yaml_document(reader.file, text)
    _read_vcspull(reader, data, lines)


def _read_json(reader: _Reader, text: str) -> None:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                raise ManifestError(f"duplicate key {key!r}", file=reader.file)
            result[key] = value
        return result

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise ManifestError(
            f"invalid JSON: {exc.msg} (column {exc.colno})", file=reader.file, line=exc.lineno
        ) from exc
    _read_vcspull(reader, data, {})


def _read_vcspull(reader: _Reader, data: Any, lines: dict[tuple[str, ...], int]) -> None:
    if data is None:
        return
    if not isinstance(data, Mapping):
        raise reader.error(
            "expected a mapping of workspace folders to repositories (vcspull format)", None
        )

    def line_of(parts: tuple[str, ...]) -> int | None:
        return lines.get(parts, lines.get(parts[:1]))

    reader.groups(data, line_of)


def load_manifest_with_warnings(path: Path) -> tuple[list[ManifestEntry], list[str]]:
    """The entries of manifest *path*, and a warning for each repository that was skipped.

    Warnings (``<file>:<line>: repo 'x' in '~/code': skipped, hg repositories are not
    supported``) are for repositories of another version-control system. Raises
    :class:`ManifestError` for a file that is missing, unreadable or invalid.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError("no such manifest file", file=path) from None
    except UnicodeDecodeError as exc:
        raise ManifestError(f"not valid UTF-8 (byte {exc.start})", file=path) from exc
    except OSError as exc:
        raise ManifestError(f"cannot read the manifest: {exc.strerror or exc}", file=path) from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    suffix = path.suffix.lower()

    def reader(strict: bool, expand_vars: bool) -> _Reader:
        return _Reader(path, strict=strict, expand_vars=expand_vars, warnings=[], entries=[])

    if suffix == ".toml":
        r = reader(True, False)
        _read_toml(r, text)
    elif suffix in (".yaml", ".yml"):
        r = reader(False, True)
        _read_yaml(r, text)
    elif suffix == ".json":
        r = reader(False, True)
        _read_json(r, text)
    else:
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as toml_exc:
            r = reader(False, True)
            try:
                _read_yaml(r, text)
            except ManifestError as yaml_exc:
                toml_error = _toml_error(path, toml_exc)
                raise ManifestError(
                    f"neither TOML (line {toml_error.line}: {toml_error.message}) nor vcspull"
                    f" YAML ({yaml_exc.message})",
                    file=path,
                    line=yaml_exc.line,
                ) from yaml_exc
        else:
            r = reader(True, False)
            _read_toml(r, text)
    return r.finish(), r.warnings


def load_manifest(path: Path) -> list[ManifestEntry]:
    """The entries of manifest *path* in file order; see the module docs for the formats.

    Repositories of other version-control systems are left out; use
    :func:`load_manifest_with_warnings` to learn which. Raises :class:`ManifestError`.
    """
    return load_manifest_with_warnings(path)[0]


def default_manifest_path(env: Mapping[str, str] | None = None) -> Path:
    """The manifest to use when none is named.

    Search order: ``$GITOVERIT_MANIFEST`` (returned even if missing: it was asked for),
    ``$XDG_CONFIG_HOME/gitoverit/manifest.toml``, ``~/.vcspull.yaml``, ``~/.vcspull.yml``.
    The first that exists is returned; when none does, the first of the last three, so an
    error can say where a manifest was expected.
    """
    env = os.environ if env is None else env
    named = env.get(MANIFEST_ENV, "").strip()
    if named:
        return Path(expand_home(named, env))
    home = Path(expand_home("~", env))
    candidates = [config_dir(env) / "manifest.toml", home / ".vcspull.yaml", home / ".vcspull.yml"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return candidates[0]


# --- selecting ---------------------------------------------------------------------------


def filter_entries(
    entries: Sequence[ManifestEntry], patterns: Sequence[str]
) -> list[ManifestEntry]:
    """The entries that match any of *patterns*, in their order; all of them if none is given.

    A pattern is an :mod:`fnmatch` glob (case-sensitive) tried against the entry's name,
    its absolute path, and for a path under the home folder ``~/rel`` and ``rel``. A
    pattern that starts with ``~/`` is also tried with the home folder expanded.
    """
    if not patterns:
        return list(entries)
    home = os.path.expanduser("~")
    expanded = [os.path.expanduser(p) if p.startswith("~/") else p for p in patterns]
    globs = list(dict.fromkeys([*patterns, *expanded]))
    chosen: list[ManifestEntry] = []
    for entry in entries:
        candidates = [entry.name, entry.path]
        rel = _relative_to(entry.path, home)
        if rel is not None:
            candidates += [rel, "~" if rel == "." else f"~/{rel}"]
        if any(fnmatchcase(c, g) for g in globs for c in candidates):
            chosen.append(entry)
    return chosen


def _relative_to(path: str, base: str) -> str | None:
    """*path* relative to *base* if it is *base* or inside it, else ``None``."""
    if not os.path.isabs(base) or os.path.dirname(base) == base:
        return None
    rel = os.path.relpath(path, base)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return None
    return rel


# --- writing -----------------------------------------------------------------------------

_TOML_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _toml_str(text: str) -> str:
    """*text* as a TOML basic string."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        elif 0xD800 <= code <= 0xDFFF:
            raise ManifestError(
                f"cannot write {text!r}: it is not valid Unicode (a path in another encoding?)"
            )
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else _toml_str(name)


def _portable_path(path: str, base: str | None) -> str:
    """*path* as written to a manifest: relative to *base*, else ``~/...``, else absolute."""
    if base is not None:
        rel = _relative_to(path, os.path.normpath(os.path.abspath(os.path.expanduser(base))))
        if rel is not None:
            # A leading ``~`` would be read back as a home folder.
            return f"./{rel}" if rel.startswith("~") else rel
    rel = _relative_to(path, os.path.expanduser("~"))
    if rel is not None:
        return "~" if rel == "." else f"~/{rel}"
    return path


def dump_toml(entries: Sequence[ManifestEntry], base: str | None = None) -> str:
    """*entries* as our TOML manifest, in the given order, for ``gitoverit freeze``.

    Paths inside *base* are written relative to it, so *base* should be the folder the
    manifest is saved in; other paths under the home folder are written ``~/...``, and the
    rest absolute. :func:`load_manifest` of the text gives *entries* back. Raises
    :class:`ManifestError` for an entry that could not be read back (a relative path, a
    bad URL or name, a path that is not valid Unicode).
    """
    out = [
        "# gitoverit manifest: `gitoverit sync` clones each repo that is missing",
        "# and fast-forwards the others.",
    ]
    for entry in entries:
        label = f"repo {entry.name!r}"
        if not os.path.isabs(entry.path):
            raise ManifestError(f"{label}: path {entry.path!r} is not absolute")
        if not entry.name or "\x00" in entry.name:
            raise ManifestError(f"{label}: name must be a non-empty string")
        try:
            _check_url(entry.url, "url")
            names = [name for name, _ in entry.remotes]
            for name, url in entry.remotes:
                _check_ref(name, "remote name")
                _check_url(url, f"remote {name!r}")
                if name == "origin" or names.count(name) > 1:
                    raise ValueError(f"remote {name!r} is the url or listed twice")
            if entry.branch is not None:
                _check_ref(entry.branch, "branch")
        except ValueError as exc:
            raise ManifestError(f"{label}: {exc}") from None
        path = os.path.normpath(entry.path)
        out += ["", "[[repo]]", f"path = {_toml_str(_portable_path(path, base))}"]
        out.append(f"url = {_toml_str(_protect(entry.url))}")
        if entry.name != (os.path.basename(path) or path):
            out.append(f"name = {_toml_str(entry.name)}")
        if entry.branch is not None:
            out.append(f"branch = {_toml_str(entry.branch)}")
        if entry.remotes:
            out.append("[repo.remotes]")
            out += [f"{_toml_key(n)} = {_toml_str(_protect(u))}" for n, u in entry.remotes]
    return "\n".join(out) + "\n"


def _protect(url: str) -> str:
    """*url* with ``git+`` put in front if it would otherwise be read as a vcs prefix."""
    return "git+" + url if _split_vcs(url)[0] is not None else url
