"""The lab reads DATA a block at a time (limits.py DataScanner over aiosmtpd_hooks'
`read_data_block`): what it keeps, what it refuses and where it stops must be exactly what a
line-by-line reading gives, however the client's bytes arrive, for every kind of line a client
gets wrong (bare CR or LF, dot-stuffing, a lone dot ended by LF only, over-long lines, too much
text), and the bytes after the lone dot (pipelined commands) must stay unread for aiosmtpd."""

from __future__ import annotations

import asyncio
import random

import pytest

from smtp_shell.lab.aiosmtpd_hooks import HookedSMTP
from smtp_shell.lab.limits import DataScanner, read_data

pytestmark = pytest.mark.timeout(120)

PIECES = [b"hello", b".", b"..", b"..dot", b".x", b"", b"a" * 7, b"b" * 8, b"c" * 9, b"d" * 30, b"x\ry",
          b"x\ny", b"\r", b"end.", b"caf\xc3\xa9", b"."]
ENDS = [b"\r\n"] * 8 + [b"\n", b"\r", b""]


def reference(stream: bytes, line_limit: int, size_limit: int) -> tuple[str | None, bytes, bytes]:
    """By definition: the message ends at the first `.` CR LF at the start of a line (lines end in
    CR LF only); a problem is the limit an earlier octet crosses (the size on a tie); one leading
    dot of each line goes. Returns (problem, content, what follows the lone dot)."""
    at = 0 if stream.startswith(b".\r\n") else stream.index(b"\r\n.\r\n") + 2
    message, rest = stream[:at], stream[at + 3:]
    crossed_line = crossed_size = None
    line = 0
    for i in range(len(message)):
        line += 1
        if crossed_line is None and line > line_limit:
            crossed_line = i
        if crossed_size is None and size_limit and i + 1 > size_limit:
            crossed_size = i
        if message[i - 1:i + 1] == b"\r\n" and i >= 1:
            line = 0
    if crossed_size is not None and (crossed_line is None or crossed_size <= crossed_line):
        return "too much", b"", rest
    if crossed_line is not None:
        return "too long", b"", rest
    lines = message.split(b"\r\n")
    content = b"\r\n".join(part[1:] if part.startswith(b".") else part for part in lines)
    return None, content, rest


class _Connection:
    """What read_data needs of a lab connection: the limits, a transport, the hooked block reader."""
    read_data_block = HookedSMTP.read_data_block

    def __init__(self, reader: asyncio.StreamReader, line_limit: int, size_limit: int) -> None:
        self._reader = reader
        self.line_length_limit, self.data_size_limit = line_limit, size_limit
        self.transport = object()


async def _read(chunks: list[bytes], line_limit: int, size_limit: int) -> tuple[str | None, bytes, bytes]:
    reader = asyncio.StreamReader(limit=line_limit)  # aiosmtpd's reader limit is its line length limit

    async def client() -> None:
        for chunk in chunks:
            reader.feed_data(chunk)
            await asyncio.sleep(0)
        reader.feed_eof()

    feeding = asyncio.ensure_future(client())
    problem, content = await read_data(_Connection(reader, line_limit, size_limit))
    await feeding
    return problem, content, await reader.read()


def _message(rnd: random.Random) -> bytes:
    lines = [rnd.choice(PIECES) + rnd.choice(ENDS) for _ in range(rnd.randint(0, 25))]
    text = b"".join(lines)
    return text + (b"" if not text or text.endswith(b"\r\n") else b"\r\n") + b".\r\nQUIT\r\n"


def test_blocks_read_exactly_what_the_definition_says():
    rnd = random.Random(1717)

    async def main() -> None:
        for _ in range(3000):
            stream = _message(rnd)
            line_limit = rnd.choice([8, 12, 20, 1001])
            size_limit = rnd.choice([0, 0, 40, 100, 10_000])
            cuts = sorted(rnd.sample(range(1, len(stream)), min(len(stream) - 1, rnd.randint(0, 8))))
            chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)])]
            got = await _read(chunks, line_limit, size_limit)
            assert got == reference(stream, line_limit, size_limit), (chunks, line_limit, size_limit)

    asyncio.run(main())


def test_an_empty_message_and_a_lone_dot_ended_by_lf_only():
    async def main() -> None:
        assert await _read([b".\r\nQUIT\r\n"], 1001, 0) == (None, b"", b"QUIT\r\n")
        # ".\n" is not the end (RFC 5321 4.1.1.4): it is message text, unstuffed
        assert await _read([b"a\r\n.\n\r\n.\r\n"], 1001, 0) == (None, b"a\r\n\n\r\n", b"")
        assert await _read([b"a\r", b"\n", b".", b"\r", b"\n", b"RSET\r\n"], 1001, 0) == (None, b"a\r\n", b"RSET\r\n")

    asyncio.run(main())


def test_a_long_stuffed_message_in_one_block():
    body = b"".join((b"." if n % 7 == 0 else b"") + b"line %d\r\n" % n for n in range(5000))
    expected = b"".join(b"line %d\r\n" % n for n in range(5000))
    assert asyncio.run(_read([body + b".\r\n"], 1001, 0)) == (None, expected, b"")


def test_the_scanner_stops_keeping_at_a_limit_but_reads_to_the_dot():
    scanner = DataScanner(line_limit=10, size_limit=0)
    assert not scanner.feed(b"short\r\n" + b"x" * 50)
    assert scanner.problem == "too long"
    assert not scanner.feed(b"y" * 50 + b"\r\nmore\r\n")
    assert scanner.feed(b".\r\n") and scanner.content() == b"" and scanner.problem == "too long"
