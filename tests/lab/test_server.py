"""The lab server against real clients (smtplib, a raw socket): TLS, AUTH, limits, replies, logs."""

from __future__ import annotations

import base64
import re
import smtplib
import ssl
import time

import pytest

from smtp_shell.lab import LabConfig, LabError, LabServer
from smtp_shell.lab.mailbox import Mailbox, split_trace
from tests.lab.conftest import eventually
from tests.support.servers import PlainAiosmtpd

MESSAGE = (b"From: Student <student@lab.test>\r\nTo: teacher@lab.test\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
           b"\r\nHello teacher,\r\n.a line that starts with a dot\r\n8bit: \xc3\xa9t\xc3\xa9\r\n")


def stored(server, recipient="teacher@lab.test") -> list[bytes]:
    box = Mailbox(server.mailbox)
    return [m.read() for m in box.messages() if m.path.parent.name == recipient]


@pytest.mark.parametrize("hostname", ["localhost", "127.0.0.1"])
def test_starttls_login_and_send_is_stored_byte_for_byte(lab, hostname):
    context = ssl.create_default_context(cafile=str(lab.cert_path))
    with smtplib.SMTP(hostname, lab.port, timeout=10) as client:
        client.ehlo("student-pc")
        assert client.has_extn("starttls") and not client.has_extn("auth")
        client.starttls(context=context)
        client.ehlo("student-pc")
        assert client.has_extn("auth")
        client.login("student", "lab-password")
        client.sendmail("student@lab.test", ["teacher@lab.test"], MESSAGE)
    [raw] = stored(lab)
    trace, body = split_trace(raw)
    assert body == MESSAGE
    assert trace.startswith(b"Return-Path: <student@lab.test>\r\n")
    assert b"X-Lab-Authenticated-User: student\r\n" in trace and b"X-Lab-TLS: yes\r\n" in trace
    assert b"with ESMTPSA" in trace


def test_implicit_tls_port(lab):
    context = ssl.create_default_context(cafile=str(lab.cert_path))
    with smtplib.SMTP_SSL("localhost", lab.tls_port, context=context, timeout=10) as client:
        client.ehlo("student-pc")
        assert client.has_extn("auth") and not client.has_extn("starttls")
        client.login("student", "lab-password")
        client.sendmail("student@lab.test", ["teacher@lab.test"], MESSAGE)
    [raw] = stored(lab)
    assert split_trace(raw)[1] == MESSAGE and b"X-Lab-TLS: yes" in raw


def test_unauthenticated_plain_message_is_marked(lab):
    with smtplib.SMTP(lab.host, lab.port, timeout=10) as client:
        client.sendmail("student@lab.test", ["teacher@lab.test", "Teacher@Lab.Test", "other@lab.test"], MESSAGE)
    [raw] = stored(lab)  # one copy per distinct recipient
    assert b"X-Lab-Authenticated-User: (none)\r\nX-Lab-TLS: no\r\n" in raw
    assert len(stored(lab, "other@lab.test")) == 1


def test_wrong_password_gets_535_promptly(lab, wire):
    w = wire(lab)
    w.reply()
    w.cmd("EHLO me")
    assert w.cmd("STARTTLS").startswith("220")
    w.starttls(lab.cert_path)
    w.cmd("EHLO me")
    started = time.monotonic()
    blob = base64.b64encode(b"\0student\0wrong").decode()
    assert w.cmd(f"AUTH PLAIN {blob}").startswith("535 5.7.8")
    assert time.monotonic() - started < 3


def test_repeated_failures_are_slowed_then_refused(make_lab, wire):
    lab = make_lab(allow_plain_auth=True)
    w = wire(lab)
    w.reply()
    w.cmd("EHLO me")
    blob = base64.b64encode(b"\0student\0wrong").decode()
    started = time.monotonic()
    replies = [w.cmd(f"AUTH PLAIN {blob}") for _ in range(5)]
    assert all(r.startswith("535 5.7.8") for r in replies[:4])
    assert replies[4].startswith("421 4.7.0")
    assert w.closed()
    assert time.monotonic() - started >= 0.2 + 0.4 + 0.6 + 0.8 - 0.1  # slowed down between tries


def test_auth_before_starttls_is_refused(lab, wire):
    w = wire(lab)
    w.reply()
    assert "AUTH" not in w.cmd("EHLO me")
    assert w.cmd("AUTH LOGIN").startswith("538 5.7.11")


def test_allow_plain_auth_and_lowercase_mechanism(make_lab, wire):
    lab = make_lab(allow_plain_auth=True, users={"alice": "s3cret:x"})
    w = wire(lab)
    w.reply()
    assert "AUTH LOGIN PLAIN" in w.cmd("EHLO me")
    assert w.cmd("auth login").startswith("334")
    assert w.cmd(base64.b64encode(b"alice").decode()).startswith("334")
    assert w.cmd(base64.b64encode(b"s3cret:x").decode()).startswith("235 2.7.0")
    assert lab.default_account_hint().startswith("alice")


