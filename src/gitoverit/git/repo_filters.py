"""Filter drivers that only a repository's own config defines, kept from running.

``git status`` runs a path's clean filter (``filter.<driver>.clean``, or the long-running
``filter.<driver>.process``) when it must compare a file whose stat data changed with
what the index holds. The driver is named by ``.gitattributes`` and defined in git
config. A repository's own config (``.git/config``, the files it includes, a worktree's
``config.worktree``) comes with the repository: unpacked from an archive or copied from
another disk, it can name any command. A read-only scan runs none of them.

For each driver whose clean or process command the repository's own config sets to
something other than what the user's own config (global, system, ``git -c``) says, the
status call gets ``-c`` overrides that put back the user's values, or disable the driver
(empty ``clean`` and ``process``, ``required=false``) when the user defines none. Drivers
the user's config defines run as usual (git-lfs installs its filter there, and
``git lfs install --local`` writes the same commands into the repository, which then
count as the user's).

Without its filter git compares the file's raw bytes, so a file that is only stat-dirty
(touched, checked out again) can be reported modified when the filter would have said
otherwise. :func:`uncertain_filters` tells which such reports cannot be trusted; see
there how.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass

from gitoverit.git.files import read_bytes
from gitoverit.git.gitconfig import ConfigEntry, common_dir, local_config
from gitoverit.model import RepoRef

#: The driver keys whose values git runs during a status.
_COMMANDS = ("clean", "process")


@dataclass(frozen=True, slots=True)
class FilterGuard:
    """The ``-c`` overrides for one repository's status, and the drivers they disable
    (or set back to the user's commands)."""

    args: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()


#: The guard of a repository whose own config names no filter command.
NO_GUARD = FilterGuard()


def filter_guard(ref: RepoRef) -> FilterGuard:
    """The overrides that keep *ref*'s own filter commands from running.

    A repository whose config files do not mention ``filter`` or ``include`` (nearly
    all) costs one read of its config file.
    """
    if not _may_define_filters(ref.git_dir):
        return NO_GUARD
    local = _drivers(local_config(ref.git_dir))
    if not local:
        return NO_GUARD
    user = user_drivers()
    args: list[str] = []
    disabled: list[str] = []
    for name in sorted(local):
        mine = user.get(name, {})
        effective = {**mine, **local[name]}
        if all(effective.get(k) == mine.get(k) for k in _COMMANDS):
            continue
        disabled.append(name)
        for key in (*_COMMANDS, "required"):
            default = "false" if key == "required" else ""
            args += ["-c", f"filter.{name}.{key}={mine.get(key, default)}"]
    return FilterGuard(tuple(args), tuple(disabled))


def _may_define_filters(git_dir: str) -> bool:
    """Whether the repository's config files could define a filter driver: they mention
    ``filter`` or ``include`` (section names are case-insensitive).

    Runs for every repository a scan reads, so it reads as little as it can: the git
    dir's own ``config`` (a linked worktree's git dir has none: then the common dir's),
    and ``config.worktree`` only when that config turns on ``worktreeConfig``, as git
    does.
    """
    data = own_config_bytes(git_dir)
    return b"filter" in data or b"include" in data


def own_config_bytes(git_dir: str) -> bytes:
    """The repository's own config files as git reads them, lower-cased: the git dir's
    ``config`` (a linked worktree's git dir has none: then the common dir's), and
    ``config.worktree`` when that config turns on ``worktreeConfig``. Included files are
    not read: a caller that cares looks for ``include`` itself."""
    data = _read(os.path.join(git_dir, "config"))
    if data is None:
        data = _read(os.path.join(common_dir(git_dir), "config")) or b""
    data = data.lower()
    if b"worktreeconfig" in data:
        data += b"\n" + (_read(os.path.join(git_dir, "config.worktree")) or b"").lower()
    return data


def _read(path: str) -> bytes | None:
    """The file's bytes, or ``None`` when it cannot be read."""
    try:
        return read_bytes(path)
    except OSError:
        return None


def _drivers(entries: Sequence[ConfigEntry]) -> dict[str, dict[str, str]]:
    """``{driver: {key: value}}`` for the filter drivers *entries* define; a later value
    wins, as in git. Only drivers with a clean or process command are kept."""
    drivers: dict[str, dict[str, str]] = {}
    for e in entries:
        if e.section == "filter" and e.subsection is not None and e.key in (*_COMMANDS, "required"):
            drivers.setdefault(e.subsection, {})[e.key] = e.value if e.value is not None else "true"
    return {n: d for n, d in drivers.items() if any(k in d for k in _COMMANDS)}


_USER_DRIVERS: dict[tuple[str, ...], dict[str, dict[str, str]]] = {}
#: The config scopes that are the user's own, not a repository's.
_USER_SCOPES = frozenset({b"system", b"global", b"command"})
#: More candidate paths than this are not looked up one by one: every disabled driver
#: then counts as uncertain.
MAX_ATTR_PATHS = 1000
_USER_ENV = (
    "HOME",
    "XDG_CONFIG_HOME",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
)


def user_drivers() -> dict[str, dict[str, str]]:
    """The filter drivers the user's own config defines (system, global, ``git -c``).

    Asked of git once per environment, outside any repository, and only when some
    repository defines a driver of its own.
    """
    env_key = tuple(os.environ.get(k, "") for k in _USER_ENV)
    cached = _USER_DRIVERS.get(env_key)
    if cached is not None:
        return cached
    from gitoverit.errors import CommandError
    from gitoverit.git.command import git

    try:
        result = git(
            "config", "--show-scope", "--includes", "-z", "--get-regexp", r"^filter\.",
            cwd=os.sep,
            check=False,
        )  # fmt: skip
        out = result.stdout
    except CommandError:
        out = b""  # then no driver counts as the user's: every repository's is disabled
    # With -z and --show-scope each entry is "scope NUL key LF value NUL".
    fields = out.split(b"\0")
    entries: list[ConfigEntry] = []
    for scope, item in zip(fields[0::2], fields[1::2], strict=False):
        if scope not in _USER_SCOPES:
            continue
        name, newline, value = item.decode("utf-8", "surrogateescape").partition("\n")
        section, _, tail = name.partition(".")
        sub, _, key = tail.rpartition(".")
        entries.append(ConfigEntry(section, sub or None, key, value if newline else None))
    drivers = _drivers(entries)
    _USER_DRIVERS[env_key] = drivers
    return drivers


def uncertain_filters(
    ref: RepoRef,
    changed: Sequence[bytes],
    guard: FilterGuard,
    recorded: dict[bytes, int],
    *,
    timeout: float,
) -> tuple[str, ...]:
    """``filter.NAME`` for each disabled driver that may have made git report a modified
    file that is not: the reports a repository's status cannot be trusted for.

    How a report is told apart: git compares a file through its clean filter only when
    the file's stat data changed and its size did not; a file whose size differs from the
    size the index recorded for it is modified whatever the filter says (git decides on
    the size alone). So a path counts when git lists it as changed in the work tree, it
    is a regular file whose size equals the recorded one (*recorded*: path to size, from
    the index; ``-1`` when unknown, which counts as equal), and its ``filter`` attribute
    names a disabled driver (one ``git check-attr``, run only for such paths). Everything
    else in the status is exact.
    """
    if not guard.disabled:
        return ()
    same_size: list[bytes] = []
    for path in changed:
        size = recorded.get(path)
        if size is None:
            continue
        try:
            st = os.lstat(os.path.join(os.fsencode(ref.path), path))
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and size in (-1, st.st_size):
            same_size.append(path)
    if not same_size:
        return ()
    from gitoverit.errors import CommandError
    from gitoverit.git.command import git

    every = tuple(f"filter.{n}" for n in guard.disabled)
    if len(same_size) > MAX_ATTR_PATHS:
        return every
    paths = [os.fsdecode(p) for p in same_size]
    try:
        result = git("check-attr", "-z", "filter", "--", *paths, cwd=ref.path, timeout=timeout)
    except CommandError:
        return every  # not known which: none of them is trusted
    fields = result.stdout.split(b"\0")
    names = {os.fsdecode(v) for v in fields[2::3]}
    return tuple(f"filter.{n}" for n in guard.disabled if n in names)
