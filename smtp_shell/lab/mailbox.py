"""The lab mailbox: one `.eml` file per accepted message and recipient, written crash-safely.

Layout: `MAILBOX/<safe recipient>/<UTC time>-<counter>.eml`, session logs in `MAILBOX/_logs/`.
Folder names are derived from addresses but sanitised (a client chooses the address, so it
must never pick a path); file names come only from the clock and a counter that continues
after a restart (found by scanning the mailbox). Each file is the exact bytes the client sent,
after a few trace headers, written to a hidden temporary file, synced, and then linked into
place (folder synced too), so a crash never leaves a half message that looks whole, and two lab
servers sharing a mailbox never overwrite each other's messages. The lab server saves through
`submit()`, which batches concurrent messages into one group commit (groupcommit.py).
"""

from __future__ import annotations

import concurrent.futures
import datetime as _dt
import hashlib
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import email.message

from smtp_shell.lab.groupcommit import GroupWriter, Job, write_batch
from smtp_shell.paths import private_dir

LOG_DIR_NAME = "_logs"
TRACE_HEADERS = (b"Return-Path:", b"Delivered-To:", b"Received:", b"X-Lab-Authenticated-User:", b"X-Lab-TLS:")
_ID = re.compile(r"^(\d{8}T\d{6}Z)-(\d{6,})$")
_UNSAFE = re.compile(r"[^a-z0-9._@+-]")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
MAX_FOLDER_NAME = 80


class MailboxError(Exception):
    """The mailbox cannot be used (the message is one sentence with a next step)."""


def safe_folder_name(address: str) -> str:
    """A folder name for `address` that is safe on every platform and cannot escape the mailbox."""
    lowered = address.strip().strip("<>").lower()
    name = re.sub(r"\.\.+", lambda m: "_" * len(m.group()), _UNSAFE.sub("_", lowered))
    name = name.strip(".") or "_"
    if name[0] in "_-.":
        name = "x" + name
    if name.split(".")[0].split("@")[0] in _WINDOWS_RESERVED:
        name = "x-" + name
    if name != lowered or len(name) > MAX_FOLDER_NAME:
        digest = hashlib.sha256(address.encode("utf-8", "surrogateescape")).hexdigest()[:8]
        name = f"{name[:MAX_FOLDER_NAME - 9].rstrip('.')}-{digest}"
    return name


def split_trace(raw: bytes) -> tuple[bytes, bytes]:
    """(the lab's trace headers, the message exactly as the client sent it)."""
    pos = 0
    for name in TRACE_HEADERS:
        if not raw.startswith(name, pos):
            return b"", raw
        end = raw.find(b"\r\n", pos)
        if end < 0:
            return b"", raw
        pos = end + 2
    return raw[:pos], raw[pos:]


@dataclass(frozen=True)
class StoredMessage:
    """One message saved in the lab mailbox (an `.eml` file)."""

    path: Path

    @property
    def id(self) -> str:
        return self.path.stem

    @property
    def received(self) -> _dt.datetime | None:
        match = _ID.match(self.id)
        if not match:
            return None
        return _dt.datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=_dt.UTC)

    def sort_key(self) -> tuple:
        match = _ID.match(self.id)
        return (match.group(1), int(match.group(2))) if match else ("", 0)

    def read(self) -> bytes:
        return self.path.read_bytes()

    def parse(self, headers_only: bool = False) -> email.message.EmailMessage:
        import email.parser  # only `mailbox show` parses: the lab server itself starts without it
        import email.policy

        with open(self.path, "rb") as fh:
            return email.parser.BytesParser(policy=email.policy.default).parse(fh, headersonly=headers_only)


class Mailbox:
    def __init__(self, root: Path):
        self.root = Path(root)
        self._lock = threading.Lock()
        self._counter: int | None = None
        self._stamp: tuple[int, str] = (-1, "")
        self._writer: GroupWriter | None = None

    @property
    def log_dir(self) -> Path:
        return self.root / LOG_DIR_NAME

    def ensure_writable(self) -> None:
        """Create the mailbox (and its log folder) and prove that files can be written there."""
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            if self.log_dir.is_symlink():
                raise OSError(0, "its _logs folder is a symbolic link, which the lab does not follow")
            private_dir(self.log_dir)
            fd, probe = tempfile.mkstemp(dir=self.root, prefix=".probe-", suffix=".tmp")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            reason = exc.strerror or exc.__class__.__name__
            raise MailboxError(f"the mailbox folder {self.root} is not writable ({reason}); "
                               f"choose another with --mailbox DIR") from None

    def messages(self) -> list[StoredMessage]:
        """Every stored message, oldest first; temporary files and the log folder are skipped."""
        if not self.root.is_dir():
            return []
        def ours(p: Path) -> bool:  # a symlink could point anywhere on the instructor's disk
            return not p.name.startswith(".") and not p.is_symlink() and p.is_file()

        found = [p for p in self.root.glob("*.eml") if ours(p)]
        for folder in self.root.iterdir():
            if folder.is_dir() and not folder.is_symlink() and not folder.name.startswith(("_", ".")):
                found.extend(p for p in folder.glob("*.eml") if ours(p))
        return sorted((StoredMessage(p) for p in found), key=lambda m: (m.sort_key(), m.id))

    def next_id(self) -> str:
        """A fresh message ID: the UTC second and a counter that continues after a restart."""
        with self._lock:
            if self._counter is None:
                counters = [int(m.group(2)) for m in (_ID.match(s.id) for s in self.messages()) if m]
                self._counter = max(counters, default=0)
            self._counter += 1
            second = int(time.time())
            if second != self._stamp[0]:
                self._stamp = (second, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second)))
            return f"{self._stamp[1]}-{self._counter:06d}"

    def deliver(self, recipient: str, data: bytes) -> StoredMessage:
        """Store `data` for `recipient` under a fresh ID, on disk when this returns; never overwrites."""
        job = Job([(safe_folder_name(recipient), data)])
        write_batch(self, [job])
        return job.future.result()[0]

    def submit(self, items: list[tuple[str, bytes]]) -> concurrent.futures.Future:
        """Queue one message's copies `[(recipient, bytes), ...]` for the writer thread (group commit);
        the future gives the stored messages once they are synced to disk, or the error."""
        with self._lock:
            if self._writer is None:
                self._writer = GroupWriter(self)
        return self._writer.submit([(safe_folder_name(recipient), data) for recipient, data in items])

    def refused(self, text: str) -> MailboxError:
        return MailboxError(text)

    def stored(self, path: Path) -> StoredMessage:
        return StoredMessage(path)

    def close(self) -> None:
        """Finish the queued writes and stop the writer thread."""
        if self._writer is not None:
            self._writer.close()

    def find(self, ident: str) -> tuple[int, StoredMessage]:
        """(row number, message) for an ID, a unique ID prefix, a row number or a file path."""
        messages = self.messages()
        for row, message in enumerate(messages, 1):
            if message.id == ident:
                return row, message
        if ident.isdigit() and len(ident) < 8 and 1 <= int(ident) <= len(messages):
            return int(ident), messages[int(ident) - 1]
        matches = [(row, m) for row, m in enumerate(messages, 1) if m.id.startswith(ident)]
        if len(matches) == 1:
            return matches[0]
        if not messages:
            raise MailboxError(f"the mailbox {self.root} is empty; send a message to the lab server first")
        if matches:
            raise MailboxError(f"{ident!r} matches {len(matches)} messages; give more of the ID "
                               f"(run `smtp-shell mailbox` to see them)")
        raise MailboxError(f"no message {ident!r} in {self.root}; run `smtp-shell mailbox` to see the IDs")
