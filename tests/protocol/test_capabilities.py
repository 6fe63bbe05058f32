"""EHLO capabilities: tolerant parsing, explanations, and what changed after STARTTLS."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtp_shell.protocol.capabilities import Capabilities, describe_change, explain_capability, human_size

GMAIL_LIKE = ["smtp.example.com at your service, [127.0.0.1]", "SIZE 35882577", "8BITMIME",
              "STARTTLS", "ENHANCEDSTATUSCODES", "PIPELINING", "CHUNKING", "SMTPUTF8"]


def test_first_line_is_not_a_capability():
    caps = Capabilities.from_ehlo(["PIPELINING"])
    assert caps.keywords == ()
    assert Capabilities.from_ehlo([]).keywords == ()


def test_parses_keywords_in_order():
    caps = Capabilities.from_ehlo(GMAIL_LIKE)
    assert caps.keywords == ("SIZE", "8BITMIME", "STARTTLS", "ENHANCEDSTATUSCODES",
                             "PIPELINING", "CHUNKING", "SMTPUTF8")
    assert caps.items["SIZE"] == ("35882577",)
    assert caps.size == 35882577
    assert caps.has("starttls") and caps.has("STARTTLS") and not caps.has("AUTH")
    assert caps.auth_mechanisms == ()


def test_tolerates_junk_and_old_auth_form():
    caps = Capabilities.from_ehlo(["mx", "", "   ", "pipelining", "auth=LOGIN PLAIN",
                                   "AUTH PLAIN LOGIN cram-md5", "!!! junk", "\x1b[31m", "size"])
    assert caps.keywords == ("PIPELINING", "AUTH", "SIZE")
    assert caps.auth_mechanisms == ("LOGIN", "PLAIN", "CRAM-MD5")
    assert caps.size is None


@pytest.mark.parametrize("line, size", [("SIZE 0", 0), ("SIZE", None), ("SIZE abc", None),
                                        ("SIZE 1024", 1024)])
def test_size(line, size):
    assert Capabilities.from_ehlo(["mx", line]).size == size


def test_items_are_read_only_and_hashable():
    caps = Capabilities.from_ehlo(GMAIL_LIKE)
    with pytest.raises(TypeError):
        caps.items["X"] = ()  # type: ignore[index]
    assert hash(caps) == hash(Capabilities.from_ehlo(GMAIL_LIKE))
    assert caps == Capabilities.from_ehlo(GMAIL_LIKE)
    assert caps != Capabilities.from_ehlo(["mx"])
    assert Capabilities({"auth": ["PLAIN"]}).items == {"AUTH": ("PLAIN",)}


@pytest.mark.parametrize("n, text", [(0, "0 bytes"), (1, "1 byte"), (1023, "1023 bytes"),
                                     (1024, "1.0 KiB"), (35882577, "34.2 MiB"),
                                     (10 * 1024 ** 3, "10.0 GiB")])
def test_human_size(n, text):
    assert human_size(n) == text


def test_explain_capability():
    assert explain_capability("SIZE", ["35882577"]) == "largest message accepted: 34.2 MiB"
    assert "no fixed limit" in explain_capability("SIZE", ["0"])
    assert explain_capability("AUTH", ["PLAIN", "LOGIN"]) == "log in with AUTH; mechanisms: PLAIN, LOGIN"
    assert "STARTTLS" in explain_capability("starttls", [])
    assert "RFC 2920" in explain_capability("PIPELINING", [])
    assert explain_capability("FROBNICATE", []) == \
        "an extension smtp-shell does not describe (look up its keyword)"
    assert "vendor" in explain_capability("X-SOMETHING", [])
    for kw in ("8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING", "DSN", "BINARYMIME",
               "VRFY", "ETRN", "HELP", "DELIVERBY", "REQUIRETLS", "MT-PRIORITY", "EXPN"):
        text = explain_capability(kw, [])
        assert text and "does not describe" not in text and "\n" not in text


def test_describe_change_after_starttls():
    before = Capabilities.from_ehlo(["mx", "PIPELINING", "SIZE 1048576", "STARTTLS"])
    after = Capabilities.from_ehlo(["mx", "PIPELINING", "SIZE 35882577", "AUTH PLAIN LOGIN"])
    changes = describe_change(before, after)
    assert "AUTH appeared: PLAIN LOGIN (servers often offer it only under TLS)" in changes
    assert "STARTTLS disappeared (already under TLS)" in changes
    assert "SIZE changed: 1.0 MiB -> 34.2 MiB" in changes
    assert not any("PIPELINING" in c for c in changes)


def test_describe_change_edge_cases():
    caps = Capabilities.from_ehlo(GMAIL_LIKE)
    assert describe_change(caps, caps) == []
    assert describe_change(None, caps) == []
    a = Capabilities.from_ehlo(["mx", "AUTH PLAIN"])
    b = Capabilities.from_ehlo(["mx", "AUTH PLAIN LOGIN", "DSN"])
    assert describe_change(a, b) == ["AUTH mechanisms changed: PLAIN -> PLAIN LOGIN", "DSN appeared"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(), max_size=12))
def test_from_ehlo_never_raises(lines):
    caps = Capabilities.from_ehlo(lines)
    for kw in caps.keywords:
        assert kw == kw.upper()
        assert isinstance(explain_capability(kw, caps.items[kw]), str)
    caps.size, caps.auth_mechanisms  # noqa: B018
    describe_change(caps, Capabilities.from_ehlo(lines[::-1]))
