"""The bytes on the wire, drawn so a student can see them: CR and LF as ␍ and ␊, a trailing space
as ␠, a tab as ␉, other control bytes as their Unicode control pictures, and every non-ASCII
character with its UTF-8 bytes in hex.

Why this exists: SMTP is about exact bytes (RFC 5321 §2.3.8: every line ends in CR LF), and a
terminal hides exactly those. `:wire on` shows each line as sent and received through these
functions; they are pure (bytes in, text out), so tests and the lab can use them too.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["WireLine", "show_line", "split_lines"]

_PICTURES = {0x0D: "␍", 0x0A: "␊", 0x09: "␉", 0x7F: "␡"}


@dataclass(frozen=True)
class WireLine:
    text: str                 # the line with its ending and odd bytes drawn visibly
    notes: tuple[str, ...]    # what is notable: bare LF, bare CR, UTF-8 bytes, trailing spaces


def split_lines(data: bytes) -> list[bytes]:
    """Cut a block of bytes after each LF, keeping the endings (and a last partial line)."""
    lines, start = [], 0
    while (end := data.find(b"\n", start)) >= 0:
        lines.append(data[start:end + 1])
        start = end + 1
    if start < len(data):
        lines.append(data[start:])
    return lines


def _char(ch: str) -> str:
    code = ord(ch)
    if code in _PICTURES:
        return _PICTURES[code]
    if code < 0x20:
        return chr(0x2400 + code)
    if 0x80 <= code < 0xA0 or code in (0x2028, 0x2029, 0x200E, 0x200F) or 0x202A <= code <= 0x202E:
        return f"\\u{code:04x}"  # C1 controls and text-direction tricks never reach the terminal
    return ch


def show_line(raw: bytes) -> WireLine:
    """One raw line (with its ending) made visible, plus notes on what is notable in it."""
    notes: list[str] = []
    ending = b"\r\n" if raw.endswith(b"\r\n") else b"\n" if raw.endswith(b"\n") else b""
    content = raw[:len(raw) - len(ending)]
    text = content.decode("utf-8", "replace")
    stripped = text.rstrip(" ")
    trailing = len(text) - len(stripped)
    shown = "".join(_char(c) for c in stripped) + "␠" * trailing
    shown += "".join(_PICTURES[b] for b in ending)
    if ending == b"\n":
        notes.append("bare LF: SMTP wants CR LF")
    elif not ending:
        notes.append("no line end yet")
    if b"\r" in content:
        notes.append("bare CR inside the line")
    if trailing:
        notes.append(f"{trailing} trailing space{'s' if trailing > 1 else ''}")
    wide = [c for c in dict.fromkeys(text) if ord(c) > 0x7F]
    if wide:
        notes.append("UTF-8: " + ", ".join(f"{c}={' '.join(f'{b:02X}' for b in c.encode('utf-8'))}"
                                           for c in wide[:8] if c != "\ufffd")
                     + (" (and bytes that are not UTF-8)" if "\ufffd" in wide else ""))
    return WireLine(shown, tuple(notes))
