"""`smtp-shell report DIR`: one row per transcript in a folder, for grading.

Why this exists: after a lab session an instructor has a folder of forty transcripts and wants
to see at a glance who used TLS, who logged in, whose message was accepted and who is still
stuck; a CSV or JSON of the same rows goes into a spreadsheet or an LMS. A file that cannot
be read becomes a row saying why, never a crash.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING, cast

from rich.table import Table
from rich.text import Text

from smtp_shell.transcript.escape import csv_cell, json_dumps
from smtp_shell.transcript.escape import terminal as plain_visible
from smtp_shell.transcript.format import TranscriptError
from smtp_shell.transcript.reader import open_transcript
from smtp_shell.transcript.summary import Summary, summarize

if TYPE_CHECKING:
    from rich.console import JustifyMethod

COLUMNS = ("file", "target", "start", "duration_s", "status", "problem", "tls", "authenticated", "user",
           "messages_accepted", "replies_4xx", "replies_5xx", "lesson", "steps_passed", "steps")


def transcript_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.jsonl") if p.is_file())


def collect(folder: Path) -> list[Summary]:
    """A summary per transcript under `folder` (bad files get a row with the problem)."""
    out = []
    for path in transcript_files(folder):
        name = path.relative_to(folder).as_posix()
        try:
            out.append(summarize(open_transcript(path), name))  # streamed: one event in memory at a time
        except TranscriptError as exc:
            out.append(Summary(file=name, problem=str(exc).replace(str(path), name)))
        except Exception as exc:  # never lose the whole class to one file: say which, go on
            out.append(Summary(file=name, problem=f"{name} could not be summarised ({exc.__class__.__name__}); "
                                                  "please report this file as a bug"))
    return out


def to_csv(summaries: list[Summary]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for s in summaries:
        # Every text cell is escaped (and guarded against formulas) at this last step.
        writer.writerow({k: csv_cell(v) for k, v in s.row().items()})
    return buf.getvalue()


def to_json(summaries: list[Summary]) -> str:
    return json_dumps([s.row() for s in summaries]) + "\n"


def _yes(flag: bool) -> Text:
    return Text("yes", style="green") if flag else Text("no", style="bright_black")


def to_table(summaries: list[Summary], folder: Path) -> Table:
    table = Table(title=Text(f"Transcripts in {plain_visible(str(folder))}"), title_justify="left")
    for name, justify in (("file", "left"), ("target", "left"), ("start", "left"), ("duration", "right"),
                          ("status", "left"), ("TLS", "center"), ("login", "left"), ("accepted", "right"),
                          ("4xx", "right"), ("5xx", "right"), ("lesson", "left"), ("steps", "right")):
        table.add_column(name, justify=cast("JustifyMethod", justify), overflow="fold")
    for s in summaries:
        if s.status == "unreadable":
            table.add_row(Text(plain_visible(s.file)), Text(plain_visible(s.problem or ""), style="red"), "", "",
                          Text("unreadable", style="red"), *[""] * 7)
            continue
        status = Text("complete", style="green") if s.complete else Text("incomplete", style="yellow")
        table.add_row(Text(plain_visible(s.file)), Text(plain_visible(s.target)), Text(plain_visible(s.started[:19].replace("T", " "))),
                      f"{s.duration:.1f}s", status, _yes(s.tls),
                      Text(plain_visible(s.user)) if s.authenticated and s.user else _yes(False),
                      str(s.accepted), str(s.replies_4xx),
                      Text(str(s.replies_5xx), style="red" if s.replies_5xx else ""),
                      Text(plain_visible(s.lesson or "")), str(len(s.steps)))
    return table
