"""Crash safety of the lab server: `smtp-shell lab` is killed with SIGKILL while clients are
sending, at many points, restarted on the same mailbox, and killed again. The mailbox must never
hold a partial message that looks complete: every `.eml` parses and its message is exactly one
that a client sent in full; the temporary files a kill leaves behind are ignored by
`smtp-shell mailbox`. (The shell's side, SIGKILL while recording a transcript, is tested in
tests/transcript/test_kill.py.)"""

from __future__ import annotations

import os
import re
import signal
import smtplib
import subprocess
import sys
import threading
import time

import pytest

from smtp_shell.lab.mailbox import Mailbox, split_trace
from tests.robustness.conftest import shell
from tests.shell.helpers import env

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"), pytest.mark.timeout(120)]

KILL_AFTER = [0.0, 0.05, 0.12, 0.2, 0.35, 0.5, 0.8, 1.2]   # seconds after the first message was accepted


def start_lab(mailbox, home) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-m", "smtp_shell", "lab", "--listen", "127.0.0.1:0",
                             "--mailbox", str(mailbox)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env(home), text=True)
    deadline = time.monotonic() + 20
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if match:
            threading.Thread(target=lambda: proc.stdout.read(), daemon=True).start()  # keep the pipe drained
            return proc, int(match.group(1))
    proc.kill()
    raise AssertionError("the lab server did not start: " + "".join(seen))


def body(sender: int, n: int, size: int) -> bytes:
    head = f"From: s{sender}@lab.test\r\nTo: t@lab.test\r\nSubject: crash {sender}-{n}\r\nMessage-ID: <c{sender}-{n}@x>\r\n\r\n"
    line = f"payload of message {sender}-{n} ".ljust(76, "z") + "\r\n"
    return head.encode() + line.encode() * (size // 78 + 1) + b"the end\r\n"


def sender(port: int, index: int, sent: set, accepted: threading.Event, stop: threading.Event) -> None:
    n = 0
    while not stop.is_set():
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
                while not stop.is_set():
                    n += 1
                    data = body(index, n, size=(20_000, 300_000, 2_000_000)[n % 3])
                    sent.add(data)  # before sending: the server may save it even if we never hear 250
                    client.sendmail(f"s{index}@lab.test", ["t@lab.test"], data)
                    accepted.set()
        except (OSError, smtplib.SMTPException):
            if stop.wait(0.05):
                return
            return  # the server is gone: this round is over


def test_sigkill_while_receiving_never_leaves_a_message_that_looks_whole(tmp_path):
    mailbox, home = tmp_path / "mailbox", tmp_path / "home"
    sent: set[bytes] = set()
    for delay in KILL_AFTER:
        proc, port = start_lab(mailbox, home)
        accepted, stop = threading.Event(), threading.Event()
        threads = [threading.Thread(target=sender, args=(port, i, sent, accepted, stop), daemon=True) for i in range(3)]
        try:
            for t in threads:
                t.start()
            assert accepted.wait(20), "no message was accepted"
            time.sleep(delay)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        finally:
            stop.set()
            if proc.poll() is None:
                proc.kill()
            for t in threads:
                t.join(10)

    saved = Mailbox(mailbox).messages()
    assert len(saved) >= len(KILL_AFTER)
    for message in saved:
        raw = message.read()
        trace, content = split_trace(raw)
        assert trace, message.path  # the five trace headers, whole
        assert content in sent, f"{message.path} holds a message nobody sent in full ({len(content)} bytes)"
        parsed = message.parse()
        assert parsed["Subject"].startswith("crash ")
    ids = [m.id for m in saved]
    assert len(ids) == len(set(ids))  # the counter continued after each restart: no ID reused

    # what a kill leaves behind (a hidden temporary file) is ignored by `smtp-shell mailbox`
    leftover = mailbox / "t@lab.test" / ".incoming-killed.tmp"
    leftover.write_bytes(b"Subject: half\r\n\r\nhalf a mess")
    result = shell(["mailbox", mailbox], "", tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stdout + result.stderr
    assert f"{len(saved)} message(s) in" in result.stdout
    assert "half" not in result.stdout
