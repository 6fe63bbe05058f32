"""Hints that name the cause for every kind of refusal a student meets, the transient ones
included: greylisting, a busy mailbox, a full disk ("try again later, that is what 4xx means"),
the HELO fallback when EHLO is not understood, and Postfix's `503 5.5.1 Error: authentication not
enabled` (AUTH on a connection that offers none)."""

from __future__ import annotations

import pytest

from tests.protocol.test_advisor import Run, ready


def _mail_then(reply: bytes) -> Run:
    r = ready()
    r.say("MAIL FROM:<student@lab.test>", b"250 2.1.0 OK\r\n")
    r.say("RCPT TO:<teacher@lab.test>", reply)
    return r


@pytest.mark.parametrize("reply, cause", [
    (b"451 4.7.1 Greylisted, please try again later\r\n", "greylisting"),
    (b"450 4.2.1 Mailbox busy\r\n", "mailbox is busy"),
    (b"452 4.3.1 Insufficient system storage\r\n", "short of storage"),
    (b"451 4.3.0 Local error in processing\r\n", "local problem"),
])
def test_every_transient_reply_says_try_again_later_and_names_the_cause(reply, cause):
    r = _mail_then(reply)
    [hint] = [h for h in r.hints if h.rule == "try-later"]
    assert cause in hint.message and "that is what 4xx means" in hint.message


def test_421_keeps_its_own_hint_not_the_generic_one():
    r = ready()
    r.say("NOOP", b"421 4.7.0 closing\r\n")
    assert [h.rule for h in r.hints] == ["server-closing"]


@pytest.mark.parametrize("code", [b"500", b"502"])
def test_ehlo_not_understood_suggests_helo(code):
    r = Run()
    r.say("EHLO me", code + b" 5.5.1 Command unrecognized\r\n")
    [hint] = r.hints
    assert hint.rule == "helo-fallback" and "HELO" in hint.message


def test_postfix_authentication_not_enabled_is_explained_not_called_a_sequence_error():
    r = ready()
    r.say("AUTH LOGIN", b"503 5.5.1 Error: authentication not enabled\r\n")
    assert [h.rule for h in r.hints] == ["auth-not-enabled"]
    assert "did not advertise AUTH" in r.hints[0].message


def test_a_5xx_no_rule_knows_still_gets_a_hint_with_the_usual_cause():
    r = _mail_then(b"250 2.1.5 OK\r\n")
    r.say("DATA", b"354 go\r\n")
    r.say(".", b"554 5.7.1 Message rejected as spam\r\n")
    [hint] = r.hints
    assert hint.rule == "permanent" and "is permanent" in hint.message and "Usual cause" in hint.message


def test_a_5xx_with_its_own_rule_gets_only_that_one():
    r = _mail_then(b"550 5.1.1 No such user\r\n")
    assert [h.rule for h in r.hints] == ["unknown-mailbox"]
