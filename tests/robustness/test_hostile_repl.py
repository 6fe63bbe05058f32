"""A hostile server against the real interactive REPL (in-process, and in a pty for what the
terminal shows): each scenario's sentence, then proof the REPL is still usable — the next
command works, or `:reconnect` does. The server misbehaves on the first connection only, so
`:reconnect` reaches a well-behaved one."""

from __future__ import annotations

import io
import re
import sys
import threading

import pytest

from smtp_shell.protocol.states import State
from tests.certs import server_context
from tests.robustness.hostile import closes_after_starttls_220, greets_then_silent, never_greets
from tests.shell.helpers import env
from tests.support.repl import run_repl

pytestmark = pytest.mark.timeout(60)

ANSI = r"(?:\x1b\[[0-9;?]*[A-Za-z]|\s)*"  # prompt_toolkit's own cursor and colour sequences
PROMPT = "smtp>"


def first_then_smtp(misbehave):
    """A script: `misbehave(peer)` on the first connection, a normal SMTP dialogue afterwards."""
    async def script(peer):
        if peer.index == 0:
            await misbehave(peer)
        else:
            await peer.smtp()
    return script


async def reconnect_and_noop(repl) -> None:
    await repl.type(":reconnect", "<-  220 hostile.test ESMTP ready")
    await repl.type("NOOP", "<-  250 2.0.0 OK")
    assert repl.driver.core.state is State.GREETED


# ---- silence ------------------------------------------------------------------------------

async def drips(peer):
    await peer.send("220 hostile.test ESMTP")
    await peer.expect("EHLO")
    await peer.drip(b"250 slow\r\n", 0.5)
    await peer.smtp(greeting=None)


def test_no_greeting_then_reconnect(hostile):
    server = hostile(first_then_smtp(never_greets))

    async def scenario(repl):
        await repl.until("sent no greeting within 1 second")
        assert repl.errors() == [f"{server.target} sent no greeting within 1 second; check the port, or try --tls "
                                 f"if it expects TLS from the first byte."]
        await reconnect_and_noop(repl)

    run_repl(server, scenario)


def test_no_answer_then_reconnect(hostile):
    server = hostile(first_then_smtp(greets_then_silent))

    async def scenario(repl):
        await repl.until("<-  220 hostile.test ESMTP")
        mark = await repl.type("EHLO a", "No reply to EHLO within 1 second")
        assert repl.errors(mark) == ["No reply to EHLO within 1 second; the server may be slow or stuck: wait, "
                                     "raise --timeout, or use :reconnect."]
        await reconnect_and_noop(repl)

    run_repl(server, scenario)


def test_slow_drip_reply_arrives_late_and_is_matched_to_its_command(hostile):
    server = hostile(drips)

    async def scenario(repl):
        await repl.until("<-  220 hostile.test ESMTP")
        await repl.type("EHLO a", "No reply to EHLO within 1 second")
        await repl.until("<-  250 slow", timeout=10)  # the late reply still shows, as EHLO's
        assert repl.driver.core.state is State.READY
        await repl.type("NOOP", "<-  250 2.0.0 OK")  # and the next command gets its own reply

    run_repl(server, scenario)


# ---- garbage --------------------------------------------------------------------------------

async def garbage_and_flood(peer):
    await peer.send(b"\x00\xff garbage\r\n220 hostile.test ESMTP\r\n")
    await peer.expect("EHLO")
    await peer.send(b"B" * (1024 * 1024) + b"\r\n999 nope\r\n250-one\r\n550 two\r\n")
    await peer.smtp(greeting=None)


def test_garbage_flood_and_bad_codes_then_the_next_command_works(hostile):
    server = hostile(garbage_and_flood)

    async def scenario(repl):
        await repl.until("<-  220 hostile.test ESMTP")
        mark = await repl.type("EHLO a", "<** 550 two", timeout=10)
        assert repl.errors() == [
            "The server sent a line that is not an SMTP reply (it must start with a three-digit code).",
            "The server sent more than 64 KiB without a line end.",
            "The server sent reply code 999, which is outside the range SMTP allows (200 to 559).",
            "The server mixed codes inside one reply (250 then 550).",
        ]
        assert mark
        await repl.type("NOOP", "<-  250 2.0.0 OK")

    run_repl(server, scenario, timeout=3)


# ---- escapes --------------------------------------------------------------------------------

async def escapes(peer):
    await peer.smtp({"NOOP": b"250 \x1b]0;pwned\x07\x1b[31m[bold red]red[/bold red]\x1b[0m\r\n"})


def test_escapes_and_markup_in_the_repl(hostile):
    server = hostile(escapes)

    async def scenario(repl):
        await repl.until("<-  220 hostile.test")
        await repl.type("NOOP", r"<-  250 \x1b]0;pwned\x07\x1b[31m[bold red]red[/bold red]\x1b[0m")
        await repl.type("NOOP", "<-  250 ")

    run_repl(server, scenario)  # run_repl asserts no raw ESC/BEL reached the console


# ---- connections that end at the worst moment -----------------------------------------------

async def closes_mid_data(peer):
    async def body(p, line):
        p.abort()
        return False
    await peer.smtp({"<data>": body})


async def closes_mid_reply(peer):
    await peer.send("220 hostile.test ESMTP")
    await peer.expect("NOOP")
    await peer.send(b"250-half a rep")
    peer.close()


