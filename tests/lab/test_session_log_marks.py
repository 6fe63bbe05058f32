"""The lab's session log marks what a hand-written client gets wrong on the wire: bare LF, bare
CR, 8-bit bytes, over-long lines - and says plainly that a '.' ended by a bare LF does not end
the message (the reason a raw-socket client hangs until the idle timeout)."""

from __future__ import annotations

import time


def _log_text(lab, needle: str, timeout: float = 5.0) -> str:
    """The session log once it holds `needle` (it is flushed shortly after each line)."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = "\n".join(p.read_text(encoding="utf-8") for p in lab.log_dir.glob("*.log"))
        if needle in text:
            return text
        time.sleep(0.05)
    return text


def test_bare_lf_bare_cr_8bit_and_overlong_lines_are_marked(lab, wire):
    w = wire(lab)
    w.reply()
    w.send(b"EHLO bare-lf\n")
    assert w.reply().startswith("250")
    w.cmd("MAIL FROM:<student@lab.test>")
    w.cmd("RCPT TO:<teacher@lab.test>")
    assert w.cmd("DATA").startswith("354")
    w.send("Subject: Café\r\n".encode() + b"a\rb\r\n" + b"x" * 1200 + b"\r\n" + b"body\n.\n")
    text = _log_text(lab, "does NOT end the message")
    assert "C: EHLO bare-lf\n" in text
    assert "-- the line above: bare LF (no CR before it); SMTP lines end in CR LF\n" in text
    assert "-- the line above: 2 8-bit byte(s)" in text
    assert "-- the line above: bare CR inside the line" in text
    assert "1202 octets, over the 1000 allowed for a text line" in text
    assert "so a lone '.' ended this way does NOT end the message" in text
    w.send(b"\r\n.\r\n")   # the real end: CR LF . CR LF (then aiosmtpd refuses the over-long line)
    reply = w.reply()
    assert reply.startswith("500 ") and "Line too long" in reply


def test_a_clean_session_has_no_marks(lab, wire):
    w = wire(lab)
    w.reply()
    w.cmd("EHLO clean")
    w.cmd("QUIT")
    assert "the line above" not in _log_text(lab, "C: QUIT")
