"""Shared fixtures: an isolated data directory for every test, and a plain aiosmtpd server on
127.0.0.1 with a test certificate for STARTTLS and AUTH LOGIN/PLAIN (an independent peer)."""

from __future__ import annotations

import pytest

from tests.support.servers import PlainAiosmtpd


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("smtp-shell-home")
    monkeypatch.setenv("SMTP_SHELL_HOME", str(home))
    monkeypatch.setenv("NO_COLOR", "1")
    return home


@pytest.fixture
def aiosmtpd_server(tmp_path):
    server = PlainAiosmtpd(tmp_path)
    server.start()
    yield server
    server.stop()