def test_default_account_hint(lab):
    assert lab.default_account_hint() == "student / lab-password"


def test_pipelining_in_one_write(lab, wire):
    w = wire(lab)
    w.reply()
    assert "PIPELINING" in w.cmd("EHLO me")
    w.send("MAIL FROM:<a@lab.test>\r\nRCPT TO:<teacher@lab.test>\r\nRCPT TO:<b@lab.test>\r\nDATA\r\n")
    assert [w.reply()[:3] for _ in range(4)] == ["250", "250", "250", "354"]
    w.send(MESSAGE.replace(b"\r\n.", b"\r\n..") + b".\r\n")  # dot-stuffed
    assert w.reply().startswith("250 2.6.0")
    assert split_trace(stored(lab)[0])[1] == MESSAGE


def test_extensions_and_enhanced_codes(lab, wire):
    w = wire(lab)
    assert w.reply().startswith("220 smtp-shell.lab")
    ehlo = w.cmd("EHLO me")
    for extension in ("SIZE 10485760", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "STARTTLS"):
        assert extension in ehlo
    assert w.cmd("RCPT TO:<x@lab.test>").startswith("503 5.5.1")
    assert w.cmd("NOOP").startswith("250 2.0.0")
    assert w.cmd("MAIL FROM:<a@lab.test> SMTPUTF8").startswith("250 2.1.0")
    assert w.cmd("RCPT TO:<jörg@lab.test>").startswith("250 2.1.5")
    assert w.cmd("QUIT").startswith("221 2.0.0")


def test_size_is_enforced(make_lab, wire):
    lab = make_lab(max_message_size=1000)
    w = wire(lab)
    w.reply()
    assert "SIZE 1000" in w.cmd("EHLO me")
    assert w.cmd("MAIL FROM:<a@lab.test> SIZE=5000").startswith("552 5.3.4")
    assert w.cmd("MAIL FROM:<a@lab.test>").startswith("250")
    assert w.cmd("RCPT TO:<teacher@lab.test>").startswith("250")
    assert w.cmd("DATA").startswith("354")
    w.send(b"Subject: big\r\n\r\n" + b"x" * 900 + b"\r\n" + b"y" * 900 + b"\r\n.\r\n")
    assert w.reply().startswith("552 5.3.4")
    assert stored(lab) == []


def test_idle_timeout_says_421(make_lab, wire):
    lab = make_lab(idle_timeout=0.5)
    w = wire(lab)
    w.reply()
    w.cmd("EHLO me")
    started = time.monotonic()
    assert w.reply().startswith("421 4.4.2")
    assert w.closed()
    assert time.monotonic() - started < 5


def test_session_limit(make_lab, wire):
    lab = make_lab(max_sessions=2)
    first, second = wire(lab), wire(lab)
    assert first.reply().startswith("220") and second.reply().startswith("220")
    third = wire(lab)
    assert third.reply().startswith("421 4.7.0") and third.closed()
    first.cmd("QUIT")
    assert first.closed()

    def a_slot_is_free():  # the server notices the hang-up on its own thread
        attempt = wire(lab)
        return attempt.reply().startswith("220")

    eventually(a_slot_is_free, what="a free session slot after QUIT")


def test_command_limit(make_lab, wire):
    lab = make_lab(max_commands=3)
    w = wire(lab)
    w.reply()
    for _ in range(3):
        assert w.cmd("NOOP").startswith("250")
    assert w.cmd("NOOP").startswith("421 4.7.0")
    assert w.closed()


def _closed_logs(lab, count: int):
    """The session logs, once there are `count` and each has its closing line; else None."""
    logs = sorted(lab.log_dir.glob("*.log"))
    if len(logs) == count and all(p.read_text(encoding="utf-8").rstrip().endswith("connection closed") for p in logs):
        return logs
    return None


