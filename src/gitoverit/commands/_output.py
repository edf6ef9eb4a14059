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

    def extras(self) -> frozenset[str]:
        """The extras (:data:`gitoverit.git.extras.EXTRAS`) this output shows or reads:
        every one for JSON; for a table, those of its columns and sort key; and those an
        expression names."""
        if self.fmt in ("json", "ndjson") and self.print_expr is None:
            return frozenset({"lines", "ident"})
        wanted: set[str] = set()
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
    config file or ``GITOVERIT_ROOTS`` that is not a folder.
    """
    from gitoverit.config import ConfigError, apply_flags, load_settings, origin
    from gitoverit.output.columns import ColumnSpecError, parse_columns

    try:
        settings, sources = load_settings()
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
            if not os.path.isdir(root):
                raise UsageError(f"{origin(sources['roots'])}: not a folder: {root}")
    from gitoverit.output.columns import DEFAULT_COLUMNS, METADATA_ONLY_COLUMNS

    # Without the work tree there is no modification time: its column and its sort go.
    base = METADATA_ONLY_COLUMNS if metadata_only else DEFAULT_COLUMNS
    columns = parse_columns(settings.columns, base)  # checked as the config was read
    try:
        columns = parse_columns(out.columns, columns)
    except ColumnSpecError as exc:
        raise UsageError(f"-c/--columns: {exc}") from exc
    if not columns and out.fmt == "table" and not out.print_expr:
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
        sort_key=settings.sort or ("dir" if metadata_only else "mtime"),
        reverse=out.reverse,
        columns=columns,
        where=where,
        print_expr=print_expr,
        null_sep=out.null_sep,
        dirty_only=dirty_only,
        show_errors=out.show_errors,
        no_progress=out.no_progress,
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
    else:
        from gitoverit.output.table import render_table

        render_table(records, sys.stdout, columns=plan.columns, notes=notes)
        sys.stdout.flush()


def _write_printed(records: list[Any], plan: OutputPlan) -> None:
    from gitoverit.query import ExprError, record_env
    from gitoverit.text import safe_text

    warned = False
    # Byte-exact into a pipe (for xargs -0); escaped on a terminal, like every other output.
    to_pipe = plan.null_sep and not sys.stdout.isatty()
    raw = getattr(sys.stdout, "buffer", None) if to_pipe else None
    for rec in records:
        try:
            value = plan.print_expr.evaluate(record_env(rec))
        except ExprError as exc:
            if not warned:
                warned = True
                warn(f"warning: --print: {exc} (such repos are left out)")
            continue
        if value is None:
            continue
        text = _print_value(value)
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
