"""`smtp-shell check-client`: grade the student's own SMTP client program against a rubric.

It starts a lab server (the same options as `smtp-shell lab`), says where to point the program
(host, port, account, the CA file to trust), waits for the next session(s) that say something,
and prints one line per rubric item (✓ passed, ✗ failed, a dash: not applicable) with the exact bytes as evidence for each ✗
and what to fix; `--json` prints the same for an autograder. The greeting is held back for
half a second (as Postfix's postscreen does) so that a client that talks before the 220 is
caught. Exit status 0 only when every required item passed in every session judged.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import time

from smtp_shell.address import format_hostport
from smtp_shell.status import fail, log_error

GREETING_DELAY = 0.5  # seconds: long enough to catch a client that does not read the greeting
EXIT_FAILED = 1
EXIT_NO_SESSION = 5


def run(args: argparse.Namespace) -> int:
    from smtp_shell.lab.accounts import AccountError, parse_user
    from smtp_shell.lab.console import parse_listen
    from smtp_shell.lab.faults import Faults, FaultsError
    from smtp_shell.lab.rubric import DEFAULT_ITEMS, RubricError, load_rubric
    from smtp_shell.lab.server import LabConfig, LabError, LabServer
    from smtp_shell.lab.tracker import SessionTracker

    try:
        host, port = parse_listen(args.listen)
        users = dict(parse_user(u) for u in args.user)
        faults = Faults.from_toml(args.faults) if args.faults else Faults()
        items = load_rubric(args.rubric) if args.rubric else DEFAULT_ITEMS
    except (ValueError, AccountError, FaultsError, RubricError) as exc:
        return fail(str(exc))
    if args.sessions < 1:
        return fail(f"--sessions {args.sessions} must be 1 or more")
    if faults.delay_seconds <= 0:
        faults.delay_seconds, faults.delay_verbs = GREETING_DELAY, ["GREETING"]
    tracker = SessionTracker()
    finished: queue.Queue = queue.Queue()
    tracker.on_finished.append(lambda session, analysis: finished.put((session, analysis)))
    config = LabConfig(host=host, port=port, tls_port=args.tls_port, mailbox=args.mailbox, users=users,
                       allow_plain_auth=args.allow_plain_auth, faults=faults, idle_timeout=args.idle_timeout)
    server = LabServer(config)
    server.observers.append(tracker)
    try:
        server.start()
    except LabError as exc:
        return fail(str(exc))
    judged: list = []
    try:
        _banner(server, args, sys.stderr if args.json else sys.stdout)
        deadline = None if args.wait is None else time.monotonic() + args.wait
        while len(judged) < args.sessions:
            if deadline is not None and time.monotonic() > deadline:
                break
            try:
                judged.append(finished.get(timeout=0.5))  # a timed wait keeps Ctrl-C working
            except queue.Empty:
                continue
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    from smtp_shell.lab.rubric import grade

    grades = [(session, analysis, grade(analysis, items)) for session, analysis in judged]
    if args.json:
        print(json.dumps(_as_json(grades, args.sessions), indent=2, ensure_ascii=False))
    else:
        _print_text(grades, args)
    if len(grades) < args.sessions:
        log_error(f"{len(grades)} of {args.sessions} session(s) arrived; run your client against "
                  f"{format_hostport(server.host, server.port)}")
        return EXIT_NO_SESSION
    return 0 if all(g.passed for _, _, g in grades) else EXIT_FAILED


def _banner(server, args, out) -> None:
    address = format_hostport(server.host, server.port)
    lines = [f"check-client: waiting for your client on {address} (SMTP with STARTTLS)",
             f"  host:    {server.host}",
             f"  port:    {server.port}"]
    if server.tls_port is not None:
        lines.append(f"  implicit TLS port: {server.tls_port}")
    lines.append(f"  account: {server.default_account_hint()}")
    lines.append(f"  CA file to trust: {server.cert_path}")
    lines.append(f"Run your program now ({args.sessions} session(s) will be judged); Ctrl-C to stop.")
    print("\n".join(lines), file=out, flush=True)


def _as_json(grades, wanted: int) -> dict:
    sessions = []
    for session, analysis, g in grades:
        sessions.append({
            "number": session.number, "peer": session.peer, "user": analysis.user, "tls": analysis.tls,
            "stages": analysis.stages, "passed": g.passed, "score": g.score, "out_of": g.out_of,
            "items": [r.as_dict() for r in g.results],
            "findings": [f.as_dict() for f in analysis.findings],
            "errors": analysis.errors,
        })
    return {"passed": len(grades) == wanted and all(g.passed for _, _, g in grades), "sessions": sessions}


def _print_text(grades, args) -> None:
    from rich.console import Console
    from rich.text import Text

    from smtp_shell.lab.rubric import FAIL, MARKS, NA, PASS

    out = Console(highlight=False, markup=False, emoji=False, soft_wrap=True,
                  no_color=args.no_color or None)
    styles = {PASS: "green", FAIL: "bold red", NA: "dim"}
    for session, analysis, g in grades:
        accepted = sum(1 for m in analysis.messages if m.accepted)
        facts = [f"user {analysis.user}" if analysis.user else "not logged in",
                 "TLS" if analysis.tls else "no TLS", f"{accepted} message(s) accepted"]
        out.print(Text(f"session {session.number} from {session.peer}: " + ", ".join(facts), style="bold"))
        for r in g.results:
            line = Text("  ")
            line.append(MARKS[r.status], style=styles[r.status])
            line.append(f" {r.item.title}")
            if r.status == FAIL and r.item.required:
                line.append("  (required)", style="red")
            if r.status == NA:
                line.append(f": {r.reason}", style="dim")
            out.print(line)
            if r.status != FAIL:
                continue
            if r.reason:
                out.print(Text(f"      {r.reason}"))
            for f in r.findings:
                out.print(Text(f"      {f.evidence}", style="yellow"))
                if f.detail:
                    out.print(Text(f"      problem: {f.detail}"))
                out.print(Text(f"      rule: {f.broken}", style="dim"))
                out.print(Text(f"      fix: {f.fix}"))
        verdict = "every required item passed" if g.passed else \
            f"{sum(1 for r in g.results if r.status == FAIL and r.item.required)} required item(s) failed"
        out.print(Text(f"  score {g.score}/{g.out_of}: {verdict}", style="bold green" if g.passed else "bold red"))
        if analysis.errors:
            out.print(Text("  error replies: " + "; ".join(analysis.errors[:5]), style="dim"))
