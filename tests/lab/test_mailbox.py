"""Mailbox layout: safe folder names, server-made file names, crash-safe writes, restarts."""

from __future__ import annotations

import smtplib

from hypothesis import given
from hypothesis import strategies as st

from smtp_shell.lab.mailbox import Mailbox, safe_folder_name, split_trace


@given(st.text(max_size=400))
def test_folder_names_are_always_safe(address):
    name = safe_folder_name(address)
    assert name and len(name) <= 80
    assert all(c in "abcdefghijklmnopqrstuvwxyz0123456789._@+-" for c in name)
    assert ".." not in name and not name.startswith((".", "_", "-")) and not name.endswith(".")


def test_folder_names_for_ordinary_and_hostile_addresses():
    assert safe_folder_name("Teacher@Lab.Test") == "teacher@lab.test"
    assert safe_folder_name("../../etc/passwd@x").startswith("x__")
    assert safe_folder_name("a/b@x") != safe_folder_name("a_b@x")
    assert safe_folder_name("_logs") != "_logs"
    assert safe_folder_name("nul") != "nul"


def test_delivery_is_atomic_and_ids_survive_restart(tmp_path):
    box = Mailbox(tmp_path / "mb")
    box.ensure_writable()
    first = box.deliver("a@lab.test", b"Subject: 1\r\n\r\n1\r\n")
    second = box.deliver("a@lab.test", b"Subject: 2\r\n\r\n2\r\n")
    assert first.id.endswith("-000001") and second.id.endswith("-000002")
    again = Mailbox(tmp_path / "mb").deliver("b@lab.test", b"Subject: 3\r\n\r\n3\r\n")
    assert again.id.endswith("-000003")
    planted = tmp_path / "mb" / "a@lab.test" / ".incoming-half.tmp"  # what a crash would leave
    planted.write_bytes(b"Subject: half")
    assert [m.id for m in Mailbox(tmp_path / "mb").messages()] == [first.id, second.id, again.id]
    assert list((tmp_path / "mb").rglob(".incoming-*")) == [planted]


def test_two_servers_on_one_mailbox_never_overwrite(make_lab, tmp_path):
    one, two = make_lab(), make_lab()
    for server in (one, two, one, two):
        with smtplib.SMTP(server.host, server.port, timeout=10) as client:
            client.sendmail("a@lab.test", ["b@lab.test"], b"Subject: x\r\n\r\nhi\r\n")
    assert len(Mailbox(one.mailbox).messages()) == 4


def test_split_trace_leaves_client_headers_alone():
    raw = b"Received: from elsewhere\r\n\r\nbody\r\n"
    assert split_trace(raw) == (b"", raw)
