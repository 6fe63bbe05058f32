"""Every claim the tool teaches, pinned to the RFC that makes it true, so a wrong sentence cannot
come back: the reply-code digits (RFC 5321 §4.2.1), the Date grammar (RFC 5322 §3.3, §4.3),
encoded words (RFC 2047 §2, §5), AUTH PLAIN's layout (RFC 4616 §2), ESMTP parameter syntax
(RFC 5321 §4.1.2, SIZE per RFC 1870), and the explanations that used to name the wrong cause."""

from __future__ import annotations

import base64
import re

import pytest

from smtp_shell.lessons import mailcheck
from smtp_shell.lessons.checks import verb_label
from smtp_shell.lessons.loader import bundled_files, load_lesson
from smtp_shell.protocol import advisor, catalogue, sasl
from smtp_shell.protocol.capabilities import human_size
from smtp_shell.protocol.dates import check_date_header
from smtp_shell.protocol.rules import esmtp_param_problem
from tests.protocol.test_advisor import PLAIN_EHLO, TLS_EHLO, Run, ready

LESSON_TEXT = {load_lesson(p).id: p.read_text(encoding="utf-8") for p in bundled_files()}
ALL_TEXT = "\n".join(LESSON_TEXT.values())


# ---- RFC 5321 §4.2.1: the second digit -------------------------------------------------------

RFC5321_SECOND_DIGIT = {0: "syntax", 1: "information", 2: "connection", 5: "mail system"}


def test_the_catalogue_second_digit_table_is_rfc_5321_4_2_1():
    for digit, word in RFC5321_SECOND_DIGIT.items():
        assert word in catalogue._CATEGORY[digit]
    for digit in (3, 4):
        assert "unspecified" in catalogue._CATEGORY[digit]


def test_no_lesson_says_3_is_mail_system_or_5_is_mailbox():
    assert not re.search(r"3 mail system|5 mailbox", ALL_TEXT)
    intro = " ".join(LESSON_TEXT["errors"].split())
    for digit, word in RFC5321_SECOND_DIGIT.items():
        assert f"{digit} {word}" in intro or f"{digit} the {word}" in intro
    assert "3 and 4 are unspecified" in intro


# ---- RFC 5322 §3.3 and §4.3: Date ---------------------------------------------------------------

def test_seconds_are_optional_and_the_lesson_says_so():
    assert check_date_header("Tue, 24 Nov 2026 14:13 +0100") is None
    assert "with seconds" not in ALL_TEXT
    assert "seconds may be left out" in " ".join(LESSON_TEXT["dates-headers"].split())


def test_cet_was_never_a_valid_zone_and_is_not_called_obsolete():
    problem = check_date_header("Tue, 24 Nov 2026 19:01:02 CET")
    assert "not a time zone RFC 5322 knows" in problem and "not even among its obsolete names" in problem
    assert "'CET' is obsolete" not in problem and "are obsolete" not in problem


@pytest.mark.parametrize("zone, offset", [("GMT", "+0000"), ("EST", "-0500"), ("PDT", "-0700")])
def test_the_real_obsolete_zones_are_named_obsolete_with_their_offset(zone, offset):
    problem = check_date_header(f"Tue, 24 Nov 2026 19:01:02 {zone}")
    assert "obsolete syntax" in problem and "§4.3" in problem and offset in problem


# ---- RFC 2047 §2: encoded words ---------------------------------------------------------------------

@pytest.mark.parametrize("word", ["=?utf-8?b?R3LDvMOfZQ==?=", "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=", "=?iso-8859-1?q?caf=E9?="])
def test_valid_encoded_words_match_the_grammar(word):
    assert mailcheck._ENCODED_WORD.fullmatch(word)


@pytest.mark.parametrize("word", ["=?utf-8?R3LDvMOfZQ==?=", "=?utf-8?x?abc?=", "=?utf-8?b?a b?="])
def test_malformed_encoded_words_do_not_match(word):
    assert not mailcheck._ENCODED_WORD.fullmatch(word)


def _raw(subject: str):
    import email.message

    msg = email.message.Message()
    msg["Subject"] = subject
    return msg


def test_a_malformed_encoded_word_is_called_malformed_not_raw_utf8():
    problem = mailcheck._encoded_subject(None, _raw("=?utf-8?R3LDvMOfZSBhdXMgZGVtIExhYm9y?="), True)
    assert "not a valid encoded word" in problem and "RFC 2047 §2" in problem
    assert "SMTPUTF8" not in problem and "raw UTF-8" not in problem


# ---- RFC 4616 §2: AUTH PLAIN --------------------------------------------------------------------------

