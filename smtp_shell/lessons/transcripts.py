"""What the transcript commands need to know about lessons, handed to them from above.

Why this exists: `replay` and `report` live in layers that may not import lessons, so the CLI
routes them through here. `replay LESSON-TRANSCRIPT --against lab` gets a fresh lab server set
up by that lesson's `[lab]` table (faults, users, a size limit; against a default lab a lesson 9
transcript could only ever "differ"), and `report --verify` gets the lesson's checks, to judge
the verified conversation again (rejudge.py).
"""

from __future__ import annotations

import sys
from functools import cache


def lab_setup_for(transcript):
    """(LabConfig, accounts) for the lesson a transcript recorded, or None when it is not a known lesson."""
    lesson_id = transcript.lesson
    if not lesson_id:
        return None
    from smtp_shell.lessons.run import lab_config

    lesson = _lesson(lesson_id)
    if lesson is None:
        print(f"smtp-shell: note: the lesson {lesson_id!r} of this transcript is not installed here; "
              "replaying against a default lab server", file=sys.stderr)
        return None
    return lab_config(lesson), dict(lesson.lab.users)


@cache
def _lesson(lesson_id: str):
    """An installed lesson by id (the bundled ones), or None."""
    from smtp_shell.lessons.loader import discover, resolve

    lessons, _errors = discover(None)
    return resolve(lesson_id, lessons)


def rejudge_for(transcript, labdir):
    """The lesson's own checks over the transcript's conversation, or None when it is not a known lesson."""
    from smtp_shell.lessons.rejudge import rejudge

    lesson = _lesson(transcript.lesson) if transcript.lesson else None
    return rejudge(transcript, lesson, labdir) if lesson is not None else None


def cmd_report(args) -> int:
    from smtp_shell.transcript.commands import cmd_report as report

    return report(args, rejudge=rejudge_for)


def cmd_replay(args) -> int:
    from smtp_shell.shell.recording import run_against
    from smtp_shell.transcript.commands import cmd_replay as replay

    def against(transcript, arguments) -> int:
        return run_against(transcript, arguments, lab_setup=lab_setup_for)

    return replay(args, run_against=against)
