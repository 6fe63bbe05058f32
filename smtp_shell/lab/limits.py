"""Limits that keep a lab server on a classroom network usable while someone abuses it.

Why this exists: the lab listens where a whole class can reach it, so one client must not be
able to exhaust memory, disk, connection slots or the accounts of the others
(docs/security.md). What lives here:

- `read_data`: the DATA phase with the line length enforced WHILE reading. aiosmtpd 1.4.6
  refuses an over-long line only after collecting all of it (a 1 GiB line without CRLF took the
  lab to 1 GB); here an over-long line is dropped as it streams in.
- `AuthThrottle`: failed logins counted across connections, per client address and per account,
  in a sliding window: guesses are slowed down, then refused outright for a while (the correct
  password included), so spreading guesses over many connections gains nothing.
- `too_many_from`: connections per client address, so one machine cannot take every slot.

The aiosmtpd internals the DATA reader needs are reached through `aiosmtpd_hooks.HookedSMTP`.
"""

from __future__ import annotations

import collections
import threading
import time

MAX_RECIPIENTS = 100        # RFC 5321 §4.5.3.1.8: a server must accept at least 100
MAX_PER_ADDRESS = 50        # concurrent connections from one client address (half the slots)
AUTH_WINDOW = 300.0         # seconds a failed login is remembered
AUTH_SLOW_AFTER = 3         # failures (per address or account) before every AUTH reply is delayed
AUTH_LOCK_AFTER = 10        # failures before AUTH is refused outright until the window passes


class AuthThrottle:
    """Failed logins per client address and per account, shared by every connection."""

    def __init__(self, clock=time.monotonic, enabled: bool = True) -> None:
        self._clock = clock
        self.enabled = enabled
        self._failures: dict[tuple[str, str], collections.deque] = {}
        self._lock = threading.Lock()

    def _count(self, key: tuple[str, str]) -> int:
        times = self._failures.get(key)
        if not times:
            return 0
        cutoff = self._clock() - AUTH_WINDOW
        while times and times[0] < cutoff:
            times.popleft()
        if not times:
            del self._failures[key]
        return len(times)

    def failures(self, address: str, account: str | None = None) -> int:
        if not self.enabled:
            return 0
        with self._lock:
            counts = [self._count(("address", address))]
            if account is not None:
                counts.append(self._count(("account", account)))
            return max(counts)

    def locked(self, address: str, account: str | None = None) -> bool:
        return self.failures(address, account) >= AUTH_LOCK_AFTER

    def delay(self, address: str, account: str | None = None) -> float:
        """Seconds to wait before answering a failed AUTH: 0, then 0.5 s more per failure, at most 5 s."""
        n = self.failures(address, account)
        return 0.0 if n < AUTH_SLOW_AFTER else min(0.5 * (n - AUTH_SLOW_AFTER + 1), 5.0)

    def failed(self, address: str, account: str | None) -> None:
        now = self._clock()
        with self._lock:
            for key in (("address", address), ("account", account or "")):
                if key[1]:
                    times = self._failures.setdefault(key, collections.deque(maxlen=AUTH_LOCK_AFTER * 4))
                    times.append(now)


def too_many_from(sessions, peer, limit: int = MAX_PER_ADDRESS) -> bool:
    """Are there already `limit` connections from `peer`'s address?"""
    if not peer:
        return False
    host = peer[0]
    return sum(1 for s in sessions if s.session is not None and s.session.peer and s.session.peer[0] == host) >= limit


async def read_data(server) -> tuple[str | None, bytes]:
    """Read a message after 354 up to the lone dot, with bounded memory.

    Returns (problem, content): problem is None, "too long" (a line over the server's
    `line_length_limit`) or "too much" (over `data_size_limit`); content is the dot-unstuffed
    message (empty unless problem is None). Every byte is read (so the session stays in step
    with the client), but nothing past a limit is kept.
    """
    line_limit = server.line_length_limit
    size_limit = server.data_size_limit
    kept: list[bytes] = []
    size = 0
    problem: str | None = None
    partial = 0  # octets of the line being read so far (a line arriving in pieces)
    pieces: list[bytes] = []
    while server.transport is not None:
        chunk = await server.read_data_piece()
        ended = chunk.endswith(b"\r\n")
        if partial == 0 and chunk == b".\r\n":  # a lone dot at the start of a line
            break
        partial += len(chunk)
        size += len(chunk)
        if problem is None and size_limit and size > size_limit:
            problem = "too much"
        if problem is None and partial > line_limit:
            problem = "too long"
        if problem is None:
            pieces.append(chunk)
        if ended:
            if problem is None:
                line = b"".join(pieces)
                kept.append(line[1:] if line.startswith(b".") else line)
            pieces, partial = [], 0
        if problem is not None:
            kept.clear()
            pieces.clear()
    return problem, b"".join(kept) if problem is None else b""
