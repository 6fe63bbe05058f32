"""`report --verify LABDIR`: a transcript checked against the lab server's own session logs.

Why this exists: a transcript is written on the student's machine, so it can be edited. The
lab server keeps its own log of every session (lab/sessionlog.py) and puts the session's id in
its greeting (`[lab session s000001-1a2b3c4d]`), which the transcript records. For each
connection in the transcript this module finds the server's log with that id and compares,
in order, the commands the client sent (not the message text, which the log cuts short) and
every reply line the server sent (codes, text, accepted message ids). Secrets are `***` on
both sides. The hash chain is checked too: a broken chain is a difference even where the
server's record matches (a step marker added by hand changes no server line).

When the lesson is installed, its checks are then run again over the verified conversation
(lessons/rejudge.py, handed in from above): a step recorded as passed that they do not pass is
a difference too, so a forged "step passed" with a recomputed chain is caught as well.

Verdicts: `verified`, `differs` (with the first difference), `no server record` (no
connection of the transcript carries a lab session id that LABDIR has a log for).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from smtp_shell.address import escape as visible  # the lab's session log escapes lines with this policy
from smtp_shell.transcript.format import event_bytes
from smtp_shell.transcript.reader import Transcript, TranscriptFile

SESSION_ID = re.compile(r"\[lab session (s\d{6}-[0-9a-f]{8})\]")
_HEADER = re.compile(r"^# smtp-shell lab session \d+ from \S+ id (s\d{6}-[0-9a-f]{8})\s*$")
_LINE = re.compile(r"^\S+ (C:|S:|--) ?(.*)$")
_SECRET = re.compile(r"\*{3,}")
MAX_LINE = 2000  # the session log keeps this much of a line



@dataclass
class ServerSession:
    """What the lab logged for one session."""
    session_id: str
    path: Path
    commands: list[str] = field(default_factory=list)
    replies: list[list[str]] = field(default_factory=list)    # each reply: its lines
    saved: list[str] = field(default_factory=list)            # "saved as ..." notes


@dataclass
class Verdict:
    status: str                 # verified | differs | no server record
    detail: str = ""
    sessions: list[str] = field(default_factory=list)

    def short(self) -> str:
        return self.status if not self.detail else f"{self.status}: {self.detail}"


def _norm(text: str) -> str:
    return _SECRET.sub("***", visible(text[:MAX_LINE]))


def parse_log(path: Path) -> ServerSession | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            first = fh.readline()
            match = _HEADER.match(first.rstrip("\n"))
            if not match:
                return None
            session = ServerSession(match.group(1), path)
            in_data, reply = False, []
            for raw in fh:
                line = _LINE.match(raw.rstrip("\n"))
                if not line:
                    continue
                who, text = line.groups()
                if who == "S:":
                    reply.append(text)
                    if len(text) < 4 or text[3] != "-":
                        session.replies.append(reply)
                        in_data = text.startswith("354")
                        reply = []
                elif who == "C:":
                    if in_data and text != ".":
                        continue
                    in_data = False
                    session.commands.append(_SECRET.sub("***", text))
                elif text.startswith("saved as "):
                    session.saved.append(text[len("saved as "):])
    except OSError:
        return None
    return session


def load_sessions(labdir: Path) -> dict[str, ServerSession]:
    """Every lab session log under `labdir` (the mailbox, its `_logs`, or a folder above), by id."""
    out: dict[str, ServerSession] = {}
    for path in sorted(Path(labdir).rglob("*.log")):
        session = parse_log(path)
        if session is not None:
            out[session.session_id] = session
    return out


@dataclass
class _Connection:
    number: int
    session_id: str | None = None
    commands: list[tuple[str, int]] = field(default_factory=list)   # (text, line)
    replies: list[tuple[list[str], int]] = field(default_factory=list)


def connections(transcript: Transcript | TranscriptFile) -> list[_Connection]:
    out: list[_Connection] = []
    for event in transcript.events:
        if event.kind == "connect" or (event.kind in ("c", "s") and not out):
            out.append(_Connection(len(out) + 1))
            if event.kind == "connect":
                continue
        if not out:
            continue
        conn = out[-1]
        if event.kind == "c" and event.get("as", "command") in ("command", "auth", "dot"):
            conn.commands.append((_norm(event.text), event.line))
        elif event.kind == "s":
            text = event_bytes(event.fields).decode("utf-8", "surrogateescape")
            lines = [line for line in re.split(r"\r?\n", text) if line]
            if event.get("reply") == "greeting" or not conn.replies:
                match = SESSION_ID.search(text)
                if match and conn.session_id is None:
                    conn.session_id = match.group(1)
            conn.replies.append(([visible(line[:MAX_LINE]) for line in lines], event.line))
    return out


_VERBS = frozenset(["HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT", "VRFY", "EXPN", "HELP", "STARTTLS", "AUTH"])


def _masked_answer(text: str, received: str) -> bool:
    """A line the transcript holds only as `***` (an AUTH answer it masked, e.g. a user name the
    client treated as secret) matches any AUTH answer the server logged, never an SMTP command."""
    return text == "***" and (received.split(" ", 1)[0].upper() not in _VERBS)


def _compare(conn: _Connection, server: ServerSession) -> str | None:
    """The first difference between one connection and the server's log of it, or None."""
    where = f"connection {conn.number}"
    for i, (text, line) in enumerate(conn.commands):
        if i >= len(server.commands):
            later_replies = [r for r in conn.replies if r[1] > line]
            if later_replies:  # lines the server never saw, yet replies to them are recorded
                return f"{where}: line {line} sends {text!r}, which the server never received"
            break  # sent as the connection closed: the server was gone before it arrived
        if server.commands[i] != text and not _masked_answer(text, server.commands[i]):
            return f"{where}: line {line} sends {text!r}, the server received {server.commands[i]!r}"
    if len(server.commands) > len(conn.commands):
        return f"{where}: the server received {server.commands[len(conn.commands)]!r}, which the transcript leaves out"
    for i, (lines, line) in enumerate(conn.replies):
        if i >= len(server.replies):
            return f"{where}: line {line} records the reply {lines[0] if lines else ''!r}, which the server never sent"
        theirs = server.replies[i]
        if lines[:1] and theirs[:1] and lines[0][:3] != theirs[0][:3]:
            return f"{where}: line {line} records reply code {lines[0][:3]}, the server sent {theirs[0][:60]!r}"
        if lines != theirs:
            return f"{where}: line {line} records {(lines[0] if lines else '')[:60]!r}, the server sent {theirs[0][:60]!r}"
    extra = server.replies[len(conn.replies):]
    if extra and not all(r[:1] and r[0].startswith("421") for r in extra):  # a 421 as the client left
        missing = extra[0]
        return f"{where}: the server sent {missing[0][:60]!r}, which the transcript leaves out"
    return None


