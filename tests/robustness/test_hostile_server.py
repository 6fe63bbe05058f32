"""A hostile server, scenario by scenario, against the real shell in batch mode (a fresh
process each time): the exact sentence the student sees, the exit status, no traceback, and
no raw control character on the terminal. The REPL side (it stays usable afterwards) is in
test_hostile_repl.py."""

from __future__ import annotations

import pytest

from smtp_shell.status import ExitStatus
from tests.certs import server_context
from tests.robustness.conftest import assert_clean, batch, errors
from tests.robustness.hostile import closes_after_starttls_220, greets_then_silent, never_greets

pytestmark = pytest.mark.timeout(30)

CLOSED_INPUT = "The connection is closed, so the rest of the input was not sent."
ENVELOPE = "EHLO a\nMAIL FROM:<a@lab.test>\nRCPT TO:<b@lab.test>\nDATA\n"


# ---- silence and slowness -------------------------------------------------------------------

async def drips_one_byte_per_second(peer):
    await peer.send("220 hostile.test ESMTP")
    await peer.expect("EHLO")
    await peer.drip(b"250 hostile.test at one byte per second\r\n", 1.0)


def test_never_sends_a_greeting(hostile, tmp_path):
    server = hostile(never_greets)
    result = batch(server, "EHLO a\nQUIT\n", tmp_path)
    assert_clean(result)
    assert result.returncode == ExitStatus.TIMEOUT
    assert errors(result.stdout) == [f"{server.target} sent no greeting within 1 second; check the port, "
                                     f"or try --tls if it expects TLS from the first byte."]
    assert server.lines == []  # batch mode does not talk to a server that never greeted


def test_greets_then_never_answers(hostile, tmp_path):
    server = hostile(greets_then_silent)
    result = batch(server, "EHLO a\nQUIT\n", tmp_path)
    assert_clean(result)
    assert result.returncode == ExitStatus.TIMEOUT
    # said once (not once more while leaving), and no QUIT is sent to a stuck server
    assert errors(result.stdout) == ["No reply to EHLO within 1 second; the server may be slow or stuck: "
                                     "wait, raise --timeout, or use :reconnect."]
    assert " -> QUIT" not in result.stdout


def test_answers_one_byte_per_second(hostile, tmp_path):
    server = hostile(drips_one_byte_per_second)
    result = batch(server, "EHLO a\n", tmp_path, timeout=2)
    assert_clean(result)
    assert result.returncode == ExitStatus.TIMEOUT
    assert errors(result.stdout) == ["No reply to EHLO within 2 seconds; the server may be slow or stuck: "
                                     "wait, raise --timeout, or use :reconnect."]


# ---- garbage --------------------------------------------------------------------------------

async def garbage_then_smtp(peer):
    await peer.send(b"\x00\xff\xfe\x80 GARBAGE \x16\x03\r\n")
    await peer.smtp()


async def endless_line(peer):
    await peer.send("220 hostile.test ESMTP")
    await peer.expect("EHLO")
    await peer.send(b"A" * (1024 * 1024))  # 1 MiB, no line end
    await peer.send(b"\r\n250 hostile.test back to normal\r\n")
    await peer.smtp(greeting=None)


async def mixed_codes(peer):
    await peer.smtp({"EHLO": "250-hostile.test\r\n550 5.0.0 changed my mind"})


async def code_out_of_range(peer):
    await peer.smtp({"NOOP": "999 what is this\r\n250 2.0.0 OK"})


def test_garbage_bytes_before_the_greeting(hostile, tmp_path):
    server = hostile(garbage_then_smtp)
    result = batch(server, "NOOP\n", tmp_path)
    assert_clean(result)
    assert errors(result.stdout) == ["The server sent a line that is not an SMTP reply (it must start with a "
                                     "three-digit code)."]
    assert r"<!  not SMTP: \x00\xff\xfe\x80 GARBAGE \x16\x03\x0d\x0a" in result.stdout
    assert "<-  250 2.0.0 OK" in result.stdout and result.returncode == ExitStatus.OK


def test_a_1_mib_line_without_crlf(hostile, tmp_path):
    server = hostile(endless_line)
    result = batch(server, "EHLO a\nNOOP\n", tmp_path, timeout=2)
    assert_clean(result)
    assert errors(result.stdout) == ["The server sent more than 64 KiB without a line end."]
    # the rest of that line is ignored; the next reply answers EHLO and the session goes on
    assert "<-  250 hostile.test back to normal" in result.stdout
    assert "<-  250 2.0.0 OK" in result.stdout and result.returncode == ExitStatus.OK
    assert len(result.stdout) < 10_000  # only a short excerpt of the flood is shown


def test_a_reply_with_mixed_codes(hostile, tmp_path):
    server = hostile(mixed_codes)
    result = batch(server, "EHLO a\nNOOP\n", tmp_path)
    assert_clean(result)
    assert errors(result.stdout) == ["The server mixed codes inside one reply (250 then 550)."]
    assert "<** 550 5.0.0 changed my mind" in result.stdout
    assert "<-  250 2.0.0 OK" in result.stdout  # the next command works


