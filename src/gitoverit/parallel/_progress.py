"""The progress bar of ``run_parallel(..., desc=...)``: on stderr, only on a terminal.

Rich is imported when a bar is shown, never when this module is.
"""

from __future__ import annotations

import os
import sys
from typing import IO, TypeVar

from gitoverit.parallel._outcome import Outcomes

T = TypeVar("T")
R = TypeVar("R")


def is_terminal(stream: IO[str] | None) -> bool:
    """Whether *stream* is open on a terminal (``False`` for ``None`` or a closed one)."""
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _same_terminal(a: IO[str] | None, b: IO[str] | None) -> bool:
    """Whether *a* and *b* are open on one and the same terminal."""
    if not (is_terminal(a) and is_terminal(b)):
        return False
    assert a is not None and b is not None
    try:
        return os.path.samestat(os.fstat(a.fileno()), os.fstat(b.fileno()))
    except (AttributeError, ValueError, OSError):
        return False


def _errors_text(errors: int) -> str:
    return f"{errors} error" if errors == 1 else f"{errors} errors"


def with_progress(gen: Outcomes[T, R], desc: str, total: int | None) -> Outcomes[T, R]:
    """Yield what *gen* yields while a bar on stderr counts the outcomes and the errors
    among them (failed, timed out or skipped), out of *total* when it is known. *desc* is
    shown as it is, never read as markup.

    What the caller prints to stdout while the bar is up goes above the bar when stdout is
    the bar's own terminal; stdout elsewhere (a file, a pipe) is left alone, so data never
    lands on the terminal instead.
    """
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[errors]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        redirect_stdout=_same_terminal(sys.stdout, sys.stderr),
    )
    errors = 0
    try:
        with progress:
            task_id = progress.add_task(escape(desc), total=total, errors=_errors_text(0))
            for outcome in gen:
                if not outcome.ok:
                    errors += 1
                progress.update(task_id, advance=1, errors=_errors_text(errors))
                yield outcome
    finally:
        # Closing this wrapper early must close the run too, so that it cancels its tasks.
        gen.close()
