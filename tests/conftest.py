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


# -- markers: `pytest -m "not slow"` is the quick loop -------------------------------------------
# Marked by rule rather than by hand, so a new test is marked the day it is written:
# `pty`: the test drives a real terminal (its code spawns one with pexpect, or its module is *_pty);
# `slow`: every pty test, a browser, and the modules below that run fleets, kills or property searches.
_SLOW_MODULES = {"test_bench_smoke", "test_crash_safety", "test_properties", "test_lab_abuse", "test_fuzz"}


def pytest_collection_modifyitems(config, items):
    import inspect

    for item in items:
        function = getattr(item, "function", None)
        try:
            source = inspect.getsource(function) if function is not None else ""
        except (OSError, TypeError):
            source = ""
        module = item.module.__name__.rsplit(".", 1)[-1] if getattr(item, "module", None) else ""
        if "pexpect" in source or "spawn" in source or module.endswith("_pty"):
            item.add_marker(pytest.mark.pty)
            item.add_marker(pytest.mark.slow)
        elif module in _SLOW_MODULES or "chromium" in source.lower():
            item.add_marker(pytest.mark.slow)
