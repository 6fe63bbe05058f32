"""Row 5: memory while sending a very large message with `:send FILE`.

smtp-shell runs in batch mode against the fast sink with its stdin on a pipe: the envelope and
DATA go first; when the 354 has been printed, the process's peak RSS so far (VmHWM from
/proc/PID/status) is the baseline; then `:send FILE` and QUIT are written and the process's
lifetime peak RSS comes from wait4() (ru_maxrss). The row reports the growth, peak - before.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time

from bench.bench_data import make_message
from bench.common import BenchError, Row, Sample, fast_sink, smtp_shell_cmd

NAME = "memory while sending"
OURS = ":send FILE (batch)"
BASE = "the same process before sending"
TARGET = "<= 32 MiB"


def _hwm_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise BenchError("no VmHWM in /proc")


def one_run(ctx, port: int, path) -> tuple[int, int]:
    """(peak KiB before sending, lifetime peak KiB)."""
    cmd = [*smtp_shell_cmd(), "connect", f"127.0.0.1:{port}", "--batch"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=ctx.env)
    seen_354 = threading.Event()
    output: list[bytes] = []

    def pump():
        for line in proc.stdout:
            output.append(line)
            if b"354 " in line:
                seen_354.set()
    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    proc.stdin.write(b"EHLO bench.client\nMAIL FROM:<student@lab.test>\nRCPT TO:<teacher@lab.test>\nDATA\n")
    proc.stdin.flush()
    if not seen_354.wait(30):
        proc.kill()
        raise BenchError(f"no 354 from the sink: {b''.join(output)[-400:]!r}")
    time.sleep(0.05)  # let the renderer finish the lines after the 354
    before = _hwm_kib(proc.pid)
    proc.stdin.write(f":send {path}\nQUIT\n".encode())
    proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join(10)
    text = b"".join(output)
    if proc.returncode != 0 or b"250 2.0.0 Accepted" not in text:
        raise BenchError(f"smtp-shell :send failed (exit {proc.returncode}): {text[-600:]!r}")
    return before, max(usage.ru_maxrss, before)


def run(ctx) -> Row:
    path = ctx.work / "memory-big.eml"
    make_message(path, ctx.memory_bytes)
    size_mib = path.stat().st_size / 2**20
    befores, growth = [], []
    with fast_sink(ctx.work, ctx.env) as server:
        for _ in range(ctx.reps_slow):
            before, peak = one_run(ctx, server.port, path)
            befores.append(before / 1024)
            growth.append((peak - before) / 1024)
    path.unlink()
    g, b = Sample(growth), Sample(befores)
    return Row(NAME, f"{OURS}, {size_mib:.0f} MiB", BASE, "peak RSS growth (MiB)", g.median, TARGET,
               max(growth) <= 32, f"+{g.median:.1f} MiB [{min(growth):.1f}-{max(growth):.1f}]",
               f"{b.median:.1f} MiB RSS before", data={"growth_mib": g.as_dict(), "before_mib": b.as_dict()})
