"""Writing vcspull's YAML, and adding entries to an existing manifest in place.

vcspull's YAML is grouped by folder, each repo in the form vcspull's own ``add`` writes
(``repo: git+URL``, sync tuning under ``options:``), with ``remotes:`` and
``worktrees:`` as vcspull reads them. Adding to a manifest goes through a round-trip
library (tomlkit, ruamel.yaml), so the file keeps its entries, order and comments.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gitoverit.manifest.entries import ManifestEntry, ManifestError, relative_to
from gitoverit.manifest.toml import dump_toml


def _label(folder: str) -> str:
    """A workspace folder as vcspull writes it: ``~/code/``, else absolute, ending in
    ``/``."""
    rel = relative_to(folder, os.path.expanduser("~"))
    if rel is not None:
        return "~/" if rel == "." else f"~/{rel}/"
    return folder.rstrip(os.sep) + "/"


def _git(url: str) -> str:
    return url if url.startswith("git+") else f"git+{url}"


def vcspull_repo(entry: ManifestEntry) -> dict[str, Any]:
    """*entry* as a vcspull repo mapping."""
    spec: dict[str, Any] = {"repo": _git(entry.url)}
    pushes = dict(entry.push_urls)
    remotes: dict[str, Any] = {}
    if "origin" in pushes:
        remotes["origin"] = {"fetch_url": _git(entry.url), "push_url": _git(pushes["origin"])}
    for name, url in entry.remotes:
        if name in pushes:
            remotes[name] = {"fetch_url": _git(url), "push_url": _git(pushes[name])}
        else:
            remotes[name] = _git(url)
    if remotes:
        spec["remotes"] = remotes
    options: dict[str, Any] = {}
    rev = entry.rev if entry.rev is not None else entry.branch
    if rev is not None:
        options["rev"] = rev
    if entry.depth == 1:
        options["shallow"] = True
    elif entry.depth is not None:
        options["depth"] = entry.depth
    if entry.pinned:
        options["pin"] = True
    if options:
        spec["options"] = options
    if entry.hooks:
        spec["shell_command_after"] = list(entry.hooks)
    if entry.worktrees:
        folder = os.path.dirname(entry.path)
        spec["worktrees"] = [
            {"dir": os.path.relpath(wt.path, folder), wt.ref[0]: wt.ref[1]}
            for wt in entry.worktrees
        ]
    return spec


def vcspull_data(entries: Sequence[ManifestEntry]) -> dict[str, dict[str, Any]]:
    """*entries* grouped by folder, as vcspull's config holds them."""
    data: dict[str, dict[str, Any]] = {}
    for entry in entries:
        group = data.setdefault(_label(os.path.dirname(entry.path)), {})
        group[os.path.basename(entry.path)] = vcspull_repo(entry)
    return data


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def dump_vcspull(entries: Sequence[ManifestEntry]) -> str:
    """*entries* as vcspull's YAML."""
    if not entries:
        return "{}\n"
    buffer = io.StringIO()
    _yaml().dump(vcspull_data(entries), buffer)
    return buffer.getvalue()


def update_manifest(
    path: Path, known: Sequence[ManifestEntry], new: Sequence[ManifestEntry]
) -> str:
    """The text of manifest *path* with the entries of *new* that *known* (its current
    entries) lacks added at the end, everything else as it was."""
    have = {e.path for e in known} | {w.path for e in known for w in e.worktrees}
    added = [e for e in new if e.path not in have]
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".toml" or _is_toml(text, path):
        return _update_toml(text, added, str(path.parent))
    if path.suffix.lower() == ".json":
        raise ManifestError("cannot add to a JSON manifest; use YAML or TOML", file=path)
    return _update_yaml(text, added)


def _is_toml(text: str, path: Path) -> bool:
    if path.suffix.lower() in (".yaml", ".yml", ".json"):
        return False
    import tomllib

    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return False
    return True


def _update_toml(text: str, added: Sequence[ManifestEntry], base: str) -> str:
    import tomlkit

    doc = tomlkit.parse(text)
    if not added:
        return text
    extra = tomlkit.parse(dump_toml(added, base=base, header=False))
    tables = extra["repo"]
    if "repo" in doc:
        for table in tables:
            doc["repo"].append(table)
    else:
        doc.append("repo", tables)
    return tomlkit.dumps(doc)


def _update_yaml(text: str, added: Sequence[ManifestEntry]) -> str:
    yaml = _yaml()
    data = yaml.load(text)
    if data is None:
        from ruamel.yaml.comments import CommentedMap

        data = CommentedMap()
    if not added:
        return text
    roots = {os.path.normpath(os.path.expanduser(str(k))): k for k in data}
    for folder, repos in vcspull_data(added).items():
        key = roots.get(os.path.normpath(os.path.expanduser(folder)), folder)
        if data.get(key) is None:
            data[key] = {}
            roots[os.path.normpath(os.path.expanduser(folder))] = key
        for name, spec in repos.items():
            data[key][name] = spec
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()
