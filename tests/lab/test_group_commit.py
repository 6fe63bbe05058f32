"""The lab answers 250 only once the message is on disk, and saves concurrent messages as one group commit.

Durability is checked where a user would notice it: when a client reads the 250 the saved file
is already there and complete, and the file and its folder have both been synced (without the
folder sync, a crash right after the 250 could lose the message's name). The group commit is
checked with a disk that stalls: messages arriving during one sync are answered together,
after the next one, never before.
"""

from __future__ import annotations

import os
import smtplib
import stat
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from smtp_shell.lab.mailbox import Mailbox, MailboxError


@pytest.fixture
def syncs(monkeypatch):
    """Every os.fsync in this process, as ("dir" | "file", path)."""
    seen: list[tuple[str, str]] = []
    real = os.fsync

    def recording(fd):
        real(fd)
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        seen.append((kind, os.readlink(f"/proc/self/fd/{fd}") if os.path.exists("/proc/self/fd") else ""))

    monkeypatch.setattr(os, "fsync", recording)
    return seen


def _send_and_check(lab, syncs, n: int) -> None:
    body = f"Subject: durable {n}\r\n\r\n".encode() + b"line of text\r\n" * (200 + n)
    with smtplib.SMTP(lab.host, lab.port, timeout=20) as client:
        client.ehlo("durable.test")
        client.mail("student@lab.test")
        client.rcpt(f"teacher{n % 3}@lab.test")
        code, reply = client.data(body)
        seen = list(syncs)  # what was synced by the time this client read its answer
        assert code == 250, reply
        ident = reply.decode().split("saved as ")[1].split()[0]
        saved = lab.mailbox / f"teacher{n % 3}@lab.test" / f"{ident}.eml"
        assert saved.read_bytes().endswith(body)  # there, and complete, when the 250 arrived
        assert any(k == "file" and p.startswith(f"{saved.parent}/.incoming-") for k, p in seen)
        assert ("dir", str(saved.parent)) in seen, "the folder holding the new name was not synced before 250"


def test_the_250_comes_after_file_and_folder_are_synced_for_concurrent_clients(make_lab, syncs):
    if not os.path.exists("/proc/self/fd"):
        pytest.skip("needs /proc to name the synced descriptors")
    lab = make_lab()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: _send_and_check(lab, syncs, n), range(24)))
    assert len(Mailbox(lab.mailbox).messages()) == 24


def test_messages_arriving_during_a_sync_are_answered_together_after_the_next(tmp_path, monkeypatch):
    box = Mailbox(tmp_path / "mb")
    box.ensure_writable()
    entered, release = threading.Event(), threading.Event()
    real, dir_syncs = os.fsync, []

    def stalling(fd):
        if not entered.is_set():
            entered.set()
            assert release.wait(10)
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            dir_syncs.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", stalling)
    try:
        first = box.submit([("a@lab.test", b"Subject: first\r\n\r\n1\r\n")])
        assert entered.wait(10)  # the writer is inside the first sync: the disk is stalled
        later = [box.submit([("a@lab.test", f"Subject: {i}\r\n\r\n{i}\r\n".encode()),
                             ("b@lab.test", f"Subject: {i}\r\n\r\n{i}\r\n".encode())]) for i in range(5)]
        assert not first.done() and not any(f.done() for f in later)  # nobody answered before the disk
        release.set()
        stored = [m for f in [first, *later] for m in f.result(timeout=10)]
    finally:
        release.set()
        box.close()
    assert len(stored) == 11 and len({m.id for m in stored}) == 11
    assert all(m.path.is_file() for m in stored)
    # one folder sync for the first message, then one per folder for the five that waited together
    assert len(dir_syncs) == 3
    assert not list((tmp_path / "mb").rglob(".incoming-*"))


