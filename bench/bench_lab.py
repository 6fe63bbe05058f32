"""Row 6: the lab server under a class: C concurrent clients x M messages each, all saved.

The same load generator (`bench.clients load`, its own process: plain asyncio, one command at
a time per connection) is pointed at the lab server (`smtp-shell lab`, its own process, saving
every message as a file in its mailbox, with a session log per connection) and at plain
aiosmtpd with a counting `Sink` handler (its own process, same host, same kind of port).
Messages/s = messages answered 250 / elapsed; lost = answered 250 but not saved.
"""

from __future__ import annotations

import json
import shutil
import subprocess

from bench.common import PY, BenchError, LabProcess, Row, Sample, aiosmtpd_sink, free_port

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


def run(ctx) -> Row:
    total = ctx.clients * ctx.messages
    lab_rates, sink_rates, lost = [], [], []
    for rep in range(ctx.reps_slow):
        mailbox = ctx.work / f"lab-mailbox-{rep}"
        lab = LabProcess(ctx.work, ctx.env, mailbox, free_port())
        with lab:
            result = _load(ctx, lab.port)
        saved = lab.saved()
        lost.append(result["ok"] - saved + result["failed"])
        lab_rates.append(result["ok"] / result["elapsed"])
        shutil.rmtree(mailbox, ignore_errors=True)
        sink = aiosmtpd_sink(ctx.work, ctx.env)
        with sink:
            sresult = _load(ctx, sink.port)
            report = sink.stop()
        if sresult["failed"] or report.get("messages") != sresult["ok"]:
            raise BenchError(f"the aiosmtpd baseline lost messages: {sresult} {report}")
        sink_rates.append(sresult["ok"] / sresult["elapsed"])
    lab_s, sink_s = Sample(lab_rates), Sample(sink_rates)
    ratio = lab_s.median / sink_s.median

    def rate(sample):
        lo, hi = sample.spread
        return f"{sample.median:.0f} msg/s [{lo:.0f}-{hi:.0f}]"
    return Row(NAME, f"{OURS}, {ctx.clients} x {ctx.messages}", BASE, "messages/s lab / aiosmtpd", ratio, TARGET,
               ratio >= 0.8 and max(lost) == 0, rate(lab_s), rate(sink_s),
               note=f"lost {max(lost)} of {total}",
               data={"lab": lab_s.as_dict(), "sink": sink_s.as_dict(), "lost": lost})
