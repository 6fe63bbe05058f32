"""Row 4: a large message as the DATA body (dot-stuffing included): `:send FILE` in batch mode
vs `smtplib.sendmail` of the same bytes.

The message is CRLF text (76-character lines, 1 line in 50 starting with '.', so both sides
really dot-stuff) and both clients send exactly the same bytes to the same fast sink
(`bench.servers fast`: scans whole 1 MiB reads for CRLF.CRLF, so it is not the bottleneck).
Each client runs as a fresh process with the big file and with a tiny one in the same round;
throughput is size / (time big - time tiny), so process start-up is not counted on either side.
smtplib reads the whole file into memory first (it has to); smtp-shell streams it.
"""

from __future__ import annotations

from bench.common import PY, Row, Sample, fast_sink, interleaved, smtp_shell_cmd, timed_run

NAME = "DATA body throughput"
OURS = ":send FILE (batch)"
BASE = "smtplib.sendmail, same bytes"
TARGET = ">= 2.0"


def make_message(path, size: int) -> None:
    """CRLF text of about `size` bytes; every 50th line starts with a dot."""
    head = (b"From: Student <student@lab.test>\r\nTo: Teacher <teacher@lab.test>\r\n"
            b"Subject: a large message\r\nMessage-ID: <big@lab.test>\r\n\r\n")
    line = b"The quick brown fox jumps over the lazy dog; 0123456789 abcdefghijklmnopqrst\r\n"
    dotted = b"." + line[1:]
    block = line * 49 + dotted
    with open(path, "wb") as fh:
        fh.write(head)
        written = len(head)
        while written < size:
            fh.write(block)
            written += len(block)


def session(path) -> bytes:
    return (f"EHLO bench.client\nMAIL FROM:<student@lab.test>\nRCPT TO:<teacher@lab.test>\nDATA\n"
            f":send {path}\nQUIT\n").encode()


def run(ctx) -> Row:
    size = ctx.data_bytes
    big, tiny = ctx.work / "data-big.eml", ctx.work / "data-tiny.eml"
    make_message(big, size)
    make_message(tiny, 1)
    size = big.stat().st_size
    with fast_sink(ctx.work, ctx.env) as server:
        port = server.port
        ours_cmd = [*smtp_shell_cmd(), "connect", f"127.0.0.1:{port}", "--batch"]
        base_cmd = [PY, "-m", "bench.clients", "smtplib", "--port", str(port), "--file"]
        accepted = lambda out: b"250 2.0.0 Accepted" in out  # noqa: E731
        s = interleaved(
            ctx.reps,
            ours_tiny=lambda: timed_run(ours_cmd, ctx.env, session(tiny), check=accepted),
            ours_big=lambda: timed_run(ours_cmd, ctx.env, session(big), check=accepted),
            base_tiny=lambda: timed_run([*base_cmd, str(tiny)], ctx.env, cwd=ctx.repo),
            base_big=lambda: timed_run([*base_cmd, str(big)], ctx.env, cwd=ctx.repo),
        )
        report = server.stop()
    mib = size / 2**20
    tp_ours = Sample([mib / max(a - b, 1e-6) for a, b in zip(s["ours_big"].values, s["ours_tiny"].values)])
    tp_base = Sample([mib / max(a - b, 1e-6) for a, b in zip(s["base_big"].values, s["base_tiny"].values)])
    ratio = tp_ours.median / tp_base.median

    def rate(sample):
        lo, hi = sample.spread
        return f"{sample.median:.0f} MiB/s [{lo:.0f}-{hi:.0f}]"
    big.unlink()
    return Row(NAME, f"{OURS}, {mib:.0f} MiB", BASE, "throughput ours / smtplib", ratio, TARGET, ratio >= 2.0,
               rate(tp_ours), rate(tp_base),
               note="server: bench fast sink (bulk CRLF.CRLF scan, own process)",
               data={**{k: v.as_dict() for k, v in s.items()}, "size": size, "server": report})
