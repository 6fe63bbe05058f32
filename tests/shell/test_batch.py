"""Batch mode end to end, as a fresh process, against a plain aiosmtpd on 127.0.0.1:
EHLO, STARTTLS (verified with --cafile), EHLO, AUTH LOGIN by hand, a message byte for byte."""

from __future__ import annotations

from smtp_shell.status import ExitStatus
from tests.shell.helpers import B64_PASSWORD, EXPECTED_MESSAGE, FULL_SESSION, run_cli
from tests.support.servers import PASSWORD, free_port


def test_full_session_in_batch_mode(aiosmtpd_server, tmp_path):
    result = run_cli(["connect", aiosmtpd_server.target, "--cafile", str(aiosmtpd_server.cafile), "--batch"],
                     "\n".join(FULL_SESSION) + "\n", tmp_path)
    out = result.stdout
    assert result.returncode == ExitStatus.OK, out + result.stderr
    assert aiosmtpd_server.messages == [EXPECTED_MESSAGE]
    # The conversation as a student sees it: plaintext then TLS prefixes, TLS details, masked secrets.
    assert " -> EHLO client.test" in out and "<-  220 " in out
    assert "=== TLS started: TLSv1." in out and "verified" in out
    assert "send EHLO again" in out
    assert " ~> MAIL FROM:<student@lab.test>" in out
    assert "<~  334 VXNlciBOYW1lAA==  (User Name\\x00)" in out  # aiosmtpd's challenge, decoded inline, NUL shown
    assert "\x00" not in out
    assert "<~  235 " in out
    assert " ~> ..A line that starts with a dot." in out and "dot-stuffing" in out
    assert PASSWORD not in out and B64_PASSWORD not in out
    assert "<~  221 " in out


def test_crlf_always(aiosmtpd_server, tmp_path):
    """Lines piped with CRLF or LF reach the server identically (CRLF)."""
    script = "EHLO a\r\nMAIL FROM:<a@lab.test>\r\nRCPT TO:<b@lab.test>\nDATA\nSubject: x\r\n\r\nbody\n.\nQUIT\n"
    result = run_cli(["connect", aiosmtpd_server.target, "--batch"], script, tmp_path)
    assert result.returncode == 0, result.stdout
    assert aiosmtpd_server.messages == [b"Subject: x\r\n\r\nbody\r\n"]


def test_a_refused_rcpt_gives_its_own_exit_status(aiosmtpd_server, tmp_path):
    result = run_cli(["connect", aiosmtpd_server.target, "--batch"], "EHLO a\nRCPT TO:<b@lab.test>\nQUIT\n", tmp_path)
    assert result.returncode == ExitStatus.ENVELOPE_REFUSED
    assert "<** 503 " in result.stdout


def test_a_refused_command_outside_a_transaction_gives_its_own_exit_status(aiosmtpd_server, tmp_path):
    result = run_cli(["connect", aiosmtpd_server.target, "--batch"], "EHLO a\nEXPN staff\nNOOP\n", tmp_path)
    assert result.returncode == ExitStatus.REPLY_5XX, result.stdout
    assert "<** 502 " in result.stdout and "<-  250 " in result.stdout.split(" -> NOOP")[1]  # not a transaction: goes on


def test_end_of_input_quits_politely(aiosmtpd_server, tmp_path):
    result = run_cli(["connect", aiosmtpd_server.target, "--batch"], "EHLO a\n", tmp_path)
    assert result.returncode == 0
    assert " -> QUIT" in result.stdout and "<-  221 " in result.stdout


def test_refused_connection_exit_status_and_sentence(tmp_path):
    port = free_port()
    result = run_cli(["connect", f"127.0.0.1:{port}", "--batch"], "EHLO a\n", tmp_path)
    assert result.returncode == ExitStatus.CONNECTION_FAILED
    assert f"Connection to 127.0.0.1:{port} was refused" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_tls_verification_failure_exit_status(aiosmtpd_server, tmp_path):
    """Without --cafile the test certificate is not trusted: explained, exit 4, session over."""
    result = run_cli(["connect", aiosmtpd_server.target, "--batch"], "EHLO a\nSTARTTLS\nEHLO a\n", tmp_path)
    assert result.returncode == ExitStatus.TLS_FAILED, result.stdout
    assert "not trusted" in result.stdout and "--cafile" in result.stdout


def test_bad_address_is_one_sentence(tmp_path):
    result = run_cli(["connect", "127.0.0.1:notaport", "--batch"], "", tmp_path)
    assert result.returncode == ExitStatus.ERROR
    assert "is not a port number" in result.stderr and "Traceback" not in result.stderr


def test_meta_commands_in_batch(aiosmtpd_server, tmp_path):
    result = run_cli(["connect", aiosmtpd_server.target, "--batch"], ":b64 student\n:explain 503\n:nosuch\nQUIT\n", tmp_path)
    assert "c3R1ZGVudA==" in result.stdout
    assert "503" in result.stdout and "sequence" in result.stdout.lower()
    assert "':nosuch' is not a shell command" in result.stdout
