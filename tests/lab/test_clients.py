"""Many clients at once, and swaks as an independent real-world client."""

from __future__ import annotations

import shutil
import smtplib
import subprocess
import threading

import pytest

from smtp_shell.lab.mailbox import Mailbox, split_trace


def message(client: int, n: int) -> bytes:
    return (f"From: c{client}@lab.test\r\nTo: inbox@lab.test\r\nSubject: client {client} message {n}\r\n\r\n"
            f"body of {client}/{n}\r\n" + "line\r\n" * (client % 7) + ".dot\r\n").encode()


@pytest.mark.timeout(120)
def test_fifty_concurrent_clients_ten_messages_each(make_lab):
    lab = make_lab()
    errors: list[BaseException] = []

    def client(number: int) -> None:
        try:
            with smtplib.SMTP(lab.host, lab.port, timeout=30) as smtp:
                for n in range(10):
                    smtp.sendmail(f"c{number}@lab.test", ["inbox@lab.test"], message(number, n))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(100)
    assert not errors
    bodies = {split_trace(m.read())[1] for m in Mailbox(lab.mailbox).messages()}
    assert len(bodies) == 500
    assert bodies == {message(c, n) for c in range(50) for n in range(10)}


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is not installed (apt install swaks)")
def test_swaks_starttls_auth_login(lab):
    result = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{lab.port}", "--tls", "--tls-verify", "--tls-ca-path", str(lab.cert_path),
         "--auth", "LOGIN", "--auth-user", "student", "--auth-password", "lab-password",
         "--from", "swaks@lab.test", "--to", "teacher@lab.test", "--header", "Subject: from swaks",
         "--body", "sent by swaks"],
        capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    [stored] = Mailbox(lab.mailbox).messages()
    raw = stored.read()
    assert b"Subject: from swaks" in raw and b"sent by swaks" in raw
    assert b"X-Lab-Authenticated-User: student" in raw and b"X-Lab-TLS: yes" in raw
