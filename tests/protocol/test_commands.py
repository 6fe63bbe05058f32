"""The command model and dot-stuffing."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtp_shell.protocol.commands import DotStuffer, classify, dot_stuff, text_line_warning
from smtp_shell.protocol.errors import LocalProtocolError


@pytest.mark.parametrize("typed, verb, args", [
    ("EHLO me", "EHLO", "me"),
    ("ehlo me", "EHLO", "me"),
    ("MAIL FROM:<a@b>", "MAIL", "FROM:<a@b>"),
    ("mail from:<a@b>", "MAIL", "from:<a@b>"),
    ("RCPT TO:<x@y> NOTIFY=NEVER", "RCPT", "TO:<x@y> NOTIFY=NEVER"),
    ("MAIL:FROM", "MAIL", ":FROM"),
    ("QUIT", "QUIT", ""),
    ("", "", ""),
    ("   ", "", ""),
])
def test_classify(typed, verb, args):
    cmd = classify(typed)
    assert (cmd.verb, cmd.args) == (verb, args)
    assert cmd.wire() == typed.encode() + b"\r\n"  # sent exactly as typed


def test_unknown_verb_is_still_sent():
    cmd = classify("HELLO there")
    assert not cmd.known and cmd.wire() == b"HELLO there\r\n"


def test_line_break_rejected_with_hint():
    with pytest.raises(LocalProtocolError) as exc:
        classify("EHLO a\nQUIT")
    assert "line break" in exc.value.message and exc.value.hint


def test_length_limits():
    assert classify("NOOP " + "x" * 500).length_warning() is None
    assert "512" in classify("NOOP " + "x" * 506).length_warning()
    assert text_line_warning("x" * 998) is None
    assert "1000" in text_line_warning("x" * 999)


def test_dot_stuff():
    assert dot_stuff(".hidden") == ("..hidden", True)
    assert dot_stuff("visible") == ("visible", False)


def stuff_reference(body: bytes) -> bytes:
    text = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    lines = text.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = b"".join((b"." + line if line.startswith(b".") else line) + b"\r\n" for line in lines)
    return out + b".\r\n"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b".", b"a", b"\r", b"\n", b"\r\n", b"..", b"x.y"]), max_size=40),
       st.integers(1, 9))
def test_streaming_dot_stuffer_matches_reference(parts, block):
    body = b"".join(parts)
    s = DotStuffer()
    out = b"".join(s.feed(body[i:i + block]) for i in range(0, len(body), block)) + s.finish()
    assert out == stuff_reference(body)
