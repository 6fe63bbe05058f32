"""The benchmark runner: `python -m bench` runs every row and prints one results table.

    python -m bench                 the full run (writes bench/results.json)
    python -m bench --quick         tiny sizes, one repetition, no targets judged (the smoke test)
    python -m bench --only noop,data
    python -m bench --reps 7 --json /tmp/results.json

Everything it starts (servers, clients, smtp-shell itself) runs as its own process on
127.0.0.1, with an isolated SMTP_SHELL_HOME in a temporary folder that is removed at the end.
The session rows (batch session, typed body) run against a private Postfix smtpd with STARTTLS
and AUTH when it can run here (root, postfix, sasl2-bin), else against the lab; each row's note
names its server (`--session-server lab|postfix` insists on one).
A row whose tool is missing (swaks, pexpect) is skipped with a note; a row that fails is
reported as failed and the others still run. Exit status: 0 if every judged target is met
(or --quick), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from bench import (
    bench_data,
    bench_lab,
    bench_memory,
    bench_noop,
    bench_session,
    bench_startup,
    bench_transcript,
    bench_typed,
    bench_web,
)
from bench.common import REPO, LabProcess, Row, SessionServers, bench_env, free_port, make_workdir

ROWS = {
    "session": bench_session,
    "typed": bench_typed,
    "startup": bench_startup,
    "noop": bench_noop,
    "data": bench_data,
    "memory": bench_memory,
    "lab": bench_lab,
    "transcript": bench_transcript,
    "web": bench_web,
}


@dataclass
class Context:
    work: Path
    env: dict
    repo: Path
    quick: bool
    reps: int           # most rows
    reps_fast: int      # rows whose one run takes well under a second
    reps_slow: int      # rows whose one run takes seconds
    noops: int
    data_bytes: int
    memory_bytes: int
    clients: int
    messages: int
    transcript_events: tuple[int, int]
    typed_lines: int
    servers: SessionServers  # the session rows' server (Postfix smtpd, else the lab), started once


def make_context(args, work: Path) -> Context:
    home = work / "home"
    home.mkdir()
    env = bench_env(home)
    servers = SessionServers(work, env, args.session_server)
    if args.quick:
        return Context(work, env, REPO, True, 1, 1, 1, noops=20, data_bytes=256 * 1024, memory_bytes=2 * 2**20,
                       clients=4, messages=2, transcript_events=(100, 1000), typed_lines=200, servers=servers)
    reps = args.reps or 5
    return Context(work, env, REPO, False, reps, max(reps * 2, 10), max(reps // 2, 3), noops=1000,
                   data_bytes=20 * 2**20, memory_bytes=200 * 2**20, clients=100, messages=20,
                   transcript_events=(10_000, 100_000), typed_lines=20_000, servers=servers)


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "platform": platform.platform(), "load_at_start": load}


def fmt_ratio(row: Row) -> str:
    if row.ratio is None:
        return "-"
    return f"{row.ratio:.2f}"


def verdict(row: Row, quick: bool) -> str:
    if row.met is None:
        return "skipped"
    if quick:
        return "(not judged)"
    return "MET" if row.met else "MISSED"


def table(rows: list[Row], quick: bool) -> str:
    head = ["benchmark", "ours", "ours (median [min-max])", "baseline, same run", "baseline value", "figure",
            "target", "result"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r.name, r.ours, r.ours_value, r.baseline, r.base_value, fmt_ratio(r), r.target,
                 verdict(r, quick) + (f" ({r.note})" if r.note else "")]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repetition, targets not judged")
    parser.add_argument("--only", default="", help=f"comma-separated rows: {', '.join(ROWS)}")
    parser.add_argument("--reps", type=int, default=0, help="repetitions per measurement (default 5)")
    parser.add_argument("--json", type=Path, default=None,
                        help="write the results here (default bench/results.json; --quick: nowhere)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    parser.add_argument("--session-server", choices=("auto", "postfix", "lab"), default="auto",
                        help="server of the session rows: Postfix smtpd with STARTTLS+AUTH when it can run "
                             "here, else the lab (auto); or insist on one")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(ROWS)
    unknown = [n for n in names if n not in ROWS]
    if unknown:
        parser.error(f"unknown rows: {', '.join(unknown)}; choose from {', '.join(ROWS)}")
    work = make_workdir()
    ctx = make_context(args, work)
    info = machine()
    print(f"smtp-shell benchmarks: {info['nproc']} cores, {info['cpu']}, Python {info['python']}, "
          f"load {info['load_at_start']}", flush=True)
    started = time.perf_counter()
    rows: list[Row] = []
    try:
        # warm-up: the lab certificate is made once, as on a student's first start
        with LabProcess(work, ctx.env, work / "warmup-mailbox", free_port()):
            pass
        for name in names:
            t0 = time.perf_counter()
            print(f"-- {name} ...", end=" ", flush=True)
            try:
                result = ROWS[name].run(ctx)
            except Exception as exc:  # one broken row must not hide the others
                traceback.print_exc()
                result = Row(name, "", "", "", None, "", False, note=f"FAILED: {exc}"[:300])
            got = result if isinstance(result, list) else [result]
            rows.extend(got)
            print(f"{time.perf_counter() - t0:.1f} s: " + "; ".join(
                f"{r.name} {fmt_ratio(r)} ({verdict(r, args.quick)})" for r in got), flush=True)
    finally:
        ctx.servers.close()
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    info["load_at_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    info["seconds"] = round(time.perf_counter() - started, 1)
    info["command"] = "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])
    print()
    print(table(rows, args.quick))
    print(f"\n{info['seconds']} s; load average at start {info['load_at_start']}, at end {info['load_at_end']}")
    out = args.json or (None if args.quick else REPO / "bench" / "results.json")
    if out is not None:
        out.write_text(json.dumps({"machine": info, "quick": args.quick,
                                   "rows": [r.as_dict() for r in rows]}, indent=2) + "\n")
        print(f"results written to {out}")
    failed = [r for r in rows if r.met is False]
    return 0 if args.quick and not any(r.note.startswith("FAILED") for r in rows) else (1 if failed else 0)


if __name__ == "__main__":
    raise SystemExit(main())
