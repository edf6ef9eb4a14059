"""``git status --porcelain=v2`` output, parsed in-process.

:data:`STATUS_ARGS` is the one git command behind a full status (its flags are explained
in :mod:`gitoverit.git.status`); :func:`parse_porcelain_v2` reads its output into a
:class:`ParsedStatus`, and :func:`count_untracked` folds the untracked files it lists back
into the entries ``--untracked-files=normal`` would show. Nothing here starts a process or
reads a file.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gitoverit.errors import CommandError

#: The one git command behind a full status (see :mod:`gitoverit.git.status` for each flag).
STATUS_ARGS: tuple[str, ...] = (
    "status",
    "--porcelain=v2",
    "--branch",
    "-z",
    "--show-stash",
    "--untracked-files=all",
    "--ahead-behind",
    "--ignore-submodules=dirty",
)


class StatusParseError(ValueError):
    """``git status --porcelain=v2`` produced output this parser does not understand."""


@dataclass(frozen=True, slots=True)
class ParsedStatus:
    """Everything one ``git status --porcelain=v2 --branch -z --show-stash`` output says.

    ``untracked`` holds the untracked paths exactly as git listed them (a trailing ``/``
    marks a directory git did not descend into). ``ahead``/``behind`` are ``None`` when
    git printed no ``branch.ab`` header.
    """

    oid: str | None = None
    branch: str | None = None
    detached: bool = False
    upstream: str | None = None
    ahead: int | None = None
    behind: int | None = None
    stashes: int = 0
    staged: int = 0
    modified: int = 0
    deleted: int = 0
    unstaged_modified: int = 0
    unstaged_deleted: int = 0
    conflicted: int = 0
    untracked: tuple[bytes, ...] = ()
    #: Paths whose work-tree file differs from the index entry (Y column not ``.``) and
    #: unmerged paths: their index entries' stat data is not the file's.
    changed: tuple[bytes, ...] = ()

    @property
    def upstream_gone(self) -> bool:
        """An upstream is configured but git could not compare with it.

        On an unborn branch git never prints ``branch.ab``, so that case is not "gone".
        """
        return self.upstream is not None and self.ahead is None and self.oid is not None


_CHANGED = b"MARCT"


def parse_porcelain_v2(data: bytes) -> ParsedStatus:
    """Parse NUL-separated ``git status --porcelain=v2 --branch --show-stash`` output.

    Counting rules: ``staged`` counts ordinary and rename/copy entries whose index
    column is not ``.``; ``modified`` counts those with M/A/R/C/T in either column;
    ``deleted`` those with D in either column; ``unstaged_deleted`` those with D in the
    work-tree column and ``unstaged_modified`` those with any other letter there;
    ``conflicted`` counts unmerged entries.
    Raises :class:`StatusParseError` on a line it does not recognise.
    """
    # Headers are a handful per output and go to their own reader; the entries, many per
    # repository, are counted right here, without the call of a Python function each.
    headers = _Headers()
    staged = modified = deleted = conflicted = unstaged_modified = unstaged_deleted = 0
    untracked: list[bytes] = []
    changed: list[bytes] = []
    tokens = data.split(b"\0")
    i = 0
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        i += 1
        if not tok:
            continue
        kind = tok[0]
        if kind == 0x31 or kind == 0x32:  # "1" ordinary, "2" rename/copy
            if len(tok) < 5 or tok[1] != 0x20:
                raise StatusParseError(f"bad entry: {tok[:40]!r}")
            x = tok[2]
            y = tok[3]
            if x != 0x2E:
                staged += 1
            if x in _CHANGED or y in _CHANGED:
                modified += 1
            if x == 0x44 or y == 0x44:
                deleted += 1
            if y != 0x2E:
                if y == 0x44:
                    unstaged_deleted += 1
                else:
                    unstaged_modified += 1
                fields = tok.split(b" ", 8 if kind == 0x31 else 9)
                if len(fields) < (9 if kind == 0x31 else 10):
                    raise StatusParseError(f"bad entry: {tok[:40]!r}")
                changed.append(fields[-1])
            if kind == 0x32:
                i += 1  # the original path follows as its own NUL-terminated token
        elif kind == 0x75:  # "u" unmerged
            conflicted += 1
            fields = tok.split(b" ", 10)
            if len(fields) < 11:
                raise StatusParseError(f"bad entry: {tok[:40]!r}")
            changed.append(fields[-1])
        elif kind == 0x3F:  # "?" untracked
            untracked.append(tok[2:])
        elif kind == 0x21:  # "!" ignored (only with --ignored)
            continue
        elif kind == 0x23:  # "#" header
            headers.read(tok)
        else:
            raise StatusParseError(f"unknown entry: {tok[:40]!r}")
    return ParsedStatus(
        oid=headers.oid,
        branch=headers.branch,
        detached=headers.detached,
        upstream=headers.upstream,
        ahead=headers.ahead,
        behind=headers.behind,
        stashes=headers.stashes,
        staged=staged,
        modified=modified,
        deleted=deleted,
        unstaged_modified=unstaged_modified,
        unstaged_deleted=unstaged_deleted,
        conflicted=conflicted,
        untracked=tuple(untracked),
        changed=tuple(changed),
    )


class _Headers:
    """The ``# branch.*`` and ``# stash`` headers of one output, as they are read."""

    __slots__ = ("ahead", "behind", "branch", "detached", "oid", "stashes", "upstream")

    def __init__(self) -> None:
        self.oid: str | None = None
        self.branch: str | None = None
        self.detached = False
        self.upstream: str | None = None
        self.ahead: int | None = None
        self.behind: int | None = None
        self.stashes = 0

    def read(self, tok: bytes) -> None:
        """Take in one header line (*tok* starts with ``#``); unknown headers are ignored."""
        parts = tok.split(b" ", 2)
        if len(parts) < 3:
            return
        key, value = parts[1], parts[2]
        if key == b"branch.oid":
            self.oid = None if value == b"(initial)" else value.decode("ascii", "replace")
        elif key == b"branch.head":
            if value == b"(detached)":
                self.detached = True
                self.branch = None
            else:
                self.branch = value.decode("utf-8", "surrogateescape")
        elif key == b"branch.upstream":
            self.upstream = value.decode("utf-8", "surrogateescape")
        elif key == b"branch.ab":
            self.ahead, self.behind = _parse_ab(value)
        elif key == b"stash":
            try:
                self.stashes = int(value)
            except ValueError:
                raise StatusParseError(f"bad stash header: {tok!r}") from None


