"""Reports for people and other programs: CSV, Markdown, SVG and a self-contained HTML page.

Each shows the table's columns with every cell at full detail (nothing is cut: there is no
terminal to fit). The SVG is the terminal table itself, as Rich draws it. The HTML page
needs nothing from the network: its style and its sorting script are inside it, and every
value from a repository (names, branches, URLs, file names) is escaped, so no markup or
script in them gets through.
"""

from __future__ import annotations

import csv
import html
import io
import time
from collections.abc import Sequence
from typing import IO

from gitoverit.model import RepoRecord
from gitoverit.output.cells import LEGEND_ITEMS, Cell
from gitoverit.output.columns import COLUMNS, DEFAULT_COLUMNS

#: The report formats of ``-o``, beside ``table``, ``json`` and ``ndjson``.
REPORT_FORMATS = ("html", "svg", "markdown", "csv")


def _cells(records: Sequence[RepoRecord], columns: Sequence[str]) -> list[list[Cell]]:
    now = time.time()
    return [[COLUMNS[c].render(r, 0, now) for c in columns] for r in records]


def write_csv(records: Sequence[RepoRecord], out: IO[str], columns: Sequence[str]) -> None:
    """One row per repository, the column names first."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in _cells(records, columns):
        writer.writerow([cell.text for cell in row])


def _md(text: str) -> str:
    """*text* safe in a Markdown table cell: no column break, no markup."""
    for ch in "\\`*_[]<>|#!~":
        text = text.replace(ch, "\\" + ch)
    return text


def write_markdown(records: Sequence[RepoRecord], out: IO[str], columns: Sequence[str]) -> None:
    """A GitHub-flavoured Markdown table."""
    out.write("| " + " | ".join(_md(COLUMNS[c].header) for c in columns) + " |\n")
    out.write(
        "| "
        + " | ".join("---:" if COLUMNS[c].justify == "right" else "---" for c in columns)
        + " |\n"
    )
    for row in _cells(records, columns):
        out.write("| " + " | ".join(_md(cell.text) for cell in row) + " |\n")


def write_svg(
    records: Sequence[RepoRecord], out: IO[str], columns: Sequence[str], width: int | None
) -> None:
    """The table as a terminal *width* cells wide (default: as wide as the table needs)
    shows it, in colour, as an SVG picture."""
    from rich.cells import cell_len
    from rich.console import Console

    from gitoverit.output.table import render_table

    plain = io.StringIO()
    render_table(records, plain, columns=columns, color=False, width=100_000, terminal=False)
    needed = max((cell_len(line) for line in plain.getvalue().splitlines()), default=1)
    size = min(needed, width) if width else needed
    console = Console(
        file=io.StringIO(), record=True, force_terminal=True, color_system="truecolor", width=size
    )
    render_table(records, io.StringIO(), columns=columns, terminal=False, console=console)
    out.write(console.export_svg(title="gitoverit"))


_STYLE_CSS = {
    "green": "#2e9d2e",
    "yellow": "#b58900",
    "red": "#d0312d",
    "bold red": "#d0312d;font-weight:bold",
    "magenta": "#b03aa0",
    "bright_magenta": "#d33682",
    "cyan": "#168a8a",
    "blue": "#2c6fbb",
    "bright_blue": "#4f8fe0",
    "dim": "#888",
    "bold": "inherit;font-weight:bold",
}


def _styled(cell: Cell) -> str:
    """*cell* as escaped HTML, each styled part in its colour."""

    def span(text: str, style: str) -> str:
        css = _STYLE_CSS.get(style)
        escaped = html.escape(text)
        return f'<span style="color:{css}">{escaped}</span>' if css else escaped

    if not cell.spans:
        return span(cell.text, cell.style)
    parts, pos = [], 0
    for start, end, style in cell.spans:
        parts.append(html.escape(cell.text[pos:start]))
        parts.append(span(cell.text[start:end], style))
        pos = end
    parts.append(html.escape(cell.text[pos:]))
    return "".join(parts)


def _sort_key(record: RepoRecord, column: str, cell: Cell) -> str:
    """What a click on *column*'s header sorts by: a number for times and counts."""
    st = record.status
    if column == "mtime":
        return str(st.mtime if st is not None and st.mtime is not None else -1)
    if column in ("ahead", "behind", "stashes"):
        value = getattr(st, column, None) if st is not None else None
        return str(value if value is not None else -1)
    return cell.text


