"""The teaching helpers in the real REPL, in a pty (pexpect), against plain aiosmtpd on loopback:
a session full of deliberate mistakes shows each warning and hint, `:auth login` logs in with a
masked password, and a composed UTF-8 message with an attachment arrives and parses back."""

from __future__ import annotations

import email
import sys
from email import policy

import pexpect
import pytest

from tests.shell.helpers import env
from tests.support.servers import PASSWORD

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pty tests need a POSIX pty")

PROMPT = r"smtp~?>"
ANYWAY = "send it anyway"


def spawn(server, home):
    return pexpect.spawn(sys.executable, ["-m", "smtp_shell", "connect", server.target, "--cafile", str(server.cafile)],
                         env=env(home), encoding="utf-8", timeout=15, dimensions=(50, 200))


def mistake(child, line: str, warnings: list[str], send: bool = True) -> None:
    """Type a line the advisor should catch, see each warning, then send it anyway or decline."""
    child.sendline(line)
    for text in warnings:
        child.expect_exact(text)
    child.expect_exact(ANYWAY)
    child.sendline("" if send else "n")


def leave(child) -> None:
    """QUIT, then :quit if the REPL stays open after the server closed the connection."""
    child.sendline("QUIT")
    child.expect("221 ")
    if child.expect([pexpect.EOF, PROMPT]) == 1:
        child.sendline(":quit")
        child.expect(pexpect.EOF)
    child.close()


@pytest.mark.timeout(120)
def test_deliberate_mistakes_get_warnings_and_hints_then_auth_login(aiosmtpd_server, tmp_path):
    child = spawn(aiosmtpd_server, tmp_path)
    child.expect("220 ")
    child.expect(PROMPT)
    mistake(child, "HLEO client.test", ["HLEO is not an SMTP command; did you mean HELO?"])
    child.expect("500 ")
    child.expect_exact("hint: HLEO is not an SMTP command; did you mean HELO?")
    mistake(child, "MAIL FROM:<student@lab.test>", ["MAIL is too early", "first EHLO <your-domain>"], send=False)
    child.expect_exact("not sent")
    child.expect(PROMPT)
    child.sendcontrol("u")  # the REPL offers the declined line again: clear it
    child.sendline("EHLO client.test")
    child.expect("250 HELP")
    mistake(child, "AUTH LOGIN", ["did not advertise AUTH, but it offers STARTTLS"])
    child.expect("538 ")
    child.expect_exact("hint: This server wants an encrypted connection first")
    mistake(child, "RCPT TO:<teacher@lab.test>", ["RCPT is too early"])
    child.expect("503 ")
    child.expect_exact("hint: The server wants another command first: MAIL FROM:")
    mistake(child, "MAIL FROM:student@lab.test", ["Put the address in angle brackets"])
    child.expect("250 ")
    child.sendline("RCPT TO:<teacher@lab.test>")
    child.expect("250 ")
    child.sendline("DATA")
    child.expect("354 ")
    child.expect("data>")
    child.sendline("Subject: no blank line")
    mistake(child, "Hello teacher!", ["body text but the headers have not ended", "without a From: line",
                                      "without a Date: line"])
    child.expect("data>")
    mistake(child, "QUIT", ["You are in DATA mode"])
    child.expect("data>")
    child.sendline(".")
    child.expect("250 2.0.0 Message accepted")
    child.sendline("STARTTLS")
    child.expect_exact("send EHLO again")
    child.expect(PROMPT)
    mistake(child, "MAIL FROM:<student@lab.test>", ["After STARTTLS the server has forgotten your EHLO"])
    child.expect("503 ")
    child.expect_exact("hint: After STARTTLS the server forgot your EHLO")
    child.sendline("EHLO client.test")
    child.expect("250 HELP")
    child.sendline(":auth login student")
    child.expect_exact("Password (not shown):")
    child.sendline(PASSWORD)
    child.expect_exact("c3R1ZGVudA== is base64 for 'student'")
    child.expect_exact("******** is base64 for the password (hidden)")
    child.expect("235 ")
    child.expect_exact("logged in as student")
    leave(child)
    assert PASSWORD not in child.before
    assert len(aiosmtpd_server.messages) == 1


@pytest.mark.timeout(120)
def test_compose_utf8_subject_and_attachment_arrives_and_parses_back(aiosmtpd_server, tmp_path):
    attachment = tmp_path / "notes.pdf"
    payload = b"%PDF-1.4\n" + bytes(range(256)) * 20
    attachment.write_bytes(payload)
    child = spawn(aiosmtpd_server, tmp_path)
    child.expect(PROMPT)
    for line in ("EHLO client.test", "MAIL FROM:<student@lab.test>", "RCPT TO:<teacher@lab.test>"):
        child.sendline(line)
        child.expect("250 ")
    child.sendline("DATA")
    child.expect("data>")
    child.sendline(":compose")
    answers = [("From", "Zoë Student <student@lab.test>"), ("To", "Teacher <teacher@lab.test>"),
               ("Subject", "Grüße, 日本語 ✉"), ("body", "Hallo Lehrer,"), ("body", "anbei die Notizen."),
               ("body", "."), ("HTML", ""), ("Attach", str(attachment))]
    for prompt, answer in answers:
        child.expect_exact(prompt)
        child.sendline(answer)
    child.expect_exact("attachment 'notes.pdf'")
    child.expect("250 2.0.0 Message accepted")
    child.expect(PROMPT)
    leave(child)
    msg = email.message_from_bytes(aiosmtpd_server.messages[-1].replace(b"\r\n", b"\n"), policy=policy.default)
    assert msg["Subject"] == "Grüße, 日本語 ✉"
    assert msg["From"].addresses[0].display_name == "Zoë Student"
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == "Hallo Lehrer,\nanbei die Notizen.\n"
    [part] = list(msg.iter_attachments())
    assert part.get_filename() == "notes.pdf" and part.get_content_type() == "application/pdf"
    assert part.get_content() == payload
