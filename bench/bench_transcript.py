"""Row 7: transcript replay (`--no-timing`) and HTML export scale linearly: 10k vs 100k events.

A transcript of a real-looking session (STARTTLS, AUTH, then message after message: MAIL,
RCPT, DATA, body lines, the dot and each reply) is generated at both sizes in the recorder's
format. Each command runs as a fresh process, output to a file; the baseline is a fresh Python
process reading the same file with `json.loads` per line. The figure is each tool's
time(100k) / time(10k): 10 means linear, the target allows 12.
"""

from __future__ import annotations

import json

from bench.common import PY, Row, fmt_ms, interleaved, smtp_shell_cmd, timed_run

NAME_REPLAY = "transcript replay --no-timing"
NAME_EXPORT = "transcript export --format html"
BASE = "json.loads per line (its own 100k/10k ratio)"
TARGET = "<= 12"

HEADER = {"format": "smtp-shell-transcript", "version": 1, "started": "2026-11-24T19:24:33.492Z",
          "timezone": "Etc/UTC", "target": "127.0.0.1:8025", "tool_version": "0.1.0", "lesson": None}
OPENING = [
    {"k": "note", "text": "connecting to 127.0.0.1:8025 ..."},
    {"k": "connect", "target": "127.0.0.1:8025", "tls": False},
    {"k": "s", "text": "220 smtp-shell.lab ESMTP smtp-shell lab server\r\n", "code": 220, "verb": "<greeting>",
     "reply": "greeting"},
    {"k": "c", "text": "EHLO client.example", "as": "command", "verb": "EHLO"},
    {"k": "s", "text": "250-smtp-shell.lab\r\n250-SIZE 10485760\r\n250-STARTTLS\r\n250 PIPELINING\r\n", "code": 250,
     "verb": "EHLO", "reply": "response"},
    {"k": "c", "text": "STARTTLS", "as": "command", "verb": "STARTTLS"},
    {"k": "s", "text": "220 Ready to start TLS\r\n", "code": 220, "verb": "STARTTLS", "reply": "response"},
    {"k": "tls", "text": "TLSv1.3 TLS_AES_256_GCM_SHA384", "info": {
        "version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384", "subject": "CN=smtp-shell lab server",
        "issuer": "CN=smtp-shell lab server", "not_before": "2026-11-24 19:08:28 UTC",
        "not_after": "2027-12-26 19:13:28 UTC", "verified": True, "fingerprint_sha256": "15:B5:CC",
        "server_hostname": "127.0.0.1", "self_signed": True}},
    {"k": "c", "text": "EHLO client.example", "tls": True, "as": "command", "verb": "EHLO"},
    {"k": "s", "text": "250-smtp-shell.lab\r\n250-AUTH LOGIN PLAIN\r\n250 PIPELINING\r\n", "code": 250, "tls": True,
     "verb": "EHLO", "reply": "response"},
    {"k": "c", "text": "AUTH LOGIN", "tls": True, "as": "command", "verb": "AUTH"},
    {"k": "s", "text": "334 VXNlciBOYW1lAA==\r\n", "code": 334, "tls": True, "challenge": "User Name\u0000",
     "verb": "AUTH", "reply": "response"},
    {"k": "c", "secret": "login-username", "text": "********", "tls": True, "as": "auth", "user": "student"},
    {"k": "s", "text": "334 UGFzc3dvcmQA\r\n", "code": 334, "tls": True, "challenge": "Password\u0000",
     "verb": "<auth>", "reply": "response"},
    {"k": "c", "secret": "login-password", "text": "********", "tls": True, "as": "auth"},
    {"k": "s", "text": "235 2.7.0 Authentication successful\r\n", "code": 235, "tls": True, "verb": "<auth>",
     "reply": "response"},
]
MESSAGE = [
    {"k": "c", "text": "MAIL FROM:<student@lab.test>", "tls": True, "as": "command", "verb": "MAIL"},
    {"k": "s", "text": "250 2.1.0 Sender OK\r\n", "code": 250, "tls": True, "verb": "MAIL", "reply": "response"},
    {"k": "c", "text": "RCPT TO:<teacher@lab.test>", "tls": True, "as": "command", "verb": "RCPT"},
    {"k": "s", "text": "250 2.1.5 Recipient OK\r\n", "code": 250, "tls": True, "verb": "RCPT", "reply": "response"},
    {"k": "c", "text": "DATA", "tls": True, "as": "command", "verb": "DATA"},
    {"k": "s", "text": "354 End data with <CR><LF>.<CR><LF>\r\n", "code": 354, "tls": True, "verb": "DATA",
     "reply": "response"},
    {"k": "c", "text": "Subject: message", "tls": True, "as": "data"},
    {"k": "c", "text": "", "tls": True, "as": "data"},
    {"k": "c", "text": "Line one of a message typed by hand.", "tls": True, "as": "data"},
    {"k": "c", "text": "..a line that started with a dot", "tls": True, "as": "data"},
    {"k": "c", "text": ".", "tls": True, "as": "dot"},
    {"k": "s", "text": "250 2.6.0 Message saved as 20261124T192433Z-000014\r\n", "code": 250, "tls": True,
     "verb": "<dot>", "reply": "response"},
]
CLOSING = [
    {"k": "c", "text": "QUIT", "tls": True, "as": "command", "verb": "QUIT"},
    {"k": "s", "text": "221 2.0.0 Bye\r\n", "code": 221, "tls": True, "verb": "QUIT", "reply": "response"},
    {"k": "close", "text": "server closed the connection"},
    {"k": "end", "status": 0},
]

