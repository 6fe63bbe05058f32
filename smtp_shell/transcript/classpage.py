"""`report DIR --format html -o class.html`: one page for the whole class.

Why this exists: an instructor grading in a browser wants one grid (a row per student, a cell
per lesson), sortable by any column, where a click on a cell opens that student's transcript.
The page is self-contained (styles and the sorting script inline, a Content-Security-Policy
that allows only that script by its hash, nothing from the network); each transcript's HTML
export is written beside it in `class-transcripts/`. Every string from a transcript is
escaped at the last step by escape.py (`html_text`, `html_url_path`): a student's name or
lesson id never becomes markup or script. The exports are streamed (export.py `write_export`),
one transcript at a time.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import re
from pathlib import Path

from smtp_shell.transcript.escape import html_text, html_url_path
from smtp_shell.transcript.report import (
    NO_LESSON,
    FileResult,
    GradeRow,
    duration,
    lesson_columns,
)

_SCRIPT = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('thead th').forEach(function (th, col) {
    var button = th.querySelector('button');
    if (!button) return;
    button.addEventListener('click', function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var up = th.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('thead th').forEach(function (other) { other.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', up ? 'ascending' : 'descending');
      function key(row) {
        var cell = row.cells[col];
        var value = cell.getAttribute('data-sort');
        return value === null ? cell.textContent.trim() : value;
      }
      var numeric = rows.every(function (row) { var k = key(row); return k === '' || !isNaN(Number(k)); });
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var d = numeric ? (Number(x || -1) - Number(y || -1)) : x.localeCompare(y);
        return up ? d : -d;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""

_CSS = """body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:80rem;color:#222;padding:0 1rem}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
th button{font:inherit;font-weight:bold;background:none;border:none;cursor:pointer;padding:0}
th[aria-sort=ascending] button::after{content:" \\25B2"}th[aria-sort=descending] button::after{content:" \\25BC"}
td.num{text-align:right}td.done{background:#e8f5e9}td.partial{background:#fff8e1}td.none{color:#999}
td.differs,td.edited{outline:2px solid #c62828}.flag{color:#c62828;font-weight:bold}
a{color:#1d4fa8}@media print{th button::after{content:""}a{color:inherit;text-decoration:none}}"""


def _csp_hash(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


def export_name(file: str) -> str:
    """`sub/ada-1.jsonl` -> `sub__ada-1.html`: a flat, safe file name for a transcript's page."""
    stem = file.removesuffix(".jsonl")
    return re.sub(r"[^0-9A-Za-z._-]+", "_", stem.replace("/", "__")) + ".html"


def _write_exports(results: list[FileResult], folder: Path) -> int:
    from smtp_shell.transcript.export import write_export
    from smtp_shell.transcript.format import TranscriptError
    from smtp_shell.transcript.reader import open_transcript

    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for result in results:
        if result.summary.status == "unreadable":
            continue
        target = folder / export_name(result.file)
        try:
            with open(target, "w", encoding="utf-8", newline="\n") as out:
                write_export(open_transcript(result.path), "html", out)
        except TranscriptError:
            target.unlink(missing_ok=True)  # the report already says what is wrong with it
            continue
        except Exception:  # one odd file never costs the class its page
            target.unlink(missing_ok=True)
            continue
        written += 1
    return written


def _cell(row: GradeRow | None, link_dir: str) -> str:
    if row is None:
        return '<td class="none" data-sort="">-</td>'
    esc = html_text
    state = "done" if row.completed else ("partial" if row.passed else "none")
    flag = f' {row.check}' if row.check in ("differs", "edited") else ""
    title = (f"{row.passed} of {row.total or '?'} steps passed; {row.attempts} attempts ({row.failed} failed), "
             f"{row.hints} hints, {row.skips} skips, {row.restarts} restarts; {duration(row.seconds)}; "
             f"{row.outcome}; {row.check}" + (f" - {row.check_detail}" if row.check_detail else ""))
    text = f"{row.passed}/{row.total}" if row.total else str(row.passed)
    mark = " ✓" if row.completed else ""
    warn = f' <span class="flag">{esc(row.check)}</span>' if flag else ""
    href = html_url_path(f"{link_dir}/{export_name(row.best)}")
    return (f'<td class="{state}{flag}" data-sort="{row.passed}" title="{esc(title)}">'
            f'<a href="{href}">{esc(text)}{mark}</a>{warn}</td>')


def _grid(rows: list[GradeRow], link_dir: str) -> str:
    esc = html_text
    lessons = lesson_columns(rows)
    cells: dict[str, dict[str, GradeRow]] = {}
    for row in rows:
        if row.lesson != NO_LESSON:
            cells.setdefault(row.student, {})[row.lesson] = row
    head = "".join(f'<th scope="col"><button type="button">{esc(name)}</button>'
                   f'{f" <small>({total} steps)</small>" if total else ""}</th>' for name, total in lessons)
    body = []
    for student, done in cells.items():
        completed = sum(r.completed for r in done.values())
        body.append(f'<tr><th scope="row" data-sort="{esc(student.lower())}">{esc(student)}</th>'
                    + "".join(_cell(done.get(name), link_dir) for name, _ in lessons)
                    + f'<td class="num" data-sort="{completed}">{completed}</td></tr>')
    return (f'<table id="grid" class="sortable"><thead><tr><th scope="col"><button type="button">student</button></th>'
            f'{head}<th scope="col"><button type="button">completed</button></th></tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _td(value, sort=None, href: str | None = None) -> str:
    esc = html_text
    key = "" if sort is None else f' data-sort="{esc(sort)}"'
    body = f'<a href="{href}">{esc(value)}</a>' if href else esc(value)
    return f"<td{key}>{body}</td>"


def _details(rows: list[GradeRow], link_dir: str) -> str:
    heads = ["student", "lesson", "steps passed", "of", "attempts", "failed", "hints", "skips", "restarts",
             "outcome", "time", "verified", "runs"]
    body = []
    for row in rows:
        link = html_url_path(f"{link_dir}/{export_name(row.best)}")
        cells = [_td(row.student), _td(row.lesson, href=link), _td(row.passed, row.passed),
                 _td(row.total or "", row.total or ""), _td(row.attempts, row.attempts), _td(row.failed, row.failed),
                 _td(row.hints, row.hints), _td(row.skips, row.skips), _td(row.restarts, row.restarts),
                 _td(row.outcome), _td(duration(row.seconds), round(row.seconds)),
                 _td(row.check + (f" - {row.check_detail}" if row.check_detail else "")),
                 _td(len(row.files), len(row.files))]
        body.append(f"<tr>{''.join(cells)}</tr>")
    head = "".join(f'<th scope="col"><button type="button">{h}</button></th>' for h in heads)
    return f'<table id="details" class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def class_page(folder: Path, rows: list[GradeRow], results: list[FileResult], link_dir: str) -> str:
    esc = html_text
    unreadable = [r for r in results if r.summary.status == "unreadable"]
    problems = "".join(f"<li>{esc(r.summary.problem or r.file)}</li>" for r in unreadable)
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    csp = f"default-src 'none'; style-src 'unsafe-inline'; script-src '{_csp_hash(_SCRIPT)}'; img-src data:"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>Class report: {esc(folder.name or str(folder))}</title><style>{_CSS}</style></head>
<body>
<h1>Class report: {esc(folder.name or str(folder))}</h1>
<p>{len(results)} transcript{'s' if len(results) != 1 else ''}, made {esc(now)}. Each cell is the steps passed
(of the lesson's steps), ✓ when the lesson was completed; hover for attempts, hints and time, click to open the
transcript. Click a column heading to sort.</p>
{_grid(rows, link_dir)}
<h2>Every student and lesson</h2>
{_details(rows, link_dir)}
{f'<h2>Files that cannot be read</h2><ul id="unreadable">{problems}</ul>' if problems else ''}
<script>{_SCRIPT}</script>
</body></html>
"""


def write_class_page(folder: Path, rows: list[GradeRow], results: list[FileResult], out: Path) -> int:
    """Write the page to `out` and the transcripts' pages to `OUT-STEM-transcripts/`; returns how many."""
    link_dir = f"{out.stem}-transcripts"
    written = _write_exports(results, out.parent / link_dir)
    out.write_text(class_page(folder, rows, results, link_dir), encoding="utf-8")
    return written
