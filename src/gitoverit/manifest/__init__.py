"""The repo list that ``gitoverit sync`` reads and ``gitoverit freeze`` writes.

A manifest says, for each repository: where it lives, the URL to clone it from, and
optionally a display name, the branch a fresh clone checks out, and extra remotes.
:func:`load_manifest` reads three formats, chosen by the file's extension (``.toml``;
``.yaml`` / ``.yml``; ``.json``) or, for any other name, by trying TOML and then YAML.

This module holds the public API: it picks the format and finds the default manifest.
:mod:`.entries` holds the entry, the error, the checks on URLs and names, and filtering;
:mod:`.reader` what every format shares; :mod:`.toml` our format, read and written;
:mod:`.vcspull` vcspull's YAML and JSON.

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

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from gitoverit.config import config_dir, expand_home
from gitoverit.manifest.entries import ManifestEntry, ManifestError, filter_entries
from gitoverit.manifest.reader import Reader
from gitoverit.manifest.toml import dump_toml, read_toml, toml_error
from gitoverit.manifest.vcspull import read_json, read_yaml

__all__ = [
    "MANIFEST_ENV",
    "ManifestEntry",
    "ManifestError",
    "default_manifest_path",
    "dump_toml",
    "filter_entries",
    "load_manifest",
    "load_manifest_with_warnings",
]

MANIFEST_ENV = "GITOVERIT_MANIFEST"
"""The environment variable that names the manifest to use when ``-m`` is not given."""


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

    def reader(strict: bool, expand_vars: bool) -> Reader:
        return Reader(path, strict=strict, expand_vars=expand_vars, warnings=[], entries=[])

    if suffix == ".toml":
        r = reader(True, False)
        read_toml(r, text)
    elif suffix in (".yaml", ".yml"):
        r = reader(False, True)
        read_yaml(r, text)
    elif suffix == ".json":
        r = reader(False, True)
        read_json(r, text)
    else:
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as toml_exc:
            r = reader(False, True)
            try:
                read_yaml(r, text)
            except ManifestError as yaml_exc:
                raise _neither(path, toml_error(path, toml_exc, text), yaml_exc) from yaml_exc
        else:
            r = reader(True, False)
            read_toml(r, text)
    return r.finish(), r.warnings


def _neither(path: Path, toml_err: ManifestError, yaml_err: ManifestError) -> ManifestError:
    """The error for a file that is read neither as TOML nor as YAML: each reader's problem,
    at its line when known. The file's line is YAML's, since a file of another name is
    more often vcspull's."""

    def problem(err: ManifestError, kind: str) -> str:
        message = err.message.removeprefix(f"invalid {kind}: ")
        return f"line {err.line}: {message}" if err.line is not None else message

    return ManifestError(
        f"neither TOML ({problem(toml_err, 'TOML')}) nor vcspull YAML"
        f" ({problem(yaml_err, 'YAML')})",
        file=path,
        line=yaml_err.line,
    )


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
