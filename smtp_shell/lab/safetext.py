"""Make untrusted text (what clients send, what messages contain) safe to show or log.

Everything a student's client sends ends up in a session log, a mailbox table or a terminal.
Control characters and escape sequences there could rewrite an instructor's screen, so they are
turned into visible `\\xNN` escapes before anything is written or printed.
"""

from __future__ import annotations


def visible(text: str, keep_newlines: bool = False) -> str:
    """`text` with every non-printable character shown as an escape (`\\x1b`, `\\r`, `\\u200b`)."""
    if text.isprintable():  # the common case, decided in C: nothing to escape
        return text
    out = []
    for ch in text:
        if ch.isprintable() or ch == " " or (keep_newlines and ch in "\n\t"):
            out.append(ch)
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        elif 0xDC80 <= ord(ch) <= 0xDCFF:  # a surrogate-escaped undecodable byte
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        else:
            out.append(f"\\u{ord(ch):04x}")
    return "".join(out)


def visible_bytes(data: bytes, keep_newlines: bool = False) -> str:
    """Bytes as UTF-8 where they are, with undecodable bytes and control characters escaped."""
    return visible(data.decode("utf-8", "surrogateescape"), keep_newlines)