def test_a_client_gone_before_its_turn_does_not_stop_the_writer(tmp_path, monkeypatch):
    box = Mailbox(tmp_path / "mb")
    box.ensure_writable()
    entered, release = threading.Event(), threading.Event()
    real = os.fsync

    def stalling(fd):
        if not entered.is_set():
            entered.set()
            assert release.wait(10)
        real(fd)

    monkeypatch.setattr(os, "fsync", stalling)
    try:
        first = box.submit([("a@lab.test", b"Subject: 1\r\n\r\n1\r\n")])
        assert entered.wait(10)
        gone = box.submit([("a@lab.test", b"Subject: 2\r\n\r\n2\r\n")])
        kept = box.submit([("a@lab.test", b"Subject: 3\r\n\r\n3\r\n")])
        assert gone.cancel()  # what aiosmtpd does to the DATA handler when the client disconnects
        release.set()
        assert len(first.result(timeout=10)) == 1 and len(kept.result(timeout=10)) == 1
        assert len(box.submit([("a@lab.test", b"Subject: 4\r\n\r\n4\r\n")]).result(timeout=10)) == 1
    finally:
        release.set()
        box.close()
    assert len(box.messages()) == 3  # the cancelled one was never answered, so never saved


def test_one_unsavable_message_does_not_fail_the_others_in_its_batch(tmp_path):
    box = Mailbox(tmp_path / "mb")
    box.ensure_writable()
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "mb" / "victim@lab.test").symlink_to(outside, target_is_directory=True)
    try:
        futures = [box.submit([("ok@lab.test", b"Subject: a\r\n\r\na\r\n")]),
                   box.submit([("victim@lab.test", b"Subject: b\r\n\r\nb\r\n")]),
                   box.submit([("ok@lab.test", b"Subject: c\r\n\r\nc\r\n")])]
        assert len(futures[0].result(timeout=10)) == 1 and len(futures[2].result(timeout=10)) == 1
        with pytest.raises(MailboxError, match="symbolic link"):
            futures[1].result(timeout=10)
    finally:
        box.close()
    assert not any(outside.iterdir())


def test_a_file_system_without_hard_links_still_gets_every_message(tmp_path, monkeypatch):
    def no_links(*args, **kwargs):
        raise PermissionError(1, "Operation not permitted")  # what FAT and some network shares say

    monkeypatch.setattr(os, "link", no_links)
    box = Mailbox(tmp_path / "mb")
    box.ensure_writable()
    stored = [box.deliver("a@lab.test", f"Subject: {i}\r\n\r\n{i}\r\n".encode()) for i in range(3)]
    assert [m.read().split(b"\r\n")[0] for m in stored] == [b"Subject: 0", b"Subject: 1", b"Subject: 2"]
    assert len({m.id for m in stored}) == 3 and not list((tmp_path / "mb").rglob(".incoming-*"))


def test_a_failed_sync_fails_only_its_message_when_a_batch_is_synced_at_once(tmp_path, monkeypatch):
    """The files of a batch are synced by several threads at once (groupcommit._sync_files); a
    disk error on one file must fail that message alone, after every other file is synced."""
    box = Mailbox(tmp_path / "mb")
    box.ensure_writable()
    entered, release = threading.Event(), threading.Event()
    real = os.fsync
    poison = b"Subject: poison\r\n\r\n" + b"x" * 777 + b"\r\n"  # a size no other message has

    def flaky(fd):
        if not entered.is_set():
            entered.set()
            assert release.wait(10)
        if os.fstat(fd).st_size == len(poison):
            raise OSError(5, "Input/output error")
        real(fd)

    monkeypatch.setattr(os, "fsync", flaky)
    try:
        first = box.submit([("a@lab.test", b"Subject: first\r\n\r\n1\r\n")])
        assert entered.wait(10)  # the next three wait together for one batch
        good = [box.submit([("a@lab.test", f"Subject: {i}\r\n\r\n{i}\r\n".encode())]) for i in range(2)]
        bad = box.submit([("a@lab.test", poison)])
        release.set()
        assert len(first.result(timeout=10)) == 1 and all(len(f.result(timeout=10)) == 1 for f in good)
        with pytest.raises(OSError, match="Input/output"):
            bad.result(timeout=10)
    finally:
        release.set()
        box.close()
    assert len(box.messages()) == 3 and not list((tmp_path / "mb").rglob(".incoming-*"))
