"""The class board: one row per account (or per client address when nobody logged in).

Built from the session tracker: is the student connected now, how far their latest session
got (greeted → EHLO → TLS → AUTH → MAIL → RCPT → DATA → accepted), its error replies and
findings, the last activity — and whether the row should stand out: no progress for a while,
or the same 5xx again and again. Roster students who never connected have a row too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smtp_shell.lab.analyser import STAGES
from smtp_shell.lab.tracker import SessionTracker

REPEATED_5XX = 3


@dataclass
class Board:
    tracker: SessionTracker
    stuck_after: float = 300.0               # seconds without progress before a row stands out
    roster: tuple[str, ...] = ()
    _since: dict[str, tuple[tuple, float]] = field(default_factory=dict)

    def rows(self) -> list[dict]:
        now = self.tracker.clock()
        rows: dict[str, dict] = {name: _empty(name, "account") for name in self.roster}
        for session in sorted(self.tracker.sessions(), key=lambda s: s.number):
            a = session.analysis()
            if session.closed and not a.said_anything:
                continue
            key = a.user or session.peer.rsplit(":", 1)[0]
            row = rows.setdefault(key, _empty(key, "account" if a.user else "address"))
            row["sessions"] += 1
            row["connected"] = row["connected"] or not session.closed
            row["messages"] += sum(1 for m in a.messages if m.accepted)
            row["errors"] += len(a.errors)
            row["session"] = session.number
            row["progress"] = a.progress
            row["stages"] = [s for s in STAGES if s in a.stages]
            row["findings"] = sorted({f.rule for f in a.findings})
            row["last_errors"] = a.errors[-3:]
            row["fives"] = sum(1 for e in a.errors if " -> 5" in e)
            row["last_activity"] = max(row["last_activity"] or 0, session.last_activity)
        for key, row in rows.items():
            mark = (row["session"], row["progress"])
            previous = self._since.get(key)
            if previous is None or previous[0] != mark:
                self._since[key] = (mark, now)
            since = self._since[key][1]
            idle = now - since
            row["stuck"] = bool(row["fives"] >= REPEATED_5XX or
                                (row["sessions"] and row["progress"] != "accepted" and idle > self.stuck_after))
            row["idle_seconds"] = round(idle)
        return sorted(rows.values(), key=lambda r: r["name"])


def _empty(name: str, kind: str) -> dict:
    return {"name": name, "kind": kind, "connected": False, "sessions": 0, "messages": 0, "errors": 0,
            "session": None, "progress": "never connected", "stages": [], "findings": [], "last_errors": [],
            "fives": 0, "last_activity": None, "stuck": False, "idle_seconds": 0}
