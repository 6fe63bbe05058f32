"""The advisor's rules, each shown to fire when it should and to stay quiet when it should not,
on a real `ClientSession` driven with bytes; and a correct session that draws no advice at all."""

from __future__ import annotations

import base64

import pytest

from smtp_shell.protocol import advisor
from smtp_shell.protocol.session import ClientSession, ReplyEvent
from smtp_shell.protocol.states import State

PLAIN_EHLO = b"250-lab.test\r\n250-PIPELINING\r\n250-SIZE 35882577\r\n250 STARTTLS\r\n"
TLS_EHLO = b"250-lab.test\r\n250-PIPELINING\r\n250-SIZE 35882577\r\n250 AUTH LOGIN PLAIN\r\n"
GOOD_HEADERS = ["From: Student <student@lab.test>", "To: Teacher <teacher@lab.test>", "Subject: hi",
                "Date: Tue, 24 Nov 2026 19:01:02 +0000", "Message-ID: <a@lab.test>"]
B64 = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731


class Run:
    """A session driven line by line: `say` checks advice then sends, `hear` feeds server bytes."""

    def __init__(self, greet: bool = True) -> None:
        self.core = ClientSession()
        self.core.connected()
        self.advice: list[advisor.Advice] = []
        self.hints: list[advisor.Advice] = []
        if greet:
            self.hear(b"220 lab.test ESMTP\r\n")

    def say(self, text: str, reply: bytes | None = None) -> list[str]:
        found = advisor.check_before(self.core, text)
        self.advice += found
        self.core.send_line(text)
        if reply is not None:
            self.hear(reply)
        return [a.rule for a in found]

    def hear(self, data: bytes) -> list[str]:
        found = []
        for event in self.core.receive_data(data):
            if isinstance(event, ReplyEvent):
                found += advisor.hints_after(self.core, event)
        self.hints += found
        return [a.rule for a in found]

    def tls(self) -> None:
        self.say("STARTTLS", b"220 2.0.0 go ahead\r\n")
        self.core.tls_started()

    @property
    def model(self):
        return self.core.model

    def rules(self, text: str) -> list[str]:
        """The advice for `text` now, without sending it."""
        return [a.rule for a in advisor.check_before(self.core, text)]


def ready(tls: bool = False) -> Run:
    r = Run()
    r.say("EHLO me", PLAIN_EHLO)
    if tls:
        r.tls()
        r.say("EHLO me", TLS_EHLO)
    return r


def in_data(headers=()) -> Run:
    r = ready()
    r.say("MAIL FROM:<a@lab.test>", b"250 ok\r\n")
    r.say("RCPT TO:<b@lab.test>", b"250 ok\r\n")
    r.say("DATA", b"354 go ahead\r\n")
    for h in headers:
        assert r.say(h) == [], h
    return r


# ---- a correct session is silent ------------------------------------------------------------

def test_correct_full_session_draws_no_advice_at_all():
    r = Run()
    r.say("EHLO client.test", PLAIN_EHLO)
    r.tls()
    r.say("EHLO client.test", TLS_EHLO)
    r.say("AUTH LOGIN", b"334 VXNlcm5hbWU6\r\n")
    r.say(B64("student"), b"334 UGFzc3dvcmQ6\r\n")
    r.say(B64("s3cret-Pa55"), b"235 2.7.0 ok\r\n")
    r.say("MAIL FROM:<student@lab.test>", b"250 ok\r\n")
    r.say("RCPT TO:<teacher@lab.test>", b"250 ok\r\n")
    r.say("DATA", b"354 go ahead\r\n")
    for line in GOOD_HEADERS + ["", "Hello,", ".A dotted line", "", "Bye."]:
        r.say(line)
    r.say(".", b"250 2.0.0 accepted\r\n")
    r.say("QUIT", b"221 bye\r\n")
    assert r.advice == [] and r.hints == []


def test_pipelined_transaction_is_judged_on_the_state_it_will_reach():
    r = ready()
    assert r.say("MAIL FROM:<a@lab.test>") == []
    assert r.say("RCPT TO:<b@lab.test>") == []
    assert r.say("DATA") == []


def test_auth_plain_with_initial_response_and_plain_as_continuation_are_quiet():
    r = ready(tls=True)
    assert r.say("AUTH PLAIN") == []
    r.hear(b"334 \r\n")
    assert r.say(B64("\0student\0secret")) == []


