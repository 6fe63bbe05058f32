"""The command model: what the student typed, classified, and checked against RFC 5321 limits.

The shell sends a line exactly as typed (verbs in any case); this module only *describes* it:
the verb, its arguments, and whether the line fits the limits of RFC 5321 §4.5.3.1 (512 octets
for a command line, 1000 for a text line, CRLF included). It also does DATA-mode
dot-stuffing (§4.5.2), including a fast pass over whole byte blocks for large bodies.
"""

from __future__ import annotations

from dataclasses import dataclass

from smtp_shell.protocol.errors import LocalProtocolError

MAX_COMMAND_LINE = 512   # octets including CRLF (RFC 5321 §4.5.3.1.4)
MAX_TEXT_LINE = 1000     # octets including CRLF (RFC 5321 §4.5.3.1.6)

# verb -> (syntax, one-line meaning); drives completion and :help.
VERBS: dict[str, tuple[str, str]] = {
    "EHLO": ("EHLO <your-domain>", "say hello and ask for the server's extensions (ESMTP)"),
    "HELO": ("HELO <your-domain>", "say hello, old style (no extensions)"),
    "MAIL": ("MAIL FROM:<sender@example.org>", "start a message: the envelope sender"),
    "RCPT": ("RCPT TO:<recipient@example.org>", "add an envelope recipient"),
    "DATA": ("DATA", "send the message itself; end it with a line holding only ."),
    "RSET": ("RSET", "abandon the current message"),
    "NOOP": ("NOOP", "do nothing; checks the server is still there"),
    "QUIT": ("QUIT", "end the session"),
    "VRFY": ("VRFY <user>", "ask whether a mailbox exists (often refused)"),
    "EXPN": ("EXPN <list>", "ask who is on a mailing list (often refused)"),
    "HELP": ("HELP [verb]", "ask the server for help"),
    "STARTTLS": ("STARTTLS", "upgrade this connection to TLS"),
    "AUTH": ("AUTH LOGIN | AUTH PLAIN [initial-response]", "log in"),
    "BDAT": ("BDAT <size> [LAST]", "send a chunk of the message (CHUNKING)"),
    "ETRN": ("ETRN <domain>", "ask the server to flush its queue for a domain"),
}


@dataclass(frozen=True)
class Command:
    """One line the student typed, as it will go on the wire."""

    text: str
    verb: str    # upper-cased first word ("" for an empty line)
    args: str    # everything after the verb and its separating space(s)

    @property
    def known(self) -> bool:
        return self.verb in VERBS

    def wire(self) -> bytes:
        return self.text.encode("utf-8", "surrogateescape") + b"\r\n"

    def length_warning(self) -> str | None:
        n = len(self.wire())
        if n > MAX_COMMAND_LINE:
            return (f"This command line is {n} octets with CRLF; RFC 5321 allows {MAX_COMMAND_LINE}, "
                    "so the server may reject it with 500.")
        return None


def classify(text: str) -> Command:
    """Describe a typed line. Raises LocalProtocolError if it cannot be one SMTP line."""
    check_single_line(text)
    stripped = text.strip()
    verb, _, args = stripped.partition(" ")
    verb = verb.upper()
    # MAIL FROM: / RCPT TO: typed without the space still has the verb MAIL / RCPT.
    if ":" in verb and verb.split(":", 1)[0] in ("MAIL", "RCPT"):
        verb, args = verb.split(":", 1)[0], stripped[len(verb.split(":", 1)[0]):].lstrip()
    return Command(text=text, verb=verb, args=args.strip())


def bdat_size(args: str) -> tuple[int | None, bool]:
    """`BDAT 27 LAST` arguments -> (27, True); (None, False) when the size is not a number (RFC 3030)."""
    words = args.split()
    if not words or not words[0].isdigit() or len(words) > 2 or (len(words) == 2 and words[1].upper() != "LAST"):
        return None, False
    return int(words[0]), len(words) == 2


def check_single_line(text: str) -> None:
    if "\r" in text or "\n" in text:
        raise LocalProtocolError(
            "The line contains a line break, so it would reach the server as two lines.",
            "Type (or paste) one line at a time; smtp-shell ends every line with CRLF for you.")
    if "\x00" in text:
        raise LocalProtocolError(
            "The line contains a NUL character, which SMTP does not allow.",
            "Remove it and send the line again.")


def text_line_warning(line: str) -> str | None:
    """Warning for a DATA body line over the 1000-octet limit (CRLF included)."""
    n = len(line.encode("utf-8", "surrogateescape")) + 2
    if n > MAX_TEXT_LINE:
        return (f"This line is {n} octets with CRLF; RFC 5321 allows {MAX_TEXT_LINE} in a message, "
                "so the server may reject the message after the final dot.")
    return None


def dot_stuff(line: str) -> tuple[str, bool]:
    """A DATA line as sent: a leading '.' is doubled (RFC 5321 §4.5.2). Returns (line, stuffed)."""
    if line.startswith("."):
        return "." + line, True
    return line, False


class DotStuffer:
    """Streaming dot-stuffing of a message body given as byte blocks, with CRLF normalisation.

    Blocks may split lines anywhere. Bare LF and bare CR become CRLF, lines that begin with
    '.' get a second '.', and `finish()` returns the tail plus the terminating `.CRLF`.
    Memory is bounded by the block size, whatever the message size.
    """

    def __init__(self) -> None:
        self._at_line_start = True
        self._pending_cr = False
        self.stuffed_lines = 0
        self.lines = 0

    def feed(self, block: bytes) -> bytes:
        if self._pending_cr:
            block = b"\r" + block
            self._pending_cr = False
        if block.endswith(b"\r"):
            block, self._pending_cr = block[:-1], True
        if not block:
            return b""
        crlf = block.count(b"\r\n")
        if crlf and crlf == block.count(b"\n") == block.count(b"\r"):
            # Fast path: every line already ends in CRLF (a .eml file as sent): only the
            # leading dots to double, in one pass instead of four.
            self.lines += crlf
            stuffed = block.count(b"\r\n.")
            if stuffed:
                block = block.replace(b"\r\n.", b"\r\n..")
            if self._at_line_start and block.startswith(b"."):
                block = b"." + block
                stuffed += 1
            self.stuffed_lines += stuffed
            self._at_line_start = block.endswith(b"\n")
            return block
        # Normalise line ends: CRLF -> LF, lone CR -> LF, then LF -> CRLF.
        if b"\r" in block:
            block = block.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        self.lines += block.count(b"\n")
        stuffed = block.count(b"\n.")
        if self._at_line_start and block.startswith(b"."):
            block = b"." + block
            stuffed += 1
        if stuffed:
            block = block.replace(b"\n.", b"\n..")
            self.stuffed_lines += stuffed
        self._at_line_start = block.endswith(b"\n")
        return block.replace(b"\n", b"\r\n")

    def finish(self) -> bytes:
        tail = b""
        if self._pending_cr:
            self._pending_cr = False
            tail = b"\r\n"
            self.lines += 1
            self._at_line_start = True
        if not self._at_line_start:
            tail += b"\r\n"
        return tail + b".\r\n"
