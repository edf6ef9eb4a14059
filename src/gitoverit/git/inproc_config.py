"""What the configuration means for the in-process reader (:mod:`gitoverit.git.inproc`):
which settings keep it from promising git's record, the configuration outside every
repository read once per run, and the configuration libgit2 is given to read."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gitoverit.git.command import LOCAL_TIMEOUT, default_env, git
from gitoverit.git.gitconfig import ConfigEntry, _get, _with_includes


class NotExact(Exception):
    """The in-process reader cannot promise git's record for this repository."""


def available() -> bool:
    """Whether pygit2 can be imported here."""
    try:
        import pygit2  # noqa: F401
    except Exception:
        return False
    return True


# -- configuration ------------------------------------------------------------------

_TRUE = ("true", "yes", "on", "1", "")
_FALSE = ("false", "no", "off", "0")

#: ``core`` keys that change what status reports, with the values that keep git's
#: default behaviour (``None``: no value is safe).
_CORE: dict[str, tuple[str, ...] | None] = {
    "autocrlf": _FALSE,
    "eol": None,
    "ignorecase": _FALSE,
    "precomposeunicode": _FALSE,
    "symlinks": _TRUE,
    "filemode": _TRUE,
    "trustctime": _TRUE,
    "checkstat": ("default",),
    "splitindex": _FALSE,
    "sparsecheckout": _FALSE,
    "worktree": None,
    "attributesfile": None,
    "bare": _FALSE,
}
#: Other single keys that do.
_KEYS: dict[tuple[str, str], tuple[str, ...] | None] = {
    ("index", "sparse"): _FALSE,
    ("index", "skiphash"): _FALSE,
}
#: Sections none of whose keys may be set.
_SECTIONS = ("extensions", "feature")


def _value(entry: ConfigEntry) -> str:
    return "" if entry.value is None else entry.value.strip().lower()


def config_reason(entries: Iterable[ConfigEntry], *, repo: bool) -> str | None:
    """Why *entries* keep the in-process reader from promising git's answer, if they
    do. *repo* marks the repository's own configuration, where includes, filter drivers
    and an excludes file send it to git too (outside it, :func:`run_config` resolves
    them)."""
    for e in entries:
        name = f"{e.section}.{e.key}" if e.subsection is None else f"{e.section}.<…>.{e.key}"
        if e.section == "core" and e.subsection is None:
            if e.key in _CORE:
                safe = _CORE[e.key]
                if safe is None or _value(e) not in safe:
                    return f"{name} is set"
            elif repo and e.key == "excludesfile":
                return f"{name} is set"
        elif e.section in _SECTIONS:
            if not (e.section == "extensions" and e.key == "objectformat" and _value(e) == "sha1"):
                return f"{name} is set"
        elif (e.section, e.key) in _KEYS:
            safe = _KEYS[(e.section, e.key)]
            if safe is None or _value(e) not in safe:
                return f"{name} is set"
        elif repo and e.section in ("include", "includeif", "filter"):
            return f"{e.section} in the repository's config"
    return None


@dataclass(frozen=True, slots=True)
class RunConfig:
    """What the configuration outside any repository means for the in-process reader,
    read once per run (:func:`run_config`)."""

    #: Why no repository can be read in-process in this run; ``None`` when they can.
    reason: str | None
    #: The global excludes file (``core.excludesFile``, else git's default one), if any.
    excludes_file: str | None = None
    #: Why line totals must come from git in every repository, if they must.
    lines_reason: str | None = None


def run_config(timeout: float = LOCAL_TIMEOUT) -> RunConfig:
    """Read the system, global and command-line configuration as git sees it outside any
    repository (one ``git config --list``), and what it means for this reader."""
    with tempfile.TemporaryDirectory(prefix="gitoverit-config-") as empty:
        env = dict(default_env(read_only=True))
        env[b"GIT_CEILING_DIRECTORIES"] = os.fsencode(os.path.dirname(empty))
        try:
            out = git(
                "config", "--list", "-z", "--includes", cwd=empty, timeout=timeout, env=env
            ).stdout
        except Exception as exc:  # no git config to read: git would fail the same way
            return RunConfig(f"git config could not be read: {exc}")
    entries = list(_listed_entries(out))
    conditional = [
        e.value for e in entries if e.section == "includeif" and e.key == "path" and e.value
    ]
    for path in conditional:
        # A conditional include that did not apply here may apply in a repository.
        entries += _with_includes(os.path.expanduser(path), 1)
    reason = config_reason(entries, repo=False)
    if reason is not None:
        return RunConfig(reason)
    for attributes in _attribute_files(entries):
        if os.path.exists(attributes):
            return RunConfig(f"attributes file {attributes}")
    excludes = _get(entries, "core", None, "excludesfile")
    if excludes is not None:
        excludes = os.path.expanduser(excludes)
    else:
        excludes = os.path.join(_xdg_git_dir(), "ignore")
    return RunConfig(
        None, excludes if os.path.isfile(excludes) else None, lines_config_reason(entries)
    )