def test_a_code_out_of_range(hostile, tmp_path):
    server = hostile(code_out_of_range)
    result = batch(server, "NOOP\nNOOP\n", tmp_path)
    assert_clean(result)
    assert errors(result.stdout) == ["The server sent reply code 999, which is outside the range SMTP allows "
                                     "(200 to 559)."] * 2
    assert result.stdout.count("<-  250 2.0.0 OK") == 2


# ---- terminal escapes and markup in server text ---------------------------------------------

HOSTILE_TEXT = (b"\x1b[31mred\x1b[0m \x1b[2J\x1b[H\x1b[5A \x1b]0;pwned\x07 bell\x07 "
                b"[bold red]not markup[/bold red] [link=http://evil]x[/link] \xe2\x80\xaeevil")
SHOWN_TEXT = (r"\x1b[31mred\x1b[0m \x1b[2J\x1b[H\x1b[5A \x1b]0;pwned\x07 bell\x07 "
              r"[bold red]not markup[/bold red] [link=http://evil]x[/link] \u202eevil")


async def escapes_everywhere(peer):
    await peer.send(b"220 " + HOSTILE_TEXT + b"\r\n")
    await peer.smtp({"EHLO": b"250-" + HOSTILE_TEXT + b"\r\n250 OK\r\n",
                     "NOOP": b"550 5.0.0 " + HOSTILE_TEXT + b"\r\n",
                     "AUTH": b"334 " + __import__("base64").b64encode(HOSTILE_TEXT) + b"\r\n"},
                    greeting=None)


def test_escape_sequences_and_markup_are_shown_never_interpreted(hostile, tmp_path):
    server = hostile(escapes_everywhere)
    result = batch(server, "EHLO a\nNOOP\nAUTH LOGIN\n*\n", tmp_path)
    assert_clean(result)  # no raw ESC or BEL reached the terminal
    assert f"<-  220 {SHOWN_TEXT}" in result.stdout
    assert f"<-  250-{SHOWN_TEXT}" in result.stdout
    assert f"<** 550 5.0.0 {SHOWN_TEXT}" in result.stdout
    assert f"({SHOWN_TEXT})" in result.stdout        # the decoded 334 challenge, escaped too
    assert "[bold red]not markup[/bold red]" in result.stdout


# ---- connections that end at the worst moment -----------------------------------------------

async def closes_mid_reply(peer):
    await peer.send("220 hostile.test ESMTP")
    await peer.expect("EHLO")
    await peer.send(b"250-hostile.test\r\n250-SIZE 100")
    peer.close()


async def closes_mid_data(peer):
    async def body_line(p, line):
        if line == b"second body line":
            p.abort()
            return False
        return True
    await peer.smtp({"<data>": body_line})


async def closes_after_354(peer):
    async def data(p, line):
        await p.send("354 go ahead")
        p.close()
        return False
    await peer.smtp({"DATA": data})


def test_closes_mid_reply(hostile, tmp_path):
    server = hostile(closes_mid_reply)
    result = batch(server, "EHLO a\nNOOP\n", tmp_path)
    assert_clean(result)
    assert result.returncode == ExitStatus.CONNECTION_FAILED
    assert r"<!  cut off: 250-hostile.test\x0d\x0a250-SIZE 100" in result.stdout
    assert errors(result.stdout) == ["The server closed the connection in the middle of a reply; use :reconnect "
                                     "to start a new session.", CLOSED_INPUT]


def test_closes_mid_data(hostile, tmp_path):
    server = hostile(closes_mid_data)
    result = batch(server, ENVELOPE + "Subject: x\n\nfirst body line\nsecond body line\n"
                   + "more\n" * 50 + ".\nQUIT\n", tmp_path)
    assert_clean(result)
    assert result.returncode == ExitStatus.CONNECTION_FAILED
    assert errors(result.stdout)[0] == ("The server closed the connection during DATA, so the message was not "
                                        "delivered; use :reconnect to start a new session.")
    assert errors(result.stdout)[-1] == CLOSED_INPUT


def test_closes_right_after_354(hostile, tmp_path):
    server = hostile(closes_after_354)
    result = batch(server, ENVELOPE + "Subject: x\n\nbody\n.\nQUIT\n", tmp_path)
    assert_clean(result)
    assert result.returncode == ExitStatus.CONNECTION_FAILED
    assert errors(result.stdout) == ["The server closed the connection during DATA, so the message was not "
                                     "delivered; use :reconnect to start a new session.", CLOSED_INPUT]


@pytest.mark.parametrize("attempt", range(3))  # the hang-up races the handshake: same sentence every time
def test_closes_right_after_starttls_220(hostile, tmp_path, attempt):
    server = hostile(closes_after_starttls_220)
    result = batch(server, "EHLO a\nSTARTTLS\nEHLO a\n", tmp_path)
    assert_clean(result)
    assert result.returncode == ExitStatus.CONNECTION_FAILED
    assert errors(result.stdout) == ["The server closed the connection instead of starting TLS; use :reconnect "
                                     "to start a new session.", CLOSED_INPUT]


