"""The reply parser: whole and byte-by-byte feeding, multi-line grouping, enhanced codes,
malformed input reported (never raised), and property tests."""

from hypothesis import given, settings
from hypothesis import strategies as st

from smtp_shell.protocol.errors import RemoteProtocolError
from smtp_shell.protocol.replies import MAX_BUFFERED_LINE, Reply, ReplyParser

EHLO = (b"250-lab.example Hello\r\n250-SIZE 10485760\r\n250-8BITMIME\r\n"
        b"250-STARTTLS\r\n250 ENHANCEDSTATUSCODES\r\n")


def feed_all(data: bytes) -> list:
    return ReplyParser().feed(data)


def feed_bytewise(data: bytes) -> list:
    p = ReplyParser()
    out = []
    for i in range(len(data)):
        out.extend(p.feed(data[i:i + 1]))
    return out


def test_single_line_reply():
    [r] = feed_all(b"220 lab.example ESMTP ready\r\n")
    assert r.code == 220 and r.lines == ("lab.example ESMTP ready",) and r.klass == 2
    assert r.enhanced is None


def test_multiline_grouped_whole_and_bytewise_agree():
    whole = feed_all(EHLO)
    assert len(whole) == 1
    assert whole[0].lines == ("lab.example Hello", "SIZE 10485760", "8BITMIME", "STARTTLS", "ENHANCEDSTATUSCODES")
    assert feed_bytewise(EHLO) == whole


def test_partial_input_held_until_complete():
    p = ReplyParser()
    assert p.feed(b"250-first\r\n250 sec") == []
    assert p.buffered == b"250-first\r\n250 sec"
    [r] = p.feed(b"ond\r\n")
    assert r.lines == ("first", "second")


def test_enhanced_status_code_recognised_only_when_class_matches():
    [r] = feed_all(b"550 5.1.1 <nobody@lab.test>: Recipient address rejected\r\n")
    assert r.enhanced == "5.1.1"
    assert r.message == "<nobody@lab.test>: Recipient address rejected"
    [r] = feed_all(b"250 5.1.1 mismatch\r\n")
    assert r.enhanced is None


def test_code_only_reply_is_valid():
    [r] = feed_all(b"250\r\n")
    assert r.code == 250 and r.lines == ("",)


def test_bare_lf_noted_but_parsed():
    [r] = feed_all(b"250 ok\n")
    assert r.code == 250
    assert any("bare LF" in n for n in r.notes)


def test_missing_space_noted():
    [r] = feed_all(b"250OK\r\n")
    assert r.code == 250 and r.lines == ("OK",)
    assert any("no space" in n for n in r.notes)


def test_overlong_line_noted():
    [r] = feed_all(b"250 " + b"x" * 600 + b"\r\n")
    assert any("512" in n for n in r.notes)


def test_garbage_line_is_reported_and_parsing_goes_on():
    events = feed_all(b"HTTP/1.1 400 Bad Request\r\n220 fine\r\n")
    assert isinstance(events[0], RemoteProtocolError)
    assert "not an SMTP reply" in events[0].message
    assert events[1].code == 220


def test_code_out_of_range_reported():
    [e] = feed_all(b"999 what\r\n")
    assert isinstance(e, RemoteProtocolError) and "999" in e.message


def test_mixed_codes_reported_and_last_code_wins():
    events = feed_all(b"250-one\r\n550 two\r\n")
    assert isinstance(events[0], RemoteProtocolError) and "mixed codes" in events[0].message
    assert events[1].code == 550 and events[1].lines == ("one", "two")
    assert events[1].wire_lines() == ["250-one", "550 two"]  # shown as the server sent it


def test_endless_line_is_discarded_with_one_error():
    p = ReplyParser()
    events = []
    for _ in range(40):
        events += p.feed(b"A" * 4096)
    assert len(events) == 1 and isinstance(events[0], RemoteProtocolError)
    assert len(p.buffered) <= MAX_BUFFERED_LINE
    events = p.feed(b" tail of the same line\r\n250 recovered\r\n")
    assert [e.code for e in events] == [250]


def test_invalid_utf8_kept_losslessly():
    [r] = feed_all(b"250 caf\xe9\r\n")
    assert r.lines[0].encode("utf-8", "surrogateescape") == b"caf\xe9"
    assert r.raw == b"250 caf\xe9\r\n"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600), st.integers(min_value=1, max_value=7))
def test_parser_never_raises_and_chunking_does_not_matter(data, chunk):
    p = ReplyParser()
    out = []
    for i in range(0, len(data), chunk):
        out += p.feed(data[i:i + chunk])
    assert all(isinstance(e, (Reply, RemoteProtocolError)) for e in out)
    assert out == feed_all(data)


line_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=60)


@settings(max_examples=200, deadline=None)
@given(st.integers(200, 559).filter(lambda c: (c // 10) % 10 <= 5), st.lists(line_text, min_size=1, max_size=5))
def test_round_trip(code, lines):
    if not lines[-1]:
        lines[-1] = "x"  # a last line of only the code renders as "250", which parses to ("",)
    lines = [t.lstrip(" ") if i == len(lines) - 1 else t for i, t in enumerate(lines)]
    reply = Reply(code, tuple(lines))
    [parsed] = ReplyParser().feed(reply.to_bytes())
    assert parsed.code == reply.code and parsed.lines == reply.lines
    assert parsed.to_bytes() == reply.to_bytes()