BASELINE = ("import json, sys\n"
            "n = 0\n"
            "with open(sys.argv[1], encoding='utf-8') as fh:\n"
            "    for line in fh:\n"
            "        json.loads(line); n += 1\n")


def make_transcript(path, events: int) -> None:
    body = events - len(OPENING) - len(CLOSING)
    seq = OPENING + [MESSAGE[i % len(MESSAGE)] for i in range(max(body, 0))] + CLOSING
    t = 0.0
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(HEADER) + "\n")
        for event in seq:
            t += 0.0005
            fh.write(json.dumps({"t": round(t, 6), **event}, ensure_ascii=False) + "\n")


def run(ctx) -> list[Row]:
    small_n, big_n = ctx.transcript_events
    small, big = ctx.work / "transcript-small.jsonl", ctx.work / "transcript-big.jsonl"
    make_transcript(small, small_n)
    make_transcript(big, big_n)
    cmd = smtp_shell_cmd()
    out = ctx.work / "export.html"
    replay = lambda f: lambda: timed_run([*cmd, "replay", str(f), "--no-timing"], ctx.env)  # noqa: E731
    export = lambda f: lambda: timed_run([*cmd, "export", str(f), "--format", "html", "-o", str(out)],  # noqa: E731
                                         ctx.env)
    base = lambda f: lambda: timed_run([PY, "-c", BASELINE, str(f)], ctx.env)  # noqa: E731
    s = interleaved(ctx.reps, replay_s=replay(small), replay_b=replay(big), export_s=export(small),
                    export_b=export(big), base_s=base(small), base_b=base(big))
    base_ratio = s["base_b"].median / s["base_s"].median
    rows = []
    for key, name, ours in (("replay", NAME_REPLAY, "smtp-shell replay FILE --no-timing"),
                            ("export", NAME_EXPORT, "smtp-shell export FILE --format html")):
        r = s[f"{key}_b"].median / s[f"{key}_s"].median
        rows.append(Row(name, f"{ours}, {big_n // 1000}k vs {small_n // 1000}k events" if small_n >= 1000 else
                        f"{ours}, {big_n} vs {small_n} events", BASE, "time(big)/time(small)", r, TARGET, r <= 12,
                        f"{fmt_ms(s[f'{key}_b'])} vs {fmt_ms(s[f'{key}_s'])}",
                        f"ratio {base_ratio:.1f}: {fmt_ms(s['base_b'])} vs {fmt_ms(s['base_s'])}",
                        data={k: v.as_dict() for k, v in s.items() if k.startswith((key, "base"))}))
    return rows
