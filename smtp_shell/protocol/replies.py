"""The reply parser: bytes from the server in, `Reply` objects out, with no I/O.

RFC 5321 §4.2: a reply is one or more lines `CODE-text` ending with a line `CODE text` (or
just `CODE`). The parser keeps partial input until a reply is complete, so it gives the same
result whether the bytes arrive all at once or one at a time. It is lenient the way a good
teaching tool should be: a bare LF, an overlong line or a missing space is *noted* on the
reply and parsing goes on; a line that is not a reply at all, or mixed codes inside one reply,
is reported as a `RemoteProtocolError` event with a hint. It never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from smtp_shell.protocol.errors import RemoteProtocolError

MAX_REPLY_LINE = 512           # octets, CRLF included (RFC 5321 §4.5.3.1.5)
MAX_BUFFERED_LINE = 64 * 1024  # past this without a line end, the input is discarded
MAX_REPLY_LINES = 1000         # lines kept of one multi-line reply (real ones have a few dozen)
MAX_REPLY_BYTES = 256 * 1024   # octets kept of one multi-line reply

_LINE = re.compile(rb"(\d{3})([ -]?)(.*)", re.S)
_ENHANCED = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)")


@dataclass(frozen=True)
class Reply:
    """One complete server reply. `lines` hold the text after `CODE-`/`CODE `, one per line."""

    code: int
    lines: tuple[str, ...] = ("",)
    raw: bytes = b""
    notes: tuple[str, ...] = field(default=(), compare=False)
    line_codes: tuple[int, ...] = field(default=(), compare=False)  # only when the server mixed codes

    @property
    def klass(self) -> int:
        """2 success, 3 intermediate, 4 temporary failure, 5 permanent failure."""
        return self.code // 100

    @property
    def enhanced(self) -> str | None:
        """The RFC 3463 enhanced status code (`5.7.8`) when the first line starts with one of this class."""
        m = _ENHANCED.match(self.lines[0]) if self.lines else None
        if m and int(m.group(1)) == self.klass:
            return m.group(0)
        return None

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def message(self) -> str:
        """The human text: every line without its enhanced code."""
        enh = self.enhanced
        out = []
        for line in self.lines:
            if enh and line.startswith(enh):
                line = line[len(enh):].lstrip(" ")
            out.append(line)
        return "\n".join(out)

    def wire_lines(self) -> list[str]:
        """The lines as a server sends them: `250-first`, ..., `250 last`."""
        last = len(self.lines) - 1
        codes = self.line_codes if len(self.line_codes) == len(self.lines) else (self.code,) * len(self.lines)
        return [f"{c}{' ' if i == last else '-'}{t}" if (t or i != last) else f"{c}"
                for i, (c, t) in enumerate(zip(codes, self.lines))]

    def to_bytes(self) -> bytes:
        return b"".join(line.encode("utf-8", "surrogateescape") + b"\r\n" for line in self.wire_lines())


def decode_server_text(data: bytes) -> str:
    """Server bytes to text, losslessly: invalid UTF-8 survives as surrogate escapes."""
    return data.decode("utf-8", "surrogateescape")


class ReplyParser:
    """Feed bytes with `feed()`; take complete `Reply`s and `RemoteProtocolError`s from `events()`."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._buffer = bytearray()
        self._discarding = False
        self._code: int | None = None
        self._codes: list[int] = []  # per-line codes, kept only once the server mixes them
        self._lines: list[str] = []
        self._raw = bytearray()
        self._notes: list[str] = []
        self._out: list[Reply | RemoteProtocolError] = []
        self._dropped = 0  # lines of the current reply not kept (past MAX_REPLY_LINES / MAX_REPLY_BYTES)

    @property
    def buffered(self) -> bytes:
        """Bytes received but not yet part of a complete reply (the STARTTLS check needs them)."""
        return bytes(self._raw) + bytes(self._buffer)

    def clear(self) -> bytes:
        """Forget all partial input and return it (used when TLS starts)."""
        left = self.buffered
        self._reset()
        return left

    def feed(self, data: bytes) -> list[Reply | RemoteProtocolError]:
        """Add bytes; return the events they completed (Reply or RemoteProtocolError), in order."""
        self._buffer += data
        while True:
            nl = self._buffer.find(b"\n")
            if nl < 0:
                if len(self._buffer) > MAX_BUFFERED_LINE:
                    if not self._discarding:
                        self._out.append(RemoteProtocolError(
                            f"The server sent more than {MAX_BUFFERED_LINE // 1024} KiB without a line end.",
                            "A real SMTP server never does this: it is not speaking SMTP (or is hostile); "
                            "the rest of that line is ignored.",
                            bytes(self._buffer[:200])))
                    self._discarding = True
                    del self._buffer[:]
                break
            line = bytes(self._buffer[:nl + 1])
            del self._buffer[:nl + 1]
            if self._discarding:
                self._discarding = False
                continue
            self._line(line)
        out, self._out = self._out, []
        return out

    def _line(self, line: bytes) -> None:
        notes = []
        if line.endswith(b"\r\n"):
            content = line[:-2]
        else:
            content = line[:-1]
            notes.append("line ended with a bare LF instead of CRLF")
        if len(line) > MAX_REPLY_LINE:
            notes.append(f"reply line is {len(line)} octets; RFC 5321 allows at most {MAX_REPLY_LINE}")
        m = _LINE.fullmatch(content)
        if m is None:
            self._out.append(RemoteProtocolError(
                "The server sent a line that is not an SMTP reply (it must start with a three-digit code).",
                "This happens when the port runs another protocol, or the server is broken; the line is shown and ignored.",
                line))
            return
        code = int(m.group(1))
        sep = m.group(2)
        text = decode_server_text(m.group(3))
        if not (2 <= code // 100 <= 5) or (code // 10) % 10 > 5:
            self._out.append(RemoteProtocolError(
                f"The server sent reply code {code:03d}, which is outside the range SMTP allows (200 to 559).",
                "Treat the server as broken; the line is shown and ignored.", line))
            return
        if sep == b"-" and (len(self._lines) >= MAX_REPLY_LINES or len(self._raw) >= MAX_REPLY_BYTES):
            if not self._dropped:  # an endless reply must not grow memory without bound
                self._out.append(RemoteProtocolError(
                    f"The server's reply went past {MAX_REPLY_LINES} lines or {MAX_REPLY_BYTES // 1024} KiB "
                    "without ending.",
                    "A real reply is a few lines long; smtp-shell keeps the first ones, drops the rest and "
                    "waits for the reply's last line (or use :reconnect).", line[:200]))
            self._dropped += 1
            return
        if sep == b"" and text:
            notes.append("no space between the code and the text")
        if self._code is not None and code != self._code:
            self._out.append(RemoteProtocolError(
                f"The server mixed codes inside one reply ({self._code} then {code}).",
                "Every line of a multi-line reply must carry the same code; smtp-shell takes the last line's code, as most clients do.",
                line))
        if self._code is not None and code != self._code and not self._codes:
            self._codes = [self._code] * len(self._lines)
        self._code = code
        if self._codes:
            self._codes.append(code)
        self._lines.append(text)
        self._raw += line
        self._notes.extend(notes)
        if sep != b"-":
            if self._dropped:
                self._notes.append(f"{self._dropped} lines of this reply were dropped (too long)")
            self._out.append(Reply(code, tuple(self._lines), bytes(self._raw), tuple(dict.fromkeys(self._notes)),
                                   tuple(self._codes)))
            self._code, self._lines, self._raw, self._notes, self._codes = None, [], bytearray(), [], []
            self._dropped = 0
