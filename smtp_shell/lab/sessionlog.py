"""A server-side log of each lab session, so an instructor can see what a client really sent.

One text file per session under `MAILBOX/_logs/`, one timestamped line per client or server
line (`C:` / `S:`), plus notes such as the start of TLS. AUTH secrets never reach the file:
an AUTH command's initial response and every client line that answers a `334` challenge are
written as `***`. Message text after DATA is logged up to a limit (the mailbox has the rest).
The file is created on the first client line, so a connection that never said anything
(a port scan, a health check) leaves no log. Inside the lab's event loop every file operation
(create, write, close) is done by one writer thread, in order: the loop only joins the lines
and hands them over, at most every FLUSH_DELAY seconds and at the end of the session (creating
a file waits on the file system, which the mailbox writer keeps busy). `drain()` waits until
everything handed over is in the files (the lab server calls it when it stops). Outside an
event loop (tests, tools) the file is written at once.
"""

from __future__ import annotations

import asyncio
import queue
import re
import threading
import time
from pathlib import Path
from typing import TextIO

from smtp_shell.address import format_hostport
from smtp_shell.lab.safetext import visible
from smtp_shell.paths import open_private, private_dir

MAX_DATA_LINES = 100
MAX_LINE = 2000
FLUSH_DELAY = 0.2  # seconds: lines reach the file this soon (one flush for many lines under load)

_second: list = [None, ""]  # (the last whole second formatted, its text): strftime once a second
_milli: list = [None, ""]   # (the last millisecond, its stamp): lines of one millisecond share it


