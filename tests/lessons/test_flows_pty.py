"""Lesson flows a student types in the real REPL (pexpect in a pty) that used to dead-end or
mislead: STARTTLS before EHLO in lesson 4, an unpipelined try before the pipelined one in
lesson 10, MAIL sent alone where :pipeline was asked, and :restart with greylisting in lesson 9."""

from __future__ import annotations

import io
import sys

import pexpect
import pytest

from tests.lessons.helpers import LESSONS
from tests.lessons.test_golden_pty import type_line, type_lines
from tests.shell.helpers import env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pty tests need a POSIX pty")
BY_ID = {lesson.id: lesson for lesson in LESSONS}


def start(lesson_id: str, tmp_path):
    child = pexpect.spawn(sys.executable, ["-m", "smtp_shell", "lesson", lesson_id, "--no-record",
                                           "--mailbox", str(tmp_path / "mailbox")],
                          env=env(tmp_path / "home"), encoding="utf-8", timeout=20, dimensions=(50, 220), cwd=tmp_path)
    child.logfile_read = io.StringIO()
    child.expect(r"smtp~?>")
    return child


def finish(child) -> str:
    child.sendline(":quit")
    child.expect(pexpect.EOF)
    child.close()
    return child.logfile_read.getvalue()


@pytest.mark.timeout(90)
def test_starttls_before_ehlo_in_lesson_4_is_already_done_not_a_dead_end(tmp_path):
    child = start("starttls", tmp_path)
    try:
        type_line(child, "STARTTLS")
        child.expect("step 1: already done: TLS is on")
        child.expect("step 1 passed")
        child.expect("step 2: already done: this session is under TLS")
        child.expect("step 2 passed")
        type_line(child, "EHLO student.example")
        child.expect("step 3 passed")
        type_line(child, "QUIT")
        child.expect("lesson complete")
    finally:
        screen = finish(child)
    assert "not yet" not in screen and "HELO shows no extensions" not in screen, screen[-3000:]


@pytest.mark.timeout(120)
def test_lesson_10_counts_the_550_in_step_3_after_an_unpipelined_try(tmp_path):
    lesson = BY_ID["pipelining"]
    child = start("pipelining", tmp_path)
    try:
        type_lines(child, lesson.steps[0].golden)
        child.expect("step 1 passed")
        type_line(child, "MAIL FROM:<student@lab.test>")          # step 2 asks for :pipeline
        child.expect("step 2: MAIL went out on its own")
        type_line(child, "RSET")
        type_lines(child, lesson.steps[1].golden)
        child.expect("step 2 passed")
        for line in ["MAIL FROM:<student@lab.test>", "RCPT TO:<teacher@lab.test>", "RCPT TO:<nobody@lab.test>",
                     "RCPT TO:<friend@lab.test>", "RSET"]:
            type_line(child, line)                                  # one at a time: not pipelined
        child.expect(r"<-  250 .*\r\n")
        type_lines(child, lesson.steps[2].golden)
        child.expect("step 3 passed")
        type_lines(child, lesson.steps[3].golden)
        child.expect("lesson complete")
    finally:
        screen = finish(child)
    step3 = screen[screen.rindex("4 lines sent in one write"):screen.index("step 3 passed")]
    assert "550 5.1.1" in step3 and "that answers RCPT TO:<friend@lab.test>" in step3, screen[-4000:]
    assert "step 4, attempt" not in screen, screen[-4000:]


@pytest.mark.timeout(120)
def test_restart_makes_the_lab_forget_greylisting(tmp_path):
    lesson = BY_ID["errors"]
    child = start("errors", tmp_path)
    try:
        for step in lesson.steps[:3]:
            type_lines(child, step.golden)
            child.expect(f"step {step.number} passed")
        child.sendline(":restart")
        child.expect("over from step 1")
        child.expect(r"<-  220 ")
        for step in lesson.steps[:3]:
            type_lines(child, step.golden)
            child.expect(f"step {step.number} passed")
    finally:
        screen = finish(child)
    assert screen.count("451 4.7.1 Greylisted") == 2, screen[-3000:]


@pytest.mark.timeout(60)
def test_lesson_1_shows_the_cr_lf_of_noop_with_wire_on(tmp_path):
    lesson = BY_ID["first-contact"]
    child = start("first-contact", tmp_path)
    try:
        for step in lesson.steps[:3]:
            type_lines(child, step.golden)
            child.expect(f"step {step.number} passed")
    finally:
        screen = finish(child)
    assert " => NOOP␍␊" in screen and "<=  250 " in screen, screen[-3000:]
