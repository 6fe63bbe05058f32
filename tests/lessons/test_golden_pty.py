"""Every bundled lesson's golden solution, typed into the real REPL in a pty (pexpect) against the
lesson's own lab server: every step passes, in order, and the transcript has one marker per step."""

from __future__ import annotations

import io
import json
import re
import sys

import pexpect
import pytest

from tests.lessons.helpers import LESSONS, place_own_client
from tests.shell.helpers import env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pty tests need a POSIX pty")

ADVISOR_QUESTION = "Press Enter to send it anyway"
META_EXPECT = {":reconnect": r"<-  220 ", ":lesson": r"progress ", ":hint": r"hint \d+/\d+", ":wire": r"wire view is",
               ":predict": r"Your prediction",
               ":run": r"it exited with status|was still running"}


def echo_pattern(line: str) -> str:
    """What the shell prints once it has sent `line` (masked for AUTH secrets, dot-stuffed)."""
    if line.startswith(":"):
        return META_EXPECT[line.split()[0]]
    shown = "." + line if line.startswith(".") and line != "." else line
    masked = re.escape(" ".join(line.split()[:2])) + r" \*{8}"   # AUTH PLAIN <initial response>
    return r" [-~]> (?:" + re.escape(shown) + r"|\*{8}|" + masked + ")"


def type_line(child, line: str) -> None:
    child.sendline(line)
    while child.expect([echo_pattern(line), ADVISOR_QUESTION]) == 1:
        child.sendline("")  # the advisor's warning: send it anyway, as the lesson asks


def type_lines(child, lines) -> None:
    """Type the lines; a :pipeline block (up to its empty line) is typed in one go, then its echoes awaited."""
    lines = list(lines)
    while lines:
        line = lines.pop(0)
        if line != ":pipeline":
            type_line(child, line)
            continue
        child.sendline(line)
        child.expect("pipe>")
        block = lines[:lines.index("")]
        del lines[:len(block) + 1]
        child.send("".join(item + "\r" for item in block) + "\r")
        for item in block:
            child.expect(echo_pattern(item))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.id for lesson in LESSONS])
def test_golden_solution_in_a_pty(lesson, tmp_path):
    records = tmp_path / "records"
    place_own_client(tmp_path)
    child = pexpect.spawn(sys.executable, ["-m", "smtp_shell", "lesson", lesson.id, "--record-dir", str(records),
                                           "--mailbox", str(tmp_path / "mailbox")],
                          env=env(tmp_path / "home"), encoding="utf-8", timeout=20, dimensions=(50, 220), cwd=tmp_path)
    child.logfile_read = io.StringIO()
    try:
        child.expect(f"Step 1/{len(lesson.steps)}")
        child.expect(r"smtp~?>")
        for step in lesson.steps:
            type_lines(child, step.golden)
            child.expect(f"step {step.number} passed")
        child.expect("lesson complete")
        child.sendline(":quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    screen = child.logfile_read.getvalue()
    assert child.exitstatus == 0, screen[-3000:]
    assert "not yet" not in screen, screen[-3000:]
    (transcript,) = records.glob(f"{lesson.id}-*.jsonl")
    events = [json.loads(line) for line in transcript.read_text(encoding="utf-8").splitlines()]
    assert events[0]["lesson"] == lesson.id
    markers = [e["text"] for e in events if e.get("k") == "marker"]
    assert markers == [f"step {s.number} passed: {s.title}" for s in lesson.steps]
    assert "lab-password" not in transcript.read_text(encoding="utf-8")
