"""Helpers for driving the real shell: as a subprocess (batch), in a pty (pexpect)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

from tests.support.servers import PASSWORD, USER

B64_USER = base64.b64encode(USER.encode()).decode()
B64_PASSWORD = base64.b64encode(PASSWORD.encode()).decode()

MESSAGE_LINES = [
    "From: Student <student@lab.test>",
    "To: Teacher <teacher@lab.test>",
    "Subject: Hello from smtp-shell",
    "Date: Tue, 24 Nov 2026 19:01:02 +0000",
    "Message-ID: <e2e-1@lab.test>",
    "",
    "This message was typed by hand.",
    ".A line that starts with a dot.",
    "Bye.",
]
EXPECTED_MESSAGE = ("\r\n".join(MESSAGE_LINES) + "\r\n").encode()

FULL_SESSION = [
    "EHLO client.test",
    "STARTTLS",
    "EHLO client.test",
    "AUTH LOGIN",
    B64_USER,
    B64_PASSWORD,
    "MAIL FROM:<student@lab.test>",
    "RCPT TO:<teacher@lab.test>",
    "DATA",
    *MESSAGE_LINES,
    ".",
    "QUIT",
]


def env(home) -> dict:
    e = dict(os.environ)
    e.update({"SMTP_SHELL_HOME": str(home), "NO_COLOR": "1", "PYTHONUNBUFFERED": "1", "COLUMNS": "200",
              "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm"})
    return e


def run_cli(args, stdin_text: str, home, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smtp_shell", *args], input=stdin_text, capture_output=True,
                          text=True, timeout=timeout, env=env(home))
