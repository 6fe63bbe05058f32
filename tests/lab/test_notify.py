"""A broken lab listener never breaks the others, and never fails silently: it is logged once."""

from __future__ import annotations

import logging
import smtplib

import pytest

from smtp_shell.lab.notify import call_each


@pytest.mark.timeout(10)
def test_a_failing_listener_is_logged_once_and_the_others_still_run(caplog):
    seen = []

    def broken(x):
        raise ValueError("listener bug")

    with caplog.at_level(logging.ERROR, logger="smtp_shell.lab"):
        for n in (1, 2, 3):
            call_each((broken, seen.append), n)
    assert seen == [1, 2, 3]
    failures = [r for r in caplog.records if "lab listener" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info and "listener bug" in str(failures[0].exc_info[1])


@pytest.mark.timeout(30)
def test_a_failing_observer_does_not_break_a_real_session(tmp_path, caplog):
    from smtp_shell.lab import LabConfig, LabServer

    server = LabServer(LabConfig(host="127.0.0.1", port=0, mailbox=tmp_path / "mailbox"))

    def broken(session, kind, data):
        raise RuntimeError("observer bug")

    server.observers.append(broken)
    server.start()
    try:
        with caplog.at_level(logging.ERROR, logger="smtp_shell.lab"), \
                smtplib.SMTP(server.host, server.port, timeout=10) as client:
            client.ehlo("me.example")
            client.sendmail("a@lab.test", ["b@lab.test"], b"Subject: x\r\n\r\nbody\r\n")
    finally:
        server.stop()
    assert any("observer bug" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
