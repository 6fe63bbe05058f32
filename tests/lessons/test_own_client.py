"""Lesson 11 against a real raw-socket client written for the tests (tests/lessons/own_client.py):
run on its own against the lab it delivers cleanly; run with :run inside the lesson it passes the
last step; the classic mistake (the message ends with LF . LF) hangs it, and the lesson then says
why from the lab's own session log."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from smtp_shell.lab import LabConfig, LabServer
from smtp_shell.lab.mailbox import Mailbox
from tests.lessons.helpers import LESSONS, OWN_CLIENT, run_batch

LESSON = next(lesson for lesson in LESSONS if lesson.id == "own-client")


def _before_last_step() -> list[str]:
    return [line for step in LESSON.steps[:-1] for line in step.golden]


@pytest.mark.timeout(60)
def test_the_raw_socket_client_delivers_to_the_lab_on_its_own(tmp_path, cert_dir):
    with LabServer(LabConfig(host="127.0.0.1", port=0, mailbox=tmp_path / "mailbox", cert_dir=cert_dir)) as lab:
        env = dict(os.environ, SMTP_HOST=lab.host, SMTP_PORT=str(lab.port), SMTP_CAFILE=str(lab.cert_path))
        done = subprocess.run([sys.executable, str(OWN_CLIENT)], env=env, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0 and "message sent" in done.stdout, done.stdout + done.stderr
        [message] = Mailbox(lab.mailbox).messages()
        assert b"Subject: From my own client" in message.read()


@pytest.mark.timeout(90)
def test_run_in_the_lesson_passes_the_last_step(tmp_path, cert_dir):
    engine, screen = run_batch(LESSON, [*_before_last_step(), ":run python3 own_client.py"], tmp_path, cert_dir)
    assert engine.complete and engine.states == ["passed"] * len(LESSON.steps), screen
    assert "│ message sent" in screen and "it exited with status 0" in screen


@pytest.mark.timeout(90)
def test_a_message_ended_by_lf_dot_lf_is_explained_from_the_lab_log(tmp_path, cert_dir):
    engine, screen = run_batch(LESSON, [*_before_last_step(), ":run python3 own_client.py --bare-dot"], tmp_path, cert_dir)
    assert engine.states[-1] == "failed", screen
    [text] = [t for n, kind, t in engine.log if n == len(LESSON.steps) and kind == "fail"]
    assert "no message from your program arrived" in text
    assert "a lone '.' ended this way does NOT end the message" in text, text
