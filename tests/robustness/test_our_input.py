"""Broken input on our side: odd characters, overlong lines, pasted line breaks, empty lines,
Ctrl-C in every mode, end of input in batch mode. Each gets one clear sentence and the
session goes on (checked in the in-process REPL and in batch mode)."""

from __future__ import annotations

import pytest

from smtp_shell.protocol.states import State
from smtp_shell.status import ExitStatus
from tests.robustness.conftest import assert_clean, batch, errors
from tests.shell.helpers import MESSAGE_LINES
from tests.support.repl import run_repl

pytestmark = pytest.mark.timeout(60)

LINE_BREAK = "The line contains a line break, so it would reach the server as two lines."
ENVELOPE = ["EHLO a", "MAIL FROM:<a@lab.test>", "RCPT TO:<b@lab.test>", "DATA"]


async def smtp_with_auth(peer):
    """SMTP whose AUTH LOGIN asks Username:, then Password:, and honours the '*' cancel."""
    async def auth(p, line):
        await p.send("334 VXNlcm5hbWU6")
        for challenge in ("334 UGFzc3dvcmQ6", None):
            answer = await p.line()
            if answer == b"*":
                await p.send("501 5.7.0 Authentication cancelled")
                return True
            if challenge:
                await p.send(challenge)
        await p.send("535 5.7.8 Authentication credentials invalid")
        return True
    await peer.smtp({"AUTH": auth, "EHLO": "250-hostile.test greets you\r\n250-AUTH LOGIN\r\n250 STARTTLS"})


# ---- the REPL -------------------------------------------------------------------------------

def test_odd_characters_and_lengths_at_the_prompt(hostile):
    server = hostile(smtp_with_auth)

    async def scenario(repl):
        await repl.until("<-  220 ")
        await repl.type("EHLO ünïcødé.example", " -> EHLO ünïcødé.example")
        await repl.until("<-  250 STARTTLS")
        mark = await repl.type("NOOP " + "x" * 600, "<-  250 2.0.0 OK")
        assert ("=== This command line is 607 octets with CRLF; RFC 5321 allows 512, so the server may reject it "
                "with 500.") in repl.screen[mark:]
        # control characters typed (or pasted) are sent as typed but never shown raw
        await repl.keys("\x1b[200~NOOP \x1b[31mred\x07\x1b[201~")
        await repl.type("", r" -> NOOP \x1b[31mred\x07")
        await repl.until("<-  250 2.0.0 OK")
        mark = await repl.type("   ", "nothing sent: the line holds only spaces (a server would answer 500)")
        mark = await repl.type("", "")  # an empty line: nothing sent, nothing said
        await repl.idle("command")
        assert server.lines[-1] == b"NOOP \x1b[31mred\x07"
        assert repl.screen[mark:].strip() == ""
        await repl.type("NOOP", "<-  250 2.0.0 OK")

    run_repl(server, scenario)


def test_pasted_line_breaks_are_refused_in_one_sentence(hostile):
    server = hostile(smtp_with_auth)

    async def scenario(repl):
        await repl.until("<-  220 ")
        for pasted in ("NOOP\nNOOP", "NOOP\rNOOP", "NOOP\r\nNOOP"):
            await repl.keys(f"\x1b[200~{pasted}\x1b[201~")
            mark = await repl.type("", LINE_BREAK)
            assert repl.errors(mark) == [LINE_BREAK]
        for line in ENVELOPE:
            await repl.type(line, "<-  ")
        await repl.idle("data")
        # In DATA mode a paste is split into message lines (bare LF, CR or CRLF alike).
        await repl.keys("\x1b[200~X-Pasted: one\rX-Pasted: two\r\nX-Pasted: three\x1b[201~")
        await repl.type("", " -> X-Pasted: three")
        assert "pasted 3 lines: each is sent as one message line ending in CRLF" in repl.screen
        assert " -> X-Pasted: one" in repl.screen and " -> X-Pasted: two" in repl.screen
        assert repl.driver.core.mode == "data"
        for header in MESSAGE_LINES[:6]:  # From, To, Subject, Date, Message-ID, the blank line
            await repl.type(header, f" -> {header}")
        await repl.idle("data")
        await repl.type("y" * 1200, "=== This line is 1202 octets with CRLF; RFC 5321 allows 1000 in a message, "
                                    "so the server may reject the message after the final dot.")
        await repl.type(".", "<-  250 2.0.0 Queued")

    run_repl(server, scenario)


