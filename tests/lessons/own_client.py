"""A student's own SMTP client on a raw socket (no smtplib), as lesson 11 asks for: the tests run
it with `:run` against the lab. With --bare-lf it makes the classic mistake (lines end in LF
only), and with --bare-dot only its message ends in LF . LF; either way its DATA never ends
and it gives up on its own timeout.

Reads SMTP_HOST, SMTP_PORT and SMTP_CAFILE from the environment (set by :run).
"""

from __future__ import annotations

import base64
import datetime
import email.utils
import os
import socket
import ssl
import sys

import pytz
import tzlocal

EOL = b"\n" if "--bare-lf" in sys.argv else b"\r\n"


class SMTPError(Exception):
    pass


def read_reply(sock_file) -> tuple[int, list[str]]:
    """One reply: lines until the one whose 4th character is a space ("250 " ends "250-...")."""
    lines = []
    while True:
        line = sock_file.readline()
        if not line:
            raise SMTPError("the server closed the connection")
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        lines.append(text)
        if len(text) < 4 or text[3] == " ":
            return int(text[:3]), lines


def command(sock, sock_file, line: str, expect: int) -> list[str]:
    sock.sendall(line.encode("utf-8") + EOL)
    code, lines = read_reply(sock_file)
    if code != expect:
        raise SMTPError(f"{line.split()[0]}: expected {expect}, got {code} {lines[-1]}")
    return lines


def main() -> int:
    host, port = os.environ["SMTP_HOST"], int(os.environ["SMTP_PORT"])
    sock = socket.create_connection((host, port), timeout=3)
    sock_file = sock.makefile("rb")
    code, _ = read_reply(sock_file)
    if code != 220:
        raise SMTPError(f"greeting: expected 220, got {code}")
    command(sock, sock_file, "EHLO own-client.example", 250)
    command(sock, sock_file, "STARTTLS", 220)
    context = ssl.create_default_context(cafile=os.environ.get("SMTP_CAFILE"))
    sock = context.wrap_socket(sock, server_hostname="localhost")
    sock_file = sock.makefile("rb")
    command(sock, sock_file, "EHLO own-client.example", 250)
    command(sock, sock_file, "AUTH LOGIN", 334)
    command(sock, sock_file, base64.b64encode(b"student").decode(), 334)
    command(sock, sock_file, base64.b64encode(b"lab-password").decode(), 235)
    command(sock, sock_file, "MAIL FROM:<student@lab.test>", 250)
    command(sock, sock_file, "RCPT TO:<teacher@lab.test>", 250)
    command(sock, sock_file, "DATA", 354)
    now = datetime.datetime.now(pytz.timezone(tzlocal.get_localzone_name() or "UTC"))
    headers = ["From: Student <student@lab.test>", "To: Teacher <teacher@lab.test>", "Subject: From my own client",
               f"Date: {email.utils.format_datetime(now)}", f"Message-ID: {email.utils.make_msgid(domain='lab.test')}"]
    body = [*headers, "", "Sent by a program I wrote on a raw socket."]
    sock.sendall(b"".join(line.encode() + EOL for line in body))
    if "--bare-dot" in sys.argv:
        sock.sendall(b".\n")
        code, _ = read_reply(sock_file)
        raise SMTPError(f"unexpected {code}")
    command(sock, sock_file, ".", 250)
    command(sock, sock_file, "QUIT", 221)
    print("message sent")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (SMTPError, OSError) as exc:
        print(f"error: {exc}")
        sys.exit(1)
