"""`smtp-shell lesson`: list the lessons, or run one against its own lab server (or `--server`).

Why this exists: this is where a lesson meets the rest of smtp-shell: the lab server configured
from the lesson file, the transcript recorder, the REPL or batch mode, and the summary at the end.
"""

from __future__ import annotations

import datetime as _dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

from smtp_shell.address import format_hostport
from smtp_shell.lessons.engine import LessonEngine
from smtp_shell.lessons.loader import discover, resolve
from smtp_shell.lessons.model import Lesson
from smtp_shell.lessons.progress import Progress
from smtp_shell.status import ExitStatus, fail, log_error

if TYPE_CHECKING:
    from rich.console import JustifyMethod


def lab_config(lesson: Lesson, mailbox: Path | None = None, cert_dir: Path | None = None, profile: str = "lab"):
    """The `LabConfig` a lesson asks for (a free loopback port), answering as `profile` does."""
    from smtp_shell.lab import Faults, LabConfig

    extra = {"max_message_size": lesson.lab.max_message_size} if lesson.lab.max_message_size else {}
    return LabConfig(host="127.0.0.1", port=0, mailbox=mailbox, users=dict(lesson.lab.users),
                     allow_plain_auth=lesson.lab.allow_plain_auth, faults=Faults.from_mapping(lesson.lab.faults),
                     cert_dir=cert_dir, profile=profile, **extra)


def list_lessons(lessons: list[Lesson], no_color: bool) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from smtp_shell.render import make_console
    from smtp_shell.transcript.escape import terminal

    table = Table(box=box.SIMPLE, title="Lessons (run one with: smtp-shell lesson NAME)", title_justify="left")
    for name, justify in (("#", "right"), ("id", "left"), ("title", "left"), ("goal", "left"), ("min", "right")):
        table.add_column(name, justify=cast("JustifyMethod", justify))
    for lesson in lessons:  # the loader refuses control characters; escaped here all the same
        table.add_row(str(lesson.order) if lesson.order < 999 else "", Text(terminal(lesson.id)),
                      Text(terminal(lesson.title)), Text(terminal(lesson.goal)), str(lesson.minutes))
    make_console(no_color).print(table)


def cmd_lesson(args) -> int:
    lessons, errors = discover(args.lessons_dir)
    from smtp_shell.transcript.escape import terminal

    for error in errors:  # names a file of the instructor's folder: escaped like any file text
        log_error(terminal(str(error)))
    if args.name is None:
        list_lessons(lessons, args.no_color)
        return int(ExitStatus.ERROR if errors else ExitStatus.OK)
    lesson = resolve(args.name, lessons)
    if lesson is None:
        broken = [e for e in errors if args.name.lower() in str(e).lower()]
        if broken:
            return int(ExitStatus.ERROR)  # already explained above
        return fail(f"there is no lesson {args.name!r}; run `smtp-shell lesson` to list them")
    return run_lesson(lesson, args)


def default_record_dir() -> Path:
    """Lessons record into the user data folder (not the working folder, which may be a clone)."""
    from smtp_shell import paths

    return paths.data_dir() / "transcripts"


def _record_path(lesson: Lesson, record_dir: Path | None, student: str | None = None) -> Path:
    """`LESSON-STUDENT-YYYYmmdd-HHMMSS-RANDOM.jsonl`: the random part keeps two runs started in
    the same second (two students, two terminals) apart; the file is then opened exclusively."""
    import secrets

    from smtp_shell.identity import slug

    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = Path(record_dir) if record_dir else default_record_dir()
    while True:
        path = folder / f"{lesson.id}-{slug(student)}-{stamp}-{secrets.token_hex(3)}.jsonl"
        if not path.exists():
            return path


