"""`smtp-shell report DIR`: the class view for grading, one row per student x lesson.

Why this exists: after a lab an instructor has a folder of transcripts and wants to see at a
glance who did which lesson, how far they got, with how many tries and hints, and whether the
file can be trusted; the same rows go to a gradebook (CSV: one row per student, a column per
lesson), JSON, or one HTML page (classpage.py). A file that cannot be read is a row saying
why, never a crash. The counting rules are in grading.py; verification in verify.py.

Every file is streamed (reader.py `TranscriptFile`: one event in memory at a time), and one that
cannot be read, or trips anything at all, is one sentence in the results while the rest of
the class still shows. Values are kept exactly as the files hold them and escaped at the last
step, by escape.py's function for the output at hand (terminal, CSV, JSON, HTML).

When a student has several transcripts of one lesson, the row takes steps passed, total and
completion from the run that got furthest, and adds up attempts, hints, skips and time over
all of them (every try counts); `runs` says how many files there were.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from rich import box
from rich.table import Table
from rich.text import Text

from smtp_shell.transcript.escape import csv_cell, json_dumps, terminal
from smtp_shell.transcript.format import TranscriptError
from smtp_shell.transcript.grading import LessonWork, lesson_work
from smtp_shell.transcript.reader import TranscriptFile, open_transcript
from smtp_shell.transcript.summary import Summary, summarize

NO_LESSON = "(free session)"
UNKNOWN_STUDENT = "(no name)"


@dataclass
class FileResult:
    """One transcript file: what it holds and whether it can be trusted."""
    file: str
    path: Path
    summary: Summary
    work: LessonWork | None = None
    student: str = UNKNOWN_STUDENT
    chain: str = "absent"            # intact | absent | broken
    chain_detail: str = ""
    check: str = "unchecked"         # unchecked | edited | verified | differs | no server record
    check_detail: str = ""

    def as_dict(self) -> dict:
        out = {**self.summary.row(), "student": self.student, "chain": self.chain, "chain_detail": self.chain_detail,
               "verified": self.check, "verified_detail": self.check_detail}
        if self.work is not None:
            out.update(self.work.as_dict())
        return out


@dataclass
class GradeRow:
    """One student x lesson."""
    student: str
    lesson: str
    title: str = ""
    total: int | None = None
    passed: int = 0
    attempts: int = 0
    failed: int = 0
    hints: int = 0
    skips: int = 0
    restarts: int = 0
    completed: bool = False
    outcome: str = "none"
    seconds: float = 0.0
    check: str = "unchecked"
    check_detail: str = ""
    files: list[str] = field(default_factory=list)
    best: str = ""                   # the file of the run that got furthest

    def as_dict(self) -> dict:
        return {"student": self.student, "lesson": self.lesson, "lesson_title": self.title,
                "steps_passed": self.passed, "steps_total": self.total, "attempts": self.attempts,
                "failed_attempts": self.failed, "hints": self.hints, "skips": self.skips, "restarts": self.restarts,
                "completed": self.completed, "outcome": self.outcome, "seconds": round(self.seconds, 1),
                "verified": self.check, "verified_detail": self.check_detail, "runs": len(self.files),
                "files": self.files, "best_file": self.best}


def transcript_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.jsonl") if p.is_file())


def _file_result(path: Path, name: str, transcript: TranscriptFile, sessions, rejudge=None) -> FileResult:
    result = FileResult(name, path, summarize(transcript, name))   # pass 1 (also finds where a chain breaks)
    result.student = transcript.student or UNKNOWN_STUDENT
    work = lesson_work(transcript)                                  # pass 2
    if transcript.lesson or work.recorded_events or result.summary.steps:
        result.work = work
    if transcript.chain_line is not None:
        result.chain, result.chain_detail = "broken", transcript.chain
        result.check, result.check_detail = "edited", f"the hash chain breaks at line {transcript.chain_line}"
    elif transcript.chain == "intact":
        result.chain = "intact"
    if sessions is not None:
        from smtp_shell.transcript.verify import verify

        verdict = verify(transcript, sessions, rejudge=rejudge)
        result.check, result.check_detail = verdict.status, verdict.detail
    return result


def collect(folder: Path, labdir: Path | None = None, rejudge=None) -> list[FileResult]:
    """A result per transcript under `folder` (bad files get a result with the problem).
    With `labdir`, each is verified; `rejudge(transcript, labdir)` also re-runs a lesson's checks."""
    sessions = None
    if labdir is not None:
        from smtp_shell.transcript.verify import load_sessions

        sessions = load_sessions(labdir)
    out = []
    for path in transcript_files(folder):
        name = path.relative_to(folder).as_posix()
        try:
            judge = (lambda t: rejudge(t, labdir)) if rejudge is not None and labdir is not None else None
            out.append(_file_result(path, name, open_transcript(path), sessions, judge))
        except TranscriptError as exc:
            out.append(_unreadable(name, path, str(exc).replace(str(path), name)))
        except Exception as exc:  # never lose the whole class to one file: say which, go on
            out.append(_unreadable(name, path, f"{name} could not be summarised ({exc.__class__.__name__}); "
                                               "please report this file as a bug"))
    return out


