"""What you type is sent exactly once, or refused in words: the real REPL in a pty (pexpect)
against real servers on 127.0.0.1 (plain aiosmtpd, the scriptable hostile server).

The confirm step after an advisor warning sends only on a bare Enter; a declined line comes
back once and Ctrl-C clears it for good; in DATA mode the teaching commands run, `::` sends a
literal ':' line, an unknown `:word` is text, and `:quit` asks; `:unb64` works at `auth>`;
Ctrl-C while waiting for a reply stops the wait, not the shell."""

from __future__ import annotations

import io
import re
import sys
import threading

import pexpect
import pytest

from tests.robustness.hostile import HostileServer
from tests.shell.helpers import env

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="pty tests need a POSIX pty"),
              pytest.mark.timeout(90)]

ANYWAY = "send it anyway"
SMTP = r"smtp>"
DATA = r"data>"


def spawn(target: str, home):
    child = pexpect.spawn(sys.executable, ["-m", "smtp_shell", "connect", target], env=env(home),
                          encoding="utf-8", timeout=15, dimensions=(50, 200))
    child.logfile_read = io.StringIO()
    child.expect("220 ")
    child.expect(SMTP)
    return child


def leave(child) -> None:
    child.sendline(":quit")
    child.expect(pexpect.EOF)
    child.close()


def sendline_anyway(child, line: str, expect: str) -> None:
    """Type a line; if the advisor asks about it, press Enter to send it anyway; wait for `expect`."""
    child.sendline(line)
    if child.expect_exact([ANYWAY, expect]) == 0:
        child.send("\r")
        child.expect_exact(expect)


def envelope(child) -> None:
    for line in ("EHLO client.test", "MAIL FROM:<a@lab.test>", "RCPT TO:<b@lab.test>"):
        child.sendline(line)
        child.expect("250 ")
        child.expect(SMTP)
    child.sendline("DATA")
    child.expect("354 ")
    child.expect(DATA)


def test_typing_at_the_confirm_step_is_never_a_yes_and_never_swallowed(aiosmtpd_server, tmp_path):
    child = spawn(aiosmtpd_server.target, tmp_path)
    envelope(child)
    child.sendline("Subject: hi")
    child.expect(DATA)
    child.sendline("Hello")                 # a body line before the blank line: the advisor asks
    child.expect_exact(ANYWAY)
    child.send("To: you\r")                 # the student kept typing instead of answering
    child.expect_exact("not sent; the line is back for editing")
    # Their typing went into the editor after the line, and their Enter sent THAT line (the advisor
    # may question it again: issue 12 makes a declined line stop counting as sent).
    if child.expect_exact([ANYWAY, " -> HelloTo: you"]) == 0:
        child.send("\r")
        child.expect_exact(" -> HelloTo: you")
    child.expect(DATA)
    sendline_anyway(child, ".", "250 2.0.0 Message accepted")
    child.expect(SMTP)
    leave(child)
    assert aiosmtpd_server.messages == [b"Subject: hi\r\nHelloTo: you\r\n"]


def test_a_declined_line_comes_back_once_and_ctrl_c_clears_it_for_good(aiosmtpd_server, tmp_path):
    child = spawn(aiosmtpd_server.target, tmp_path)
    child.sendline("MAIL FROM:<a@lab.test>")      # too early: the advisor asks
    child.expect_exact(ANYWAY)
    child.send("n")
    child.expect_exact("not sent; the line is back for editing")
    child.expect(r"smtp> MAIL FROM:<a@lab\.test>")  # back in the editor, unchanged
    child.sendintr()                              # Ctrl-C: gone for good
    child.expect(SMTP)
    child.sendline("EHLO client.test")
    child.expect("250 ")
    child.expect(SMTP)
    for line in ("MAIL FROM:<a@lab.test>", "RCPT TO:<b@lab.test>"):
        child.sendline(line)
        child.expect("250 ")
        child.expect(SMTP)
    child.sendline("DATA")
    child.expect(DATA)
    child.sendline("Hello")                       # declined in DATA mode, answering "no" and Enter ...
    child.expect_exact(ANYWAY)
    child.send("no\r")
    child.expect(r"data> Hello")                  # ... comes back once, in DATA mode (the Enter was the answer's)
    child.send("\x15")                            # Ctrl-U: the student types something else
    child.sendline("Subject: instead")
    child.expect(r" -> Subject: instead")
    child.expect(DATA)
    child.sendline("")
    child.expect_exact(ANYWAY)                    # no From:, no Date: the advisor asks; Enter sends
    child.send("\r")
    child.expect(DATA)
    sendline_anyway(child, ".", "250 2.0.0 Message accepted")
    child.expect(SMTP)
    child.sendline("NOOP")                        # never glued to a later line
    child.expect(r" -> NOOP\r?\n")
    child.expect("250 ")
    leave(child)
    screen = child.logfile_read.getvalue()
    assert "MAIL FROM:<a@lab.test>EHLO" not in screen and "HelloNOOP" not in screen
    assert aiosmtpd_server.messages == [b"Subject: instead\r\n\r\n"]


