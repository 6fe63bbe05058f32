"""Fixtures for the web view tests: a lab server with the web view on free loopback ports, as
`smtp-shell lab --web` runs it (its session tracker observing, the view in the lab's loop)."""

from __future__ import annotations

import pytest

from smtp_shell.lab import LabConfig, LabServer
from smtp_shell.lab.tracker import SessionTracker
from smtp_shell.lab.web.app import WebView

USERS = {"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw"}


@pytest.fixture
def web_lab(tmp_path):
    started = []

    def start(token: str | None = None, **web_options):
        server = LabServer(LabConfig(host="127.0.0.1", port=0, mailbox=tmp_path / "mailbox", users=dict(USERS)))
        tracker = SessionTracker()
        server.observers.append(tracker)
        server.start()
        view = WebView(server, tracker, "127.0.0.1", 0, **web_options)
        view.token = token
        view.start()
        started.append((server, view))
        return server, view

    yield start
    for server, view in started:
        view.stop()
        server.stop()