def _now() -> str:
    now = time.time()
    milli = int(now * 1000)
    if milli == _milli[0]:
        return _milli[1]
    whole = int(now)
    if whole != _second[0]:
        _second[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        _second[0] = whole
    _milli[0], _milli[1] = milli, f"{_second[1]}.{min(int((now - whole) * 1000), 999):03d}Z"
    return _milli[1]


def byte_marks(raw: bytes, data: bool = False) -> list[str]:
    """What is wrong or notable in one raw client line, for the instructor (RFC 5321 §2.3.8:
    lines end in CR LF; §4.5.3.1.6: a text line is at most 1000 octets with its CR LF;
    §4.5.3.1.4: a command line at most 512)."""
    marks = []
    body = raw[:-1] if raw.endswith(b"\n") else raw
    if raw.endswith(b"\n") and not raw.endswith(b"\r\n"):
        marks.append("bare LF (no CR before it); SMTP lines end in CR LF"
                     + (", so a lone '.' ended this way does NOT end the message" if body.strip() == b"." else ""))
    if b"\r" in (raw[:-2] if raw.endswith(b"\r\n") else body):
        marks.append("bare CR inside the line")
    if not raw.isascii():
        marks.append(f"{sum(1 for b in raw if b > 0x7F)} 8-bit byte(s)"
                     + ("" if data else " in a command (only with SMTPUTF8)"))
    limit = 1000 if data else 512
    if len(raw) > limit:
        marks.append(f"{len(raw)} octets, over the {limit} allowed for a {'text' if data else 'command'} line")
    return marks


class SessionLog:
    def __init__(self, directory: Path, session_no: int, peer, session_id: str | None = None) -> None:
        self.directory = directory
        self.session_id = session_id
        self.session_no = session_no
        self.peer = peer
        self.path: Path | None = None
        self._fh: TextIO | None = None   # touched only by whoever writes the file (the writer thread in a loop)
        self._pending: list[str] = []    # lines before the first client line (the file does not exist yet)
        self._chunks: list[str] = []     # lines not yet handed to the file
        self._buffer = b""
        self._skipping = False
        self._secret_lines = 0
        self._in_data = False
        self._data_lines = 0
        self._flush_pending = False
        self._stamp: str | None = None  # one timestamp for all the lines of one received block
        self._started = False           # the file was asked for (the client said something)
        self._threaded = False          # its file operations go to the writer thread
        self._closed = False
        self.failed = False

    # -- what the client sent -------------------------------------------------------------
    def client_bytes(self, data: bytes) -> None:
        """Raw bytes from the client (decrypted once TLS runs); logged line by line."""
        buffer = self._buffer + data if self._buffer else data
        self._stamp = _now()  # the lines of one block arrived together: one clock read, not one per line
        try:
            self._client_lines(buffer)
        finally:
            self._stamp = None

    def _client_lines(self, buffer: bytes) -> None:
        start = 0  # lines are cut by index: one pass over a large block, never re-copying its rest
        fast = True
        while True:
            if fast and self._in_data and not self._skipping:
                start, fast = self._data_block(buffer, start)
            end = buffer.find(b"\n", start)
            if end < 0:
                rest = buffer[start:]
                if len(rest) > 64 * 1024:  # a line that never ends: log its start once
                    if not self._skipping:
                        self._client_line(rest[:MAX_LINE] + b" [... line too long, rest not logged]")
                    self._skipping = True
                    rest = b""
                self._buffer = rest
                return
            line, start = buffer[start:end + 1], end + 1
            if self._skipping:
                self._skipping = False  # the end of the over-long line
                continue
            self._client_line(line)

    def _data_block(self, buffer: bytes, start: int) -> tuple[int, bool]:
        """Log the whole message lines of `buffer[start:]` as one write when none of them needs a
        mark or an escape (plain ASCII, every line ending in CR LF, none over 1000 octets, no
        control characters) and stop before the lone dot: the same lines `_client_line` would
        write, without its per-line work. Returns where the line-by-line path goes on, and False
        when it must take over for the rest of this block."""
        last = buffer.rfind(b"\n", start)
        if last < 0:
            return start, True
        segment = buffer[start:last + 1]
        crlf = segment.count(b"\r\n")
        if not segment.isascii() or segment.count(b"\n") != crlf or segment.count(b"\r") != crlf:
            return start, False
        lines = segment.decode("ascii").split("\r\n")
        lines.pop()  # what follows the last CR LF: nothing
        try:
            lines = lines[:lines.index(".")]  # the end of the message: left to _client_line
        except ValueError:
            pass
        if not lines:
            return start, False
        if max(map(len, lines)) > 998 or not "".join(lines).isprintable():
            return start, False
        room = MAX_DATA_LINES - self._data_lines
        self._data_lines += len(lines)
        if room > 0:
            stamp = self._stamp or _now()
            self._write_text("".join([f"{stamp} C: {line}\n" for line in lines[:room]]))
        return start + sum(map(len, lines)) + 2 * len(lines), True

    def _client_line(self, raw: bytes) -> None:
        marks = byte_marks(raw, data=self._in_data)
        self._client_text(raw)
        if marks:
            self._write("--", "the line above: " + "; ".join(marks))

    def _client_text(self, raw: bytes) -> None:
        text = raw.decode("utf-8", "surrogateescape")
        text = text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")
        if self._in_data:
            if text == "." and raw.endswith(b"\r\n"):  # only CR LF . CR LF ends the message
                if self._data_lines > MAX_DATA_LINES:
                    self._write("--", f"({self._data_lines - MAX_DATA_LINES} more message lines not logged; "
                                      f"the message itself is in the mailbox)")
                self._in_data = False
                self._write("C:", ".")
                return
            self._data_lines += 1
            if self._data_lines <= MAX_DATA_LINES:
                self._write("C:", text)
            return
        if self._secret_lines > 0:
            self._secret_lines -= 1
            self._write("C:", "***")
            return
        verb, _, rest = text.partition(" ")
        if verb.upper() == "AUTH":
            parts = rest.split()
            mechanism = parts[0].upper() if parts else ""
            if len(parts) >= 2:
                text = f"{verb} {parts[0]} ***"
            if mechanism == "PLAIN":
                self._secret_lines = 0 if len(parts) >= 2 else 1
            elif mechanism == "LOGIN":
                self._secret_lines = 1 if len(parts) >= 2 else 2
            else:
                self._secret_lines = 1  # unknown mechanisms are refused; mask in case of pipelining
        self._write("C:", text)

    # -- what the server sent -------------------------------------------------------------
    def server_line(self, text: str) -> None:
        if not text.startswith("334"):
            self._secret_lines = 0  # the AUTH exchange (if any) is over
        if text.startswith("354"):
            self._in_data, self._data_lines = True, 0
        self._write("S:", text)

    def tls_started(self, version: str) -> None:
        self._buffer, self._skipping = b"", False  # plaintext after STARTTLS is discarded by the server too
        self.note(f"TLS started ({version}); the lines below were encrypted on the wire")

    def note(self, text: str) -> None:
        self._write("--", text)

    # -- the file -------------------------------------------------------------------------
    def _write(self, who: str, text: str) -> None:
        if self.failed:
            return
        line = f"{self._stamp or _now()} {who} {visible(text[:MAX_LINE])}\n"
        if not self._started and who != "C:":
            self._pending.append(line)  # kept until the client says something
            return
        self._write_text(line)

    def _write_text(self, text: str) -> None:
        """Client text (and what follows it) for the file, which the first client line creates."""
        if self.failed or self._closed:
            return
        if not self._started:
            self._start()
        self._chunks.append(text)
        self._schedule_flush()

    def _start(self) -> None:
        host = str(self.peer[0]) if self.peer else "unknown"
        port = str(self.peer[1]) if self.peer and len(self.peer) > 1 else "0"
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        safe_host = re.sub(r"[^0-9A-Za-z.]", "-", host)
        self.path = self.directory / f"{stamp}-s{self.session_no:06d}-{safe_host}-{port}.log"
        ident = f" id {self.session_id}" if self.session_id else ""
        self._chunks = [f"# smtp-shell lab session {self.session_no} from {format_hostport(host, int(port))}{ident}\n",
                        *self._pending]
        self._pending = []
        self._started = True
        try:
            asyncio.get_running_loop()
            self._threaded = True
        except RuntimeError:  # no event loop: the file is written here and now
            self._threaded = False

    def _schedule_flush(self) -> None:
        """Hand the lines over within FLUSH_DELAY seconds (at once outside an event loop): one
        write per burst of lines instead of one per line, still live for `tail -f`."""
        if self._flush_pending:
            return
        if not self._threaded:
            self._flush()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called from outside the loop: hand it over now
            self._flush()
            return
        self._flush_pending = True
        loop.call_later(FLUSH_DELAY, self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        if self._closed or not self._chunks:
            return
        text, self._chunks = "".join(self._chunks), []
        self._hand_over(text, close=False)

    def close(self) -> None:
        if not self._started or self._closed:
            return
        self._write("--", "connection closed")
        self._closed = True
        text, self._chunks = "".join(self._chunks), []
        self._hand_over(text, close=True)

    def _hand_over(self, text: str, close: bool) -> None:
        if self._threaded:
            _WRITER.put(self, text, close)
        else:
            self._file_write(text, close)

    def _file_write(self, text: str, close: bool) -> None:
        """Create the file if needed, append `text`, flush (or close). Never raises: a log that
        cannot be written must never break the session."""
        if self.failed:
            return
        try:
            if self._fh is None:
                self._fh = _create(self.path, self.directory)
            self._fh.write(text)
            if close:
                self._fh.close()
                self._fh = None
            else:
                self._fh.flush()
        except (OSError, ValueError):
            self.failed = True
            if self._fh is not None:
                try:
                    self._fh.close()
                except OSError:
                    pass
                self._fh = None


def _create(path: Path | None, directory: Path) -> TextIO:
    """The session log file, private (raises OSError when it cannot be created)."""
    if path is None:
        raise OSError("no path")
    try:  # the folder was made private when the lab started (Mailbox.ensure_writable)
        return open_private(path, "a", encoding="utf-8", newline="\n")
    except FileNotFoundError:  # removed while the lab runs: make it again, private
        private_dir(directory)  # logs hold what clients sent, message text included
        return open_private(path, "a", encoding="utf-8", newline="\n")


class _Writer:
    """The one thread that creates, writes and closes session log files, in the order handed over.
    Inside an event loop, what is handed over waits HAND_OVER_DELAY seconds and goes to the
    thread together (one wake-up of the thread for many sessions, not one each)."""

    HAND_OVER_DELAY = 0.05

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._waiting: list[tuple[SessionLog, str, bool]] = []
        self._scheduled = False

    def put(self, log: SessionLog, text: str, close: bool) -> None:
        with self._lock:
            self._waiting.append((log, text, close))
            if self._scheduled:
                return
            self._scheduled = True
        try:
            asyncio.get_running_loop().call_later(self.HAND_OVER_DELAY, self._hand_over)
        except RuntimeError:  # not in a loop: at once
            self._hand_over()

    def _hand_over(self) -> None:
        with self._lock:
            waiting, self._waiting, self._scheduled = self._waiting, [], False
        if not waiting:
            return
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="smtp-shell-lab-logs", daemon=True)
                    self._thread.start()
        self._queue.put(waiting)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if isinstance(item, threading.Event):
                item.set()
                continue
            for log, text, close in item:
                log._file_write(text, close)

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until everything handed over so far is written (what waits is handed over now)."""
        self._hand_over()
        if self._thread is None:
            return
        done = threading.Event()
        self._queue.put(done)
        done.wait(timeout)


_WRITER = _Writer()


def drain(timeout: float = 10.0) -> None:
    """Wait until every session log line handed over so far is in its file."""
    _WRITER.drain(timeout)
