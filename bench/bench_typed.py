"""Row 1b: the batch session with a long typed body (20,000 lines), against swaks sending the same
body from a file (`--body @FILE`).

The session of row 1 (`bench_session`: connect, EHLO, STARTTLS, EHLO, AUTH PLAIN, MAIL, RCPT,
DATA, QUIT, same server, fresh processes, interleaved rounds), except that DATA holds the body
typed line by line on stdin: 76-character text lines, one in 50 starting with '.', so every client
really dot-stuffs. swaks adds its own few headers to the body file; smtp-shell types five header
lines, a blank line and the same body. Same extra samples as row 1: the async batch driver (note),
`python -c pass` and the minimal socket+ssl client sending the same message (floors).
`bench/typed_body.py` is the older standalone version (per-line cost, best of N, no TLS).
"""

from __future__ import annotations

from bench.bench_session import HEAD, TARGET, compare, raw_client_cmd, row, session_script, swaks_cmd
from bench.common import Row, skipped, which

NAME = "typed body (batch session)"
OURS = "smtp-shell connect --batch, body typed on stdin"
BASE = "swaks --body @FILE, same session, same server"


def body_lines(count: int) -> list[str]:
    line = "The quick brown fox jumps over the lazy dog; 0123456789 abcdefghij {:06d}"
    return [("." if i % 50 == 49 else "") + line.format(i) for i in range(count)]


def run(ctx) -> Row:
    swaks = which("swaks")
    lines = ctx.typed_lines
    if swaks is None:
        return skipped(NAME, OURS, BASE, TARGET, "swaks is not installed (apt-get install swaks)")
    server = ctx.servers.get()
    body = body_lines(lines)
    body_file = ctx.work / "typed-body.txt"
    body_file.write_text("\n".join(body) + "\n")
    message_file = ctx.work / "typed-message.txt"  # what the raw client sends: the same as ours
    message = [*HEAD, "", *body]
    message_file.write_bytes(("\r\n".join(message) + "\r\n").encode())
    samples = compare(ctx, ctx.reps, server, session_script(message),
                      swaks_cmd(swaks, server, "--body", f"@{body_file}"), raw_client_cmd(server, message_file))
    return row(NAME, f"{OURS}, {lines} lines", BASE, samples, server)
