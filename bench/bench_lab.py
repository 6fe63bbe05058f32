"""Rows 6a/6b: the lab server under load, every message saved, against plain aiosmtpd + Sink.

6a: Postfix's `smtp-source` (a C load generator: 50 parallel sessions, 2000 messages of 2000
bytes, one message per connection) at the lab and at aiosmtpd + Sink, interleaved round by
round, so the generator is never the bottleneck; its own ceiling is shown by pointing it at
Postfix's `smtp-sink` (C, discards everything) in the same run.

6b: the same load generator (`bench.clients load`, its own process: plain asyncio, one command at
a time per connection) is pointed at the lab server (`smtp-shell lab`, its own process, saving
every message as a file in its mailbox, with a session log per connection) and at plain
aiosmtpd with a counting `Sink` handler (its own process, same host, same kind of port).
Messages/s = messages answered 250 / elapsed; lost = answered 250 but not saved.

The mailboxes of the runs are kept until the work folder is removed at the end: deleting a
run's 4000 files just before the next run made every file the next lab created cost ~0.8 ms of
kernel time (ext4 without a journal skips recently deleted inodes one by one when it allocates,
`recently_deleted()` in perf), which the Sink, writing nothing, never pays.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from bench.common import PY, BenchError, LabProcess, Row, Sample, aiosmtpd_sink, free_port, skipped, which

SOURCE_NAME = "lab server under smtp-source"
SMTP_SOURCE, SMTP_SINK = "/usr/sbin/smtp-source", "/usr/sbin/smtp-sink"
NAME = "lab server, concurrent class"
OURS = "smtp-shell lab (saves .eml files)"
BASE = "plain aiosmtpd + Sink handler"
TARGET = ">= 0.8, 0 lost"


def _load(ctx, port: int) -> dict:
    proc = subprocess.run([PY, "-m", "bench.clients", "load", "--port", str(port), "--clients", str(ctx.clients),
                           "--messages", str(ctx.messages)], capture_output=True, env=ctx.env, timeout=300,
                          cwd=ctx.repo)
    if proc.returncode != 0:
        raise BenchError(f"load generator failed: {proc.stderr[-500:]!r}")
    return json.loads(proc.stdout)


def run(ctx) -> list[Row]:
    return [run_source(ctx), run_class(ctx)]


def _rate(sample: Sample) -> str:
    lo, hi = sample.spread
    return f"{sample.median:.0f} msg/s [{lo:.0f}-{hi:.0f}]"


def _source(ctx, port: int, messages: int, sessions: int) -> float:
    """messages/s of one smtp-source run (it exits once every message was answered)."""
    cmd = [which("smtp-source") or SMTP_SOURCE, "-s", str(sessions), "-m", str(messages), "-l", "2000",
           "-f", "a@lab.test", "-t", "b@lab.test", f"127.0.0.1:{port}"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, timeout=300)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise BenchError(f"smtp-source failed: {proc.stderr[-500:]!r}")
    return messages / elapsed


def _generator_ceiling(ctx, messages: int, sessions: int) -> float | None:
    """smtp-source against Postfix's smtp-sink: how fast the load generator itself can go."""
    sink = which("smtp-sink") or SMTP_SINK
    if not os.path.exists(sink):
        return None
    port = free_port()
    user = ["-u", "nobody"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []  # required as root
    proc = subprocess.Popen([sink, *user, f"127.0.0.1:{port}", "256"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        import socket
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.02)
        return _source(ctx, port, messages, sessions)
    except BenchError:
        return None  # the ceiling is a note; the row stands without it
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def run_source(ctx) -> Row:
    ours, base = "smtp-shell lab (saves .eml files, fsync)", "plain aiosmtpd + Sink handler"
    if not (which("smtp-source") or os.path.exists(SMTP_SOURCE)):
        return skipped(SOURCE_NAME, ours, base, TARGET, "Postfix's smtp-source is not installed (apt install postfix)")
    messages, sessions = (20, 4) if ctx.quick else (2000, 50)
    lab_rates, sink_rates, lost = [], [], []
    for rep in range(ctx.reps_slow):
        mailbox = ctx.work / f"lab-source-mailbox-{rep}"
        with LabProcess(ctx.work, ctx.env, mailbox, free_port()) as lab:
            lab_rates.append(_source(ctx, lab.port, messages, sessions))
        lost.append(messages - lab.saved())
        sink = aiosmtpd_sink(ctx.work, ctx.env)
        with sink:
            sink_rates.append(_source(ctx, sink.port, messages, sessions))
            report = sink.stop()
        if report.get("messages") != messages:
            raise BenchError(f"the aiosmtpd baseline lost messages under smtp-source: {report}")
    ceiling = _generator_ceiling(ctx, messages, sessions)
    lab_s, sink_s = Sample(lab_rates), Sample(sink_rates)
    ratio = lab_s.median / sink_s.median
    note = f"lost {max(lost)} of {messages}"
    if ceiling is not None:
        note += f"; generator ceiling (smtp-source -> Postfix smtp-sink) {ceiling:.0f} msg/s"
    return Row(SOURCE_NAME, f"{ours}, smtp-source -s {sessions} -m {messages} -l 2000", base,
               "messages/s lab / aiosmtpd", ratio, TARGET, ratio >= 0.8 and max(lost) == 0,
               _rate(lab_s), _rate(sink_s), note=note,
               data={"lab": lab_s.as_dict(), "sink": sink_s.as_dict(), "lost": lost, "generator_ceiling": ceiling})


def run_class(ctx) -> Row:
    total = ctx.clients * ctx.messages
    lab_rates, sink_rates, lost, lab_lat, sink_lat = [], [], [], [], []
    for rep in range(ctx.reps_slow):
        mailbox = ctx.work / f"lab-mailbox-{rep}"
        lab = LabProcess(ctx.work, ctx.env, mailbox, free_port())
        with lab:
            result = _load(ctx, lab.port)
        saved = lab.saved()
        lost.append(result["ok"] - saved + result["failed"])
        lab_rates.append(result["ok"] / result["elapsed"])
        lab_lat.append((result["p50"], result["p99"]))
        sink = aiosmtpd_sink(ctx.work, ctx.env)
        with sink:
            sresult = _load(ctx, sink.port)
            report = sink.stop()
        if sresult["failed"] or report.get("messages") != sresult["ok"]:
            raise BenchError(f"the aiosmtpd baseline lost messages: {sresult} {report}")
        sink_rates.append(sresult["ok"] / sresult["elapsed"])
        sink_lat.append((sresult["p50"], sresult["p99"]))
    lab_s, sink_s = Sample(lab_rates), Sample(sink_rates)
    ratio = lab_s.median / sink_s.median

    def latency(pairs) -> str:  # the run with the median rate's neighbours: medians of p50 and p99
        p50, p99 = Sample([p[0] for p in pairs]).median, Sample([p[1] for p in pairs]).median
        return f"final dot to 250 p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"
    return Row(NAME, f"{OURS}, {ctx.clients} x {ctx.messages}", BASE, "messages/s lab / aiosmtpd", ratio, TARGET,
               ratio >= 0.8 and max(lost) == 0, f"{_rate(lab_s)}; {latency(lab_lat)}",
               f"{_rate(sink_s)}; {latency(sink_lat)}", note=f"lost {max(lost)} of {total}",
               data={"lab": lab_s.as_dict(), "sink": sink_s.as_dict(), "lost": lost,
                     "lab_latency": lab_lat, "sink_latency": sink_lat})
