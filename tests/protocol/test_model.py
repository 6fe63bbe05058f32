"""The one session model, driven through the core with bytes: every fact the shell, the advisor,
lessons and the recorder read, and the rule that only what was sent counts."""

from __future__ import annotations

import base64

from smtp_shell.protocol.events import TLSFacts
from smtp_shell.protocol.model import MailParameters
from smtp_shell.protocol.session import ClientSession
from smtp_shell.protocol.states import State

EHLO = b"250-lab.test\r\n250-PIPELINING\r\n250-SMTPUTF8\r\n250-8BITMIME\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"


def ready() -> ClientSession:
    core = ClientSession()
    core.connected()
    core.receive_data(b"220 lab.test ESMTP\r\n")
    core.send_line("EHLO me")
    core.receive_data(EHLO)
    return core


def test_mail_parameters_are_remembered_for_the_whole_transaction():
    core = ready()
    core.send_line("MAIL FROM:<jürgen@lab.test> SMTPUTF8 BODY=8BITMIME SIZE=1234")
    model = core.model
    assert model.transaction is not None and not model.transaction.accepted  # sent, not yet answered
    assert model.transaction.params == MailParameters(smtputf8=True, body="8BITMIME", size=1234)
    core.receive_data(b"250 ok\r\n")
    core.send_line("RCPT TO:<zoë@lab.test>")
    core.receive_data(b"250 ok\r\n")
    assert model.transaction.accepted and model.transaction.recipients == ["zoë@lab.test"] and model.smtputf8
    core.send_line("DATA")
    core.receive_data(b"354 go\r\n")
    for line in ("From: <jürgen@lab.test>", "Subject: Grüße", "", "body"):
        core.send_line(line)
    assert model.message is not None and model.message.headers == ["from", "subject"] and not model.message.in_headers
    core.send_line(".")
    core.receive_data(b"250 queued\r\n")
    assert model.transaction is None and model.message is None and not model.smtputf8


def test_rset_and_a_refused_mail_end_the_transaction():
    core = ready()
    core.send_line("MAIL FROM:<a@lab.test>")
    core.receive_data(b"250 ok\r\n")
    core.send_line("RSET")
    core.receive_data(b"250 ok\r\n")
    assert core.model.transaction is None
    core.send_line("MAIL FROM:<a@lab.test> SMTPUTF8")
    core.receive_data(b"555 no\r\n")
    assert core.model.transaction is None


def test_commands_in_flight_and_the_peak():
    core = ready()
    for line in ("MAIL FROM:<a@lab.test>", "RCPT TO:<b@lab.test>", "DATA"):
        core.send_line(line)
    assert core.model.in_flight == ("MAIL", "RCPT", "DATA") and core.model.peak_in_flight == 3
    assert core.model.projected_state is State.DATA and core.state is State.READY
    core.receive_data(b"250 ok\r\n250 ok\r\n354 go\r\n")
    assert core.model.in_flight == () and core.mode == "data"


def test_auth_user_and_mechanism_never_the_password():
    core = ready()
    core.send_line("AUTH LOGIN")
    core.receive_data(b"334 VXNlcm5hbWU6\r\n")
    user = core.send_line(base64.b64encode(b"student").decode())
    core.receive_data(b"334 UGFzc3dvcmQ6\r\n")
    assert core.expects_secret
    password = core.send_line(base64.b64encode(b"s3cret").decode())
    core.receive_data(b"235 ok\r\n")
    assert (user.secret_kind, password.secret_kind) == ("login-username", "login-password")
    model = core.model
    assert model.authenticated_user == "student" and model.authenticated_mechanism == "LOGIN" and model.auth is None
    assert "s3cret" not in repr(model)


def test_tls_forgets_the_plaintext_session():
    core = ready()
    core.send_line("STARTTLS")
    core.receive_data(b"220 go ahead\r\n")
    assert core.state is State.TLS_PENDING
    core.tls_started(TLSFacts("TLSv1.3", "TLS_AES_256_GCM_SHA384", True))
    model = core.model
    assert model.tls and model.tls_facts.version == "TLSv1.3" and model.state is State.GREETED
    assert model.capabilities is None and model.capabilities_before_tls.has("STARTTLS")


def test_421_closes_and_a_new_connection_starts_clean():
    core = ready()
    core.send_line("MAIL FROM:<a@lab.test>")
    core.receive_data(b"421 4.3.2 shutting down\r\n")
    assert core.state is State.CLOSED
    core.connection_lost()
    assert core.state is State.DISCONNECTED and core.model.transaction is None
    core.connected(tls=True)
    assert core.model.tls and core.model.capabilities is None and core.model.sent_commands == 0
