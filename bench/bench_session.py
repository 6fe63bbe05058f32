"""Row 1: a whole batch session as a fresh process, against swaks doing the same transaction.

Both talk to the same server, a separate process (Postfix's smtpd when it can run here, else the
lab: `bench.common.SessionServers`), and do the same work: connect, EHLO, STARTTLS (certificate
verified against the same CA file on both sides), EHLO, AUTH PLAIN, MAIL, RCPT, DATA with the same
small message, QUIT. Timed from spawn to exit, in interleaved rounds with:
- the other batch driver (`SMTP_SHELL_DRIVER=async`), shown in the note; the judged figure is the
  default driver;
- two floors: `python -c pass` (the interpreter alone) and a minimal synchronous socket+ssl
  client doing the same session (`bench/clients.py session`), so a reader sees how close to the
  limit the figure is.
The typed-body row (`bench_typed`) is this session with a 20,000-line body.
"""

from __future__ import annotations

import base64
from pathlib import Path

from bench.common import (
    LAB_PASSWORD,
    LAB_USER,
    PY,
    REPO,
    Row,
    driver_env,
    fmt_ms,
    interleaved,
    skipped,
    smtp_shell_cmd,
    timed_run,
    which,
)

NAME = "batch session (fresh process)"
OURS = "smtp-shell connect --batch"
BASE = "swaks, same transaction, same server"
TARGET = "<= 1.0"

HEAD = [
    "From: Student <student@lab.test>",
    "To: Teacher <teacher@lab.test>",
    "Subject: benchmark",
    "Date: Tue, 24 Nov 2026 19:01:02 +0000",
    "Message-ID: <bench-1@lab.test>",
]
MESSAGE = [*HEAD, "", "A small message, the same for both clients."]


def session_script(message: list[str]) -> bytes:
    """What is typed into `smtp-shell connect --batch`: the whole transaction, `message` as DATA."""
    plain = base64.b64encode(f"\0{LAB_USER}\0{LAB_PASSWORD}".encode()).decode()
    script = ["EHLO client.test", "STARTTLS", "EHLO client.test", f"AUTH PLAIN {plain}",
              "MAIL FROM:<student@lab.test>", "RCPT TO:<teacher@lab.test>", "DATA", *message, ".", "QUIT"]
    return ("\n".join(script) + "\n").encode()


def swaks_cmd(swaks: str, server, *content: str) -> list[str]:
    """swaks doing the same transaction; `content` says what it sends (`--data FILE`, `--body @FILE`)."""
    return [swaks, "--server", f"127.0.0.1:{server.port}", "--ehlo", "client.test", "--tls",
            "--tls-verify", "--tls-ca-path", str(server.cafile),
            "--auth", "PLAIN", "--auth-user", LAB_USER, "--auth-password", LAB_PASSWORD,
            "--from", "student@lab.test", "--to", "teacher@lab.test", *content]


def raw_client_cmd(server, message_file: Path) -> list[str]:
    return [PY, str(REPO / "bench" / "clients.py"), "session", str(server.port), str(server.cafile),
            LAB_USER, LAB_PASSWORD, str(message_file)]


def compare(ctx, reps: int, server, stdin: bytes, swaks: list[str], raw: list[str]) -> dict:
    """Interleaved rounds: ours (default driver), ours with the async driver, swaks, both floors."""
    ours_cmd = [*smtp_shell_cmd(), "connect", f"127.0.0.1:{server.port}", "--batch", "--cafile", str(server.cafile)]
    ok = lambda out: server.accepted in out  # noqa: E731  the message was accepted
    async_env = driver_env(ctx.env, "async")
    return interleaved(
        reps,
        warmup=not ctx.quick,
        ours=lambda: timed_run(ours_cmd, ctx.env, stdin, check=ok),
        swaks=lambda: timed_run(swaks, ctx.env, check=ok),
        ours_async=lambda: timed_run(ours_cmd, async_env, stdin, check=ok),
        raw=lambda: timed_run(raw, ctx.env, check=lambda out: b"250 accepted" in out),
        floor=lambda: timed_run([PY, "-c", "pass"], ctx.env),  # the interpreter alone
    )


def note(samples: dict, server) -> str:
    base = samples["swaks"].median
    return (f"async driver: {samples['ours_async'].median / base:.2f}x ({fmt_ms(samples['ours_async'])}); "
            f"floors: python -c pass {samples['floor'].median / base:.2f}x, "
            f"minimal sync socket+ssl client {samples['raw'].median / base:.2f}x ({fmt_ms(samples['raw'])}); "
            f"server: {server.name}")


def row(name: str, ours_desc: str, base_desc: str, samples: dict, server) -> Row:
    ours, base = samples["ours"], samples["swaks"]
    ratio = ours.median / base.median
    return Row(name, ours_desc, base_desc, "time ours / swaks", ratio, TARGET, ratio <= 1.0,
               fmt_ms(ours), fmt_ms(base), note=note(samples, server),
               data={**{k: v.as_dict() for k, v in samples.items()}, "server": server.name})


def run(ctx) -> Row:
    swaks = which("swaks")
    if swaks is None:
        return skipped(NAME, OURS, BASE, TARGET, "swaks is not installed (apt-get install swaks)")
    server = ctx.servers.get()
    msg_file = ctx.work / "session-message.eml"
    msg_file.write_bytes(("\r\n".join(MESSAGE) + "\r\n").encode())
    samples = compare(ctx, ctx.reps_fast, server, session_script(MESSAGE),
                      swaks_cmd(swaks, server, "--data", str(msg_file)), raw_client_cmd(server, msg_file))
    return row(NAME, OURS, BASE, samples, server)
