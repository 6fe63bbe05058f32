"""Guided lessons: TOML lesson files, checks over protocol events, and the engine that runs them.

Why this exists: a student learns SMTP by typing it, and a lesson turns the shell into a tutor
without typing anything for them. A lesson is data (one TOML file, see docs/lessons.md); the
engine is a `SessionDriver` listener that watches what the student sends and what the server
answers, and moves through the steps when a step's check passes.

    model.py      the lesson, its steps and lab settings; `LessonError`
    loader.py     reads and validates lesson files, finds bundled and instructor lessons
    checks.py     the registry of named check kinds with typed parameters
    mailcheck.py  criteria over a message saved in the lab mailbox
    facts.py      what the engine has seen of the session so far
    engine.py     the listener that runs a lesson: steps, attempts, hints, markers
    progress.py   which steps a user passed before (a small file in the data folder)
    run.py        the `smtp-shell lesson` sub-command
    rejudge.py    a lesson's checks run again over a recorded conversation (`report --verify`)
    transcripts.py  lesson knowledge for `replay --against lab` and `report --verify`

This package sits above `smtp_shell.shell`: it imports the shell, never the other way round.
"""

from smtp_shell.lessons.model import Lesson, LessonError, Step

__all__ = ["Lesson", "LessonError", "Step"]
