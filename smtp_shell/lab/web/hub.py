"""Fan-out of live updates to the open pages (server-sent events), throttled.

The session tracker says "session N changed" for every line; the hub coalesces those into at
most one board snapshot per BOARD_EVERY seconds and one update per watched session per
SESSION_EVERY seconds, and puts them on each subscriber's queue. A page that cannot keep up
(its queue is full) is dropped, never allowed to slow the SMTP side down.
"""

from __future__ import annotations

import asyncio
import json

from smtp_shell.lab.tracker import SessionTracker, TrackedSession
from smtp_shell.lab.web.board import Board

BOARD_EVERY = 0.5
SESSION_EVERY = 0.2
QUEUE_LIMIT = 200
SESSIONS_LISTED = 200


def session_view(session: TrackedSession, tracker: SessionTracker, start: int = 0) -> dict:
    a = session.analysis()
    return {"number": session.number, "peer": session.peer, "user": a.user, "closed": session.closed,
            "progress": a.progress, "stages": a.stages, "tls": a.tls, "start": start,
            "lines": [{"who": ln.who, "text": ln.text, "tls": ln.tls, "n": ln.number} for ln in a.lines[start:]],
            "count": len(a.lines), "errors": a.errors,
            "findings": [f.as_dict() for f in a.findings]}


class Subscriber:
    def __init__(self, session: int | None) -> None:
        self.session = session
        self.sent_lines = 0
        self.queue: asyncio.Queue = asyncio.Queue(QUEUE_LIMIT)


class Hub:
    def __init__(self, tracker: SessionTracker, board: Board) -> None:
        self.tracker = tracker
        self.board = board
        self.subscribers: set[Subscriber] = set()
        self._dirty: set[int] = set()
        self._board_due = False
        self._session_timer: asyncio.TimerHandle | None = None
        self._board_timer: asyncio.TimerHandle | None = None
        tracker.on_change.append(self.changed)

    def changed(self, session: TrackedSession, _event) -> None:
        if not self.subscribers:
            return
        loop = asyncio.get_running_loop()
        self._dirty.add(session.number)
        if self._session_timer is None:
            self._session_timer = loop.call_later(SESSION_EVERY, self._flush_sessions)
        if self._board_timer is None:
            self._board_timer = loop.call_later(BOARD_EVERY, self._flush_board)

    def subscribe(self, session: int | None) -> Subscriber:
        sub = Subscriber(session)
        self.subscribers.add(sub)
        self._send(sub, "board", self.snapshot())
        if session is not None:
            self._send_session(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    def close_all(self) -> None:
        for sub in list(self.subscribers):
            try:
                sub.queue.put_nowait(None)
            except asyncio.QueueFull:
                pass
        self.subscribers.clear()

    def _send(self, sub: Subscriber, kind: str, data: dict) -> None:
        try:
            sub.queue.put_nowait((kind, json.dumps(data, ensure_ascii=False)))
        except asyncio.QueueFull:
            self.subscribers.discard(sub)  # a page that cannot keep up: it reconnects and starts over
            sub.queue = asyncio.Queue(1)
            sub.queue.put_nowait(None)

    def _send_session(self, sub: Subscriber) -> None:
        session = self.tracker.get(sub.session) if sub.session is not None else None
        if session is None:
            if sub.sent_lines == 0:
                self._send(sub, "session", {"missing": sub.session})
            return
        view = session_view(session, self.tracker, sub.sent_lines)
        if view["count"] < sub.sent_lines:  # the analysis was redrawn: start over
            view = session_view(session, self.tracker, 0)
        sub.sent_lines = view["count"]
        self._send(sub, "session", view)

    def _flush_sessions(self) -> None:
        self._session_timer = None
        dirty, self._dirty = self._dirty, set()
        for sub in list(self.subscribers):
            if sub.session in dirty:
                self._send_session(sub)

    def _flush_board(self) -> None:
        self._board_timer = None
        if not self.subscribers:
            return
        snapshot = self.snapshot()
        for sub in list(self.subscribers):
            self._send(sub, "board", snapshot)

    def snapshot(self) -> dict:
        """The board rows and the latest sessions (newest first)."""
        sessions = []
        for session in sorted(self.tracker.sessions(), key=lambda s: -s.number)[:SESSIONS_LISTED]:
            a = session.analysis()
            if session.closed and not a.said_anything:
                continue
            sessions.append({"number": session.number, "peer": session.peer, "user": a.user,
                             "progress": a.progress, "closed": session.closed, "findings": len(a.findings)})
        return {"rows": self.board.rows(), "sessions": sessions}