def _parse_ab(value: bytes) -> tuple[int | None, int | None]:
    parts = value.split()
    if len(parts) != 2 or not parts[0].startswith(b"+") or not parts[1].startswith(b"-"):
        raise StatusParseError(f"bad branch.ab header: {value!r}")
    try:
        return int(parts[0][1:]), int(parts[1][1:])
    except ValueError:
        return None, None  # "+? -?": counts not computed


def parse_output(out: bytes, args: Sequence[str]) -> ParsedStatus:
    """:func:`parse_porcelain_v2` of the output of ``git *args*``, with output it cannot
    parse raised as git's error (a :class:`~gitoverit.errors.CommandError`)."""
    try:
        return parse_porcelain_v2(out)
    except StatusParseError as exc:
        raise CommandError(["git", *args], 0, out, b"", message=str(exc)) from exc


def count_untracked(untracked: Iterable[bytes], tracked: Sequence[bytes]) -> int:
    """Count untracked entries the way ``git status --untracked-files=normal`` lists them.

    *untracked* are paths from ``--untracked-files=all``; *tracked* is the sorted list of
    index paths. A directory with no index path under it is listed once, as a whole; a
    file in a directory that holds tracked paths is listed on its own.
    """
    has_tracked: dict[bytes, bool] = {}
    entries: set[bytes] = set()
    ntracked = len(tracked)
    for path in untracked:
        key = path
        start = 0
        while True:
            j = path.find(b"/", start)
            if j == -1 or j == len(path) - 1:
                break
            prefix = path[: j + 1]
            known = has_tracked.get(prefix)
            if known is None:
                k = bisect_left(tracked, prefix)
                known = k < ntracked and tracked[k].startswith(prefix)
                has_tracked[prefix] = known
            if not known:
                key = prefix
                break
            start = j + 1
        entries.add(key)
    return len(entries)
