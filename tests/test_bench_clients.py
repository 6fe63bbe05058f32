"""The benchmark's minimal socket+ssl client (the floor of the session rows and the ceiling of
the DATA row) sends the same message bytes as smtp-shell would: every line CRLF-ended, every
line starting with '.' stuffed, then the final dot, whatever the block boundaries."""

from __future__ import annotations

import io
import random

import pytest

from bench.clients import _stuffed


def _reference(text: bytes) -> bytes:
    lines = text.split(b"\r\n")
    if lines[-1] == b"":
        lines.pop()
    return b"".join((b"." + line if line.startswith(b".") else line) + b"\r\n" for line in lines) + b".\r\n"


@pytest.mark.timeout(60)
def test_streamed_dot_stuffing_matches_line_by_line_on_random_splits():
    rnd = random.Random(17)
    for _ in range(5000):
        text = b"".join(rnd.choice([b".", b"a", b"\r\n", b".."]) for _ in range(rnd.randint(0, 30)))
        assert b"".join(_stuffed(io.BytesIO(text), rnd.randint(1, 8))) == _reference(text), text


@pytest.mark.timeout(10)
def test_a_body_without_final_line_end_gets_one_before_the_dot():
    assert b"".join(_stuffed(io.BytesIO(b".a\r\nb"))) == b"..a\r\nb\r\n.\r\n"
    assert b"".join(_stuffed(io.BytesIO(b""))) == b".\r\n"