def _unreadable(name: str, path: Path, problem: str) -> FileResult:
    return FileResult(name, path, Summary(file=name, problem=problem), check="unreadable",
                      check_detail="the file cannot be read")


_CHECK_RANK = {"differs": 0, "edited": 1, "unreadable": 2, "no server record": 3, "unchecked": 4, "verified": 5}


def _progress_key(result: FileResult):
    work = result.work
    assert work is not None
    return (work.completed, work.passed, -work.failed, result.summary.started)


def grade_rows(results: list[FileResult]) -> list[GradeRow]:
    """One row per student x lesson, in student then lesson order."""
    groups: dict[tuple[str, str], list[FileResult]] = {}
    for result in results:
        if result.summary.status == "unreadable":
            continue
        lesson = (result.work.lesson if result.work else None) or NO_LESSON
        groups.setdefault((result.student, lesson), []).append(result)
    rows = []
    for (student, lesson), members in sorted(groups.items(), key=lambda kv: (kv[0][0].lower(), kv[0][1])):
        row = GradeRow(student, lesson, files=[m.file for m in members])
        worst = min(members, key=lambda m: _CHECK_RANK.get(m.check, 0))
        if worst.check == "verified" or all(m.check == worst.check for m in members):
            row.check, row.check_detail = worst.check, worst.check_detail
        else:
            row.check, row.check_detail = worst.check, f"{worst.file}: {worst.check_detail}".rstrip(": ")
        lessons = [(m, m.work) for m in members if m.work is not None]
        if not lessons:
            row.best = members[-1].file
            row.seconds = sum(m.summary.duration for m in members)
            rows.append(row)
            continue
        best, work = max(lessons, key=lambda pair: _progress_key(pair[0]))
        row.best, row.title = best.file, work.title
        row.total, row.passed = work.total, work.passed
        row.completed, row.outcome = work.completed, work.outcome
        for _, each in lessons:
            row.attempts += each.attempts
            row.failed += each.failed
            row.hints += each.hints
            row.skips += each.skips
            row.restarts += each.restarts
            row.seconds += each.seconds
        rows.append(row)
    return rows


# ---- CSV (a gradebook) and JSON -------------------------------------------------------------

def lesson_columns(rows: list[GradeRow]) -> list[tuple[str, int | None]]:
    """(lesson, total steps) for every lesson anyone did, in name order."""
    totals: dict[str, int | None] = {}
    for row in rows:
        if row.lesson != NO_LESSON:
            totals[row.lesson] = totals.get(row.lesson) or row.total
    return sorted(totals.items())


def to_csv(rows: list[GradeRow]) -> str:
    """One row per student, one column per lesson (the steps passed), as gradebooks import."""
    lessons = lesson_columns(rows)
    header = ["student"] + [f"{name} (of {total})" if total else name for name, total in lessons] + \
             ["lessons_completed", "not_verified"]
    by_student: dict[str, dict[str, GradeRow]] = {}
    for row in rows:
        if row.lesson != NO_LESSON:
            by_student.setdefault(row.student, {})[row.lesson] = row
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([csv_cell(h) for h in header])
    for student, done in by_student.items():
        cells = [done[name].passed if name in done else "" for name, _ in lessons]
        unverified = [name for name, r in done.items() if r.check != "verified"]
        writer.writerow([csv_cell(student), *cells, sum(r.completed for r in done.values()),
                         csv_cell("; ".join(unverified))])
    return buf.getvalue()


