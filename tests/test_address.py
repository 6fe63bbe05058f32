"""The one HOST[:PORT] parser and the one escaping policy, as every command sees them."""

from __future__ import annotations

import pytest

from smtp_shell.address import escape, format_hostport, parse_hostport
from smtp_shell.lab.console import parse_listen
from smtp_shell.lab.safetext import visible as lab_visible
from smtp_shell.render import plain_visible, visible


@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1", ("127.0.0.1", 25)),
    ("127.0.0.1:8025", ("127.0.0.1", 8025)),
    ("[::1]:8025", ("::1", 8025)),
    ("[::1]", ("::1", 25)),
    ("::1", ("::1", 25)),
    (" lab.test:587 ", ("lab.test", 587)),
])
def test_accepted_spellings(text, expected):
    assert parse_hostport(text) == expected


@pytest.mark.parametrize(("text", "words"), [
    ("", "is empty"),
    (":8025", "has no host"),        # connect used to accept this and try to reach host ''
    ("[]:8025", "has no host"),
    ("[::1:8025", "no closing ']'"),
    ("[::1]8025", "after ']'"),
    ("host:smtp", "is not a port number"),
    ("host:0", "from 1 to 65535"),
    ("host:65536", "is not a port number"),
])
def test_refused_in_one_sentence(text, words):
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
        parse_hostport(text)


def test_listen_takes_port_zero_and_refuses_an_empty_host_in_the_same_words():
    assert parse_listen("127.0.0.1:0") == ("127.0.0.1", 0)
    assert parse_listen("[::1]") == ("::1", 8025)
    with pytest.raises(ValueError, match="--listen: ':8025' has no host"):
        parse_listen(":8025")


def test_format_round_trips():
    for host, port in [("127.0.0.1", 25), ("::1", 8025), ("lab.test", 587)]:
        assert parse_hostport(format_hostport(host, port)) == (host, port)
    assert format_hostport("::1", 25) == "[::1]:25"


def test_one_escaping_policy_everywhere():
    hostile = "250 ok\r\x1b[2J\x07\ttab\u202eevil\udcff\n"
    shown = r"250 ok\x0d\x1b[2J\x07" + "\ttab" + r"\u202eevil\xff\x0a"
    assert escape(hostile) == shown
    assert plain_visible(hostile) == shown and lab_visible(hostile) == shown
    assert visible(hostile).plain == shown


def test_cr_is_shown_even_where_newlines_are_kept():
    assert escape("line one\r\nline two\rX", keep_newlines=True) == "line one\\x0d\nline two\\x0dX"


def test_printable_text_is_untouched():
    assert escape("Grüße, 世界 — ok") == "Grüße, 世界 — ok"


def test_loopback_is_told_the_same_everywhere():
    from smtp_shell.address import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1") and not is_loopback("lab.test")
