"""Re-judging a lesson transcript from its conversation, for `report --verify`.

Why this exists: the server's log proves what was said, but "step 3 passed" is the client's own
claim, and the hash chain does not stop someone who recomputes it. Once `--verify` has shown
that a transcript's commands and replies are what the lab saw, this module runs the lesson's
checks again over that same conversation, offline: each recorded line goes through the
protocol core (`ClientSession`, as the live driver does), each reply is parsed back from its
bytes, and the engine sees the same calls it saw live, including `:skip` and `:restart` at the
moments they were typed. A step recorded as passed that the checks do not pass is a claim the
conversation does not support.

Steps that read the lab mailbox are judged on the message file the accepted reply names
(`Message saved as ID`) in LABDIR; when that file is not there, those steps cannot be re-judged
and are left out rather than counted against the student; so are steps judged on another
session (lesson 11's check of the student's own program). A lesson whose version differs from
the one recorded is not re-judged (its checks may have changed).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from smtp_shell.lessons.engine import LessonEngine, lesson_version
from smtp_shell.lessons.facts import Facts
from smtp_shell.protocol.errors import LocalProtocolError
from smtp_shell.protocol.events import ReplyEvent
from smtp_shell.protocol.session import ClientSession
from smtp_shell.transcript.format import event_bytes
from smtp_shell.transcript.replay import tls_info_of

_SAVED_AS = re.compile(r"saved as (\S+)")


@dataclass
class Rejudged:
    passed: list[int] = field(default_factory=list)      # steps the checks pass, in the last run
    unjudged: set[int] = field(default_factory=set)      # steps that could not be judged again
    note: str = ""                                       # why nothing was re-judged


class _LabFacts(Facts):
    """Facts whose "message just saved" is the file the server named, found in LABDIR."""

    def __init__(self, labdir: Path | None) -> None:
        super().__init__(mailbox=None)
        self.labdir = labdir
        self.saved_id: str | None = None
        self.missing = False

    def _new_messages(self) -> list[Path] | None:
        if self.labdir is None or self.saved_id is None:
            self.missing = True
            return None
        found = sorted(Path(self.labdir).rglob(f"{self.saved_id}.eml"))
        if not found:
            self.missing = True
            return None
        self.saved.extend(found)
        return found

    def reply(self, event: ReplyEvent) -> None:
        if event.verb == "<dot>":
            match = _SAVED_AS.search(" ".join(event.reply.lines))
            self.saved_id = match.group(1) if match else None
        super().reply(event)


def _send(core: ClientSession, event):
    text = event.text
    if event.get("as") == "data" and text.startswith(".."):
        text = text[1:]  # recorded dot-stuffed
    try:
        return core.send_line(text)
    except LocalProtocolError:
        return None


def rejudge(transcript, lesson, labdir: Path | None = None) -> Rejudged:
    """Run `lesson`'s checks over the conversation `transcript` recorded."""
    recorded = next((e for e in transcript.events if e.kind == "lesson"), None)
    if recorded is not None and recorded.get("version") and recorded.get("version") != lesson_version(lesson):
        return Rejudged(note="the lesson has changed since it was recorded, so its steps were not re-judged")
    engine = LessonEngine(lesson, Console(file=io.StringIO(), width=120), mailbox=None)
    facts = _LabFacts(labdir)
    engine.facts = facts
    engine.begin()
    result = Rejudged()
    core = ClientSession()
    tls = False
    for event in transcript.events:
        kind = event.kind
        if kind == "connect":
            tls = bool(event.get("tls"))
            core.connected(tls=tls)
            engine.watch(core.model)
            engine.connected(event.get("target", ""), tls)
        elif kind == "c":
            outgoing = _send(core, event)
            if outgoing is not None:
                engine.sent(outgoing, tls=tls)
        elif kind == "s":
            for item in core.receive_data(event_bytes(event.fields)):
                if isinstance(item, ReplyEvent):
                    current = engine.step.number if engine.step is not None else None
                    facts.missing = False
                    engine.server_reply(item, tls=tls)
                    if facts.missing and current is not None:
                        result.unjudged.add(current)
        elif kind == "tls":
            core.tls_started()
            tls = True
            engine.tls_info(tls_info_of(event))
        elif kind == "close":
            core.connection_lost()
            engine.closed(event.text)
        elif kind == "skip" and engine.step is not None:
            engine.skip()
        elif kind == "restart":
            engine.restart()
            result.unjudged = set()
    result.passed = [s.number for i, s in enumerate(lesson.steps) if engine.states[i] == "passed"]
    # a step judged on another session (lesson 11's own program) is not in this conversation
    result.unjudged |= {s.number for s in lesson.steps if getattr(s.check, "outside_transcript", False)}
    return result
