"""The real REPL in a pty (pexpect), against plain aiosmtpd: a student types the whole session
by hand, STARTTLS included, and the server receives the message byte for byte."""

from __future__ import annotations

import io
import sys

import pexpect
import pytest

from tests.shell.helpers import B64_PASSWORD, EXPECTED_MESSAGE, FULL_SESSION, env
from tests.support.servers import PASSWORD

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pty tests need a POSIX pty")


def spawn(args, home):
    child = pexpect.spawn(sys.executable, ["-m", "smtp_shell", *args], env=env(home), encoding="utf-8",
                          timeout=15, dimensions=(50, 200))
    child.logfile_read = io.StringIO()  # everything the terminal showed
    return child


PROMPT = r"(smtp~?|data|auth|password)>"


@pytest.mark.timeout(90)
def test_student_types_a_full_session(aiosmtpd_server, tmp_path):
    child = spawn(["connect", aiosmtpd_server.target, "--cafile", str(aiosmtpd_server.cafile)], tmp_path)
    child.expect("220 ")
    child.expect("smtp>")
    markers = {"EHLO client.test": "250 ", "STARTTLS": "send EHLO again", "AUTH LOGIN": r"\(User Name",
               "DATA": "354 ", ".": "250 2.0.0 Message accepted", "QUIT": "closed the connection"}
    secrets = {FULL_SESSION[4], FULL_SESSION[5]}
    for line in FULL_SESSION:
        child.sendline(line)
        if line in markers:
            child.expect(markers[line])
        elif line in secrets:
            child.expect(r"~> \*{8}")
            child.expect("334 |235 ")
        else:
            child.expect(r"~> " + pexpect_escape(line if not line.startswith(".") else "." + line))
        child.expect(PROMPT)
    child.sendeof()  # the shell stays open after the server closes; Ctrl-D leaves
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert aiosmtpd_server.messages == [EXPECTED_MESSAGE]
    screen = child.logfile_read.getvalue()
    assert PASSWORD not in screen and B64_PASSWORD not in screen


def pexpect_escape(text: str) -> str:
    import re
    return re.escape(text)


@pytest.mark.timeout(60)
def test_ctrl_c_clears_line_and_ctrl_d_leaves(aiosmtpd_server, tmp_path):
    child = spawn(["connect", aiosmtpd_server.target], tmp_path)
    child.expect("smtp>")
    child.send("MAIL FROM:<half typed")
    child.sendintr()
    child.expect("smtp>")
    child.sendline("NOOP")
    child.expect("250 ")
    child.expect("smtp>")
    child.sendeof()
    child.expect("221 ")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
