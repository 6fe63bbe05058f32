"""`replay LESSON-TRANSCRIPT --against lab`: the fresh lab server set up as that lesson's was.

Why this exists: a lesson runs against a lab server configured by its `[lab]` table (faults,
users, a size limit); replayed against a default lab, a lesson 9 transcript could only ever
"differ". The replay code lives in the shell layer, which may not import lessons, so the CLI
routes `replay` through here and this module hands it the lesson's lab settings.
"""

from __future__ import annotations

import sys


def lab_setup_for(transcript, lessons_dir=None):
    """(LabConfig, accounts) for the lesson a transcript recorded, or None when it is not a known lesson."""
    lesson_id = transcript.lesson
    if not lesson_id:
        return None
    from smtp_shell.lessons.loader import discover, resolve
    from smtp_shell.lessons.run import lab_config

    lessons, _errors = discover(lessons_dir)
    lesson = resolve(lesson_id, lessons)
    if lesson is None:
        print(f"smtp-shell: note: the lesson {lesson_id!r} of this transcript is not installed here; "
              "replaying against a default lab server", file=sys.stderr)
        return None
    return lab_config(lesson), dict(lesson.lab.users)


def cmd_replay(args) -> int:
    from smtp_shell.shell.recording import run_against
    from smtp_shell.transcript.commands import cmd_replay as replay

    def against(transcript, arguments) -> int:
        return run_against(transcript, arguments, lab_setup=lab_setup_for)

    return replay(args, run_against=against)
