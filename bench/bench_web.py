"""Row 8: the lab server with its web view open, under a class of C concurrent sessions.

The same load generator as row 6 (`bench.clients load`, C connections at once, M messages
each) runs against `smtp-shell lab --web` while a watcher in this process holds the class
board's event stream open (as an instructor's browser does), and against the same lab without
`--web`, interleaved round by round. The figure is messages/s with the web view over messages/s
without it; the page "stays live" when board events keep arriving (the largest gap between two
of them during the load is reported) and the last board counts every message.
"""

from __future__ import annotations

import itertools
import json
import shutil
import threading
import time
import urllib.request

from bench.bench_lab import _load
from bench.common import BenchError, LabProcess, Row, Sample, free_port

NAME = "lab server + web view open"
TARGET = ">= 0.8, 0 lost, board gap <= 2 s"


class WebLab(LabProcess):
    def __init__(self, work, env, mailbox, port, web_port: int | None, max_sessions: int) -> None:
        super().__init__(work, env, mailbox, port)
        self.cmd += ["--max-sessions", str(max_sessions), "--max-per-address", str(max_sessions)]
        self.web_port = web_port
        if web_port is not None:
            self.cmd += ["--web", f"127.0.0.1:{web_port}"]


class BoardWatcher(threading.Thread):
    """Reads the board's server-sent events like a browser would; notes when each arrives."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.url = f"http://127.0.0.1:{port}/events"
        self.times: list[float] = []
        self.last: dict = {}
        self.stop_flag = False

    def run(self) -> None:
        with urllib.request.urlopen(self.url, timeout=30) as stream:
            kind = None
            for raw in stream:
                line = raw.decode("utf-8").rstrip("\n")
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "board":
                    self.times.append(time.monotonic())
                    self.last = json.loads(line[6:])
                if self.stop_flag:
                    return

    def max_gap(self, start: float, end: float) -> float:
        inside = [t for t in self.times if start <= t <= end] + [end]
        points = [start] + inside
        return max(b - a for a, b in itertools.pairwise(points))


def run(ctx) -> Row:
    clients = 4 if ctx.quick else 300
    messages = ctx.messages if ctx.quick else 5
    load_ctx = type("Load", (), {"clients": clients, "messages": messages, "env": ctx.env, "repo": ctx.repo})
    with_web, without, lost, gaps, counted = [], [], [], [], []
    for rep in range(ctx.reps_slow):
        for web in (True, False):
            mailbox = ctx.work / f"web-mailbox-{rep}-{web}"
            lab = WebLab(ctx.work, ctx.env, mailbox, free_port(), free_port() if web else None, clients + 50)
            with lab:
                watcher = None
                if web:
                    watcher = BoardWatcher(lab.web_port)
                    watcher.start()
                    deadline = time.monotonic() + 10
                    while not watcher.times and time.monotonic() < deadline:
                        time.sleep(0.01)
                    if not watcher.times:
                        raise BenchError("the web view sent no board event")
                start = time.monotonic()
                result = _load(load_ctx, lab.port)
                end = time.monotonic()
                if watcher is not None:
                    settle = time.monotonic() + 5
                    while time.monotonic() < settle and sum(
                            r["messages"] for r in watcher.last.get("rows", [])) < result["ok"]:
                        time.sleep(0.05)
                    gaps.append(watcher.max_gap(start, end))
                    counted.append(sum(r["messages"] for r in watcher.last.get("rows", [])))
                    watcher.stop_flag = True
            saved = lab.saved()
            lost.append(result["ok"] - saved + result["failed"])
            (with_web if web else without).append(result["ok"] / result["elapsed"])
            shutil.rmtree(mailbox, ignore_errors=True)
    w, wo = Sample(with_web), Sample(without)
    ratio = w.median / wo.median
    total = clients * messages

    def rate(sample):
        lo, hi = sample.spread
        return f"{sample.median:.0f} msg/s [{lo:.0f}-{hi:.0f}]"
    live = max(gaps) <= 2.0 and min(counted) == total
    return Row(NAME, f"smtp-shell lab --web, board open, {clients} x {messages}",
               "the same lab without --web", "messages/s with web / without", ratio, TARGET,
               ratio >= 0.8 and max(lost) == 0 and live, rate(w), rate(wo),
               note=f"lost {max(lost)} of {total}; largest gap between board events {max(gaps):.2f} s; "
                    f"board counted {min(counted)} of {total}",
               data={"with_web": w.as_dict(), "without": wo.as_dict(), "lost": lost, "gaps": gaps,
                     "counted": counted})