def to_json(rows: list[GradeRow], results: list[FileResult]) -> str:
    """Exact values, every dangerous character as a \\uXXXX escape (escape.py `json_dumps`)."""
    return json_dumps({"rows": [r.as_dict() for r in rows], "files": [r.as_dict() for r in results]}) + "\n"


# ---- the table (80 columns) -------------------------------------------------------------------

def duration(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}"


# (heading, justify, can be left out: in this order) - the identifying columns always stay
_COLUMNS = [("student", "left", None), ("lesson", "left", None), ("steps", "right", None), ("done", "left", None),
            ("tries", "right", 3), ("hints", "right", 2), ("skips", "right", 0), ("time", "right", 1),
            ("verified", "left", None)]
_SHORT_CHECK = {"unchecked": "-", "no server record": "no record"}
_WRAPS = ("student", "lesson")  # a long (or hostile) name folds; the numbers never do


def _cells(row: GradeRow) -> dict:
    check_style = {"verified": "green", "differs": "bold red", "edited": "bold red"}.get(row.check, "")
    steps = f"{row.passed}/{row.total}" if row.total else (str(row.passed) if row.lesson != NO_LESSON else "-")
    done = {"completed": "yes", "interrupted": "cut"}.get(row.outcome, "no" if row.lesson != NO_LESSON else "-")
    return {"student": Text(terminal(row.student)), "lesson": Text(terminal(row.lesson)), "steps": steps,
            "done": Text(done, style={"yes": "green", "cut": "yellow"}.get(done, "")),
            "tries": str(row.attempts), "hints": str(row.hints), "skips": str(row.skips),
            "time": duration(row.seconds), "verified": Text(_SHORT_CHECK.get(row.check, row.check), style=check_style)}


def _widths(rows: list[GradeRow]) -> dict[str, int]:
    """The narrowest each column can be: the student's name down to 10 (it wraps), others their longest cell."""
    widths = {name: len(name) for name, _, _ in _COLUMNS}
    for row in rows:
        for name, value in _cells(row).items():
            length = len(value.plain if isinstance(value, Text) else value)
            widths[name] = max(widths[name], min(length, 10) if name in _WRAPS else length)
    return widths


def _columns_for(rows: list[GradeRow], width: int) -> tuple[list, list[str]]:
    widths = _widths(rows)
    columns = list(_COLUMNS)
    dropped: list[str] = []
    while sum(widths[c[0]] + 2 for c in columns) - 1 > width:  # a space and a rule between columns
        droppable = sorted((c for c in columns if c[2] is not None), key=lambda c: c[2] or 0)
        if not droppable:
            break
        columns.remove(droppable[0])
        dropped.append(droppable[0][0])
    return columns, dropped


def to_table(rows: list[GradeRow], folder: Path, width: int = 80) -> tuple[Table, list[str]]:
    """The table and the columns left out to fit `width`."""
    columns, dropped = _columns_for(rows, width)
    widths = _widths(rows)
    table = Table(title=Text(f"Lessons in {terminal(str(folder))}"), title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, show_edge=False, padding=(0, 1, 0, 0))
    for name, justify, _ in columns:
        table.add_column(name, justify=justify, no_wrap=name not in _WRAPS, overflow="fold",
                         min_width=None if name in _WRAPS else widths[name])
    for row in rows:
        cells = _cells(row)
        table.add_row(*[cells[c[0]] for c in columns])
    return table, dropped


def footnotes(rows: list[GradeRow], results: list[FileResult], dropped: list[str], verified: bool = False) -> list[str]:
    """Lines printed under the table: what was left out, what differs, which files are unreadable
    (each escaped for the terminal here, the last step before it is printed)."""
    out = []
    out.append("steps: passed/total in the last run; tries: checks of a step (passed or not); time: minutes "
               "and seconds on the lesson; " + ("verified: against the lab's session logs and the lesson's checks"
                                                 if verified else "verified: - not checked (use --verify LABDIR)"))
    if dropped:
        out.append(f"Left out to fit the width: {', '.join(dropped)} (--format csv or json has every column).")
    for row in rows:
        if row.check in ("differs", "edited") and row.check_detail:
            out.append(terminal(f"{row.student}, {row.lesson}: {row.check} - {row.check_detail}"))
    for result in results:
        if result.summary.status == "unreadable":
            out.append(terminal(f"unreadable: {result.summary.problem or result.file}"))
    return out
