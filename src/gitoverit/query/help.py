"""The language reference that ``--help-where`` prints, with every record name listed."""

from __future__ import annotations

from gitoverit.query.names import RECORD_NAMES

_HELP_TEMPLATE = """\
Expressions for --where (keep a repo when the expression is true) and --print (print its
value for each repo). The syntax is a small, safe subset of Python.

Names (one per record field, as in the JSON output, plus dir, parent, name, status,
remote, url, latest_mtime, reason):
  path display_path dir parent name   where the repo is (dir = the path as shown, as
                                      display_path; parent = its folder; name = last part)
  branch head detached upstream upstream_gone
  remote                              the tracking ref, "origin/main", or "-" without one
  ahead behind                        commits ahead of / behind the upstream
  staged modified deleted untracked conflicted stashes submodules   counts
  unstaged_modified unstaged_deleted  the work-tree part of modified / deleted
  lines_added lines_removed           lines changed in tracked files since HEAD
  dirty operation status              status is the table's text: "2m 1u 3↑", "clean", "error"
  remote_url url                      url is the short form: "owner/repo", "gl:owner/repo",
                                      or "-" without a remote
  ident                               committer identity, "Name <email>"
  mtime latest_mtime                  seconds since the epoch (the same value)
  fetched pulled pushed action outcome note head_before head_after duration_ms
  error reason format_version
  A value that was not read is None (e.g. branch on a detached HEAD, counts with
  --metadata-only). error is None or {"reason": ..., "message": ...};
  reason is error["reason"] or None. Line breaks in an expression count as spaces.
  Every name: {names}

Operators:
  == != < <= > >=  (chains work: 0 < ahead <= 5)   in, not in   is None, is not None
  and or not       + - * / // % **  and unary -     a if condition else b
  x[i]  x[i:j]  error["reason"]     [1, 2, 3] and ("a", "b") are lists

None rules:
  - Ordering comparisons (< <= > >=) involving None are false: "ahead > 0" skips repos
    with no upstream. == and != compare None normally.
  - Arithmetic, subscripts and method calls on None give None, and None is false.
    x in None is false.
  - A missing dict key or an index out of range gives None.

Functions:
  rx(s, pattern)     true when the regular expression matches somewhere in s (re.search);
                     rx(None, ...) is false.
  rxi(s, pattern)    the same, ignoring case
  len(x)             length of a string, list or dict
  int(x) float(x) str(x)   conversions
  abs(x)             absolute value
  min(a, b, ...) max(a, b, ...)   smallest / largest, skipping None; also min(list)
  coalesce(a, b, ...)      the first value that is not None
  now()              the current time, in seconds since the epoch
  days(n) hours(n)   n days / hours in seconds, for comparing with mtime

String methods:
  s.startswith(x) s.endswith(x)   x may be a string or a list of strings
  s.lower() s.upper() s.strip() s.lstrip() s.rstrip() s.split() s.replace(old, new)
  s.count(x) s.find(x) s.removeprefix(x) s.removesuffix(x) s.isdigit()
  s.rx(pattern) s.rxi(pattern)    as rx(s, pattern) and rxi(s, pattern)
  Also d.get(key[, default]) on a dict and l.count(x) on a list.

Examples:
  -w 'dirty and branch != "main"'
  -w 'ahead > 0 and behind == 0'
  -w 'rx(url, "^me/")'
  -w 'branch.rx("^feat/")'           or  -w 'ident.rxi("alice")'
  -w 'remote == "-"'                 repos without a tracking ref
  -w 'name.startswith("py")'
  -w 'mtime > now() - days(7)'
  -w 'error is not None'            or  -w 'reason == "timeout"'
  -w 'upstream_gone or stashes'
  -w '"wip" in branch.lower()'
  -p path -0                        one path per repo, NUL-separated, for xargs -0
  -p 'name + " " + coalesce(branch, "(detached)")'

Not allowed: attributes other than the methods above (nothing starting with "_"),
imports, lambda, comprehensions, assignment, f-strings, and any other function.

Limits: strings and lists up to 100,000 characters or items, integers below 10**100,
regular expressions up to 1,000 characters, and no pattern that repeats a repeating
group such as (a+)+. Division by zero, a type mismatch (like "a" - 1) or a result over
a limit is an error that points at the operator. A type mismatch between names and
values (ahead > "x", len(ahead), name - 1) is found before any repository is read; a
word without quotes (branch == main) is an unknown name: quote a string, "main".
"""


def _help_text() -> str:
    import textwrap

    names = textwrap.fill(" ".join(sorted(RECORD_NAMES)), width=88, subsequent_indent="    ")
    return _HELP_TEMPLATE.replace("{names}", names)


#: The language reference printed by ``--help-where``.
HELP_TEXT = _help_text()