def lines_config_reason(entries: Iterable[ConfigEntry]) -> str | None:
    """Why ``git diff``'s line totals may differ from libgit2's under *entries*: another
    diff algorithm, or copies detected (a new file then counts against its source)."""
    for e in entries:
        if e.section == "diff" and e.subsection is None:
            if e.key == "algorithm":
                return "diff.algorithm is set"
            if e.key == "renames" and _value(e) not in (*_TRUE, *_FALSE):
                return "diff.renames detects copies"
    return None


def _xdg_git_dir() -> str:
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(xdg, "git")


def _attribute_files(entries: Sequence[ConfigEntry]) -> list[str]:
    """The attributes files git reads outside any repository."""
    files = [os.path.join(_xdg_git_dir(), "attributes"), "/etc/gitattributes"]
    prefix = os.environ.get("PREFIX")
    if prefix:
        files.append(os.path.join(prefix, "etc", "gitattributes"))
    return files


_LISTED = re.compile(r"([^\n]*)(?:\n(.*))?", re.DOTALL)


def _listed_entries(out: bytes) -> Iterable[ConfigEntry]:
    """``git config --list -z`` output as entries (``section.sub.key\\nvalue``)."""
    for item in out.split(b"\0"):
        if not item:
            continue
        text = item.decode("utf-8", "surrogateescape")
        name, nl, value = text.partition("\n")
        section, _, rest = name.partition(".")
        sub, _, key = rest.rpartition(".")
        yield ConfigEntry(section.lower(), sub or None, key.lower(), value if nl else None)


# -- libgit2's view of the configuration --------------------------------------------

_home: tempfile.TemporaryDirectory[str] | None = None
_excludes: list[str | None] = []
#: The folder this process's libgit2 was pointed at, and by which process.
_pointed: list[tuple[int, str]] = []


def libgit2_home(config: RunConfig) -> str:
    """The folder of libgit2's configuration of its own (see :func:`prepare_libgit2`),
    made on first use: it holds a ``.gitconfig`` that names the global excludes file of
    *config*, and an empty folder. It lives as long as the process that made it, and the
    reader workers forked from that process use it too (they never clean up)."""
    global _home
    if _home is None:
        _home = tempfile.TemporaryDirectory(prefix="gitoverit-libgit2-")
        os.mkdir(os.path.join(_home.name, "empty"))
    if _excludes != [config.excludes_file]:
        with open(os.path.join(_home.name, ".gitconfig"), "w", encoding="utf-8") as fh:
            if config.excludes_file is not None:
                quoted = config.excludes_file.replace("\\", "\\\\").replace('"', '\\"')
                fh.write(f'[core]\n\texcludesfile = "{quoted}"\n')
        _excludes[:] = [config.excludes_file]
    return _home.name


def prepare_libgit2(config: RunConfig) -> None:
    """Point libgit2 at a configuration of its own (:func:`libgit2_home`): no system, XDG
    or global file but one that names the global excludes file of *config*, so that it
    reads nothing that :func:`run_config` has not checked."""
    import pygit2
    from pygit2.enums import ConfigLevel

    home = libgit2_home(config)
    if _pointed == [(os.getpid(), home)]:
        return
    empty = os.path.join(home, "empty")
    paths = pygit2.settings.search_path
    paths[ConfigLevel.GLOBAL] = home
    paths[ConfigLevel.XDG] = empty
    paths[ConfigLevel.SYSTEM] = empty
    paths[ConfigLevel.PROGRAMDATA] = empty
    _pointed[:] = [(os.getpid(), home)]
