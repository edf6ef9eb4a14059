"""The output options every listing command shares, and the writing of its results.

:func:`resolve` merges the flags over ``GITOVERIT_*`` over the config file and compiles
the expressions, so that every mistake is reported before any work starts;
:func:`finish_output` writes the collected records as a table, JSON or ``--print`` values.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gitoverit.errors import UsageError


@dataclass(frozen=True, slots=True)
class OutputOptions:
    """The output and concurrency flags of every command that lists repositories, as
    given (``None``: not given)."""

    fmt: str = "table"
    sort_key: str | None = None
    reverse: bool = False
    where: tuple[str, ...] = ()
    print_expr: tuple[str, ...] = ()
    null_sep: bool = False
    columns: str | None = None
    jobs: int | None = None
    net_jobs: int | None = None
    timeout: float | None = None
    exit_on_error: bool = False
    no_progress: bool = False
    show_errors: bool = False


@dataclass(frozen=True, slots=True)
class OutputPlan:
    """Output settings resolved from flags, environment and the config file."""

    fmt: str
    sort_key: str
    reverse: bool
    columns: tuple[str, ...]
    where: Any
    print_expr: Any
    null_sep: bool
    dirty_only: bool
    show_errors: bool
    no_progress: bool
    #: ``(column, priority)`` pairs from the ``column_priorities`` setting: when the table
    #: is too wide, a column with a lower priority gives way first.
    column_priorities: tuple[tuple[str, int], ...] = ()

    def extras(self) -> frozenset[str]:
        """The extras (:data:`gitoverit.git.extras.EXTRAS`) this output shows or reads:
        the line totals and the identity for JSON; for a table, those of its columns; those
        of the sort key; and those an expression names. ``branches`` (``branches_ahead``)
        only when a column, the sort key or an expression names it, in any format."""
        wanted: set[str] = set()
        if self.print_expr is None and "branches_ahead" in self.columns:
            wanted.add("branches")
        if self.sort_key == "branches_ahead":
            wanted.add("branches")
        for expr in (self.where, self.print_expr):
            if expr is not None and "branches_ahead" in expr.names:
                wanted.add("branches")
        if self.fmt in ("json", "ndjson") and self.print_expr is None:
            return frozenset({"lines", "ident", *wanted})
        if self.fmt == "html" and self.print_expr is None:
            wanted.add("files")
        if self.print_expr is None and "status" in self.columns:
            wanted.add("lines")
        if self.print_expr is None and "ident" in self.columns:
            wanted.add("ident")
        if self.sort_key in ("ident", "author"):
            wanted.add("ident")
        for expr in (self.where, self.print_expr):
            names = expr.names if expr is not None else frozenset()
            if names & {"lines_added", "lines_removed"}:
                wanted.add("lines")
            if "ident" in names:
                wanted.add("ident")
        return frozenset(wanted)


#: The sort key when neither a flag nor the configuration names one.
DEFAULT_SORT = "mtime"


def user_settings() -> tuple[Any, Any]:
    """The settings of the config file and the environment, and their sources, with the
    debug log started when they name one. Raises :class:`UsageError` (exit 2) for a
    setting that cannot be used, before any work starts."""
    from gitoverit.config import ConfigError, load_settings
    from gitoverit.config.debug_log import start_debug_log

    try:
        settings, sources = load_settings()
        start_debug_log(settings, sources)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    return settings, sources


def resolve(
    out: OutputOptions,
    *,
    dirty_only: bool = False,
    roots: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    trust_repo_config: bool = False,
    scans_roots: bool = False,
    metadata_only: bool = False,
) -> tuple[Any, OutputPlan]:
    """Merge flags over ``GITOVERIT_*`` over the config file, and compile expressions.

    Returns the settings and the output plan. Raises :class:`UsageError` (exit 2) for
    anything wrong, before any work starts; with *scans_roots*, also for a root from the
    config file or ``GITOVERIT_ROOTS`` that is not a folder (a group, ``@NAME``, is
    checked when :func:`gitoverit.select.roots_of` resolves it).
    """
    from gitoverit.config import ConfigError, apply_flags, origin
    from gitoverit.output.columns import ColumnSpecError, parse_columns

    settings, sources = user_settings()
    try:
        settings, sources = apply_flags(
            settings,
            sources,
            # -j 0 is serial, as -j 1 (the earlier interface spelled it so).
            jobs=1 if out.jobs == 0 else out.jobs,
            net_jobs=out.net_jobs,
            timeout=out.timeout,
            sort=out.sort_key,
            roots=roots or None,
            exclude=exclude or None,
            columns=None,
            trust_repo_config=True if trust_repo_config else None,
        )
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    if scans_roots:
        for root in settings.roots:
            # A group (``@work``) is resolved with the selection (gitoverit.select.roots_of).
            if not root.startswith("@") and not os.path.isdir(root):
                raise UsageError(f"{origin(sources['roots'])}: not a folder: {root}")
    from gitoverit.output.columns import DEFAULT_COLUMNS, METADATA_ONLY_COLUMNS

    # Without the work tree there is no modification time: its column and its sort go.
    base = METADATA_ONLY_COLUMNS if metadata_only else DEFAULT_COLUMNS
    columns = parse_columns(settings.columns, base)  # checked as the config was read
    try:
        columns = parse_columns(out.columns, columns)
    except ColumnSpecError as exc:
        raise UsageError(f"-c/--columns: {exc}") from exc
    if not columns and out.fmt not in ("json", "ndjson") and not out.print_expr:
        raise UsageError("-c/--columns leaves no column to show, e.g. -c -,repo,status")
    where = _all_of([_compile("--where", text) for text in out.where])
    if len(out.print_expr) > 1:
        raise UsageError(
            "-p/--print takes one expression; to print several values, join them in one, "
            """e.g. -p 'path + " " + branch'"""
        )
    print_expr = _compile("--print", out.print_expr[0]) if out.print_expr else None
    if out.null_sep and print_expr is None:
        raise UsageError("-0/--print0 only applies to --print")
    if print_expr is not None and out.fmt != "table":
        raise UsageError(
            f"-p/--print writes its own lines; it cannot be combined with -o {out.fmt}"
        )
    plan = OutputPlan(
        fmt=out.fmt or "table",
        sort_key=settings.sort or ("dir" if metadata_only else DEFAULT_SORT),
        reverse=out.reverse,
        columns=columns,
        where=where,
        print_expr=print_expr,
        null_sep=out.null_sep,
        dirty_only=dirty_only,
        show_errors=out.show_errors,
        no_progress=out.no_progress,
        column_priorities=settings.column_priorities,
    )
    return settings, plan


class _AllOf:
    """Several ``--where`` expressions that must all hold, evaluated as one."""

    def __init__(self, exprs: list[Any]) -> None:
        self.exprs = exprs
        self.names = frozenset().union(*(e.names for e in exprs))

    def evaluate(self, env: Any) -> bool:
        from gitoverit.query import truthy

        return all(truthy(e.evaluate(env)) for e in self.exprs)


def _all_of(exprs: list[Any]) -> Any:
    """One expression for *exprs*: ``None`` for none, the one itself, or all of them."""
    if not exprs:
        return None
    return exprs[0] if len(exprs) == 1 else _AllOf(exprs)


def _compile(flag: str, text: str) -> Any:
    from gitoverit.query import RECORD_TYPES, ExprError, compile_expr

    try:
        return compile_expr(text, types=RECORD_TYPES)
    except ExprError as exc:
        raise UsageError(f"bad {flag} expression\n{exc.render()}") from exc


def warn(text: str) -> None:
    """One line on stderr."""
    import click

    click.echo(text, err=True)


def finish_output(records: list[Any], plan: OutputPlan, *, notes: Sequence[str] = ()) -> None:
    """Write the collected records: sorted, as json, table or ``--print`` values. A table
    on a terminal ends with *notes*, one line each."""
    if plan.fmt == "ndjson" and plan.print_expr is None:
        return
    from gitoverit.output.sorting import sort_records

    records = sort_records(records, plan.sort_key, plan.reverse)
    if plan.print_expr is not None:
        _write_printed(records, plan)
    elif plan.fmt == "json":
        from gitoverit.output.json import write_json

        write_json(records, sys.stdout)
    elif plan.fmt in ("html", "svg", "markdown", "csv"):
        _write_report(records, plan)
    else:
        from gitoverit.output.table import render_table

        render_table(
            records,
            sys.stdout,
            columns=plan.columns,
            notes=notes,
            priorities=dict(plan.column_priorities),
        )
        sys.stdout.flush()


def _write_report(records: list[Any], plan: OutputPlan) -> None:
    """``-o html|svg|markdown|csv``: the table's columns, every cell whole."""
    from gitoverit.output import reports

    if plan.fmt == "html":
        reports.write_html(records, sys.stdout, plan.columns)
    elif plan.fmt == "svg":
        width = os.environ.get("COLUMNS", "")
        reports.write_svg(
            records, sys.stdout, plan.columns, int(width) if width.isdigit() else None
        )
    elif plan.fmt == "markdown":
        reports.write_markdown(records, sys.stdout, plan.columns)
    else:
        reports.write_csv(records, sys.stdout, plan.columns)
    sys.stdout.flush()