def test_ctrl_c_in_every_mode(hostile):
    server = hostile(smtp_with_auth)

    async def scenario(repl):
        await repl.until("<-  220 ")
        # command mode: clears the half-typed line, nothing is sent
        await repl.keys("MAIL FROM:<half")
        await repl.keys("\x03")
        await repl.type("NOOP", "<-  250 2.0.0 OK")
        assert not any(line.startswith(b"MAIL") for line in server.lines)
        # AUTH: username and password prompts
        await repl.type("EHLO a", "<-  250 STARTTLS")
        await repl.type("AUTH LOGIN", "unencrypted")  # the advisor asks first ...
        await repl.keys("\x03")                           # ... Ctrl-C at its question: not sent
        await repl.until("=== not sent")
        await repl.type("", "unencrypted")  # the line comes back for editing; Enter, and Enter to confirm
        await repl.type("", "(Username:)")
        await repl.idle("auth")
        mark = len(repl.screen)
        await repl.keys("c3R1ZGVud")
        await repl.keys("\x03")
        await repl.until("=== AUTH is still in progress; to cancel it, send a line with only * (RFC 4954).",
                         start=mark)
        assert repl.driver.core.mode == "auth" and not repl.driver.core.expects_secret
        await repl.type("c3R1ZGVudA==", "(Password:)")
        await repl.idle("auth")
        assert repl.driver.core.expects_secret
        mark = len(repl.screen)
        await repl.keys("half a passw")
        await repl.keys("\x03")
        await repl.until("AUTH is still in progress", start=mark)
        await repl.type("*", "<** 501 5.7.0 Authentication cancelled")
        await repl.idle("command")
        assert b"half a passw" not in b"".join(server.lines)
        # DATA: Ctrl-C offers to abort; "n" keeps the message, "y" drops the connection
        for line in ENVELOPE[1:]:
            await repl.type(line, "<-  ")
        await repl.idle("data")
        mark = len(repl.screen)
        await repl.keys("\x03")
        await repl.until("=== SMTP cannot take back DATA: a line with only '.' SENDS the message. To abort it, "
                         "smtp-shell must close the connection.", start=mark)
        await repl.idle()  # the question "Abort this message and reconnect? [y/N]" is asked at the prompt
        await repl.type("n", "still in DATA mode; go on typing the message")
        await repl.idle("data")
        for header in MESSAGE_LINES[:6]:
            await repl.type(header, f" -> {header}")
        await repl.idle("data")
        mark = len(repl.screen)
        await repl.keys("\x03")
        await repl.until("SMTP cannot take back DATA", start=mark)
        await repl.idle()
        await repl.keys("\x03")  # Ctrl-C at the question itself: same as "no"
        await repl.until("still in DATA mode", start=mark)
        await repl.idle("data")
        await repl.type(".", "<-  250 2.0.0 Queued")
        await repl.idle("command")
        for line in ENVELOPE[1:]:
            await repl.type(line, "<-  ")
        await repl.idle("data")
        mark = len(repl.screen)
        await repl.keys("\x03")
        await repl.until("SMTP cannot take back DATA", start=mark)
        await repl.idle()
        await repl.type("y", "aborting: closing the connection without ending DATA")
        await repl.until("<-  220 hostile.test ESMTP ready", start=len(repl.screen) - 300)
        await repl.idle("command")
        assert repl.driver.core.state is State.GREETED
        await repl.type("NOOP", "<-  250 2.0.0 OK")
        assert server.connections == 2

    run_repl(server, scenario, timeout=3)


# ---- batch mode -----------------------------------------------------------------------------

async def smtp(peer):
    await peer.smtp()


def test_batch_odd_input(hostile, tmp_path):
    server = hostile(smtp)
    script = ("EHLO ünïcødé\nNOOP \x1b[31mred\x07\n\n   \nNOOP " + "x" * 600 + "\nNOOP a\x00b\n"
              + "\n".join(ENVELOPE[1:]) + "\n" + "y" * 1200 + "\n.\nQUIT\n")
    result = batch(server, script, tmp_path)
    assert_clean(result)
    out = result.stdout
    assert result.returncode == ExitStatus.OK, out
    assert " -> EHLO ünïcødé" in out and r" -> NOOP \x1b[31mred\x07" in out
    assert out.count("=== empty line skipped (an SMTP server would answer 500)") == 1
    assert out.count("=== nothing sent: the line holds only spaces (a server would answer 500)") == 1
    assert "=== This command line is 607 octets with CRLF; RFC 5321 allows 512, so the server may reject it with 500." in out
    assert errors(out) == ["The line contains a NUL character, which SMTP does not allow."]
    assert ("=== This line is 1202 octets with CRLF; RFC 5321 allows 1000 in a message, so the server may reject "
            "the message after the final dot.") in out
    assert "<-  250 2.0.0 Queued" in out
    assert "EHLO ünïcødé".encode() in server.lines


def test_batch_bare_cr_inside_a_line(hostile, tmp_path):
    server = hostile(smtp)
    result = batch(server, "NOOP\rNOOP\nNOOP\n", tmp_path)
    assert_clean(result)
    # Python reads a lone CR as a line end or keeps it; either way nothing reaches the server as two lines
    assert errors(result.stdout) in ([], [LINE_BREAK])
    assert all(b"\r" not in line for line in server.lines)


def test_batch_eof_on_empty_stdin(hostile, tmp_path):
    server = hostile(smtp)
    result = batch(server, "", tmp_path)
    assert_clean(result)
    assert result.returncode == ExitStatus.OK
    assert " -> QUIT" in result.stdout and "<-  221 2.0.0 Bye" in result.stdout


def test_batch_eof_in_the_middle_of_data(hostile, tmp_path):
    server = hostile(smtp)
    result = batch(server, "\n".join(ENVELOPE) + "\nSubject: x\n\nhalf a messa", tmp_path)
    assert_clean(result)
    assert result.returncode == ExitStatus.ERROR
    assert errors(result.stdout) == ["The input ended in the middle of DATA (no line with only '.'), so the message "
                                     "was not delivered; end the message with a line holding only '.'."]
    assert b"." not in server.lines and server.lines[-1] == b"half a messa"