def write_html(
    records: Sequence[RepoRecord], out: IO[str], columns: Sequence[str] = DEFAULT_COLUMNS
) -> None:
    """One self-contained page: the table, sortable by a click on a header, and under each
    repository its changed files, when they were read."""
    numeric = {"mtime", "ahead", "behind", "stashes"}
    head = "".join(
        f'<th data-numeric="{"1" if c in numeric else ""}">{html.escape(COLUMNS[c].header)}</th>'
        for c in columns
    )
    rows = []
    for record, row in zip(records, _cells(records, columns), strict=True):
        tds = "".join(
            f'<td data-sort="{html.escape(_sort_key(record, c, cell))}">{_styled(cell)}</td>'
            for c, cell in zip(columns, row, strict=True)
        )
        rows.append(f"<tr>{tds}</tr>{_files_row(record, len(columns))}")
    legend = " · ".join(html.escape(item) for item in LEGEND_ITEMS)
    # The rows go in last: nothing from a repository can then be read as a placeholder.
    page = _PAGE.replace("{head}", head).replace("{legend}", legend)
    out.write(page.replace("{count}", str(len(records))).replace("{rows}", "\n".join(rows)))


def _files_row(record: RepoRecord, span: int) -> str:
    """A row under *record*'s own, with a ``<details>`` of its changed files."""
    files = record.status.files if record.status is not None else None
    if not files:
        return ""
    items = "".join(
        f"<li><code>{html.escape(code)}</code> {html.escape(path)}</li>" for code, path in files
    )
    summary = f"{len(files)} changed file{'s' if len(files) != 1 else ''}"
    return (
        f'<tr class="files"><td colspan="{span}"><details><summary>{summary}</summary>'
        f"<ul>{items}</ul></details></td></tr>"
    )


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gitoverit report</title>
<style>
body{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;margin:1.5em;color:#222}
table{border-collapse:collapse}
th{text-align:left;cursor:pointer;user-select:none;border-bottom:2px solid #999;padding:.2em .8em}
th.asc::after{content:" \\25B2"}th.desc::after{content:" \\25BC"}
td{padding:.15em .8em;white-space:pre;vertical-align:top}
tr.files td{padding-top:0;color:#555}
details ul{margin:.2em 0 .4em 1em;padding:0}
p.legend{color:#777;margin-top:1em}
</style></head><body>
<h1>gitoverit: {count} repositories</h1>
<table id="repos"><thead><tr>{head}</tr></thead><tbody>
{rows}
</tbody></table>
<p class="legend">{legend}</p>
<script>
(function(){
  var table=document.getElementById("repos"),body=table.tBodies[0];
  var heads=table.tHead.rows[0].cells;
  function groups(){
    var out=[],rows=Array.prototype.slice.call(body.rows);
    for(var i=0;i<rows.length;i++){
      if(rows[i].className==="files"){out[out.length-1].push(rows[i]);}else{out.push([rows[i]]);}
    }
    return out;
  }
  Array.prototype.forEach.call(heads,function(th,col){
    th.addEventListener("click",function(){
      var asc=!th.classList.contains("asc"),numeric=th.dataset.numeric==="1";
      Array.prototype.forEach.call(heads,function(h){h.classList.remove("asc","desc");});
      th.classList.add(asc?"asc":"desc");
      var g=groups();
      g.sort(function(a,b){
        var x=a[0].cells[col].dataset.sort,y=b[0].cells[col].dataset.sort;
        var r=numeric?(parseFloat(x)-parseFloat(y)):x.localeCompare(y,undefined,{numeric:true});
        return asc?r:-r;
      });
      g.forEach(function(rows){rows.forEach(function(r){body.appendChild(r);});});
    });
  });
})();
</script>
</body></html>
"""
