"""What happened in one session, in numbers: the facts an instructor grades on.

Why this exists: the Markdown and HTML exports end with a summary and `smtp-shell report`
puts one row per transcript in a table; all three must count the same way. A message counts
as accepted when the reply to its final dot is 2xx; a login counts when AUTH ends in 2xx.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smtp_shell.transcript.reader import Transcript, TranscriptFile

MAX_STEPS = 1000  # markers kept for the steps column (a hostile file may hold millions)


@dataclass
class Summary:
    file: str
    target: str = ""
    started: str = ""
    duration: float = 0.0
    complete: bool = False
    problem: str | None = None
    tls: bool = False
    user: str | None = None       # who logged in (None: not authenticated)
    authenticated: bool = False
    accepted: int = 0             # messages accepted (2xx after the final dot)
    replies_4xx: int = 0
    replies_5xx: int = 0
    errors: int = 0               # the tool's own error lines (connection, protocol)
    lesson: str | None = None
    steps: list[str] = field(default_factory=list)  # markers: lesson steps passed
    commands: int = 0

    @property
    def status(self) -> str:
        if self.problem and not self.started:
            return "unreadable"
        return "complete" if self.complete else "incomplete"

    def row(self) -> dict:
        """Plain values for CSV and JSON (stable column names, documented in docs/transcripts.md)."""
        return {
            "file": self.file, "target": self.target, "start": self.started,
            "duration_s": round(self.duration, 3), "status": self.status, "problem": self.problem or "",
            "tls": self.tls, "authenticated": self.authenticated, "user": self.user or "",
            "messages_accepted": self.accepted, "replies_4xx": self.replies_4xx, "replies_5xx": self.replies_5xx,
            "lesson": self.lesson or "", "steps_passed": len(self.steps), "steps": "; ".join(self.steps),
        }


def summarize(transcript: Transcript | TranscriptFile, name: str | None = None) -> Summary:
    """One pass over the events (a `TranscriptFile` is streamed from disk, never held whole)."""
    s = Summary(file=name or transcript.path.name, started=transcript.started, lesson=transcript.lesson)
    user = None
    last_client_as = None
    for event in transcript.events:
        kind = event.kind
        if kind == "connect":
            last_client_as = None  # a new connection's greeting answers no dot
        elif kind == "tls":
            s.tls = True
        elif kind == "c":
            last_client_as = event.get("as")
            user = event.get("user") or user
            if event.get("as", "command") == "command":
                s.commands += 1
        elif kind == "s":
            code = event.get("code") or 0
            verb = event.get("verb")
            if code // 100 == 4:
                s.replies_4xx += 1
            elif code // 100 == 5:
                s.replies_5xx += 1
            elif code // 100 == 2:
                if verb == "<dot>" or (verb is None and last_client_as == "dot"):
                    s.accepted += 1
                if verb in ("AUTH", "<auth>"):
                    s.authenticated, s.user = True, user or "(authenticated)"
        elif kind == "error":
            s.errors += 1
        elif kind == "marker" and len(s.steps) < MAX_STEPS:
            s.steps.append(event.text)
    # Known only once every event was read (when streaming).
    s.target, s.duration = transcript.target, transcript.duration
    s.complete, s.problem = transcript.complete, transcript.problem
    return s
