"""Row 1: a whole batch session as a fresh process, against swaks doing the same transaction.

Both talk to the same lab server (`smtp-shell lab`, a separate process) and do the same work:
connect, EHLO, STARTTLS (certificate verified against the lab's CA file on both sides), EHLO,
AUTH LOGIN, MAIL, RCPT, DATA with the same small message, QUIT. Timed from spawn to exit.
"""

from __future__ import annotations

import base64

from bench.common import (
    LAB_PASSWORD,
    LAB_USER,
    PY,
    LabProcess,
    Row,
    fmt_ms,
    free_port,
    interleaved,
    skipped,
    smtp_shell_cmd,
    timed_run,
    which,
)

NAME = "batch session (fresh process)"
OURS = "smtp-shell connect --batch"
BASE = "swaks, same transaction, same lab server"
TARGET = "<= 1.0"

MESSAGE = [
    "From: Student <student@lab.test>",
    "To: Teacher <teacher@lab.test>",
    "Subject: benchmark",
    "Date: Tue, 24 Nov 2026 19:01:02 +0000",
    "Message-ID: <bench-1@lab.test>",
    "",
    "A small message, the same for both clients.",
]


def run(ctx) -> Row:
    swaks = which("swaks")
    if swaks is None:
        return skipped(NAME, OURS, BASE, TARGET, "swaks is not installed (apt-get install swaks)")
    lab = LabProcess(ctx.work, ctx.env, ctx.work / "session-mailbox", free_port())
    with lab:
        b64 = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731
        script = ["EHLO client.test", "STARTTLS", "EHLO client.test", "AUTH LOGIN", b64(LAB_USER), b64(LAB_PASSWORD),
                  "MAIL FROM:<student@lab.test>", "RCPT TO:<teacher@lab.test>", "DATA", *MESSAGE, ".", "QUIT"]
        stdin = ("\n".join(script) + "\n").encode()
        msg_file = ctx.work / "session-message.eml"
        msg_file.write_bytes(("\r\n".join(MESSAGE) + "\r\n").encode())
        ours_cmd = [*smtp_shell_cmd(), "connect", f"127.0.0.1:{lab.port}", "--batch", "--cafile", str(lab.cert)]
        swaks_cmd = [swaks, "--server", f"127.0.0.1:{lab.port}", "--ehlo", "client.test", "--tls",
                     "--tls-verify", "--tls-ca-path", str(lab.cert),
                     "--auth", "LOGIN", "--auth-user", LAB_USER, "--auth-password", LAB_PASSWORD,
                     "--from", "student@lab.test", "--to", "teacher@lab.test", "--data", str(msg_file)]
        ok = lambda out: b"250 2.6.0" in out  # noqa: E731  the message was saved
        samples = interleaved(
            ctx.reps_fast,
            ours=lambda: timed_run(ours_cmd, ctx.env, stdin, check=ok),
            swaks=lambda: timed_run(swaks_cmd, ctx.env, check=ok),
            floor=lambda: timed_run([PY, "-c", "pass"], ctx.env),  # the interpreter alone
        )
    ours, base = samples["ours"], samples["swaks"]
    ratio = ours.median / base.median
    floor = samples["floor"]
    return Row(NAME, OURS, BASE, "time ours / swaks", ratio, TARGET, ratio <= 1.0,
               fmt_ms(ours), fmt_ms(base), note=f"floor: python -c pass {fmt_ms(floor)} = "
               f"{floor.median / base.median:.2f}x swaks",
               data={"ours": ours.as_dict(), "base": base.as_dict(), "floor": floor.as_dict()})
