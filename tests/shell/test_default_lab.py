"""`smtp-shell` with no arguments: the embedded lab server starts, the REPL connects, a typed
STARTTLS verifies against exactly the lab's certificate, AUTH and a full send work, the .eml is
saved, and `smtp-shell mailbox` shows it."""

from __future__ import annotations

import base64
import io
import re
import sys

import pexpect
import pytest

from tests.shell.helpers import env, run_cli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pty tests need a POSIX pty")

PROMPT = r"(smtp~?|data|auth|password)>"


@pytest.mark.timeout(90)
def test_no_arguments_just_works(tmp_path):
    child = pexpect.spawn(sys.executable, ["-m", "smtp_shell"], env=env(tmp_path), encoding="utf-8",
                          timeout=15, dimensions=(50, 220))
    child.logfile_read = io.StringIO()
    child.expect(r"received mail is saved in (\S+) ")
    mailbox = child.match.group(1)
    child.expect("220 ")
    child.expect(PROMPT)
    steps = [
        ("EHLO student.example", "250 "),
        ("STARTTLS", "send EHLO again"),
        ("EHLO student.example", "AUTH appeared"),
        ("AUTH LOGIN", "334 "),
        (base64.b64encode(b"student").decode(), "334 "),
        (base64.b64encode(b"lab-password").decode(), "235 "),
        ("MAIL FROM:<student@lab.test>", "250 "),
        ("RCPT TO:<teacher@lab.test>", "250 "),
        ("DATA", "354 "),
        ("From: Student <student@lab.test>", "~> From"),
        ("To: Teacher <teacher@lab.test>", "~> To"),
        ("Subject: Lab default works", "~> Subject"),
        ("Date: Tue, 24 Nov 2026 19:01:02 +0000", "~> Date"),
        ("", r"~> \r"),
        ("Hello from the embedded lab.", "~> Hello"),
        (".", "250 "),
        ("QUIT", "221 "),
    ]
    for line, marker in steps:
        child.sendline(line)
        child.expect(marker)
        if not line.startswith(("MAIL", "RCPT")):
            # With PIPELINING advertised, MAIL and RCPT do not wait: the prompt is back before the reply.
            child.expect(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    screen = child.logfile_read.getvalue()
    assert child.exitstatus == 0, screen
    assert "verified" in screen and "NOT verified" not in screen
    # The banner names the documented default account on purpose; what was typed is never echoed.
    assert base64.b64encode(b"lab-password").decode() not in screen

    result = run_cli(["mailbox", "--mailbox", mailbox], "", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Lab default works" in result.stdout
    emls = list(__import__("pathlib").Path(mailbox).rglob("*.eml"))
    assert len(emls) == 1
    data = emls[0].read_bytes()
    assert data.endswith(b"Subject: Lab default works\r\nDate: Tue, 24 Nov 2026 19:01:02 +0000\r\n\r\n"
                         b"Hello from the embedded lab.\r\n")
    assert re.search(rb"^Received: ", data, re.M)
