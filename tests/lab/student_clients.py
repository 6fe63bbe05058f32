"""Students' own SMTP clients, written on a raw socket the way the course lab asks — with a
switch for each classic mistake. check-client must name exactly the mistake each one makes."""

from __future__ import annotations

import base64
import socket
import ssl
from dataclasses import dataclass

DATE = "Tue, 24 Nov 2026 19:01:02 +0100"


@dataclass
class Mistakes:
    eol: bytes = b"\r\n"
    auth_before_starttls: bool = False
    skip_ehlo_after_tls: bool = False
    username: bytes | None = None        # what to send for the user name (default: correct base64)
    date: str | None = DATE
    message_id: str | None = "<lab4.1@student.example>"
    quit: bool = True
    cafile_override: bool = False        # trust the system store instead of the lab's CA file


def b64(text: str) -> bytes:
    return base64.b64encode(text.encode())


def run_client(port: int, cafile, m: Mistakes | None = None, timeout: float = 5) -> list[bytes]:
    """Send one message like a student's lab client; return the replies it read."""
    m = m or Mistakes()
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    replies: list[bytes] = []
    buffer = b""

    def reply() -> bytes:
        nonlocal buffer
        lines = []
        while True:
            while b"\r\n" not in buffer:
                chunk = sock.recv(4096)
                if not chunk:
                    raise EOFError
                buffer += chunk
            line, _, buffer = buffer.partition(b"\r\n")
            lines.append(line)
            if line[3:4] != b"-":
                replies.append(b"\n".join(lines))
                return lines[-1]

    def send(line: bytes) -> bytes:
        sock.sendall(line + m.eol)
        return reply()

    try:
        reply()
        send(b"EHLO student.example")
        if m.auth_before_starttls:
            send(b"AUTH LOGIN")
        send(b"STARTTLS")
        context = ssl.create_default_context() if m.cafile_override else ssl.create_default_context(cafile=str(cafile))
        sock = context.wrap_socket(sock, server_hostname="localhost")
        if not m.skip_ehlo_after_tls:
            send(b"EHLO student.example")
        if send(b"AUTH LOGIN").startswith(b"334"):
            if send(m.username if m.username is not None else b64("student")).startswith(b"334"):
                send(b64("lab-password"))
        send(b"MAIL FROM:<student@lab.test>")
        send(b"RCPT TO:<teacher@lab.test>")
        if send(b"DATA").startswith(b"354"):
            head = [b"From: Student <student@lab.test>", b"To: Teacher <teacher@lab.test>", b"Subject: Lab 4"]
            if m.date:
                head.append(b"Date: " + m.date.encode())
            if m.message_id:
                head.append(b"Message-ID: " + m.message_id.encode())
            for line in head + [b"", b"Hello,", b"this is my lab client."]:
                sock.sendall(line + m.eol)
            send(b".")
        if m.quit:
            send(b"QUIT")
    except (TimeoutError, EOFError, ssl.SSLError, ConnectionError):
        pass  # a broken client often ends here: the server is still waiting for a line end
    finally:
        sock.close()
    return replies