def test_session_log_masks_secrets(make_lab, wire):
    lab = make_lab(allow_plain_auth=True, users={"alice": "Very-Secret-1"})
    w = wire(lab)
    w.reply()
    w.cmd("EHLO student-pc")
    plain = base64.b64encode(b"\0alice\0Very-Secret-1").decode()
    assert w.cmd(f"AUTH PLAIN {plain}").startswith("235")
    w.cmd("QUIT")
    w2 = wire(lab)
    w2.reply()
    w2.cmd("EHLO student-pc")
    w2.cmd("AUTH LOGIN")
    w2.cmd(base64.b64encode(b"alice").decode())
    assert w2.cmd(base64.b64encode(b"Very-Secret-1").decode()).startswith("235")
    w2.cmd("AUTH PLAIN")  # 503 already authenticated: the next line is a normal command again
    w2.cmd("MAIL FROM:<alice@lab.test>")
    w2.cmd("QUIT")
    assert w.closed() and w2.closed()
    logs = eventually(lambda: _closed_logs(lab, 2), what="two closed session logs")
    assert len(logs) == 2  # no log for sessions that never sent a command
    text = "\n".join(p.read_text(encoding="utf-8") for p in logs)
    assert "C: EHLO student-pc" in text and "S: 250-PIPELINING" in text and "C: AUTH PLAIN ***" in text
    assert "C: MAIL FROM:<alice@lab.test>" in text
    for secret in ("Very-Secret-1", base64.b64encode(b"Very-Secret-1").decode(), plain):
        assert secret not in text
    assert text.count("C: ***") == 2


def test_log_after_starttls_sees_plaintext(lab, wire):
    w = wire(lab)
    w.reply()
    w.cmd("EHLO me")
    w.cmd("STARTTLS")
    w.starttls(lab.cert_path)
    w.cmd("EHLO inside-tls")
    w.cmd("QUIT")
    assert w.closed()
    # (a TLS close waits for the client's close_notify, so wait for the log of the QUIT, not its end)
    [log] = eventually(lambda: [p for p in lab.log_dir.glob("*.log") if "S: 221" in p.read_text(encoding="utf-8")],
                       what="the session log of the QUIT")
    text = log.read_text(encoding="utf-8")
    assert "TLS started" in text and "C: EHLO inside-tls" in text


def test_port_in_use_is_one_sentence(lab):
    other = LabServer(LabConfig(host="127.0.0.1", port=lab.port, mailbox=lab.mailbox))
    with pytest.raises(LabError) as info:
        other.start()
    message = str(info.value)
    assert message.startswith(f"port {lab.port} on 127.0.0.1 is already in use;")
    assert "--listen 127.0.0.1:" in message


def test_unwritable_mailbox_is_one_sentence(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    server = LabServer(LabConfig(port=0, mailbox=blocker / "mailbox"))
    with pytest.raises(LabError, match=r"is not writable .*--mailbox DIR"):
        server.start()


def test_stop_is_prompt_and_says_421(lab, wire):
    w = wire(lab)
    w.reply()
    started = time.monotonic()
    lab.stop()
    assert time.monotonic() - started < 3
    assert w.reply().startswith("421 4.3.2")
    assert w.closed()


def test_defaults_live_in_the_data_folder(lab_home):
    with LabServer(LabConfig(port=0)) as server:
        assert server.mailbox == lab_home / "lab" / "mailbox"
        assert server.cert_path == lab_home / "lab" / "lab-cert.pem"
        assert server.log_dir == server.mailbox / "_logs"
        assert len(server.fingerprint.split(":")) == 32
        with smtplib.SMTP(server.host, server.port, timeout=10) as client:
            assert client.noop()[0] == 250


def _without_enhanced_code(reply: str) -> str:
    return re.sub(r"^(\d{3}[ -])[245]\.\d+\.\d+ ", r"\1", reply)


def test_help_answers_like_stock_aiosmtpd(lab, wire, tmp_path):
    """The lab wraps aiosmtpd's command methods; HELP must still read their syntax strings."""
    stock = PlainAiosmtpd(tmp_path)
    stock.start()
    try:
        ours, theirs = wire(lab), wire(stock)
        ours.reply(), theirs.reply()
        for command in ("HELP", "HELP MAIL", "EHLO me", "HELP MAIL", "HELP RCPT", "HELP NOSUCH", "HELP"):
            mine, expected = _without_enhanced_code(ours.cmd(command)), theirs.cmd(command)
            if command.startswith("EHLO"):
                continue
            assert mine == expected, command
        assert "MAIL" in ours.cmd("HELP").split() and ours.cmd("HELP MAIL").startswith("250 2.0.0 Syntax: MAIL FROM:")
    finally:
        stock.stop()


def test_connections_per_address_are_freed_when_they_close(make_lab, wire):
    """The per-address limit counts open connections (LabContext.per_address): a closed one
    frees its slot, and one refused with 421 takes none."""
    lab = make_lab(max_per_address=2)
    first, second = wire(lab), wire(lab)
    assert first.reply().startswith("220") and second.reply().startswith("220")
    refused = wire(lab)
    reply = refused.reply()
    assert reply.startswith("421") and "from your address" in reply
    assert refused.closed()
    first.cmd("QUIT")
    assert first.closed()

    def greeted() -> str | None:
        w = wire(lab)
        reply = w.reply()
        return reply if reply.startswith("220") else None

    assert eventually(greeted, what="a slot freed by the closed connection")
    assert wire(lab).reply().startswith("421")  # second + the new one: full again
