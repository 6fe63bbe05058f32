"""Running a lesson in-process in batch mode against its own lab server, for the lesson tests."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

from smtp_shell.lab import LabServer
from smtp_shell.lessons.engine import LessonEngine
from smtp_shell.lessons.loader import bundled_files, load_lesson
from smtp_shell.lessons.run import lab_config
from smtp_shell.render import make_console
from smtp_shell.shell.batch import run_batch as shell_run_batch
from smtp_shell.shell.options import SessionOptions

LESSONS = [load_lesson(path) for path in bundled_files()]
OWN_CLIENT = Path(__file__).with_name("own_client.py")   # the raw-socket client lesson 11 runs with :run


def place_own_client(folder: Path) -> None:
    """Put the student's program where lesson 11's `:run python3 own_client.py` finds it."""
    shutil.copy(OWN_CLIENT, folder / "own_client.py")


def golden_lines(lesson) -> list[str]:
    return [line for step in lesson.steps for line in step.golden]


def run_batch(lesson, lines: list[str], tmp_path, cert_dir, recorder=None, profile: str = "lab"):
    """(engine, everything printed) after feeding `lines` to `smtp-shell lesson` in batch mode."""
    buffer = io.StringIO()
    console = make_console(no_color=True, file=buffer, width=160)
    server = LabServer(lab_config(lesson, mailbox=tmp_path / "mailbox", cert_dir=cert_dir, profile=profile))
    server.start()
    place_own_client(tmp_path)
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        engine = LessonEngine(lesson, console, mailbox=server.mailbox, recorder=recorder)
        engine.begin()
        options = SessionOptions(host=server.host, port=server.port, lab_cafile=server.cert_path, timeout=10,
                                 no_color=True, practice=True)
        listeners = [x for x in (recorder, engine) if x is not None]
        stdin = io.StringIO("".join(line + "\n" for line in lines))
        shell_run_batch(options, stdin, console, listeners)  # the driver of $SMTP_SHELL_DRIVER (default: blocking)
    finally:
        os.chdir(here)
        server.stop()
    return engine, buffer.getvalue()
