"""The lab refuses what the lessons say is wrong: a non-ASCII address without SMTPUTF8 (RFC 6531
§3.5, 553 5.6.7) and a second STARTTLS on a session already under TLS (RFC 3207 §4.2, 503)."""

from __future__ import annotations


def _ehlo(w) -> str:
    w.reply()  # greeting
    return w.cmd("EHLO student.example")


def test_utf8_sender_without_smtputf8_is_refused_with_553(lab, wire):
    w = wire(lab)
    assert "SMTPUTF8" in _ehlo(w)
    reply = w.cmd("MAIL FROM:<élève@lab.test>")
    assert reply.startswith("553 5.6.7") and "SMTPUTF8" in reply


def test_utf8_recipient_without_smtputf8_is_refused_with_553(lab, wire):
    w = wire(lab)
    _ehlo(w)
    assert w.cmd("MAIL FROM:<student@lab.test>").startswith("250")
    assert w.cmd("RCPT TO:<élève@lab.test>").startswith("553 5.6.7")


def test_utf8_addresses_with_smtputf8_are_accepted(lab, wire):
    w = wire(lab)
    _ehlo(w)
    assert w.cmd("MAIL FROM:<élève@lab.test> SMTPUTF8").startswith("250")
    assert w.cmd("RCPT TO:<professeur@lab.test>").startswith("250")


def test_second_starttls_gets_503_and_the_session_goes_on(lab, wire):
    w = wire(lab)
    _ehlo(w)
    assert w.cmd("STARTTLS").startswith("220")
    w.starttls(lab.cert_path)
    assert w.cmd("EHLO student.example").startswith("250")
    assert w.cmd("STARTTLS").startswith("503 5.5.1")
    assert w.cmd("NOOP").startswith("250")
    assert "STARTTLS" in w.cmd("HELP")
