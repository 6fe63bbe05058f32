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


def test_no_hint_rule_speaks_about_a_2xx_or_3xx_reply():
    """hints_after skips 2xx/3xx replies without asking the rules (a reply per command in a
    1000-NOOP script); that is only right while no rule would speak about one. Every rule is
    asked directly here, about successes and intermediate replies to every step of a session,
    hostile texts included (an enhanced code of another class, 'TLS', 'not enabled', 'long')."""
    from smtp_shell.protocol import rules
    from smtp_shell.protocol.session import ReplyEvent

    texts = [b"OK", b"5.7.1 TLS required not enabled too long", b"2.0.0 fine", b"Greylisted 5.3.4"]
    steps = [("EHLO me", b"250"), ("STARTTLS", b"220"), ("AUTH LOGIN", b"334"), ("dXNlcg==", b"334"),
             ("cGFzcw==", b"235"), ("MAIL FROM:<a@lab.test>", b"250"), ("RCPT TO:<b@lab.test>", b"251"),
             ("DATA", b"354"), (".", b"250"), ("NOOP", b"250"), ("VRFY x", b"252"), ("HELP", b"214"),
             ("RSET", b"250"), ("QUIT", b"221")]
    checked = 0
    for text in texts:
        r = Run(greet=False)
        events = list(r.core.receive_data(b"220 " + text + b"\r\n"))
        for line, code in steps:
            if r.core.state.name in ("DISCONNECTED", "CLOSED", "TLS_PENDING"):
                break
            r.core.send_line(line)
            events += r.core.receive_data(code + b" " + text + b"\r\n")
        for event in events:
            if isinstance(event, ReplyEvent):
                assert event.reply.klass in (2, 3)
                for rule in rules.AFTER:
                    assert rule(r.core.model, event) is None, (rule.__name__, event.verb, event.reply)
                    checked += 1
    assert checked > 100
