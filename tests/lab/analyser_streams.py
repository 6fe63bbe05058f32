"""Recorded byte streams for the analyser tests: what the lab server saw of one session.

`good()` is a whole correct session (STARTTLS, EHLO again, AUTH LOGIN, one message, QUIT) as a
list of steps; each step is (client bytes, server reply lines), "TLS" or "CLOSE". Tests swap a
step for a broken one and turn the steps into analyser events with `events()`.
"""

from __future__ import annotations

import base64

from smtp_shell.lab.analyser import Event

GREETING = "220 smtp-shell.lab ESMTP smtp-shell lab server"
EHLO_PLAIN = ["250-smtp-shell.lab", "250-SIZE 10485760", "250-8BITMIME", "250-SMTPUTF8", "250-STARTTLS",
              "250-PIPELINING", "250-ENHANCEDSTATUSCODES", "250 HELP"]
EHLO_TLS = ["250-smtp-shell.lab", "250-SIZE 10485760", "250-8BITMIME", "250-SMTPUTF8", "250-AUTH LOGIN PLAIN",
            "250-PIPELINING", "250-ENHANCEDSTATUSCODES", "250 HELP"]
HELO = ["250 smtp-shell.lab"]


def b64(text: str) -> bytes:
    return base64.b64encode(text.encode()) + b"\r\n"


def message(*, date: str | None = "Tue, 24 Nov 2026 19:01:02 +0100",
            msg_id: str | None = "<1234.5678@student.example>", subject: str = "Lab 4",
            extra: str = "", body: str = "Hello,\r\nthis is my lab.\r\n") -> bytes:
    head = "From: Student <student@lab.test>\r\nTo: Teacher <teacher@lab.test>\r\n"
    head += f"Subject: {subject}\r\n"
    if date is not None:
        head += f"Date: {date}\r\n"
    if msg_id is not None:
        head += f"Message-ID: {msg_id}\r\n"
    return (head + extra + "\r\n" + body).encode("utf-8")


def good(msg: bytes | None = None) -> list:
    return [
        (b"EHLO client.example\r\n", EHLO_PLAIN),
        (b"STARTTLS\r\n", ["220 2.0.0 Ready to start TLS"]),
        "TLS",
        (b"EHLO client.example\r\n", EHLO_TLS),
        (b"AUTH LOGIN\r\n", ["334 VXNlcm5hbWU6"]),
        (b64("student"), ["334 UGFzc3dvcmQ6"]),
        (b64("lab-password"), ["235 2.7.0 Authentication successful"]),
        (b"MAIL FROM:<student@lab.test>\r\n", ["250 2.1.0 Sender OK"]),
        (b"RCPT TO:<teacher@lab.test>\r\n", ["250 2.1.5 Recipient OK"]),
        (b"DATA\r\n", ["354 End data with <CR><LF>.<CR><LF>"]),
        ((msg or message()) + b".\r\n", ["250 2.6.0 Message saved as 20261124T190102Z-000001"]),
        (b"QUIT\r\n", ["221 2.0.0 Bye"]),
        "CLOSE",
    ]


def events(steps: list, greeting: str | None = GREETING) -> list[Event]:
    out = [Event("server", greeting)] if greeting else []
    for step in steps:
        if step == "TLS":
            out.append(Event("tls"))
        elif step == "CLOSE":
            out.append(Event("close"))
        elif step[0] == "S":  # ("S", lines): replies without a new client chunk before them
            out += [Event("server", line) for line in step[1]]
        else:
            data, replies = step
            if data:
                out.append(Event("client", data))
            out += [Event("server", line) for line in replies]
    return out


def replace(steps: list, index: int, *new) -> list:
    return steps[:index] + list(new) + steps[index + 1:]
