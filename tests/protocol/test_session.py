"""The sans-IO client core driven with bytes only: pipelining, STARTTLS pause and injection,
AUTH modes and secrets, DATA mode."""

import base64

import pytest

from smtp_shell.protocol.errors import LocalProtocolError
from smtp_shell.protocol.session import CapabilitiesLearned, ClientSession, PlaintextInjection, ReplyEvent, TLSReady
from smtp_shell.protocol.states import State

EHLO_REPLY = b"250-lab\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 SIZE 1000\r\n"


def ready(pipelining=True) -> ClientSession:
    s = ClientSession()
    s.connected()
    s.receive_data(b"220 lab ESMTP\r\n")
    s.send_line("EHLO me")
    s.receive_data(EHLO_REPLY if pipelining else b"250 lab\r\n")
    assert s.state is State.READY
    return s


def replies(events):
    return [e for e in events if isinstance(e, ReplyEvent)]


def test_greeting_then_ehlo_learns_capabilities():
    s = ClientSession()
    s.connected()
    [g] = s.receive_data(b"220 lab ESMTP\r\n")
    assert g.kind == "greeting" and s.state is State.GREETED
    out = s.send_line("ehlo me")
    assert out.data == b"ehlo me\r\n"
    events = s.receive_data(EHLO_REPLY)
    assert isinstance(events[1], CapabilitiesLearned)
    assert s.capabilities.has("pipelining") and s.capabilities.size == 1000


def test_pipelined_replies_matched_in_order():
    s = ready()
    outs = [s.send_line(t) for t in ("MAIL FROM:<a@lab.test>", "RCPT TO:<b@lab.test>", "RCPT TO:<nobody@lab.test>", "DATA")]
    assert [o.wait_for_reply for o in outs] == [False, False, False, True]
    events = replies(s.receive_data(b"250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no such user\r\n354 go ahead\r\n"))
    assert [(e.verb, e.reply.code) for e in events] == [("MAIL", 250), ("RCPT", 250), ("RCPT", 550), ("DATA", 354)]
    assert events[2].command.args == "TO:<nobody@lab.test>"
    assert s.state is State.DATA and s.mode == "data"


def test_without_pipelining_every_command_waits():
    s = ready(pipelining=False)
    assert s.send_line("MAIL FROM:<a@b>").wait_for_reply


def test_data_mode_dot_stuffing_and_end():
    s = ready()
    s.send_line("MAIL FROM:<a@b>"); s.send_line("RCPT TO:<c@d>"); s.send_line("DATA")
    s.receive_data(b"250 ok\r\n250 ok\r\n354 go\r\n")
    out = s.send_line(".hidden line")
    assert out.data == b"..hidden line\r\n" and out.notes and not out.wait_for_reply
    end = s.send_line(".")
    assert end.kind == "dot" and end.data == b".\r\n"
    [r] = replies(s.receive_data(b"250 2.0.0 queued\r\n"))
    assert r.verb == "<dot>" and s.state is State.READY


def test_starttls_pauses_and_reports_injection():
    s = ready()
    s.send_line("STARTTLS")
    events = s.receive_data(b"220 2.0.0 Ready to start TLS\r\n250 injected\r\n")
    assert isinstance(events[1], TLSReady)
    assert events[2] == PlaintextInjection(b"250 injected\r\n")
    assert s.state is State.TLS_PENDING
    # Anything else before the handshake is injection too, never a reply.
    assert s.receive_data(b"250 more\r\n") == [PlaintextInjection(b"250 more\r\n")]
    with pytest.raises(LocalProtocolError):
        s.send_line("EHLO me")
    s.tls_started()
    assert s.tls and s.capabilities is None and s.state is State.GREETED
    s.send_line("EHLO me")
    events = s.receive_data(b"250-lab\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n")
    learned = events[1]
    assert any("AUTH" in c for c in learned.changes)


def test_auth_login_modes_and_secret_masking():
    s = ready()
    s.send_line("AUTH LOGIN")
    [e] = replies(s.receive_data(b"334 VXNlcm5hbWU6\r\n"))
    assert e.challenge == "Username:" and s.mode == "auth" and not s.expects_secret
    out = s.send_line(base64.b64encode(b"student").decode())
    assert out.secret and out.kind == "auth"
    [e] = replies(s.receive_data(b"334 UGFzc3dvcmQ6\r\n"))
    assert e.challenge == "Password:" and s.expects_secret and e.wants_secret
    out = s.send_line(base64.b64encode(b"lab-password").decode())
    assert out.secret and b"lab-password" not in out.masked_text.encode()
    s.receive_data(b"235 2.7.0 Authentication successful\r\n")
    assert s.authenticated_user == "student" and s.state is State.READY


def test_auth_plain_initial_response_is_secret():
    s = ready()
    blob = base64.b64encode(b"\0student\0lab-password").decode()
    out = s.send_line(f"AUTH PLAIN {blob}")
    assert out.secret and blob not in out.masked_text
    s.receive_data(b"235 ok\r\n")
    assert s.authenticated_user == "student"


def test_unsolicited_421_closes():
    s = ready()
    [e] = replies(s.receive_data(b"421 4.4.2 idle too long\r\n"))
    assert e.kind == "unsolicited" and s.state is State.CLOSED


def test_not_connected_is_a_local_error_with_hint():
    s = ClientSession()
    with pytest.raises(LocalProtocolError) as exc:
        s.send_line("EHLO me")
    assert ":reconnect" in exc.value.hint


def test_aiosmtpd_style_challenges_with_nul_still_mask_the_password():
    s = ready()
    s.send_line("AUTH LOGIN")
    s.receive_data(b"334 VXNlciBOYW1lAA==\r\n")  # "User Name\0"
    assert not s.expects_secret
    s.send_line("c3R1ZGVudA==")
    s.receive_data(b"334 UGFzc3dvcmQA\r\n")      # "Password\0"
    assert s.expects_secret


def test_plain_after_empty_challenge_is_typed_masked():
    s = ready()
    s.send_line("AUTH PLAIN")
    s.receive_data(b"334 \r\n")
    assert s.expects_secret
