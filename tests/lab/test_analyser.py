"""The session analyser over recorded byte streams: each broken client gives exactly its findings.

Every case is a whole session as the lab server saw it (tests/lab/analyser_streams.py) with one
step broken the way students' clients break it; the test asserts the exact set of
(rule, evidence) pairs, so a finding that appears, disappears or shows other bytes fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtp_shell.lab.analyser import STAGES, Event, analyse
from smtp_shell.lab.findings import RULES
from smtp_shell.lab.rubric import grade
from tests.lab.analyser_streams import EHLO_PLAIN, GREETING, HELO, b64, events, good, message, replace

G = good()


def findings(steps, **kw) -> set[tuple[str, str]]:
    return {(f.rule, f.evidence) for f in analyse(events(steps), **kw).findings}


def test_a_correct_session_has_no_findings_and_gets_to_accepted():
    result = analyse(events(G))
    assert result.findings == []
    assert result.stages == list(STAGES)
    assert result.user == "student" and result.tls and result.quit and result.closed
    assert result.messages[0].accepted and result.messages[0].message_id == "<1234.5678@student.example>"


def test_secrets_never_appear_in_the_lines():
    text = "\n".join(line.text for line in analyse(events(G)).lines)
    assert "bGFiLXBhc3N3b3Jk" not in text and "lab-password" not in text
    assert "C: ***" not in text and "***" in text


def test_byte_by_byte_delivery_gives_the_same_analysis():
    whole = analyse(events(G))
    dripped = []
    for event in events(G):
        if event.kind == "client":
            dripped += [Event("client", event.data[i:i + 1]) for i in range(len(event.data))]
        else:
            dripped.append(event)
    assert analyse(dripped) == whole


CASES = {
    "bare LF after a command": (
        replace(G, 0, (b"EHLO client.example\n", EHLO_PLAIN)),
        {("bare-lf", "C: EHLO client.example\\x0a")}),
    "bare CR in a command": (
        replace(G, 7, (b"MAIL FROM:<student@lab.test>\r\r\n", ["250 2.1.0 Sender OK"])),
        {("bare-cr", "C: MAIL FROM:<student@lab.test>\\x0d")}),
    "bare LF inside the message": (
        replace(G, 10, (message(body="one\nline\r\n") + b".\r\n", ["250 2.6.0 Message saved as X"])),
        {("bare-lf", "C: one\\x0aline")}),
    "EHLO without a name": (
        replace(G, 0, (b"EHLO\r\n", ["501 5.5.4 Syntax: EHLO hostname"]), (b"EHLO client.example\r\n", EHLO_PLAIN)),
        {("ehlo-syntax", "C: EHLO")}),
    "EHLO with a bare IP address": (
        replace(G, 0, (b"EHLO 127.0.0.1\r\n", EHLO_PLAIN)),
        {("ehlo-syntax", "C: EHLO 127.0.0.1")}),
    "EHLO with two words": (
        replace(G, 0, (b"EHLO my laptop\r\n", EHLO_PLAIN)),
        {("ehlo-syntax", "C: EHLO my laptop")}),
    "HELO instead of EHLO": (
        [(b"HELO client.example\r\n", HELO)] + G[7:],
        {("helo-not-ehlo", "C: HELO client.example")}),
    "MAIL FROM with a space after the colon": (
        replace(G, 7, (b"MAIL FROM: <student@lab.test>\r\n", ["250 2.1.0 Sender OK"])),
        {("mail-syntax", "C: MAIL FROM: <student@lab.test>")}),
    "MAIL FROM without angle brackets": (
        replace(G, 7, (b"MAIL FROM:student@lab.test\r\n", ["250 2.1.0 Sender OK"])),
        {("mail-syntax", "C: MAIL FROM:student@lab.test")}),
    "RCPT TO with two addresses": (
        replace(G, 8, (b"RCPT TO:<a@lab.test>, <b@lab.test>\r\n", ["501 5.5.4 Syntax: RCPT TO: <address>"]),
                (b"RCPT TO:<teacher@lab.test>\r\n", ["250 2.1.5 Recipient OK"])),
        {("rcpt-syntax", "C: RCPT TO:<a@lab.test>, <b@lab.test>")}),
    "no EHLO after STARTTLS": (
        replace(G, 3),  # AUTH LOGIN straight after the handshake (the lab then still answers 334)
        {("no-ehlo-after-tls", "C: AUTH LOGIN")}),
    "AUTH before STARTTLS": (
        [(b"EHLO client.example\r\n", EHLO_PLAIN),
         (b"AUTH LOGIN\r\n", ["538 5.7.11 Encryption required for requested authentication mechanism"])] + G[1:],
        {("auth-before-tls", "C: AUTH LOGIN")}),
    "AUTH PLAIN secret masked in the evidence": (
        [(b"EHLO client.example\r\n", EHLO_PLAIN),
         (b"AUTH PLAIN AHN0dWRlbnQAbGFiLXBhc3N3b3Jk\r\n", ["538 5.7.11 Encryption required"])] + G[1:],
        {("auth-before-tls", "C: AUTH PLAIN ***")}),
    "user name sent as plain text": (
        replace(G, 5, (b"student\r\n", ["501 5.5.2 Can't decode base64"])),
        {("auth-bad-base64", "C: *** (the answer to 334 Username:)")}),
    "password base64 of a line with its newline": (
        replace(G, 6, (b64("lab-password\n"), ["535 5.7.8 Authentication credentials invalid"])),
        {("auth-newline", "C: *** (the answer to 334 Password:)"),
         ("auth-failed", "S: 535 5.7.8 Authentication credentials invalid")}),
    "commands pipelined after HELO (no PIPELINING offered)": (
        [(b"HELO client.example\r\n", HELO),
         (b"MAIL FROM:<student@lab.test>\r\nRCPT TO:<teacher@lab.test>\r\n",
          ["250 2.1.0 Sender OK", "250 2.1.5 Recipient OK"])] + G[9:],
        {("helo-not-ehlo", "C: HELO client.example"),
         ("pipelining-not-offered", "C: RCPT TO:<teacher@lab.test>")}),
    "pipelining offered: MAIL and RCPT together are fine": (
        G[:7] + [(b"MAIL FROM:<student@lab.test>\r\nRCPT TO:<teacher@lab.test>\r\n",
                  ["250 2.1.0 Sender OK", "250 2.1.5 Recipient OK"])] + G[9:],
        set()),
    "EHLO sent with STARTTLS before the handshake": (
        replace(G, 1, (b"STARTTLS\r\nEHLO client.example\r\n", ["220 2.0.0 Ready to start TLS"])),
        {("starttls-injection", "C: EHLO client.example")}),
    "message sent together with DATA": (
        G[:9] + [(b"DATA\r\n" + message() + b".\r\n",
                  ["354 End data with <CR><LF>.<CR><LF>", "250 2.6.0 Message saved as X"])] + G[11:],
        {("data-before-354", "C: From: Student <student@lab.test>")}),
    "AUTH LOGIN answers sent without waiting for 334": (
        G[:4] + [(b"AUTH LOGIN\r\n" + b64("student") + b64("lab-password"),
                  ["334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6", "235 2.7.0 Authentication successful"])] + G[7:],
        {("no-wait", "C: ***")}),
    "closed after 220 to STARTTLS without a handshake": (
        G[:2] + ["CLOSE"],
        {("tls-not-completed", "S: 220 2.0.0 Ready to start TLS"),
         ("no-quit", "(the client closed the connection without QUIT)")}),
    "no QUIT": (G[:11] + ["CLOSE"], {("no-quit", "(the client closed the connection without QUIT)")}),
    "message ended with a bare LF dot": (
        G[:10] + [(message() + b".\n", []), "CLOSE"],
        {("data-unfinished", "C: .\\x0a"), ("bare-lf", "C: .\\x0a"), ("no-quit", "(the client closed the connection without QUIT)")}),
    "a line starting with a dot not doubled": (
        replace(G, 10, (message(body=".hidden line\r\n") + b".\r\n", ["250 2.6.0 Message saved as X"])),
        {("dot-not-stuffed", "C: .hidden line")}),
    "a lone dot in the text ends the message early": (
        replace(G, 10, (message(body="before\r\n") + b".\r\nafter\r\n.\r\n",
                        ["250 2.6.0 Message saved as X", "500 5.5.2 Error: command \"AFTER\" not recognized",
                         "500 5.5.2 Error: bad syntax"])),
        {("message-ended-early", "C: after")}),
    "a line over 998 characters": (
        replace(G, 10, (message(body="x" * 1200 + "\r\n") + b".\r\n", ["500 Line too long (see RFC5321 4.5.3.1.6)"])),
        {("line-too-long", "C: " + "x" * 60 + "…")}),
    "no Date header": (
        replace(G, 10, (message(date=None) + b".\r\n", ["250 2.6.0 Message saved as X"])),
        {("date-missing", "(no Date header)")}),
    "Date with a zone name": (
        replace(G, 10, (message(date="Tue, 24 Nov 2026 19:01:02 CET") + b".\r\n", ["250 2.6.0 X"])),
        {("date-invalid", "H: Date: Tue, 24 Nov 2026 19:01:02 CET")}),
    "Date with the wrong day of week": (
        replace(G, 10, (message(date="Mon, 24 Nov 2026 19:01:02 +0100") + b".\r\n", ["250 2.6.0 X"])),
        {("date-invalid", "H: Date: Mon, 24 Nov 2026 19:01:02 +0100")}),
    "no Message-ID": (
        replace(G, 10, (message(msg_id=None) + b".\r\n", ["250 2.6.0 X"])),
        {("message-id-missing", "(no Message-ID header)")}),
    "Message-ID without brackets": (
        replace(G, 10, (message(msg_id="1234@student") + b".\r\n", ["250 2.6.0 X"])),
        {("message-id-syntax", "H: Message-ID: 1234@student")}),
    "raw UTF-8 subject without SMTPUTF8": (
        replace(G, 10, (message(subject="Grüße") + b".\r\n", ["250 2.6.0 X"])),
        {("header-8bit", "H: Subject: Grüße")}),
    "UTF-8 body declared 7bit without 8BITMIME": (
        replace(G, 10, (message(extra="MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                      "Content-Transfer-Encoding: 7bit\r\n", body="Grüße\r\n") + b".\r\n",
                        ["250 2.6.0 X"])),
        {("body-8bit-undeclared", "T: Grüße"), ("cte-mismatch", "H: Content-Transfer-Encoding: 7bit")}),
    "multipart whose last boundary is never closed": (
        replace(G, 10, (message(extra='MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="XX"\r\n',
                                body="--XX\r\nContent-Type: text/plain\r\n\r\nhi\r\n") + b".\r\n", ["250 2.6.0 X"])),
        {("mime-boundary", 'H: Content-Type: multipart/alternative; boundary="XX"')}),
    "a UTF-8 address without SMTPUTF8": (
        replace(G, 8, ("RCPT TO:<jürgen@lab.test>\r\n".encode(), ["553 5.6.7 SMTPUTF8 required"]),
                (b"RCPT TO:<teacher@lab.test>\r\n", ["250 2.1.5 Recipient OK"])),
        {("smtputf8-missing", "C: RCPT TO:<jürgen@lab.test>")}),
    "an encoded word that does not decode": (
        replace(G, 10, (message(subject="=?utf-8?b?not*base64?=") + b".\r\n", ["250 2.6.0 X"])),
        {("header-encoding-bad", "H: Subject: =?utf-8?b?not*base64?=")}),
    "base64 declared, something else sent": (
        replace(G, 10, (message(extra="MIME-Version: 1.0\r\nContent-Type: text/plain\r\n"
                                      "Content-Transfer-Encoding: base64\r\n", body="Hello, plain words!\r\n")
                        + b".\r\n", ["250 2.6.0 X"])),
        {("cte-mismatch", "H: Content-Transfer-Encoding: base64")}),
    "MIME headers without MIME-Version": (
        replace(G, 10, (message(extra="Content-Type: text/plain; charset=us-ascii\r\n") + b".\r\n", ["250 2.6.0 X"])),
        {("mime-version-missing", "H: content-type: text/plain; charset=us-ascii")}),
    "no To, no Subject, a From without an address": (
        replace(G, 10, (b"From: Student\r\nDate: Tue, 24 Nov 2026 19:01:02 +0100\r\nMessage-ID: <a@b>\r\n\r\nhi\r\n.\r\n",
                        ["250 2.6.0 X"])),
        {("from-invalid", "H: From: Student"), ("to-missing", "(headers: from, date, message-id)"),
         ("subject-missing", "(no Subject header)")}),
    "a command over 512 octets": (
        replace(G, 0, (b"EHLO " + b"a" * 600 + b"\r\n", ["500 Command line too long"]),
                (b"EHLO client.example\r\n", EHLO_PLAIN)),
        {("command-too-long", "C: EHLO " + "a" * 75 + "…")}),
    "headers run into the text (no empty line)": (
        replace(G, 10, (b"From: s@lab.test\r\nTo: t@lab.test\r\nSubject: x\r\nDate: Tue, 24 Nov 2026 19:01:02 +0100\r\n"
                        b"Message-ID: <a@b>\r\nHello teacher\r\n.\r\n", ["250 2.6.0 X"])),
        {("header-syntax", "H: Hello teacher")}),
}


CASES["8-bit text without a charset"] = (
    replace(replace(G, 7, (b"MAIL FROM:<student@lab.test> BODY=8BITMIME\r\n", ["250 2.1.0 Sender OK"])), 10,
            (message(extra="MIME-Version: 1.0\r\nContent-Transfer-Encoding: 8bit\r\n", body="Grüße\r\n") + b".\r\n",
             ["250 2.6.0 X"])),
    {("charset-missing", "(no Content-Type)")})
CASES["a last line without a line end"] = (
    G[:11] + [(b"QUIT", []), "CLOSE"],
    {("no-line-end", "C: QUIT"), ("no-quit", "(the client closed the connection without QUIT)")})


@pytest.mark.parametrize("name", CASES)
def test_broken_clients_get_exactly_their_findings(name):
    steps, expected = CASES[name]
    assert findings(steps) == expected


def test_commands_before_the_greeting():
    stream = [Event("client", b"EHLO client.example\r\n"), Event("server", GREETING)] + \
        [Event("server", line) for line in EHLO_PLAIN] + events(G[1:], greeting=None)
    assert {(f.rule, f.evidence) for f in analyse(stream).findings} == {
        ("early-talker", "C: EHLO client.example")}


def test_implicit_tls_sessions_need_no_starttls():
    stream = [Event("tls", "implicit")] + events(G[3:])
    result = analyse(stream)
    assert result.findings == [] and result.tls and result.stages[-1] == "accepted"
    assert grade(result).passed and "greeted" in result.stages


def test_a_password_with_its_newline_is_described_never_shown():
    steps = replace(G, 6, (b64("s3cr3t-pw\n"), ["535 5.7.8 Authentication credentials invalid"]))
    [newline] = [f for f in analyse(events(steps)).findings if f.rule == "auth-newline"]
    assert newline.detail == "the password decodes to 10 bytes ending in '\\x0a'"
    assert "s3cr3t" not in newline.evidence + newline.detail


def test_a_message_id_used_before_in_the_class():
    assert findings(G, seen_message_ids={"<1234.5678@student.example>"}) == {
        ("message-id-duplicate", "H: Message-ID: <1234.5678@student.example>")}


def test_utf8_done_right_has_no_findings():
    msg = message(subject="=?utf-8?b?R3LDvMOfZQ==?=", extra="MIME-Version: 1.0\r\nContent-Type: text/plain; "
                  "charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n", body="Grüße\r\n")
    steps = replace(G, 7, (b"MAIL FROM:<student@lab.test> BODY=8BITMIME\r\n", ["250 2.1.0 Sender OK"]))
    steps = replace(steps, 10, (msg + b".\r\n", ["250 2.6.0 X"]))
    result = analyse(events(steps))
    assert result.findings == [] and result.messages[0].non_ascii


def test_progress_stops_where_the_session_stopped():
    result = analyse(events(G[:7] + ["CLOSE"]))
    assert result.progress == "AUTH" and not result.messages


def test_every_rule_has_a_title_a_rule_and_a_fix_and_is_documented():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "check-client.md").read_text(encoding="utf-8")
    for name, rule in RULES.items():
        assert rule.title and rule.broken and rule.fix
        assert f"| `{name}` |" in docs, f"docs/check-client.md does not explain {name}"


def test_evidence_escapes_control_characters():
    steps = replace(G, 0, (b"EHLO \x1b[31mred\r\n", EHLO_PLAIN))
    [finding] = analyse(events(steps)).findings
    assert "\x1b" not in finding.evidence and "\\x1b" in finding.evidence





REPLIES = st.sampled_from(["220 hi", "250-x", "250 ok", "334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6", "334 ", "354 go",
                           "235 ok", "221 bye", "421 closing", "500 no", "503 order", "", "2", "abc"])
EVENTS = st.lists(st.one_of(
    st.builds(lambda b: Event("client", b), st.binary(max_size=200)),
    st.builds(lambda b: Event("client", b), st.sampled_from([b"AUTH LOGIN\r\n", b"DATA\r\n", b".\r\n", b"STARTTLS\r\n",
                                                             b"c2VjcmV0\r\n", b"\r\n", b"\n", b"\r"])),
    st.builds(lambda r: Event("server", r), REPLIES),
    st.just(Event("tls", "TLSv1.3")), st.just(Event("close"))), max_size=60)


@settings(max_examples=300, deadline=None)
@given(EVENTS)
def test_any_stream_is_analysed_without_an_exception(stream):
    result = analyse(stream)
    for finding in result.findings:
        assert finding.rule in RULES and "\x1b" not in finding.evidence
    assert all(ch == "\t" or ch.isprintable() for line in result.lines for ch in line.text)