# ---- order, asked of the state table ------------------------------------------------------------

def test_command_before_greeting():
    r = Run(greet=False)
    assert r.rules("EHLO me") == ["before-greeting"]


def test_mail_before_hello():
    r = Run()
    assert r.rules("MAIL FROM:<a@lab.test>") == ["mail-before-hello"]
    assert "EHLO <your-domain>" in advisor.check_before(r.core, "MAIL FROM:<a@lab.test>")[0].message
    r.say("HELO me", b"250 lab.test\r\n")
    assert r.rules("MAIL FROM:<a@lab.test>") == []


def test_rcpt_before_mail():
    assert ready().rules("RCPT TO:<b@lab.test>") == ["rcpt-before-mail"]
    assert Run().rules("RCPT TO:<b@lab.test>") == ["rcpt-before-mail"]


def test_data_before_any_accepted_rcpt():
    r = ready()
    assert r.rules("DATA") == ["data-before-rcpt"]
    r.say("MAIL FROM:<a@lab.test>", b"250 ok\r\n")
    r.say("RCPT TO:<nobody@lab.test>", b"550 5.1.1 no such user\r\n")
    assert r.rules("DATA") == ["data-before-rcpt"]
    r.say("RCPT TO:<b@lab.test>", b"250 ok\r\n")
    assert r.rules("DATA") == []


def test_nested_mail():
    r = ready()
    r.say("MAIL FROM:<a@lab.test>", b"250 ok\r\n")
    assert r.rules("MAIL FROM:<a@lab.test>") == ["nested-mail"]
    r.say("RSET", b"250 ok\r\n")
    assert r.rules("MAIL FROM:<a@lab.test>") == []


def test_second_mail_while_the_first_awaits_its_reply_never_says_it_was_accepted():
    r = ready()
    r.say("MAIL FROM student@lab.test")  # wrong syntax, still in flight: the server may refuse it
    advice = advisor.check_before(r.core, "MAIL FROM:<student@lab.test>")
    assert [a.rule for a in advice] == ["nested-mail"]
    assert "accepted" not in advice[0].message and "waiting for its reply" in advice[0].message


def test_after_a_refused_greeting_only_quit_and_friends():
    r = Run(greet=False)
    r.hear(b"554 go away\r\n")
    assert r.rules("EHLO me") == ["after-refusal"]
    assert r.rules("QUIT") == []


def test_continuing_after_starttls_without_new_ehlo():
    r = ready()
    r.tls()
    assert r.rules("MAIL FROM:<a@lab.test>") == ["ehlo-after-starttls"]
    assert r.rules("AUTH LOGIN") == ["ehlo-after-starttls"]
    assert r.rules("EHLO me") == []


def test_implicit_tls_is_not_mistaken_for_a_forgotten_ehlo():
    core = ClientSession()
    core.connected(tls=True)
    core.receive_data(b"220 lab\r\n")
    assert [a.rule for a in advisor.check_before(core, "MAIL FROM:<a@b.c>")] == ["mail-before-hello"]


# ---- what a command says ----------------------------------------------------------------------

@pytest.mark.parametrize("line, rule", [
    ("MAIL FROM:a@lab.test", "address-brackets"),
    ("RCPT TO: b@lab.test", "address-brackets"),
    ("MAIL a@lab.test", "missing-from-to"),
    ("MAIL TO:<a@lab.test>", "missing-from-to"),
    ("MAIL FROM:", "missing-address"),
])
def test_envelope_syntax(line, rule):
    assert rule in ready().rules(line) if not line.startswith("RCPT") else rule in _mail_done().rules(line)


def _mail_done() -> Run:
    r = ready()
    r.say("MAIL FROM:<a@lab.test>", b"250 ok\r\n")
    return r


@pytest.mark.parametrize("line", ["MAIL FROM:<a@lab.test>", "mail from:<a@lab.test> SIZE=100", "MAIL FROM:<>",
                                  "MAIL FROM: <a@lab.test>"])
def test_well_formed_mail_is_quiet(line):
    assert ready().rules(line) == []


def test_non_ascii_address_needs_smtputf8():
    r = ready()
    [advice] = advisor.check_before(r.core, "MAIL FROM:<jürgen@lab.test>")
    assert advice.rule == "utf8-address" and "did not advertise SMTPUTF8" in advice.message
    assert r.rules("MAIL FROM:<jürgen@lab.test> SMTPUTF8") == []