def test_auth_plain_layout_is_authzid_nul_user_nul_password():
    assert base64.b64decode(sasl.plain_initial_response("student", "lab-password")) == b"\0student\0lab-password"


def test_auth_plain_without_nuls_is_diagnosed_as_missing_nuls_not_as_bad_base64():
    no_nuls = base64.b64encode(b"student lab-password").decode()
    problem = sasl.diagnose_response(no_nuls, "PLAIN")
    assert "NUL" in problem and "RFC 4616" in problem and "not base64" not in problem
    r = ready(tls=True)
    r.hear(TLS_EHLO)
    r.say(f"AUTH PLAIN {no_nuls}", b"501 5.5.2 Can't split auth value\r\n")
    [hint] = [h for h in r.hints if h.rule.startswith("auth")]
    assert "NUL" in hint.message and "could not read that as base64" not in hint.message
    assert "student" not in hint.message and "lab-password" not in hint.message


def test_base64_of_a_text_with_a_trailing_newline_is_named_as_such_not_plain_text():
    r = ready(tls=True)
    r.hear(TLS_EHLO)
    r.say("AUTH LOGIN", b"334 VXNlcm5hbWU6\r\n")
    advice = advisor.check_before(r.core, "c3R1ZGVudAo=")
    assert [a.rule for a in advice] == ["auth-response"]
    assert "newline" in advice[0].message and "plain text" not in advice[0].message
    assert "student" not in advice[0].message


# ---- RFC 5321 §4.1.2, RFC 1870: ESMTP parameters -------------------------------------------------------

@pytest.mark.parametrize("params", ["", " SIZE=1200", " BODY=8BITMIME SMTPUTF8", " SIZE=0 BODY=7BIT"])
def test_well_formed_parameters(params):
    assert esmtp_param_problem(params) is None


def test_size_without_equals_is_a_parameter_problem_not_an_address_problem():
    assert "SIZE=1200" in esmtp_param_problem(" SIZE 1200")
    r = ready()
    r.say("MAIL FROM:<student@lab.test> SIZE 1200", b"501 5.5.4 Syntax: MAIL FROM: <address> [SP <mail-parameters>]\r\n")
    assert [h.rule for h in r.hints] == ["esmtp-params"]
    assert "SIZE=1200" in r.hints[0].message and "address is fine" in r.hints[0].message
    assert r.advice and r.advice[0].rule == "esmtp-params"


# ---- what the client can know -------------------------------------------------------------------------

def test_before_tls_the_advice_says_auth_was_not_advertised_not_that_it_comes_after_starttls():
    r = Run()
    r.say("EHLO me", PLAIN_EHLO)
    [advice] = advisor.check_before(r.core, "AUTH LOGIN")
    assert advice.rule == "auth-needs-tls"
    assert "did not advertise AUTH" in advice.message and "offers AUTH only after STARTTLS" not in advice.message


# ---- numbers and names as shown -----------------------------------------------------------------------

def test_2000_bytes_is_never_shown_as_2_0_kib():
    assert human_size(2000) == "2000 bytes"
    assert human_size(2048) == "2.0 KiB"
    assert "(10485761 bytes)" in human_size(10 * 2**20 + 1)


def test_pseudo_verbs_never_show_raw():
    for verb in ("<auth>", "<dot>", "<greeting>"):
        assert "<" not in verb_label(verb)
    assert verb_label("RCPT") == "RCPT"


# ---- RFC 2047 §5 and RFC 6532: non-ASCII in headers ---------------------------------------------------

def _data_after(mail: str) -> Run:
    r = Run()
    r.say("EHLO me", b"250-lab.test\r\n250-SMTPUTF8\r\n250 8BITMIME\r\n")
    r.say(mail, b"250 2.1.0 OK\r\n")
    r.say("RCPT TO:<teacher@lab.test>", b"250 2.1.5 OK\r\n")
    r.say("DATA", b"354 go ahead\r\n")
    return r


def test_inside_an_smtputf8_transaction_raw_utf8_headers_draw_no_encoded_word_advice():
    r = _data_after("MAIL FROM:<élève@lab.test> SMTPUTF8")
    assert r.rules("From: Élève <élève@lab.test>") == []
    assert r.rules("Subject: Grüße") == []


def test_a_non_ascii_address_is_never_advised_as_an_encoded_word():
    r = _data_after("MAIL FROM:<student@lab.test>")
    [advice] = advisor.check_before(r.core, "From: Élève <élève@lab.test>")
    assert advice.rule == "non-ascii-address"
    assert "RFC 2047 encoding cannot carry" in advice.message and "SMTPUTF8" in advice.message
    assert "=?utf-8?b?" not in advice.message
    assert r.rules("Subject: Grüße") == ["non-ascii-header"]
