"""The real REPL in-process: prompt_toolkit's pipe input and a dummy output, a rich console
writing to a buffer, a plain aiosmtpd on 127.0.0.1. Asserts on what the student would see
and on the session's state, not on terminal bytes."""

from __future__ import annotations

import asyncio

import pytest

from smtp_shell.protocol.states import State
from smtp_shell.shell.options import SessionOptions
from tests.support.repl import Repl


class ReplHarness(Repl):
    """The shared harness (tests/support/repl.py), typed at through the input it yields."""

    def __init__(self, options: SessionOptions) -> None:
        super().__init__(options=options, width=200)

    async def type(self, inp, line: str, expect: str, timeout: float = 10.0) -> None:
        mark = len(self.screen)
        inp.send_text(line + "\r")
        await self.until(expect, timeout, start=mark)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


@pytest.mark.timeout(60)
def test_repl_session_with_modes_and_meta_commands(aiosmtpd_server):
    h = ReplHarness(SessionOptions(host="127.0.0.1", port=aiosmtpd_server.port, cafile=aiosmtpd_server.cafile, timeout=5))

    async def scenario():
        async with h.session() as inp:
            await h.type(inp, "ehlo me", "<-  250 ")
            assert h.shell.driver.core.state is State.READY
            await h.type(inp, ":caps", "STARTTLS")
            await h.type(inp, ":pipeline", "an empty line sends them all")
            for line in ("MAIL FROM:<a@lab.test>", "RCPT TO:<b@lab.test>", "RCPT TO:<nobody>"):
                inp.send_text(line + "\r")
            await h.type(inp, "", "that answers RCPT TO:<nobody>")
            assert "3 lines sent in one write" in h.screen
            # Replies matched in order: the third reply (aiosmtpd's 553 for a bad address) answers the third command.
            tail = h.screen[h.screen.index("3 lines sent"):]
            assert tail.index("that answers MAIL") < tail.index("that answers RCPT TO:<b@") < tail.index("that answers RCPT TO:<nobody>")
            await h.type(inp, "DATA", "DATA mode")
            assert h.shell.driver.core.mode == "data"
            await h.type(inp, ":help", "The shell's own commands")  # works in DATA mode too; not sent
            assert " -> :help" not in h.screen
            await h.type(inp, "Subject: in-process", " -> Subject: in-process")
            await h.type(inp, "", "without a Date: line")   # the advisor warns and asks
            await h.type(inp, "", " -> ")                       # Enter: send it anyway
            await h.type(inp, ".dot", "dot-stuffing")
            await h.type(inp, ".", "Message accepted")
            assert h.shell.driver.core.state is State.READY
            await h.type(inp, "   ", "nothing sent")
            # F1 explains the last reply; the half-typed line comes back afterwards.
            mark = len(h.screen)
            inp.send_text("NOO\x1bOP")
            await h.until("Usual causes", start=mark)
            await h.type(inp, "P", " -> NOOP")
            await h.type(inp, ":explain", "250")
            await h.type(inp, ":quit", "<-  221 ")
            assert await h.finished() == 0

    run(scenario())
    assert aiosmtpd_server.messages == [b"Subject: in-process\r\n\r\n.dot\r\n"]


@pytest.mark.timeout(60)
def test_repl_survives_the_server_going_away_and_reconnects(aiosmtpd_server):
    h = ReplHarness(SessionOptions(host="127.0.0.1", port=aiosmtpd_server.port, timeout=5))

    async def scenario():
        async with h.session() as inp:
            await h.type(inp, "QUIT", "closed the connection")
            await h.type(inp, "NOOP", "Not connected to a server")
            await h.type(inp, ":reconnect", "<-  220 ")
            await h.type(inp, "NOOP", "<-  250 ")
            inp.send_text(":quit\r")
            assert await h.finished() == 0

    run(scenario())


@pytest.mark.timeout(60)
def test_a_pasted_message_body_is_sent_line_by_line_up_to_the_lone_dot(aiosmtpd_server):
    h = ReplHarness(SessionOptions(host="127.0.0.1", port=aiosmtpd_server.port, timeout=5))

    async def scenario():
        async with h.session() as inp:
            for line in ("EHLO me", "MAIL FROM:<a@lab.test>", "RCPT TO:<b@lab.test>", "DATA"):
                await h.type(inp, line, "<-  ")
            inp.send_text("\x1b[200~Subject: pasted\n\nfirst\n.second\n.\nNOOP\x1b[201~\r")
            await h.until("after it were not sent")
            assert "the 1 pasted line(s) after it were not sent" in h.screen
            assert " -> NOOP" not in h.screen
            assert h.shell.driver.core.mode == "command"
            inp.send_text(":quit\r")
            assert await h.finished() == 0

    run(scenario())
    assert aiosmtpd_server.messages == [b"Subject: pasted\r\n\r\nfirst\r\n.second\r\n"]


@pytest.mark.timeout(60)
def test_a_declined_line_is_not_counted_and_the_header_checks_still_fire(aiosmtpd_server):
    """Answering n to a warning keeps the line out of the message, and out of the advisor's memory."""
    h = ReplHarness(SessionOptions(host="127.0.0.1", port=aiosmtpd_server.port, timeout=5))

    async def scenario():
        async with h.session() as inp:
            await h.type(inp, "EHLO me", "<-  250 ")
            await h.type(inp, "MAIL FROM:<a@lab.test>", "<-  250 ")
            await h.type(inp, "RCPT TO:<b@lab.test>", "<-  250 ")
            await h.type(inp, "DATA", "DATA mode")
            await h.type(inp, "Subject: declined", " -> Subject: declined")
            await h.type(inp, "Hello teacher,", "looks like body text")  # a body line too early: a warning
            await h.type(inp, "n", "not sent")                           # declined; it comes back to edit
            mark = len(h.screen)
            await h.type(inp, "\x15", "without a From: line")  # Ctrl-U clears it; the blank line ends the headers
            assert "without a Date: line" in h.screen[mark:]
            await h.type(inp, "", " -> ")                   # send it anyway
            await h.type(inp, ".", "Message accepted")
            await h.type(inp, "\x15:quit", "<-  221 ")  # Ctrl-U first: the REPL may offer the declined line again
            assert await h.finished() == 0

    run(scenario())
    assert aiosmtpd_server.messages == [b"Subject: declined\r\n\r\n"]