def test_colon_lines_in_data_mode(aiosmtpd_server, tmp_path):
    child = spawn(aiosmtpd_server.target, tmp_path)
    envelope(child)
    child.sendline(":date UTC")                   # the teaching commands run in DATA mode, not sent
    child.expect(r"=== Date: \w{3}, ")
    child.expect(DATA)
    child.sendline(":explain 354")
    child.expect("Start mail input")
    child.expect(DATA)
    child.sendline(":hint")
    child.expect(r"\*\*\* ")                      # no lesson running: one sentence, nothing sent
    child.expect(DATA)
    child.sendline("Subject: colons")
    child.expect(DATA)
    child.sendline("")
    child.expect_exact(ANYWAY)                    # no From:, no Date: the advisor asks; Enter sends
    child.send("\r")
    child.expect(DATA)
    child.sendline("::quit is how you leave")
    child.expect_exact("'::' at the start of a line sends one ':'")
    child.expect(r" -> :quit is how you leave")
    child.expect(DATA)
    child.sendline(":-) bye")
    child.expect_exact("':-)' is not a shell command, so this line goes into the message as text")
    child.expect(DATA)
    child.sendline(":quit")                       # abandoning a message is never silent
    child.expect_exact("Leave anyway? [y/N]")
    child.sendline("n")
    child.expect_exact("still in the message")
    child.expect(DATA)
    child.sendeof()                               # Ctrl-D too
    child.expect_exact("Leave anyway? [y/N]")
    child.sendline("")
    child.expect_exact("still in the message")
    child.expect(DATA)
    sendline_anyway(child, ".", "250 2.0.0 Message accepted")
    child.expect(SMTP)
    leave(child)
    assert aiosmtpd_server.messages == [b"Subject: colons\r\n\r\n:quit is how you leave\r\n:-) bye\r\n"]


def test_colon_commands_at_the_pipe_prompt_run_and_are_not_part_of_the_group(aiosmtpd_server, tmp_path):
    child = spawn(aiosmtpd_server.target, tmp_path)
    child.sendline("EHLO client.test")
    child.expect("250 ")
    child.expect(SMTP)
    child.sendline(":pipeline")
    child.expect("pipe>")
    child.sendline("MAIL FROM:<a@lab.test>")
    child.expect("pipe>")
    child.sendline(":caps")
    child.expect_exact("8BITMIME")                # explained now, not queued for the server
    child.expect("pipe>")
    child.sendline("RCPT TO:<b@lab.test>")
    child.expect("pipe>")
    child.sendline("")
    child.expect_exact("2 lines sent in one write")
    child.expect_exact("that answers RCPT TO:<b@lab.test>")
    child.expect(SMTP)
    leave(child)
    assert " -> :caps" not in child.logfile_read.getvalue()


async def auth_login_server(peer):
    await peer.smtp({"EHLO": "250-hostile.test\r\n250 AUTH LOGIN", "AUTH": "334 VXNlcm5hbWU6"})


def test_unb64_at_the_auth_prompt_runs_and_is_never_sent_as_the_credential(tmp_path):
    with HostileServer(auth_login_server) as server:
        child = spawn(server.target, tmp_path)
        child.sendline("EHLO client.test")
        child.expect(SMTP)
        child.sendline("AUTH LOGIN")
        child.expect("send it anyway")            # the connection is not encrypted: the advisor warns
        child.send("\r")
        child.expect(r"\(Username:\)")
        child.expect("auth>")
        child.sendline(":unb64 VXNlcm5hbWU6")
        child.expect_exact("VXNlcm5hbWU6 is base64 for 'Username:'")
        child.expect("auth>")
        child.sendline("*")
        child.expect("auth>|smtp>")
        leave(child)
        assert not any(line.startswith(b":") for line in server.lines), server.lines


def test_ctrl_c_while_waiting_for_a_reply_stops_the_wait_not_the_shell(tmp_path):
    waiting, release = threading.Event(), threading.Event()

    async def slow_noop(peer):
        async def noop(p, line):
            waiting.set()
            await p.wait_for(release)             # answers only once the test says so
            await p.send("250 2.0.0 late NOOP")
            return True
        await peer.smtp({"NOOP": noop})

    with HostileServer(slow_noop) as server:
        child = spawn(server.target, tmp_path)
        child.sendline("NOOP")
        assert waiting.wait(15)
        child.sendintr()
        child.expect_exact("stopped waiting (Ctrl-C)")
        child.expect(SMTP)
        release.set()
        child.expect_exact("250 2.0.0 late NOOP")  # the reply still shows when it arrives
        child.sendline("RSET")                    # the shell is alive and the session goes on
        child.expect("250 2.0.0 OK")
        leave(child)
        assert child.exitstatus == 0


def test_advice_off_silences_the_advisor(aiosmtpd_server, tmp_path):
    child = spawn(aiosmtpd_server.target, tmp_path)
    child.sendline(":advice off mail-before-hello")
    child.expect_exact("the advisor is on, except: mail-before-hello")
    child.expect(SMTP)
    child.sendline("MAIL FROM:<a@lab.test>")
    child.expect("503 ")                          # sent at once: no question
    child.expect(SMTP)
    child.sendline(":advice off")
    child.expect_exact("the advisor is off")
    child.expect(SMTP)
    child.sendline("RCPT TO:<b@lab.test>")
    child.expect("503 ")
    leave(child)
    assert ANYWAY not in child.logfile_read.getvalue()
    assert re.search(r"\[mail-before-hello\]", child.logfile_read.getvalue()) is None
