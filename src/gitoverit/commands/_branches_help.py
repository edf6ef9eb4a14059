"""``gitob --help-where``: the expression language, with gitob's own names and examples.

The parts of the language that do not depend on the records (operators, None rules,
functions, string methods, limits) come from :data:`gitoverit.query.HELP_TEXT`, worded
for branches; the names and the examples are gitob's.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable

_NAMES_HELP = """\
Expressions for gitob --where (keep a branch when the expression is true) and --print
(print its value for each branch; a branch where it is None is left out). The syntax is
a small, safe subset of Python.

Names (one per branch field, as in the JSON output):
  name head                 the branch, and the commit it points at (full sha)
  upstream upstream_gone    short upstream name ("origin/main") or None; whether it is gone
  has_upstream              an upstream is configured (it may be gone)
  ahead behind              commits ahead of / behind the upstream; None without one
  date                      last commit's committer date, seconds since the epoch
  author                    last commit's author as shown: "Name <email>"
  author_name author_email  its name and its email address
  subject                   last commit's subject line
  worktree current          path of the worktree that has the branch checked out, or None;
                            whether it is the one checked out in repo_path
  repo_path                 the work tree gitob was asked about
  status                    the status column's text: the worktree's status ("1+ 2m 1u"),
                            "clean", "=" (in sync with the upstream), "2↑ 1↓", "⊘", "error"
  dirty modified untracked deleted
                            the checked-out worktree's state: uncommitted work, and its
                            counts; false and 0 for a branch that is not checked out
  type format_version       always "branch", and the JSON format version
Also, as in gitob 0.x: branch (= name), gone (= upstream_gone), worktree_path (= worktree),
repo and path (= repo_path).
  Every name: {names}

"""

_EXAMPLES = """\
Examples:
  -w 'ahead > 0 and behind == 0'     ready to push
  -w 'upstream is None'              never pushed
  -w 'gone or ahead > 0'             upstream deleted, or commits to push
  -w 'rx(name, "^feat")'
  -w 'date < now() - days(30) and not current'
  -w 'worktree is not None and dirty'
  -w 'author_email.endswith("@example.com")'
  -p name -0                         one name per branch, NUL-separated, for xargs -0
  -p 'name + " " + coalesce(upstream, "-")'

"""

# The shared text speaks of repositories; here every record is a branch.
_WORDING = (
    (re.compile(r"\bany repository is read\b"), "git runs"),
    (re.compile(r"\brepos\b"), "branches"),
    (re.compile(r"\brepo\b"), "branch"),
    (re.compile(r"\brepository\b"), "branch"),
    (re.compile(r"\bcomparing with mtime\b"), "comparing with date"),
)


def _generic_parts(text: str) -> tuple[str, str]:
    """The record-independent parts of the shared reference: from "Operators:" up to its
    examples, and from "Not allowed:" to the end."""
    start = text.find("Operators:")
    examples = text.find("Examples:", max(start, 0))
    rest = text.find("Not allowed:", max(examples, 0))
    if start < 0:
        return "", ""
    if examples < 0:
        return text[start:], ""
    return text[start:examples], text[rest:] if rest >= 0 else ""


def where_help(names: Iterable[str]) -> str:
    """The ``--help-where`` text for gitob, listing every one of *names*."""
    from gitoverit.query import HELP_TEXT

    listed = textwrap.fill(" ".join(sorted(names)), width=88, subsequent_indent="    ")
    language, limits = _generic_parts(HELP_TEXT)
    body = language + _EXAMPLES + limits
    for pattern, words in _WORDING:
        body = pattern.sub(words, body)
    return _NAMES_HELP.replace("{names}", listed) + body
