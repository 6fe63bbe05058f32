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
- `MAX_PER_ADDRESS`: connections per client address (counted in `LabContext.per_address`), so one
  machine cannot take every slot.

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


END_OF_DATA = b".\r\n"  # what the reader reads up to: a lone dot ends the message when a CR LF precedes it


class DataScanner:
    """The message after 354, fed in blocks as read, with the limits checked on each block.

    Pure (no I/O): `feed(block)` takes the next block and says whether it ended the message.
    A block is what the reader returns when asked to read up to `END_OF_DATA`: everything up to
    and including its first `.` CR LF, or, when that is further than the reader holds, a piece
    that contains none (asyncio's `readuntil` never splits the separator, so a lone dot is always
    seen whole, at the end of a block). Only a `.` CR LF right after a CR LF (or at the very start)
    ends the message; a line ending in a dot does not.

    Checked on every block, without per-line work unless a block could hold an over-long line:
    a line over `line_limit` octets (with its CR LF) -> "too long"; more than `size_limit` octets
    of message -> "too much"; when both, the one whose limit an earlier octet crosses wins (the
    size on a tie). Content is dot-unstuffed (RFC 5321 4.5.2: one leading dot of each line goes);
    nothing is kept once a limit is crossed, but every octet is read to the lone dot.
    """

    def __init__(self, line_limit: int, size_limit: int | None) -> None:
        self.line_limit = line_limit
        self.size_limit = size_limit or 0
        self.problem: str | None = None
        self.size = 0
        self._kept: list[bytes] = []
        self._partial = 0       # octets of the line being read so far
        self._tail = b"\r\n"    # the last two octets read: the DATA line's CR LF at first

    def feed(self, block: bytes) -> bool:
        """Take the next block; True when it ended with the lone dot (the message is complete)."""
        done = False
        if block.endswith(END_OF_DATA):
            before = block[-5:-3] if len(block) >= 5 else (self._tail + block[:-3])[-2:]
            done = before == b"\r\n"
        text = block[:-3] if done else block
        if text:
            self._take(text)
        self._tail = block[-2:] if len(block) >= 2 else (self._tail + block)[-2:]
        return done

    def content(self) -> bytes:
        """The unstuffed message (empty when a limit was crossed)."""
        return b"".join(self._kept) if self.problem is None else b""

    def _take(self, text: bytes) -> None:
        size = self.size + len(text)
        crossed = self._lines(text)  # also moves _partial on
        if self.problem is None:
            over = self.size_limit and size > self.size_limit
            if over or crossed is not None:
                at_size = self.size_limit - self.size if over else None
                self.problem = "too much" if at_size is not None and (crossed is None or at_size <= crossed) \
                    else "too long"
                self._kept.clear()
            else:
                self._kept.append(self._unstuff(text))
        self.size = size

    def _unstuff(self, text: bytes) -> bytes:
        tail = self._tail
        if tail == b"\r\n" and text.startswith(b"."):         # a line starting this block
            text = text[1:]
        elif tail.endswith(b"\r") and text.startswith(b"\n."):  # CR | LF . split between blocks
            text = b"\n" + text[2:]
        return text.replace(b"\r\n.", b"\r\n") if b"\r\n." in text else text

    def _lines(self, text: bytes) -> int | None:
        """Move the line count on over `text`; the index in `text` of the first octet that makes
        a line longer than the limit (None: no line is over it)."""
        limit, partial = self.line_limit, self._partial
        start, crossed = 0, None
        if partial and text.startswith(b"\n") and self._tail.endswith(b"\r"):  # a CR LF split between blocks
            if partial + 1 > limit:
                crossed = 0
            partial, start = 0, 1
        last = text.rfind(b"\r\n", start)
        self._partial = len(text) - last - 2 if last >= 0 else partial + len(text) - start
        if crossed is None and partial + len(text) - start > limit:  # a line in here may be over the limit
            pos = start
            while True:
                end = text.find(b"\r\n", pos)
                if partial + (end + 2 if end >= 0 else len(text)) - pos > limit:
                    return pos + limit - partial
                if end < 0:
                    return None
                partial, pos = 0, end + 2
        return crossed


async def read_data(server) -> tuple[str | None, bytes]:
    """Read a message after 354 up to the lone dot, with bounded memory, a block at a time.

    Returns (problem, content): problem is None, "too long" (a line over the server's
    `line_length_limit`) or "too much" (over `data_size_limit`); content is the dot-unstuffed
    message (empty unless problem is None). Every byte is read (so the session stays in step
    with the client), but nothing past a limit is kept (DataScanner).
    """
    scanner = DataScanner(server.line_length_limit, server.data_size_limit)
    while server.transport is not None:
        if scanner.feed(await server.read_data_block(END_OF_DATA)):
            break
    return scanner.problem, scanner.content()