@pytest.mark.parametrize("typed, suggestion", [("HLEO me", "HELO"), ("EHLOme", "EHLO"), ("MAIL:FROM <a@b>", None),
                                                ("QIUT", "QUIT"), ("RCTP TO:<a@b>", "RCPT")])
def test_mistyped_verb(typed, suggestion):
    advice = advisor.check_before(ready().core, typed)
    if suggestion:
        assert [a.rule for a in advice] == ["mistyped-verb"] and f"did you mean {suggestion}" in advice[0].message


def test_unknown_verb_without_a_close_match_and_advertised_extensions():
    r = ready()
    assert r.rules("FROBNICATE") == ["unknown-verb"]
    r.say("EHLO me", PLAIN_EHLO.replace(b"250 STARTTLS", b"250-STARTTLS\r\n250 XCLIENT NAME"))
    assert r.rules("XCLIENT NAME=x") == []


# ---- STARTTLS and AUTH --------------------------------------------------------------------------

def test_auth_only_after_starttls():
    r = ready()
    [advice] = advisor.check_before(r.core, "AUTH LOGIN")
    assert advice.rule == "auth-needs-tls" and "STARTTLS" in advice.message


def test_auth_advertised_in_plaintext_warns_about_the_password():
    r = Run()
    r.say("EHLO me", b"250-lab\r\n250-STARTTLS\r\n250 AUTH LOGIN\r\n")
    assert r.rules("AUTH LOGIN") == ["auth-in-plaintext"]


def test_auth_not_offered():
    r = Run()
    r.say("EHLO me", b"250-lab\r\n250 SIZE 10\r\n")
    assert r.rules("AUTH LOGIN") == ["auth-not-offered"]


@pytest.mark.parametrize("line, fragment", [("AUTH CRAM-MD5", "not CRAM-MD5"), ("AUTH login", "capitals"),
                                            ("AUTH", "needs a mechanism")])
def test_auth_mechanism(line, fragment):
    [advice] = advisor.check_before(ready(tls=True).core, line)
    assert advice.rule == "auth-mechanism" and fragment in advice.message


def test_auth_twice_and_starttls_twice():
    r = ready(tls=True)
    assert r.rules("STARTTLS") == ["starttls-twice"]
    r.say("AUTH PLAIN " + B64("\0student\0pw"), b"235 ok\r\n")
    assert r.rules("AUTH LOGIN") == ["auth-twice"]


def test_starttls_not_offered():
    r = Run()
    r.say("EHLO me", b"250-lab\r\n250 SIZE 10\r\n")
    assert r.rules("STARTTLS") == ["starttls-not-offered"]


def test_plain_text_where_base64_is_expected_never_echoes_the_secret():
    r = ready(tls=True)
    r.say("AUTH LOGIN", b"334 VXNlcm5hbWU6\r\n")
    assert r.rules("student") == ["auth-not-base64"]
    r.say(B64("student"), b"334 UGFzc3dvcmQ6\r\n")
    assert r.core.expects_secret
    [advice] = advisor.check_before(r.core, "password")  # valid base64 letters, decodes to junk
    assert advice.rule == "auth-not-base64" and "password" in advice.message
    [advice] = advisor.check_before(r.core, "hunter2-Secret!")
    assert "hunter2" not in advice.message
    assert r.rules(B64("hunter2")) == [] and r.rules("*") == [] and r.rules("") == []


# ---- DATA ---------------------------------------------------------------------------------------

def test_body_line_before_the_blank_line():
    r = in_data(GOOD_HEADERS)
    assert r.say("Hello teacher,") == ["body-in-headers"]
    assert r.say("more body") == []  # the headers are over, whatever the student meant


def test_missing_from_and_date_at_the_blank_line():
    r = in_data(["To: b@lab.test", "Subject: hi"])
    assert r.say("") == ["missing-from", "missing-date"]
    assert r.say("body") == []
    assert r.say(".") == []


def test_missing_headers_at_the_final_dot_when_headers_never_ended():
    r = in_data(["Subject: hi", "From: a@lab.test"])
    assert r.say(".") == ["missing-date"]