def run_lesson(lesson: Lesson, args) -> int:
    from smtp_shell.address import parse_hostport
    from smtp_shell.render import make_console
    from smtp_shell.shell.options import SessionOptions

    server = None
    if args.server:
        try:
            host, port = parse_hostport(args.server, 25)
        except ValueError as exc:
            return fail(str(exc))
        mailbox = args.mailbox
        options = SessionOptions(host=host, port=port, cafile=args.cafile, insecure=args.insecure,
                                 timeout=args.timeout, no_color=args.no_color, lab_mailbox=mailbox)
    else:
        from smtp_shell.lab import LabServer

        server = LabServer(lab_config(lesson, args.mailbox, profile=getattr(args, "profile", "lab")))
        try:
            server.start()
        except Exception as exc:  # LabError: one sentence
            return fail(f"could not start the lab server: {exc}")
        mailbox = server.mailbox
        options = SessionOptions(host=server.host, port=server.port, timeout=args.timeout, no_color=args.no_color,
                                 lab_cafile=server.cert_path, lab_mailbox=server.mailbox)
    try:
        return _session(lesson, args, options, mailbox, server, make_console(args.no_color))
    finally:
        if server is not None:
            server.stop()


def _ask(prompt: str) -> str:
    return input(prompt)


def _student(args) -> str | None:
    from smtp_shell.identity import student_name

    interactive = not getattr(args, "batch", False) and sys.stdin.isatty() and sys.stdout.isatty()
    return student_name(getattr(args, "student", None), interactive=interactive, ask=_ask)


def _open_recording(lesson: Lesson, args, target: str, student: str | None):
    """(recorder, path): a new transcript that never overwrites another (retried on a clash)."""
    from smtp_shell.shell.recording import start_recording
    from smtp_shell.transcript.format import TranscriptError

    for _ in range(5):
        try:
            path = _record_path(lesson, args.record_dir, student)
        except OSError as exc:  # the data folder cannot be created
            raise TranscriptError(f"cannot create the folder for transcripts ({exc.strerror or exc}); "
                                  "set SMTP_SHELL_HOME to a writable folder or give --record-dir DIR") from None
        try:
            return start_recording(path, target, lesson=lesson.id, student=student), path
        except TranscriptError:
            if not path.exists():
                raise
    raise TranscriptError(f"could not find a free file name in {path.parent}; choose another --record-dir")


def _session(lesson: Lesson, args, options, mailbox, server, console) -> int:
    from smtp_shell.shell.runner import run_session

    recorder = None
    path = None
    student = None if args.no_record else _student(args)  # asked only when there is a transcript to name
    if not args.no_record:
        from smtp_shell.transcript.format import TranscriptError

        try:
            recorder, path = _open_recording(lesson, args, options.target, student)
        except TranscriptError as exc:
            return fail(str(exc))
        console.print(f"Recording this lesson to {path}" + (f" as {student}" if student else "")
                      + " (AUTH secrets are never recorded).", markup=False, highlight=False)
    engine = LessonEngine(lesson, console, mailbox=mailbox, progress=Progress(), transcript=path, recorder=recorder,
                          student=student)
    if server is not None:
        engine.lab_reset = server.reset_lesson_state
    if server is not None:
        console.print(f"Lab server for this lesson on {format_hostport(server.host, server.port)}; mail is saved in {server.mailbox} "
                      f"(log in as {server.default_account_hint()}).")
    else:
        console.print(f"Using the server {options.target}; this lesson expects a lab server set up as in its file "
                      f"({lesson.path}).")
    engine.begin()
    options.practice = True  # a refused step is feedback: batch mode neither stops nor skips lines
    listeners = [x for x in (recorder, engine) if x is not None]  # the recorder first: markers follow replies
    status = run_session(options, batch=args.batch, console=console, listeners=listeners, recorder=recorder,
                         on_ready=engine.lesson_command, before_close=engine.record_end,
                         on_end=lambda _status: engine.end_of_session())
    if engine.complete and "skipped" not in engine.states:
        return int(ExitStatus.OK)
    if status in (ExitStatus.CONNECTION_FAILED, ExitStatus.TLS_FAILED, ExitStatus.TIMEOUT):
        return status
    return int(ExitStatus.ERROR)
