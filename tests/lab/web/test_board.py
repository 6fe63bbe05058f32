"""The class board from tracked sessions: rows per account or address, progress, who stands out.

Driven through the tracker exactly as the lab server drives it (open, client bytes, reply
lines, close), with a clock the test moves, so "no progress for N minutes" needs no waiting.
"""

from __future__ import annotations

from smtp_shell.lab.tracker import SessionTracker
from smtp_shell.lab.web.board import Board
from tests.lab.analyser_streams import GREETING, b64


class Clock:
    now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def drive(tracker: SessionTracker, key: object, steps: list, peer=("127.0.0.1", 40000)) -> None:
    tracker(key, "open", peer)
    tracker(key, "server", GREETING)
    for step in steps:
        if step == "CLOSE":
            tracker(key, "close", None)
        elif step == "TLS":
            tracker(key, "tls", "TLSv1.3")
        else:
            data, replies = step
            tracker(key, "client", data)
            for line in replies:
                tracker(key, "server", line)


LOGIN = [(b"EHLO me.example\r\n", ["250 smtp-shell.lab"]), (b"STARTTLS\r\n", ["220 Ready"]), "TLS",
         (b"EHLO me.example\r\n", ["250-smtp-shell.lab", "250 AUTH LOGIN PLAIN"]),
         (b"AUTH LOGIN\r\n", ["334 VXNlcm5hbWU6"]), (b64("alice"), ["334 UGFzc3dvcmQ6"]),
         (b64("alice-pw"), ["235 2.7.0 Authentication successful"])]


def test_rows_progress_and_rows_that_stand_out():
    clock = Clock()
    tracker = SessionTracker(clock=clock)
    board = Board(tracker, stuck_after=300, roster=("alice", "dave"))
    alice, stranger = object(), object()
    drive(tracker, alice, LOGIN)
    drive(tracker, stranger, [(b"MAIL FROM:<x@lab.test>\r\n", ["503 5.5.1 Error: send HELO first"])] * 3 + ["CLOSE"],
          peer=("10.0.0.7", 51000))
    rows = {r["name"]: r for r in board.rows()}
    assert set(rows) == {"alice", "dave", "10.0.0.7"}
    assert rows["alice"]["connected"] and rows["alice"]["progress"] == "AUTH" and not rows["alice"]["stuck"]
    assert rows["dave"]["progress"] == "never connected" and not rows["dave"]["stuck"]
    assert rows["10.0.0.7"]["kind"] == "address" and rows["10.0.0.7"]["fives"] == 3 and rows["10.0.0.7"]["stuck"]
    clock.now += 301  # five minutes without progress
    assert {r["name"] for r in board.rows() if r["stuck"]} == {"alice", "10.0.0.7"}
    tracker(alice, "client", b"MAIL FROM:<alice@lab.test>\r\n")
    tracker(alice, "server", "250 2.1.0 Sender OK")
    row = next(r for r in board.rows() if r["name"] == "alice")
    assert row["progress"] == "MAIL" and not row["stuck"]


def test_connections_that_said_nothing_are_not_on_the_board():
    tracker = SessionTracker()
    key = object()
    drive(tracker, key, ["CLOSE"])
    assert Board(tracker).rows() == [] and tracker.sessions() == []