def test_a_new_data_phase_starts_a_fresh_tracker():
    r = in_data(GOOD_HEADERS)
    r.say("")
    r.say(".", b"250 ok\r\n")
    r.say("MAIL FROM:<a@lab.test>", b"250 ok\r\n")
    r.say("RCPT TO:<b@lab.test>", b"250 ok\r\n")
    r.say("DATA", b"354 go ahead\r\n")
    assert r.say("") == ["missing-from", "missing-date"]


def test_continuation_lines_stay_in_the_headers():
    r = in_data(GOOD_HEADERS[:2] + ["Subject: a long", "  subject line"])
    assert r.say("Date: Tue, 24 Nov 2026 19:01:02 +0000") == []
    assert r.say("") == []


def test_non_ascii_header_without_encoding():
    r = in_data(GOOD_HEADERS)
    assert r.say("X-Note: café") == ["non-ascii-header"]
    assert r.say("Comments: =?utf-8?q?caf=C3=A9?=") == []
    r.say("")
    assert r.say("Un café, s'il vous plaît.") == []  # body text may be anything


def test_a_declined_line_does_not_count_as_sent():
    """Asking about a line the student then declines (answers n) leaves the message as it was."""
    r = in_data(["To: b@lab.test", "Subject: hi"])
    assert r.rules("Hello teacher,") == ["body-in-headers", "missing-from", "missing-date"]  # declined: not sent
    assert r.rules("Date: someday") == ["bad-date"]                                          # declined too
    assert r.say("") == ["missing-from", "missing-date"]  # the header checks still fire afterwards


def test_asking_twice_gives_the_same_advice():
    r = in_data(GOOD_HEADERS)
    assert r.rules("Hello,") == r.rules("Hello,") == ["body-in-headers"]


def _smtputf8_data(mail: str = "MAIL FROM:<jürgen@lab.test> SMTPUTF8") -> Run:
    r = Run()
    r.say("EHLO me", b"250-lab.test\r\n250-SMTPUTF8\r\n250 8BITMIME\r\n")
    assert r.say(mail, b"250 ok\r\n") == []
    assert r.say("RCPT TO:<zoë@lab.test>", b"250 ok\r\n") == []  # no UTF-8 warning inside SMTPUTF8
    r.say("DATA", b"354 go ahead\r\n")
    return r


def test_no_utf8_warnings_inside_an_smtputf8_transaction():
    r = _smtputf8_data()
    for header in ["From: Jürgen <jürgen@lab.test>", "To: Zoë <zoë@lab.test>", "Subject: Grüße",
                   "Date: Tue, 24 Nov 2026 19:01:02 +0000"]:
        assert r.say(header) == [], header
    assert r.model.smtputf8


def test_smtputf8_also_counts_while_mail_is_still_in_flight():
    r = ready()
    r.say("EHLO me", b"250-lab.test\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n")
    r.say("MAIL FROM:<jürgen@lab.test> SMTPUTF8")  # pipelined: no reply yet
    assert r.rules("RCPT TO:<zoë@lab.test>") == []


def test_the_smtputf8_transaction_ends_with_the_message():
    r = _smtputf8_data()
    r.say("From: <jürgen@lab.test>")
    r.say(".", b"250 ok\r\n")
    assert r.rules("RCPT TO:<zoë@lab.test>") == ["rcpt-before-mail", "utf8-address"]
    r.say("MAIL FROM:<a@lab.test>", b"250 ok\r\n")
    assert r.rules("RCPT TO:<zoë@lab.test>") == ["utf8-address"]


def test_a_refused_smtputf8_mail_starts_no_transaction():
    r = ready()
    r.say("MAIL FROM:<jürgen@lab.test> SMTPUTF8", b"555 5.5.4 SMTPUTF8 not supported\r\n")
    assert not r.model.smtputf8


def test_never_rfc2047_for_an_address():
    r = in_data(["Subject: hi"])
    [advice] = advisor.check_before(r.core, "From: Jürgen <jürgen@lab.test>")
    assert advice.rule == "non-ascii-address"
    assert "SMTPUTF8" in advice.message and "=?utf-8?" not in advice.message
    [advice] = advisor.check_before(r.core, "To: zoë@lab.test")
    assert advice.rule == "non-ascii-address"
    [advice] = advisor.check_before(r.core, "To: Zoë <zoe@lab.test>")  # only the display name: 2047 is right
    assert advice.rule == "non-ascii-header" and "=?utf-8?b?" in advice.message


