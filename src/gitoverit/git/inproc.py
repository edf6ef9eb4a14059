"""The in-process status reader: libgit2 (through pygit2) reads a repository without
starting git, for the repositories whose record it can promise to be git's.

**Exact or not used.** :func:`read_inprocess` gives exactly the
:class:`~gitoverit.model.RepoStatus` the git engine (:mod:`gitoverit.git.batch`) would
build, every field, or raises :class:`NotExact` naming why git must read the repository
instead. What goes to git, and why:

- anything the configuration may change in a way libgit2 does not follow exactly:
  ``core.autocrlf``, ``core.eol``, ``core.ignoreCase``, ``core.precomposeUnicode``,
  ``core.symlinks``, ``core.fileMode``, ``core.trustCtime`` and ``core.checkStat`` at other
  than git's default values, ``core.worktree``, ``core.attributesFile``, the repository's
  own ``core.excludesFile``, any ``extensions.*`` (sha256, reftable, worktree config),
  ``index.sparse``, ``index.skipHash``, ``feature.*``, ``core.splitIndex``,
  ``core.sparseCheckout``, the repository's own filter drivers, and ``include``/``includeIf``
  in the repository's config (see :func:`config_reason`);
- attributes anywhere (a ``.gitattributes`` file, ``info/attributes``, a global or system
  attributes file): they may name filters and end-of-line conversions;
- an index libgit2 and git may read differently: split or sparse, an unmerged,
  assume-unchanged, skip-worktree or intent-to-add entry, or submodules (gitlinks, whose
  ``--ignore-submodules=dirty`` comparison libgit2 cannot be asked for);
- history that git reads through more than the object database: shallow clones, grafts,
  replace refs;
- a staged addition next to a staged deletion (git may pair them as one rename);
- an unusual branch or upstream: a HEAD outside ``refs/heads/``, an upstream on a remote
  whose fetch refspec is not the plain ``refs/heads/*:refs/remotes/<name>/*``, more than one
  ``merge`` value, a local (``.``) upstream, an upstream whose short name is ambiguous, an
  unborn branch with an upstream;
- more than :data:`MAX_FILES` tracked files, where git's own status is faster;
- a path that is not valid UTF-8, and anything libgit2 fails on (git then says what is
  wrong).

The configuration outside the repository (system, global, ``-c`` and ``GIT_CONFIG_*``
variables) is read once per run by :func:`run_config`, from ``git config --list``; libgit2
then sees none of it but the global excludes file.

The branch headers are rebuilt as the ``# branch.*`` and ``# stash`` lines ``git status
--porcelain=v2`` would print and read by the same parser as git's output, and the counts
follow :func:`~gitoverit.git.porcelain.parse_porcelain_v2`'s rules, so that both readers
share every rule after the reading itself. Nothing here writes to a repository: libgit2
reads the index and never refreshes it.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from gitoverit.git.command import LOCAL_TIMEOUT, default_env, git
from gitoverit.git.gitconfig import ConfigEntry, _get, _with_includes, common_dir, read_config
from gitoverit.git.gitdir import detect_operation, remote_url
from gitoverit.git.porcelain import count_untracked, parse_porcelain_v2
from gitoverit.git.tracked import latest_ns, read_tracked
from gitoverit.model import RepoRef, RepoStatus

#: Above this many tracked files, git's own status (threaded, with its caches) is faster.
MAX_FILES = 5000


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


def prepare_libgit2(config: RunConfig) -> None:
    """Point libgit2 at a configuration of its own: no system, XDG or global file but one
    that names the global excludes file of *config*, so that it reads nothing that
    :func:`run_config` has not checked. The folder holding that file lives as long as the
    process."""
    global _home
    import pygit2
    from pygit2.enums import ConfigLevel

    if _home is None:
        _home = tempfile.TemporaryDirectory(prefix="gitoverit-libgit2-")
        empty = os.path.join(_home.name, "empty")
        os.mkdir(empty)
        paths = pygit2.settings.search_path
        paths[ConfigLevel.GLOBAL] = _home.name
        paths[ConfigLevel.XDG] = empty
        paths[ConfigLevel.SYSTEM] = empty
        paths[ConfigLevel.PROGRAMDATA] = empty
    elif _excludes == [config.excludes_file]:
        return
    with open(os.path.join(_home.name, ".gitconfig"), "w", encoding="utf-8") as fh:
        if config.excludes_file is not None:
            quoted = config.excludes_file.replace("\\", "\\\\").replace('"', '\\"')
            fh.write(f'[core]\n\texcludesfile = "{quoted}"\n')
    _excludes[:] = [config.excludes_file]


# -- one repository -----------------------------------------------------------------


def read_inprocess(ref: RepoRef, *, lines: bool = False) -> RepoStatus:
    """*ref*'s status as the git engine would record it, read by libgit2 in this process
    (:func:`prepare_libgit2` first). Raises :class:`NotExact` when git must read it.

    With *lines*, the line totals of ``git diff HEAD --numstat``
    (:func:`gitoverit.git.extras.read_lines`) are filled in too when libgit2 counts them
    as git does (see :func:`lines_config_reason`; an unborn HEAD leaves them to git)."""
    import pygit2
    from pygit2.enums import FileStatus as F
    from pygit2.enums import RepositoryOpenFlag

    config = read_config(ref.git_dir)
    reason = config_reason(config, repo=True)
    if reason is not None:
        raise NotExact(reason)
    common = common_dir(ref.git_dir)
    _check_history(common)
    index, tracked_ns = read_tracked(ref, 20)
    if index is None or index.trees:
        raise NotExact("split or sparse index")
    if index.gitlinks:
        raise NotExact("submodules")
    if index.special:
        raise NotExact("unmerged, skip-worktree, assume-unchanged or intent-to-add entries")
    if len(index.paths) > MAX_FILES:
        raise NotExact(f"{len(index.paths)} tracked files")
    for path in index.paths:
        if path.endswith(b".gitattributes") and (
            path == b".gitattributes" or path.endswith(b"/.gitattributes")
        ):
            raise NotExact("attributes")
    try:
        repo = pygit2.Repository(ref.path, RepositoryOpenFlag.NO_SEARCH)
    except (pygit2.GitError, ValueError, UnicodeError) as exc:
        raise NotExact(f"libgit2: {exc}") from None
    if not _same_path(repo.workdir or "", ref.path) or not _same_path(repo.path, ref.git_dir):
        raise NotExact("libgit2 opened another repository")
    headers = _headers(ref, config, _Refs(repo), common)
    operation = detect_operation(ref.git_dir)
    try:
        statuses: dict[str, Any] = repo.status(untracked_files="all", ignored=False)
    except UnicodeDecodeError:
        raise NotExact("a path that is not UTF-8") from None
    except (pygit2.GitError, ValueError) as exc:
        raise NotExact(f"libgit2: {exc}") from None

    staged = modified = deleted = unstaged_modified = unstaged_deleted = 0
    untracked: list[bytes] = []
    added = removed = False
    index_bits = F.INDEX_NEW | F.INDEX_MODIFIED | F.INDEX_DELETED | F.INDEX_TYPECHANGE
    wt_bits = F.WT_MODIFIED | F.WT_DELETED | F.WT_TYPECHANGE
    odd = F.INDEX_RENAMED | F.WT_RENAMED | F.WT_UNREADABLE | F.CONFLICTED | F.IGNORED
    for name, flags in statuses.items():
        if flags & odd:
            raise NotExact(f"libgit2 status {int(flags):#x}")
        if flags & F.WT_NEW:
            untracked.append(name.encode("utf-8", "surrogateescape"))
        if not flags & (index_bits | wt_bits):
            continue
        if flags & index_bits:
            staged += 1
        if flags & F.INDEX_NEW:
            added = True
        if flags & F.INDEX_DELETED:
            removed = True
        if flags & (F.INDEX_NEW | F.INDEX_MODIFIED | F.INDEX_TYPECHANGE) or flags & (
            F.WT_MODIFIED | F.WT_TYPECHANGE
        ):
            modified += 1
        if flags & (F.INDEX_DELETED | F.WT_DELETED):
            deleted += 1
        if flags & F.WT_DELETED:
            unstaged_deleted += 1
        elif flags & wt_bits:
            unstaged_modified += 1
    if added and removed:
        raise NotExact("a staged addition and deletion: git may pair them as a rename")
    _check_hidden_repos(repo, ref.path, index.paths, untracked)
    for path in untracked:
        if path.endswith(b".gitattributes") and (
            path == b".gitattributes" or path.endswith(b"/.gitattributes")
        ):
            raise NotExact("attributes")
    parsed = parse_porcelain_v2(headers)
    latest = max(tracked_ns, latest_ns(ref.path, untracked))
    lines_added = lines_removed = None
    if lines and parsed.oid is not None and lines_config_reason(config) is None:
        if staged or unstaged_modified or unstaged_deleted:
            lines_added, lines_removed = _line_totals(repo)
        else:
            lines_added = lines_removed = 0
    return RepoStatus(
        branch=parsed.branch,
        head=parsed.oid,
        detached=parsed.detached,
        upstream=parsed.upstream,
        upstream_gone=parsed.upstream_gone,
        ahead=parsed.ahead,
        behind=parsed.behind,
        staged=staged,
        modified=modified,
        deleted=deleted,
        unstaged_modified=unstaged_modified,
        unstaged_deleted=unstaged_deleted,
        untracked=count_untracked(untracked, index.paths),
        conflicted=0,
        stashes=parsed.stashes,
        operation=operation,
        submodules=index.gitlinks,
        remote_url=remote_url(config, parsed.branch, parsed.upstream),
        mtime=latest / 1e9 if latest >= 0 else None,
        lines_added=lines_added,
        lines_removed=lines_removed,
    )


def _line_totals(repo: Any) -> tuple[int, int]:
    """Lines added and removed from HEAD to the work tree through the index, as libgit2's
    ``git_diff_tree_to_workdir_with_index`` counts them (binary files count 0)."""
    import pygit2

    index = repo.index
    diff = repo.head.peel(pygit2.Tree).diff_to_index(index)
    diff.merge(index.diff_to_workdir())
    stats = diff.stats
    return stats.insertions, stats.deletions


def _check_hidden_repos(
    repo: Any, worktree: str, tracked: Sequence[bytes], untracked: Sequence[bytes]
) -> None:
    """:class:`NotExact` when a folder libgit2 did not report holds a repository: git
    lists such a nested repository (``dir/``) even when it holds nothing but its ``.git``,
    where libgit2 takes it for an empty folder.

    The folders libgit2 reported are those of the tracked and untracked paths. A folder
    whose link count says it has no other subfolder (2, plus one per subfolder) is not
    listed; any other is, and each unreported, not ignored subfolder is searched."""
    known = {p.rpartition(b"/")[0] for p in tracked}
    known.update(p.rstrip(b"/").rpartition(b"/")[0] for p in untracked)
    known.update(p.rstrip(b"/") for p in untracked if p.endswith(b"/"))
    for d in list(known):
        while d:
            d = d.rpartition(b"/")[0]
            if d in known:
                break
            known.add(d)
    known.add(b"")
    children: dict[bytes, int] = dict.fromkeys(known, 0)
    for d in known:
        if d:
            children[d.rpartition(b"/")[0]] += 1
    children[b""] += 1  # .git
    base = os.fsencode(worktree).rstrip(b"/") + b"/"
    for d, count in children.items():
        folder = base + d if d else base
        try:
            links = os.lstat(folder).st_nlink
        except OSError:
            continue  # gone: git does not list it either
        if links == 2 + count:
            continue
        try:
            with os.scandir(folder) as it:
                subdirs = [e.name for e in it if e.is_dir(follow_symlinks=False)]
        except OSError:
            continue
        for name in subdirs:
            rel = d + b"/" + os.fsencode(name) if d else os.fsencode(name)
            if rel in known or rel == b".git":
                continue
            _search_hidden(repo, base, rel)


def _search_hidden(repo: Any, base: bytes, rel: bytes) -> None:
    """Search the unreported folder *rel* for a repository (see :func:`_check_hidden_repos`)."""
    if repo.path_is_ignored(os.fsdecode(rel) + "/"):
        return
    try:
        with os.scandir(base + rel) as it:
            entries = [(e.name, e.is_dir(follow_symlinks=False)) for e in it]
    except OSError:
        return
    for name, is_dir in entries:
        if name == b".git":
            raise NotExact(f"a nested repository in {os.fsdecode(rel)}/")
        if is_dir:
            _search_hidden(repo, base, rel + b"/" + name)


def _check_history(common: str) -> None:
    """:class:`NotExact` when git reads *common*'s history through more than its objects
    and refs (a shallow clone, grafts, replace refs) or it has attributes of its own."""
    try:
        names = os.listdir(common)
    except OSError as exc:
        raise NotExact(f"{common}: {exc}") from None
    if "shallow" in names:
        raise NotExact("a shallow clone")
    try:
        info = os.listdir(os.path.join(common, "info"))
    except OSError:
        info = []
    if "grafts" in info or "attributes" in info:
        raise NotExact("info/grafts or info/attributes")
    try:
        if os.listdir(os.path.join(common, "refs", "replace")):
            raise NotExact("replace refs")
    except OSError:
        pass
    if "packed-refs" in names:
        try:
            with open(os.path.join(common, "packed-refs"), "rb") as fh:
                packed = fh.read()
        except OSError as exc:
            raise NotExact(f"packed-refs: {exc}") from None
        if b" refs/replace/" in packed:
            raise NotExact("replace refs")


def _same_path(a: str, b: str) -> bool:
    a, b = os.path.normpath(a), os.path.normpath(b)
    return a == b or os.path.realpath(a) == os.path.realpath(b)


_HEX = re.compile(rb"[0-9a-f]{40}")
_REFSPEC = re.compile(r"\+?refs/heads/\*:(refs/remotes/.+/)\*")


def _headers(ref: RepoRef, config: list[ConfigEntry], repo_refs: _Refs, common: str) -> bytes:
    """The ``# branch.*`` and ``# stash`` lines ``git status --porcelain=v2 --branch -z
    --show-stash --ahead-behind`` would print for *ref*; :class:`NotExact` when this reader
    cannot tell them for certain."""
    import pygit2

    try:
        with open(os.path.join(ref.git_dir, "HEAD"), "rb") as fh:
            head = fh.read(512).strip()
    except OSError as exc:
        raise NotExact(f"HEAD: {exc}") from None
    lines: list[bytes] = []
    stashes = _count_stashes(common)
    if _HEX.fullmatch(head):
        lines += [b"# branch.oid " + head, b"# branch.head (detached)"]
    elif head.startswith(b"ref: refs/heads/"):
        full = os.fsdecode(head[5:].strip())
        branch = full[len("refs/heads/") :]
        oid = repo_refs.oid(full)
        lines.append(b"# branch.oid " + (oid.encode() if oid else b"(initial)"))
        lines.append(b"# branch.head " + os.fsencode(branch))
        upstream = _upstream(config, branch)
        if upstream is not None:
            if oid is None:
                raise NotExact("an unborn branch with an upstream")
            short = upstream[len("refs/remotes/") :]
            for candidate in (f"refs/{short}", f"refs/tags/{short}", f"refs/heads/{short}"):
                if repo_refs.exists(candidate):
                    raise NotExact(f"the upstream's short name {short} is ambiguous")
            if short.endswith("/HEAD") or re.fullmatch(r"[A-Z_]+", short.split("/")[0]):
                raise NotExact(f"upstream {short}")
            lines.append(b"# branch.upstream " + os.fsencode(short))
            up_oid = repo_refs.oid(upstream)
            if up_oid is not None:
                try:
                    ahead, behind = repo_refs.repo.ahead_behind(oid, up_oid)
                except (pygit2.GitError, ValueError) as exc:
                    raise NotExact(f"ahead/behind: {exc}") from None
                lines.append(f"# branch.ab +{ahead} -{behind}".encode())
    else:
        raise NotExact("HEAD outside refs/heads")
    if stashes:
        lines.append(f"# stash {stashes}".encode())
    return b"\0".join(lines) + b"\0"


def _count_stashes(common: str) -> int:
    """The stash entries: lines of the stash reflog, shared by every worktree."""
    try:
        with open(os.path.join(common, "logs", "refs", "stash"), "rb") as fh:
            return fh.read().count(b"\n")
    except OSError:
        return 0


class _Refs:
    """Reference lookups through libgit2 (loose and packed refs alike)."""

    def __init__(self, repo: Any) -> None:
        self.repo = repo

    def oid(self, name: str) -> str | None:
        import pygit2
        from pygit2.enums import ReferenceType

        try:
            found = self.repo.references.get(name)
        except (pygit2.GitError, ValueError) as exc:
            raise NotExact(f"{name}: {exc}") from None
        if found is None:
            return None
        if found.type != ReferenceType.DIRECT:
            raise NotExact(f"{name} is a symbolic ref")
        return str(found.target)

    def exists(self, name: str) -> bool:
        return self.oid(name) is not None


def _upstream(config: list[ConfigEntry], branch: str) -> str | None:
    """The full name of *branch*'s upstream, as git's ``branch_get_upstream`` finds it
    in the plain case; ``None`` when none is configured."""
    merges = [
        e.value
        for e in config
        if e.section == "branch" and e.subsection == branch and e.key == "merge"
    ]
    remotes = [
        e.value
        for e in config
        if e.section == "branch" and e.subsection == branch and e.key == "remote"
    ]
    if not merges:
        if remotes:
            raise NotExact("branch.<…>.remote without merge")
        return None
    if len(merges) > 1 or not remotes:
        raise NotExact("an unusual upstream configuration")
    merge, remote = merges[0], remotes[-1]
    if merge is None or remote is None or not merge.startswith("refs/heads/") or remote == ".":
        raise NotExact("an unusual upstream configuration")
    fetch = [
        e.value
        for e in config
        if e.section == "remote" and e.subsection == remote and e.key == "fetch"
    ]
    if len(fetch) != 1 or fetch[0] is None:
        raise NotExact(f"remote {remote}'s fetch refspecs")
    m = _REFSPEC.fullmatch(fetch[0].strip())
    if m is None:
        raise NotExact(f"remote {remote}'s fetch refspec")
    return m.group(1) + merge[len("refs/heads/") :]