def _unsupported_claims(transcript: Transcript | TranscriptFile, rejudge) -> str | None:
    """A step recorded as passed that the lesson's checks do not pass on this conversation."""
    from smtp_shell.transcript.grading import lesson_work

    work = lesson_work(transcript)
    if not work.recorded_events or not work.passed_steps:
        return None
    judged = rejudge(transcript)
    if judged is None or judged.note:
        return None
    for step in work.passed_steps:
        if step not in judged.passed and step not in judged.unjudged:
            return (f"step {step} is recorded as passed, but the lesson's check does not pass on the "
                    "conversation the server saw")
    return None


def verify(transcript: Transcript | TranscriptFile, sessions: dict[str, ServerSession], rejudge=None) -> Verdict:
    """`rejudge(transcript)` -> an object with `passed`, `unjudged` and `note` (lessons/rejudge.py), or None."""
    conns = [c for c in connections(transcript) if c.commands or c.replies]
    known = [c for c in conns if c.session_id and c.session_id in sessions]
    chain = None
    if transcript.chain_line is not None:
        chain = f"the hash chain breaks at line {transcript.chain_line} (the file was edited)"
    if not known:
        return Verdict("no server record", chain or "")
    for conn in conns:
        if not conn.commands:
            continue  # connected, said nothing: the lab keeps no log for that
        if conn.session_id is None or conn.session_id not in sessions:
            return Verdict("differs", f"connection {conn.number} has no server record "
                                      f"({'no lab session id' if conn.session_id is None else conn.session_id})",
                           [c.session_id or "" for c in known])
        problem = _compare(conn, sessions[conn.session_id])
        if problem:
            return Verdict("differs", problem, [c.session_id or "" for c in known])
    if chain:
        return Verdict("differs", chain, [c.session_id or "" for c in known])
    claim = _unsupported_claims(transcript, rejudge) if rejudge is not None else None
    if claim:
        return Verdict("differs", claim, [c.session_id or "" for c in known])
    return Verdict("verified", "", [c.session_id or "" for c in known])
