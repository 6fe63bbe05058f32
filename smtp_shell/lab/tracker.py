"""Follow every lab session as it happens, for check-client and the web view.

A `SessionTracker` is a lab observer (LabContext.observe): it keeps each session's events
(bytes as received, reply lines, TLS, close) with the time they happened, analyses a session
when it ends (and on demand while it runs), remembers the Message-IDs the class has used, and
tells its listeners. It runs in the lab's event loop; listeners must not block. Connections
that never said anything (port probes, aiosmtpd's start-up trigger) are dropped at close.
"""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from smtp_shell.address import format_hostport
from smtp_shell.lab.analyser import Analysis, Event, SessionAnalyser
from smtp_shell.lab.notify import call_each
from smtp_shell.lab.safetext import visible

MAX_SESSION_BYTES = 16 * 1024 * 1024  # beyond this a session's client bytes are not kept
KEEP_FINISHED = 1000                  # finished sessions kept for the web view


@dataclass
class TrackedSession:
    number: int
    peer: str
    started: float                 # wall-clock seconds
    events: list[Event] = field(default_factory=list)
    last_activity: float = 0.0
    closed: bool = False
    kept_bytes: int = 0
    seen_message_ids: set[str] | frozenset[str] = frozenset()  # the class's, read as messages arrive
    _analyser: SessionAnalyser | None = None
    _fed: int = 0

    def analysis(self) -> Analysis:
        """The analysis of what happened so far: events not yet analysed are fed first."""
        if self._analyser is None:
            self._analyser = SessionAnalyser(self.seen_message_ids)
        for event in self.events[self._fed:]:
            self._analyser.feed(event)
        self._fed = len(self.events)
        return self._analyser.analysis


class SessionTracker:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.live: dict[int, TrackedSession] = {}          # id(aiosmtpd session object) -> session
        self.finished: OrderedDict[int, TrackedSession] = OrderedDict()
        self.seen_message_ids: set[str] = set()
        self.on_finished: list[Callable[[TrackedSession, Analysis], None]] = []
        self.on_change: list[Callable[[TrackedSession, Event | None], None]] = []
        self._numbers = itertools.count(1)

    def sessions(self) -> list[TrackedSession]:
        return list(self.finished.values()) + list(self.live.values())

    def get(self, number: int) -> TrackedSession | None:
        found = self.finished.get(number)
        return found or next((s for s in self.live.values() if s.number == number), None)

    def __call__(self, server_session, kind: str, data) -> None:
        key = id(server_session)
        now = self.clock()
        if kind == "open":
            peer = data if isinstance(data, tuple) else ("unknown", 0)
            host = visible(str(peer[0])) if peer else "unknown"
            port = int(peer[1]) if len(peer) > 1 else 0
            self.live[key] = TrackedSession(next(self._numbers), format_hostport(host, port), now, last_activity=now,
                                            seen_message_ids=self.seen_message_ids)
            return
        session = self.live.get(key)
        if session is None:
            return
        at = now - session.started
        if kind == "client":
            session.kept_bytes += len(data)
            if session.kept_bytes > MAX_SESSION_BYTES:
                return
            event = Event("client", bytes(data), at)
        elif kind == "server":
            event = Event("server", str(data), at)
        elif kind == "tls":
            event = Event("tls", str(data), at)
        else:
            event = Event("close", b"", at)
        session.events.append(event)
        session.last_activity = now
        if kind != "close":
            self._tell(session, event)
            return
        session.closed = True
        del self.live[key]
        if not any(e.kind == "client" and e.data for e in session.events):
            return
        result = session.analysis()
        session.events, session._fed = [], 0  # the analysis holds what is shown; the bytes can go
        for message in result.messages:
            if message.message_id and message.accepted:
                self.seen_message_ids.add(message.message_id)
        self.finished[session.number] = session
        while len(self.finished) > KEEP_FINISHED:
            self.finished.popitem(last=False)
        self._tell(session, event)
        call_each(self.on_finished, session, result)

    def _tell(self, session: TrackedSession, event: Event | None) -> None:
        call_each(self.on_change, session, event)