# ---- STARTTLS injection and TLS on the wrong kind of port -----------------------------------

async def injects_after_220(peer):
    async def starttls(p, line):
        # one write: the 220 and forged replies a man in the middle wants parsed after TLS starts
        await p.send(b"220 2.0.0 Ready to start TLS\r\n250-forged\r\n250 AUTH PLAIN\r\n")
        await p.starttls()
        return True
    await peer.smtp({"STARTTLS": starttls})


def test_plaintext_injected_after_starttls_220_is_discarded(hostile, tmp_path, certs):
    server = hostile(injects_after_220, tls_context=server_context(certs.valid))
    result = batch(server, "EHLO a\nSTARTTLS\nEHLO a\nQUIT\n", tmp_path, "--cafile", certs.valid.cert_path)
    assert_clean(result)
    assert result.returncode == ExitStatus.OK
    assert errors(result.stdout) == ["The server sent 28 bytes after its 220 to STARTTLS and before TLS started; "
                                     "they were discarded, never treated as replies (a plaintext-injection "
                                     "attack looks like this)."]
    assert r"<!  discarded: 250-forged\x0d\x0a250 AUTH PLAIN\x0d\x0a" in result.stdout
    assert "<~  250-forged" not in result.stdout and "<-  250-forged" not in result.stdout
    assert "=== TLS started: TLSv1." in result.stdout and " ~> EHLO a" in result.stdout
    assert "<~  221 2.0.0 Bye" in result.stdout


async def tls_hello_first(peer):
    await peer.send(b"\x16\x03\x01\x00\x2a" + b"\x00" * 8)  # the start of a TLS record instead of "220"
    await peer.hang()


async def smtp(peer):
    await peer.smtp()


def test_tls_server_on_a_plaintext_connection_is_silent(hostile, tmp_path, certs):
    server = hostile(smtp, tls_context=server_context(certs.valid), implicit_tls=True)
    result = batch(server, "EHLO a\n", tmp_path)
    assert_clean(result)
    assert result.returncode == ExitStatus.TIMEOUT
    assert errors(result.stdout) == [f"{server.target} sent no greeting within 1 second; check the port, "
                                     f"or try --tls if it expects TLS from the first byte."]


def test_tls_bytes_instead_of_a_greeting(hostile, tmp_path):
    server = hostile(tls_hello_first)
    result = batch(server, "EHLO a\n", tmp_path)
    assert_clean(result)
    assert result.returncode == ExitStatus.TLS_FAILED
    assert errors(result.stdout) == [f"{server.target} answered with TLS instead of a plaintext greeting; it "
                                     f"expects TLS from the first byte, so reconnect with --tls.", CLOSED_INPUT]


def test_plaintext_on_a_tls_port(hostile, tmp_path):
    server = hostile(smtp)
    result = batch(server, "EHLO a\n", tmp_path, "--tls")
    assert_clean(result)
    assert result.returncode == ExitStatus.TLS_FAILED
    assert errors(result.stdout) == [f"{server.target} does not speak TLS from the first byte; drop --tls and "
                                     f"use STARTTLS after EHLO."]


# ---- certificates (minted in the test) ------------------------------------------------------

CERT_CASES = {
    # name: (cert attribute, trust that very certificate with --cafile?, the sentence)
    "expired": ("expired", True, "The server's certificate expired on 2020-01-01; the server must renew it "
                                 "(or pass --insecure to continue anyway)."),
    "self-signed": ("unknown", False, "The server's certificate is not trusted (self-signed: CN=unknown test); "
                                      "pass --cafile with the server's certificate, or --insecure to skip the check."),
    "wrong-hostname": ("wrong_host", True, "The server's certificate is for 'other.example' but you connected to "
                                           "'127.0.0.1'; connect using a name the certificate covers, or pass "
                                           "--insecure."),
}


@pytest.mark.parametrize("how", ["implicit", "starttls"])
@pytest.mark.parametrize("case", sorted(CERT_CASES))
def test_bad_certificates_are_explained(hostile, tmp_path, certs, case, how):
    attr, trust, sentence = CERT_CASES[case]
    pair = getattr(certs, attr)
    server = hostile(smtp, tls_context=server_context(pair), implicit_tls=how == "implicit")
    extra = (["--cafile", pair.cert_path] if trust else []) + (["--tls"] if how == "implicit" else [])
    result = batch(server, "EHLO a\nSTARTTLS\nEHLO a\n" if how == "starttls" else "EHLO a\n", tmp_path, *extra)
    assert_clean(result)
    assert result.returncode == ExitStatus.TLS_FAILED
    assert errors(result.stdout)[0] == sentence
    # --insecure goes on, loudly
    ok = batch(server, "EHLO a\nSTARTTLS\nEHLO a\nQUIT\n" if how == "starttls" else "EHLO a\nQUIT\n", tmp_path,
               "--insecure", *(["--tls"] if how == "implicit" else []))
    assert_clean(ok)
    assert ok.returncode == ExitStatus.OK, ok.stdout
    assert "NOT verified (--insecure)" in ok.stdout