@pytest.mark.parametrize("value", ["24 November 2026 19:01:02 +0000", "Tue, 24 Nov 2026 19:01:02 CET",
                                   "Mon, 24 Nov 2026 19:01:02 +0000", "2026-11-24"])
def test_malformed_date(value):
    r = in_data(GOOD_HEADERS[:3])
    [advice] = advisor.check_before(r.core, "Date: " + value)
    assert advice.rule == "bad-date" and advice.message.startswith("This Date header is malformed: ")


def test_commands_typed_in_data_mode_and_a_dot_with_spaces():
    r = in_data(GOOD_HEADERS + [""])
    assert r.say("QUIT") == ["command-in-data"]
    assert r.say("RCPT TO:<c@lab.test>") == ["command-in-data"]
    assert r.say(". ") == ["dot-with-spaces"]
    assert r.say("Data is plural.") == []


# ---- hints after replies -------------------------------------------------------------------------

def test_hint_after_503_names_the_missing_step():
    r = ready()
    assert r.say("RCPT TO:<b@lab.test>", b"503 Error: need MAIL command\r\n") == ["rcpt-before-mail"]
    assert r.hear(b"") == []
    assert [a.rule for a in r.hints] == ["bad-sequence"] and "MAIL FROM:" in r.hints[0].message


def test_hint_after_503_when_ehlo_was_forgotten_after_starttls():
    r = ready()
    r.tls()
    r.say("MAIL FROM:<a@lab.test>", b"503 Error: send HELO first\r\n")
    assert [a.rule for a in r.hints] == ["ehlo-after-starttls"]


@pytest.mark.parametrize("reply, tls, rule", [
    (b"530 Must issue a STARTTLS command first\r\n", False, "starttls-first"),
    (b"538 5.7.11 Encryption required for requested authentication mechanism\r\n", False, "starttls-first"),
    (b"530 5.7.0 Authentication required\r\n", True, "login-first"),
])
def test_hints_for_530_and_538(reply, tls, rule):
    r = ready(tls=tls)
    r.say("MAIL FROM:<a@lab.test>", reply)
    assert [a.rule for a in r.hints] == [rule]


def test_hints_during_auth():
    r = ready(tls=True)
    r.say("AUTH LOGIN", b"334 VXNlcm5hbWU6\r\n")
    r.say("c3R1ZGVudA==", b"334 UGFzc3dvcmQ6\r\n")
    r.say("d3Jvbmc=", b"535 5.7.8 Authentication credentials invalid\r\n")
    r.say("AUTH LOGIN", b"334 VXNlcm5hbWU6\r\n")
    r.say("student", b"501 5.5.2 Can't decode base64\r\n")
    r.say("AUTH login", b"504 5.5.4 Unrecognized authentication type\r\n")
    assert [a.rule for a in r.hints] == ["auth-failed", "auth-not-base64", "auth-mechanism"]
    assert "LOGIN, PLAIN" in r.hints[-1].message


def test_hints_for_recipients_and_unknown_commands():
    r = ready()
    r.say("HLEO me", b'500 Error: command "HLEO" not recognized\r\n')
    r.say("MAIL FROM:<a@lab.test>", b"250 ok\r\n")
    r.say("RCPT TO:<nobody@lab.test>", b"550 5.1.1 no such user\r\n")
    r.say("RCPT TO:<x@elsewhere.test>", b"554 5.7.1 Relay access denied\r\n")
    r.say("RCPT TO:x@lab.test", b"501 Syntax: RCPT TO: <address>\r\n")
    assert [a.rule for a in r.hints] == ["mistyped-verb", "unknown-mailbox", "relay-denied", "address-brackets"]


def test_hints_for_size_greeting_and_closing():
    r = Run(greet=False)
    assert r.hear(b"554 5.7.1 not welcome\r\n") == ["greeting-refused"]
    r = in_data(GOOD_HEADERS + [""])
    assert r.say(".", b"552 5.3.4 Message too big\r\n") == []
    assert [a.rule for a in r.hints] == ["too-big"] and "34.2 MiB" in r.hints[0].message
    assert r.hear(b"421 4.4.2 bye\r\n") == ["server-closing"]


def test_no_hints_for_success():
    r = ready()
    assert r.hints == [] and r.hear(b"") == []
    assert r.core.state is State.READY