def _write_printed(records: list[Any], plan: OutputPlan) -> None:
    printed = PrintedValues(plan)
    for rec in records:
        printed.add(rec)
    printed.write(presorted=True)


class PrintedValues:
    """``-p/--print`` output, gathered as the records come and written at the end.

    The values must be written sorted, but the records need not be kept for that: of
    each record only its sort key and its printed text are (or the message of the
    expression's error), so memory stays small however many repositories are scanned.
    Written sorted and with the same warning as if the records had been kept.
    """

    def __init__(self, plan: OutputPlan) -> None:
        from gitoverit.output.sorting import sort_key

        self.plan = plan
        self._key = sort_key(plan.sort_key)
        #: ``(sort key, text or None, error message or None)`` per record, in order.
        self.items: list[tuple[Any, str | None, str | None]] = []

    def add(self, rec: Any) -> None:
        from gitoverit.query import ExprError, record_env

        key = None if self._key is None else self._key(rec)
        try:
            value = self.plan.print_expr.evaluate(record_env(rec))
        except ExprError as exc:
            self.items.append((key, None, str(exc)))
            return
        self.items.append((key, None if value is None else _print_value(value), None))

    def write(self, *, presorted: bool = False) -> None:
        """Write the values, sorted as the records would be (unless *presorted*)."""
        from gitoverit.text import safe_text

        plan = self.plan
        items = self.items
        if not presorted:
            if self._key is None:
                items = list(reversed(items)) if plan.reverse else items
            else:
                items = sorted(items, key=lambda item: item[0], reverse=plan.reverse)
        warned = False
        # Byte-exact into a pipe (for xargs -0); escaped on a terminal, like every other
        # output.
        to_pipe = plan.null_sep and not sys.stdout.isatty()
        raw = getattr(sys.stdout, "buffer", None) if to_pipe else None
        for _key, text, error in items:
            if error is not None:
                if not warned:
                    warned = True
                    warn(f"warning: --print: {error} (such repos are left out)")
                continue
            if text is None:
                continue
            if raw is not None:
                # Byte-exact for xargs -0: a path goes out as the bytes the filesystem
                # gave, whatever the encoding of stdout.
                raw.write(os.fsencode(text) + b"\0")
            elif plan.null_sep:
                sys.stdout.write(safe_text(text) + "\0")
            else:
                sys.stdout.write(safe_text(text) + "\n")
        (raw or sys.stdout).flush()


def _print_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        from gitoverit.output.json import dumps

        return dumps(value)
    return str(value)
