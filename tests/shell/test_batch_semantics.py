"""Batch semantics a script can rely on, each as a fresh `smtp-shell --batch` process against a
real server started here (plain aiosmtpd, or the scriptable hostile server): exit 0 only when
every message was accepted, one documented status per failure, stop after the first failed
transaction (QUIT) unless --keep-going, a refused DATA never turns the body into commands,
DATA lines byte for byte, any stdout encoding, a closed stdout, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from smtp_shell.status import ExitStatus
from tests.robustness.conftest import assert_clean, batch
from tests.robustness.hostile import HostileServer
from tests.shell.helpers import env, run_cli

ENVELOPE = "EHLO a\nMAIL FROM:<a@lab.test>\nRCPT TO:<b@lab.test>\nDATA\n"
BODY = "Subject: x\n\nQUIT\nRSET\nbody\n.\n"


@pytest.fixture
def hostile():
    servers = []

    def make(script, **kwargs):
        server = HostileServer(script, **kwargs).start()
        servers.append(server)
        return server
    yield make
    for server in servers:
        server.stop()


def smtp_with(**on):
    async def script(peer):
        await peer.smtp(on)
    return script


# ---- DATA refused: the body is skipped, never sent as commands --------------------------------

def test_refused_data_skips_the_message_lines_and_says_how_many(hostile, tmp_path):
    server = hostile(smtp_with(DATA="554 5.5.1 No valid recipients"))
    result = batch(server, ENVELOPE + BODY + "NOOP\n", tmp_path, timeout=5)
    assert_clean(result)
    assert result.returncode == ExitStatus.ENVELOPE_REFUSED, result.stdout
    assert "the 5 message line(s) up to the lone '.' were skipped" in result.stdout
    assert b"RSET" not in server.lines and b"body" not in server.lines
    assert server.lines.count(b"QUIT") == 1 and server.lines[-1] == b"QUIT"  # stop after the failed transaction
    assert b"NOOP" not in server.lines


# ---- refused at the final dot: 4xx vs 5xx -------------------------------------------------------

@pytest.mark.parametrize("reply, status", [("452 4.3.1 Insufficient storage", ExitStatus.MESSAGE_REFUSED_4XX),
                                           ("554 5.7.1 Message rejected", ExitStatus.MESSAGE_REFUSED_5XX)])
def test_a_message_refused_at_the_dot_is_not_exit_0(hostile, tmp_path, reply, status):
    async def script(peer):
        await peer.smtp(data_reply=reply)
    server = hostile(script)
    result = batch(server, ENVELOPE + "Subject: x\n\nbody\n.\n", tmp_path, timeout=5)
    assert_clean(result)
    assert result.returncode == status, result.stdout
    assert server.lines[-1] == b"QUIT"


def test_accepted_message_is_exit_0(aiosmtpd_server, tmp_path):
    result = run_cli(["connect", aiosmtpd_server.target, "--batch"], ENVELOPE + "Subject: x\n\nbody\n.\n", tmp_path)
    assert result.returncode == ExitStatus.OK, result.stdout
    assert aiosmtpd_server.messages == [b"Subject: x\r\n\r\nbody\r\n"]


# ---- 421 -------------------------------------------------------------------------------------------

def test_a_421_greeting_is_not_exit_0(hostile, tmp_path):
    async def script(peer):
        await peer.send("421 4.3.2 Service not available, closing")
        peer.close()
    result = batch(hostile(script), "EHLO a\nQUIT\n", tmp_path, timeout=5)
    assert_clean(result)
    assert result.returncode == ExitStatus.CONNECTION_LOST, result.stdout


def test_a_421_during_data_is_not_exit_0(hostile, tmp_path):
    async def body_line(peer, line):
        await peer.send("421 4.4.2 Timeout, closing")
        peer.close()
        return False
    result = batch(hostile(smtp_with(**{"<data>": body_line})), ENVELOPE + "Subject: x\n\nbody\n.\n", tmp_path, timeout=5)
    assert_clean(result)
    assert "<** 421 4.4.2 Timeout, closing" in result.stdout
    assert result.returncode == ExitStatus.CONNECTION_LOST, result.stdout


def test_with_pipelining_a_421_before_the_close_is_shown_and_says_what_it_answers(hostile, tmp_path):
    async def mail(peer, line):
        await peer.send("421 4.7.0 Too many errors, closing")
        peer.abort()
        return False
    server = hostile(smtp_with(EHLO="250-hostile.test\r\n250 PIPELINING", MAIL=mail))
    many = "".join(f"RCPT TO:<r{i}@lab.test>\n" for i in range(200))
    transcript = tmp_path / "session.jsonl"
    result = batch(server, "EHLO a\nMAIL FROM:<a@lab.test>\n" + many + "DATA\nSubject: x\n\nbody\n.\n", tmp_path,
                   "--record", transcript, timeout=5)
    assert_clean(result)
    assert "<** 421 4.7.0 Too many errors, closing" in result.stdout, result.stdout
    assert "421 4.7.0 Too many errors, closing" in transcript.read_text(encoding="utf-8")  # recorded too
    assert "that answers MAIL FROM:<a@lab.test>" in result.stdout
    assert result.returncode == ExitStatus.CONNECTION_LOST
    assert " -> QUIT" not in result.stdout.split("421 4.7.0")[1]


# ---- stop after the first failed transaction, or --keep-going ---------------------------------------

TWO_MESSAGES = ("EHLO a\nMAIL FROM:<a@lab.test>\nRCPT TO:<nobody>\nDATA\nSubject: one\n\nfirst\n.\n"
                "MAIL FROM:<a@lab.test>\nRCPT TO:<b@lab.test>\nDATA\nSubject: two\n\nsecond\n.\n")


async def refuses_nobody(peer):
    """Like a real MTA: RCPT TO:<nobody> is refused, and DATA without an accepted recipient too."""
    accepted = []

    async def rcpt(p, line):
        ok = b"nobody" not in line
        accepted.append(ok)
        await p.send("250 2.1.5 OK" if ok else "550 5.1.1 No such user")
        return True

    async def data(p, line):
        if any(accepted):
            await p.send("354 go ahead")
            p.in_data = True
        else:
            await p.send("554 5.5.1 No valid recipients")
        accepted.clear()
        return True
    await peer.smtp({"RCPT": rcpt, "DATA": data})


def test_the_first_failed_transaction_stops_the_session_with_quit(hostile, tmp_path):
    server = hostile(refuses_nobody)
    result = batch(server, TWO_MESSAGES, tmp_path, timeout=5)
    assert result.returncode == ExitStatus.ENVELOPE_REFUSED, result.stdout
    assert "stopping after the first failed transaction" in result.stdout
    assert server.lines[-1] == b"QUIT" and b"DATA" not in server.lines and b"second" not in server.lines


def test_keep_going_goes_on_to_the_next_transaction(hostile, tmp_path):
    server = hostile(refuses_nobody)
    result = batch(server, TWO_MESSAGES, tmp_path, "--keep-going", timeout=5)
    assert result.returncode == ExitStatus.ENVELOPE_REFUSED, result.stdout  # still not 0: one was refused
    assert b"second" in server.lines and server.lines[-1] == b"QUIT"
    assert b"first" not in server.lines and b"Subject: one" not in server.lines


def test_no_pipeline_waits_for_each_reply(hostile, tmp_path):
    server = hostile(smtp_with(EHLO="250-hostile.test\r\n250 PIPELINING"))
    result = batch(server, ENVELOPE + "Subject: x\n\nbody\n.\n", tmp_path, "--no-pipeline", timeout=5)
    assert result.returncode == ExitStatus.OK, result.stdout
    out = result.stdout
    assert out.index("<-  250 2.1.0 OK") < out.index(" -> RCPT TO:<b@lab.test>") < out.index("<-  250 2.1.5 OK")
    assert "that answers" not in out


# ---- :quit in a message body ------------------------------------------------------------------

def test_quit_in_a_body_abandons_the_message_out_loud_and_double_colon_sends_it(aiosmtpd_server, tmp_path):
    script = ENVELOPE + "Subject: x\n\n::quit is how you leave\n:-) smile\n.\n" + ENVELOPE + "Subject: y\n\n:quit\n.\n"
    result = run_cli(["connect", aiosmtpd_server.target, "--batch"], script, tmp_path)
    assert result.returncode == ExitStatus.ABANDONED, result.stdout
    assert "message abandoned, not sent" in result.stdout
    assert "'::' at the start of a line sends one ':'" in result.stdout
    assert "':-)' is not a shell command, so this line goes into the message as text" in result.stdout
    assert aiosmtpd_server.messages == [b"Subject: x\r\n\r\n:quit is how you leave\r\n:-) smile\r\n"]


# ---- bytes in, bytes out ------------------------------------------------------------------------

def test_non_utf8_input_passes_through_byte_for_byte(aiosmtpd_server, tmp_path):
    script = (ENVELOPE + "Subject: caf\xe9\n\nna\xefve body\n.\n").encode("latin-1")
    result = subprocess.run([sys.executable, "-m", "smtp_shell", "connect", aiosmtpd_server.target, "--batch"],
                            input=script, capture_output=True, timeout=30, env=env(tmp_path))
    out = result.stdout.decode("utf-8", "backslashreplace")
    assert result.returncode == ExitStatus.OK, out + result.stderr.decode()
    assert b"Traceback" not in result.stderr
    assert aiosmtpd_server.messages == [b"Subject: caf\xe9\r\n\r\nna\xefve body\r\n"]
    assert r"caf\xe9" in out  # shown escaped, never as a broken character


def test_a_bare_cr_inside_a_data_line_is_sent_with_a_warning(aiosmtpd_server, tmp_path):
    result = run_cli(["connect", aiosmtpd_server.target, "--batch"],
                     ENVELOPE + "Subject: x\n\nbefore\rafter\n.\n", tmp_path)
    assert result.returncode == ExitStatus.OK, result.stdout
    assert "bare CR" in result.stdout
    assert aiosmtpd_server.messages == [b"Subject: x\r\n\r\nbefore\rafter\r\n"]


def test_any_stdout_encoding_works(hostile, tmp_path):
    server = hostile(smtp_with(EHLO="250 hostile.test \u2192 caf\u00e9 \u4e2d"))
    e = env(tmp_path)
    e["PYTHONIOENCODING"] = "cp1252"
    result = subprocess.run([sys.executable, "-m", "smtp_shell", "connect", server.target, "--batch"],
                            input=b"EHLO a\nQUIT\n", capture_output=True, timeout=30, env=e)
    out = result.stdout.decode("cp1252", "replace")
    assert result.returncode == ExitStatus.OK, out + result.stderr.decode("cp1252", "replace")
    assert "caf\u00e9" in out and "\\u2192" in out and "\\u4e2d" in out


def test_a_closed_stdout_ends_quietly_with_its_status(aiosmtpd_server, tmp_path):
    script = "EHLO a\n" + "NOOP\n" * 3000
    proc = subprocess.Popen([sys.executable, "-m", "smtp_shell", "connect", aiosmtpd_server.target, "--batch"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(tmp_path))
    writer = threading.Thread(target=lambda: (proc.stdin.write(script.encode()), proc.stdin.close()), daemon=True)
    writer.start()
    proc.stdout.readline()  # like `| head -1`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=30) == ExitStatus.OUTPUT_CLOSED
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err


def test_ctrl_c_while_waiting_for_a_reply_ends_with_quit(hostile, tmp_path):
    waiting = threading.Event()

    async def noop(peer, line):
        waiting.set()
        line = await peer.line()  # no reply to NOOP; the next line should be QUIT
        if line.upper() == b"QUIT":
            await peer.send("221 2.0.0 Bye")
        return False
    server = hostile(smtp_with(NOOP=noop))
    proc = subprocess.Popen([sys.executable, "-m", "smtp_shell", "connect", server.target, "--batch", "--timeout", "60"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(tmp_path))
    proc.stdin.write(b"EHLO a\nNOOP\nNOOP\n")
    proc.stdin.flush()
    assert waiting.wait(20)
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == ExitStatus.INTERRUPTED, out.decode() + err.decode()
    assert b"Traceback" not in err
    assert server.lines[-1] == b"QUIT" and b"<-  221 2.0.0 Bye" in out


def test_the_exit_status_table_is_documented():
    from pathlib import Path

    from smtp_shell.status import BATCH_TABLE
    doc = (Path(__file__).parents[2] / "docs" / "batch.md").read_text(encoding="utf-8")
    for status, meaning in BATCH_TABLE:
        assert f"| {int(status)} | `{status.name}` | {meaning} |" in doc
    assert {s for s, _ in BATCH_TABLE} == set(ExitStatus)


# ---- a long typed body goes out in large writes ------------------------------------------------------

def test_a_long_typed_body_is_written_in_a_few_large_writes(aiosmtpd_server, tmp_path, monkeypatch):
    import io

    from smtp_shell.render import make_console
    from smtp_shell.shell.batch import run_batch
    from smtp_shell.shell.options import SessionOptions
    from smtp_shell.transport.aio import Connection
    from smtp_shell.transport.blocking import BlockingConnection

    body = [f"line {i} of a long body typed into a script" for i in range(5000)]
    script = (ENVELOPE + "Subject: long\n\n" + "\n".join(body) + "\n.\nQUIT\n").encode()
    writes: list[int] = []
    for kind in (Connection, BlockingConnection):  # whichever driver runs (both do, in turn)
        def counting(real):
            async def send(self, data, timeout=None):
                writes.append(len(data))
                return await real(self, data, timeout)
            return send
        monkeypatch.setattr(kind, "send", counting(kind.send))
    read_fd, write_fd = os.pipe()
    feeder = threading.Thread(target=lambda: (os.write(write_fd, script), os.close(write_fd)), daemon=True)
    feeder.start()
    with open(read_fd, encoding="utf-8") as stdin:
        options = SessionOptions(host="127.0.0.1", port=aiosmtpd_server.port, timeout=10)
        status = run_batch(options, stdin, make_console(file=io.StringIO()))  # batch (both drivers)
    assert status == ExitStatus.OK
    assert aiosmtpd_server.messages == [("Subject: long\r\n\r\n" + "".join(f"{b}\r\n" for b in body)).encode()]
    big = [n for n in writes if n > 1000]
    assert sum(big) >= 5000 * 40 and len(writes) < 30, writes  # not one write per line


def test_a_long_body_is_advised_line_by_line_as_sent(aiosmtpd_server, tmp_path):
    """Coalescing never changes what the advisor says: each header warning appears once."""
    body = "".join(f"line {i}\n" for i in range(3000))
    result = run_cli(["connect", aiosmtpd_server.target, "--batch"], ENVELOPE + "Subject: x\n\n" + body + ".\n", tmp_path)
    assert result.returncode == ExitStatus.OK, result.stdout[-2000:]
    assert result.stdout.count("[missing-from]") == 1 and result.stdout.count("[missing-date]") == 1
    assert "[body-in-headers]" not in result.stdout


def test_a_message_sent_with_send_file_and_refused_stops_the_session_too(hostile, tmp_path):
    async def script(peer):
        await peer.smtp(data_reply="554 5.7.1 Message rejected")
    server = hostile(script)
    path = tmp_path / "m.eml"
    path.write_bytes(b"Subject: file\n\nbody\n")
    result = batch(server, ENVELOPE + f":send {path}\nMAIL FROM:<again@lab.test>\n", tmp_path, timeout=5)
    assert result.returncode == ExitStatus.MESSAGE_REFUSED_5XX, result.stdout
    assert b"MAIL FROM:<again@lab.test>" not in server.lines and server.lines[-1] == b"QUIT"


def test_a_close_right_after_354_is_not_called_a_refused_data(hostile, tmp_path):
    """The 354 came (DATA was accepted) and then the connection closed: the skipped lines are
    reported as not sent because of the close, never as "DATA was refused"."""
    async def data(peer, line):
        await peer.send("354 go ahead")
        peer.close()
        return False
    for _ in range(3):  # when the close is read (with the 354 or after it) varies: the words must not
        result = batch(hostile(smtp_with(DATA=data)), ENVELOPE + BODY + "NOOP\n", tmp_path, timeout=5)
        assert_clean(result)
        assert "DATA was refused" not in result.stdout, result.stdout
        assert "The server closed the connection during DATA" in result.stdout, result.stdout
        assert result.returncode == ExitStatus.CONNECTION_LOST, result.stdout
