"""The lab's profiles against a raw socket: Postfix's wording, a strict server that refuses what
RFC 5321 forbids, and a minimal server without ESMTP."""

from __future__ import annotations

import pytest

from smtp_shell.lab.profiles import Profile


def _session(make_lab, wire, profile: str):
    lab = make_lab(profile=profile)
    w = wire(lab)
    return lab, w, w.reply()


def test_postfix_wording(make_lab, wire):
    _, w, greeting = _session(make_lab, wire, "postfix")
    assert greeting == "220 smtp-shell.lab ESMTP Postfix"
    w.cmd("EHLO me")
    assert w.cmd("AUTH LOGIN") == "503 5.5.1 Error: authentication not enabled"
    assert w.cmd("RCPT TO:<teacher@lab.test>") == "503 5.5.1 Error: need MAIL command"
    assert w.cmd("MAIL FROM:<student@lab.test>") == "250 2.1.0 Ok"
    assert w.cmd("RCPT TO:<teacher@lab.test>") == "250 2.1.5 Ok"
    assert w.cmd("DATA") == "354 End data with <CR><LF>.<CR><LF>"
    assert w.cmd("Subject: hi\r\n\r\nhello\r\n.").startswith("250 2.0.0 Ok: queued as ")
    assert w.cmd("XYZZY") == "502 5.5.2 Error: command not recognized"
    assert w.cmd("QUIT") == "221 2.0.0 Bye"


def test_strict_refuses_a_bare_address_and_an_undeclared_8bit_body(make_lab, wire):
    _, w, _ = _session(make_lab, wire, "strict")
    w.cmd("EHLO me")
    assert w.cmd("MAIL FROM: student@lab.test").startswith("501 5.1.7 Bad sender address syntax")
    assert w.cmd("MAIL FROM:<student@lab.test>").startswith("250")
    assert w.cmd("RCPT TO: teacher@lab.test").startswith("501 5.1.7 Bad recipient address syntax")
    assert w.cmd("RCPT TO:<teacher@lab.test>").startswith("250")
    assert w.cmd("DATA").startswith("354")
    assert w.cmd("Subject: caf\u00e9\r\n\r\ncaf\u00e9\r\n.").startswith("554 5.6.0 8-bit message content without BODY=8BITMIME")


def test_minimal_has_no_esmtp(make_lab, wire):
    _, w, _ = _session(make_lab, wire, "minimal")
    assert w.cmd("EHLO me") == "502 5.5.2 Error: command not recognized"
    assert w.cmd("HELO me").startswith("250")
    assert w.cmd("STARTTLS") == "502 5.5.2 Error: command not recognized"
    assert w.cmd("MAIL FROM:<student@lab.test>").startswith("250")


def test_an_unknown_profile_is_one_sentence():
    with pytest.raises(ValueError, match="the profiles are lab, postfix, strict, minimal"):
        Profile.named("exim")