def test_close_mid_data_then_reconnect(hostile):
    server = hostile(first_then_smtp(closes_mid_data))

    async def scenario(repl):
        await repl.until("<-  220 ")
        for line, expect in [("EHLO a", "<-  250 STARTTLS"), ("MAIL FROM:<a@lab.test>", "250 2.1.0"),
                             ("RCPT TO:<b@lab.test>", "250 2.1.5"), ("DATA", "DATA mode")]:
            await repl.type(line, expect)
        await repl.idle("data")
        mark = await repl.type("Subject: x", "during DATA")
        assert repl.errors(mark)[-1] == ("The server closed the connection during DATA, so the message was not "
                                         "delivered; use :reconnect to start a new session.")
        await repl.idle("command")
        await repl.type("NOOP", "Not connected to a server, so nothing was sent.")
        await reconnect_and_noop(repl)

    run_repl(server, scenario)


def test_close_after_starttls_220_then_reconnect(hostile, certs):
    server = hostile(first_then_smtp(closes_after_starttls_220), tls_context=server_context(certs.valid))

    async def scenario(repl):
        await repl.until("<-  220 ")
        await repl.type("EHLO a", "<-  250 STARTTLS")
        mark = await repl.type("STARTTLS", "instead of starting TLS")
        assert repl.errors(mark) == ["The server closed the connection instead of starting TLS; use :reconnect to "
                                     "start a new session."]
        await repl.idle("command")
        await reconnect_and_noop(repl)
        await repl.type("EHLO a", "<-  250 STARTTLS")
        await repl.type("STARTTLS", "send EHLO again")  # the second connection really upgrades
        await repl.type("EHLO a", "<~  250 STARTTLS")

    run_repl(server, scenario, cafile=certs.valid.cert_path)


def test_close_mid_reply_then_reconnect(hostile):
    server = hostile(first_then_smtp(closes_mid_reply))

    async def scenario(repl):
        await repl.until("<-  220 ")
        mark = await repl.type("NOOP", "in the middle of a reply")
        assert r"<!  cut off: 250-half a rep" in repl.screen[mark:]
        await reconnect_and_noop(repl)

    run_repl(server, scenario)


# ---- the unsolicited 421, while the student is typing ---------------------------------------

def four_twenty_one_on(event: threading.Event):
    async def script(peer):
        if peer.index > 0:
            return await peer.smtp()
        await peer.send("220 hostile.test ESMTP")
        await peer.wait_for(event)
        await peer.send("421 4.3.2 hostile.test shutting down NOW")
        peer.close()
    return script


def test_unsolicited_421_while_typing_in_process(hostile):
    go = threading.Event()
    server = hostile(four_twenty_one_on(go))

    async def scenario(repl):
        await repl.until("<-  220 ")
        await repl.keys("NOO")       # half a command typed, Enter not pressed
        mark = len(repl.screen)
        go.set()
        await repl.until("<** 421 4.3.2 hostile.test shutting down NOW", timeout=3, start=mark)
        await repl.until("=== warning: the server sent a reply nobody asked for: it is closing the session (421)",
                         start=mark)
        await repl.until("=== the server closed the connection (:reconnect starts a new session)", start=mark)
        assert repl.errors(mark) == []
        # the half-typed line is still there: finishing it is refused politely
        await repl.type("P", "Not connected to a server, so nothing was sent.")
        await reconnect_and_noop(repl)

    run_repl(server, scenario)


@pytest.mark.skipif(sys.platform == "win32", reason="pty tests need a POSIX pty")
def test_unsolicited_421_appears_above_the_prompt_at_once_in_a_pty(hostile, tmp_path):
    import pexpect

    go = threading.Event()
    server = hostile(four_twenty_one_on(go))
    child = pexpect.spawn(sys.executable, ["-m", "smtp_shell", "connect", server.target, "--timeout", "2"],
                          env=env(tmp_path), encoding="utf-8", timeout=10, dimensions=(40, 200))
    child.logfile_read = io.StringIO()
    try:
        child.expect(PROMPT)
        child.send("NOO")
        child.expect("NOO")
        go.set()
        child.expect(r"421 4\.3\.2 hostile\.test shutting down NOW", timeout=3)
        # the prompt is drawn again below it, with the half-typed line intact
        child.expect(PROMPT + ANSI + "NOO", timeout=3)
        child.send("P\r")
        child.expect("Not connected to a server, so nothing was sent.")
        child.sendline(":reconnect")
        child.expect("220 hostile.test ESMTP ready")
        child.sendline("NOOP")
        child.expect("250 2.0.0 OK")
        child.sendline(":quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    screen = child.logfile_read.getvalue()
    assert "Traceback" not in screen and "Internal error" not in screen


async def escapes_pty(peer):
    await peer.smtp({"NOOP": b"250 \x1b]0;pwned\x07 \x1b[2J\x1b[31mred [bold red]x[/bold red] \x07ding\r\n"})


@pytest.mark.skipif(sys.platform == "win32", reason="pty tests need a POSIX pty")
def test_escapes_never_reach_the_terminal_in_a_pty(hostile, tmp_path):
    import pexpect

    server = hostile(escapes_pty)
    child = pexpect.spawn(sys.executable, ["-m", "smtp_shell", "connect", server.target, "--timeout", "2"],
                          env=env(tmp_path), encoding="utf-8", timeout=10, dimensions=(40, 200))
    child.logfile_read = io.StringIO()
    try:
        child.expect(PROMPT)
        child.sendline("NOOP")
        child.expect(re.escape(r"\x1b]0;pwned\x07 \x1b[2J\x1b[31mred [bold red]x[/bold red] \x07ding"))
        child.expect(PROMPT)
        child.sendline(":quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    screen = child.logfile_read.getvalue()
    # prompt_toolkit draws the prompt with its own escape sequences; the server's never pass
    assert "\x1b]0;pwned" not in screen and "\x07" not in screen
    assert "\x1b[2J\x1b[31mred" not in screen and "\x1b[31mred" not in screen
