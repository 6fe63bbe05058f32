"""Group commit for the lab mailbox: one writer saves every pending message, syncs them, then answers all.

Why it exists: "250 only after the message is on disk" costs an fsync per message, and fsyncs
issued from many executor threads at once serialise on the file system's journal (a class of
50 clients was held to a fraction of a plain aiosmtpd server's rate). A single writer thread
takes whatever messages are waiting, writes each to a hidden temporary file, fsyncs those files
(up to SYNC_THREADS at once: the disk serves a few concurrent syncs together, and on a
journalling file system the first commits the journal and the rest are cheap), links them into
place under fresh IDs, fsyncs each touched folder once (so the new name is durable too), and
only then resolves every waiting future, so the server answers 250 for the
whole batch. While it syncs, the next batch gathers. Work is done through folder descriptors
(`dir_fd`), which also refuses a folder replaced by a symbolic link (`O_NOFOLLOW`); platforms
without `dir_fd` (Windows) use paths and skip the folder sync, which they cannot do.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import os
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


class Target(Protocol):
    """What the writer needs from the mailbox (mailbox.py imports this module, not the reverse)."""
    root: Path

    def next_id(self) -> str: ...

    def refused(self, text: str) -> Exception: ...  # the mailbox's own error, one sentence

    def stored(self, path: Path) -> Any: ...

_DIR_FD = os.open in os.supports_dir_fd and os.link in os.supports_dir_fd and hasattr(os, "O_DIRECTORY")
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_TMP_SEQ = itertools.count(1)
MAX_BATCH = 512


@dataclass
class Job:
    """The copies of one accepted message, as (folder name, bytes), and the future the handler awaits."""
    items: list[tuple[str, bytes]]
    future: concurrent.futures.Future = field(default_factory=concurrent.futures.Future)
    written: list = field(default_factory=list)      # [folder, temporary name, fd or -1]
    stored: list = field(default_factory=list)
    error: BaseException | None = None


class _Folder:
    """One recipient folder, opened once per batch (a descriptor where the platform allows)."""

    def __init__(self, path: Path) -> None:
        self.path, self.fd = path, -1
        if _DIR_FD:
            flags = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
            try:
                self.fd = os.open(path, flags)
            except FileNotFoundError:
                path.mkdir(parents=True, exist_ok=True)
                self.fd = os.open(path, flags)
        else:
            path.mkdir(parents=True, exist_ok=True)
            if path.is_symlink() or not path.is_dir():
                raise NotADirectoryError(path)

    def _at(self, name: str) -> dict:
        return {"dir_fd": self.fd} if self.fd >= 0 else {}

    def _name(self, name: str) -> str:
        return name if self.fd >= 0 else str(self.path / name)

    def create(self, name: str) -> int:
        return os.open(self._name(name), _CREATE, 0o600, **self._at(name))

    def link(self, tmp: str, final: str) -> None:
        if self.fd >= 0:
            os.link(tmp, final, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        else:
            os.link(self._name(tmp), self._name(final))

    def exists(self, name: str) -> bool:
        try:
            os.stat(self._name(name), **self._at(name), follow_symlinks=False)
        except FileNotFoundError:
            return False
        return True

    def replace(self, tmp: str, final: str) -> None:
        if self.fd >= 0:
            os.replace(tmp, final, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        else:
            os.replace(self._name(tmp), self._name(final))

    def unlink(self, name: str) -> None:
        try:
            os.unlink(self._name(name), **self._at(name))
        except FileNotFoundError:
            pass

    def sync(self) -> None:
        if self.fd >= 0:
            os.fsync(self.fd)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def write_batch(mailbox: Target, jobs: list[Job]) -> None:
    """Save every job's copies, durably, then resolve each job's future (result or error)."""
    # a job whose client went away before the writer reached it is dropped (nobody got a 250);
    # from here on a job cannot be cancelled, so its answer can always be set
    jobs = [job for job in jobs if job.future.set_running_or_notify_cancel()]
    folders: dict[str, _Folder] = {}
    try:
        for job in jobs:                       # 1. write every copy to a hidden temporary file
            try:
                for name, data in job.items:
                    folder = folders.get(name)
                    if folder is None:
                        try:
                            folder = folders[name] = _Folder(mailbox.root / name)
                        except (NotADirectoryError, OSError) as exc:
                            if isinstance(exc, FileNotFoundError | PermissionError):
                                raise
                            raise mailbox.refused(
                                f"{mailbox.root / name} is a symbolic link or not a folder; the lab does not "
                                "follow links inside its mailbox, so remove it") from None
                    tmp = f".incoming-{os.getpid()}-{next(_TMP_SEQ)}.tmp"
                    fd = folder.create(tmp)
                    job.written.append([folder, tmp, fd])
                    _write_all(fd, data)
            except Exception as exc:  # this message fails alone; the batch goes on
                job.error = exc
        _sync_files(jobs)                      # 2. sync the files (several at once: the disk overlaps them)
        linked: dict[str, _Folder] = {}
        for job in jobs:                       # 3. link each under a fresh ID (never replacing a file)
            if job.error is None:
                try:
                    for folder, tmp, _fd in job.written:
                        job.stored.append(mailbox.stored(folder.path / f"{_link_fresh(mailbox, folder, tmp)}.eml"))
                        linked[str(folder.path)] = folder
                except Exception as exc:
                    job.error = exc
        synced: set[str] = set()
        for key, folder in linked.items():     # 4. make the new names durable, one sync per folder
            try:
                folder.sync()
                synced.add(key)
            except OSError as exc:
                for job in jobs:
                    if job.error is None and any(str(f.path) == key for f, _t, _fd in job.written):
                        job.error = exc
    finally:
        for job in jobs:
            for folder, tmp, fd in job.written:
                if fd >= 0:
                    os.close(fd)
                folder.unlink(tmp)
        for folder in folders.values():
            folder.close()
    for job in jobs:                           # 5. only now answer
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.stored)


SYNC_THREADS = 4
_syncers: concurrent.futures.ThreadPoolExecutor | None = None
_syncers_lock = threading.Lock()


def _fsync(fd: int) -> OSError | None:
    try:
        os.fsync(fd)
    except OSError as exc:
        return exc
    return None


def _sync_files(jobs: list[Job]) -> None:
    """fsync every written file of the batch (each job's error set if one of its files fails),
    then close them. A batch of several files is synced by up to SYNC_THREADS threads at once:
    the disk serves concurrent syncs together (on the lab's VM disk: 0.30 ms per file one at a
    time, 0.15 ms with four), and the batch is answered only once every one is done."""
    global _syncers
    entries = [(job, entry) for job in jobs for entry in job.written]
    wanted = [entry[2] for job, entry in entries if job.error is None]
    if len(wanted) > 1:
        with _syncers_lock:
            if _syncers is None:
                _syncers = concurrent.futures.ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="lab-fsync")
        results = dict(zip(wanted, _syncers.map(_fsync, wanted), strict=True))
    else:
        results = {fd: _fsync(fd) for fd in wanted}
    for job, entry in entries:
        fd, entry[2] = entry[2], -1
        error = results.get(fd)
        if error is not None and job.error is None:
            job.error = error
        os.close(fd)


def _link_fresh(mailbox: Target, folder: _Folder, tmp: str) -> str:
    for _ in range(1000):
        ident = mailbox.next_id()
        try:
            folder.link(tmp, f"{ident}.eml")  # atomic, and refuses to replace another server's file
        except FileExistsError:
            continue
        except OSError:  # a file system without hard links: rename, unless the name is taken
            if folder.exists(f"{ident}.eml"):
                continue
            folder.replace(tmp, f"{ident}.eml")
        return ident
    raise mailbox.refused(f"no free message name in {folder.path}; check the mailbox folder")


class GroupWriter:
    """The writer thread: `submit()` queues a message's copies; the future resolves once they are on disk."""

    def __init__(self, mailbox: Target) -> None:
        self.mailbox = mailbox
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, items: list[tuple[str, bytes]]) -> concurrent.futures.Future:
        job = Job(items)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="smtp-shell-lab-writer", daemon=True)
                self._thread.start()
            self._queue.put(job)
        return job.future

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            jobs = [job]
            while len(jobs) < MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                jobs.append(more)
            try:
                write_batch(self.mailbox, jobs)
            except BaseException as exc:  # never leave a client waiting for an answer
                for pending in jobs:
                    if not pending.future.done():
                        pending.future.set_exception(exc)

    def close(self) -> None:
        """Finish what is queued and stop the thread (a later submit starts a new one)."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            thread.join(timeout=30)
