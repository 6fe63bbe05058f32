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


# -- batch mode has two drivers (shell/blocking.py, the default, and the asyncio one): the batch
# tests of these modules (those whose code says "batch") run on both, the driver chosen by
# SMTP_SHELL_DRIVER (inherited by every process a test starts). A REPL test runs once: it has one driver.
_BOTH_DRIVERS_MODULES = {
    "test_batch", "test_batch_semantics", "test_bdat_postfix", "test_teaching", "test_hostile_server",
    "test_our_input", "test_hostile_server_limits", "test_secret_paths", "test_record_command", "test_kill",
    "test_feedback", "test_wrong_attempts", "test_profiles", "test_own_client", "test_cli", "test_identity",
    "test_cli_inprocess",
}


def pytest_generate_tests(metafunc):
    import inspect

    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if module not in _BOTH_DRIVERS_MODULES or "batch_driver" in metafunc.fixturenames:
        return
    try:
        source = inspect.getsource(metafunc.function)
    except (OSError, TypeError):
        source = ""
    if "batch" not in source.lower() or "pexpect" in source or "spawn" in source:
        return  # a REPL test (in a pty or in-process) has one driver
    metafunc.fixturenames.append("batch_driver")
    metafunc.parametrize("batch_driver", ["sync", "async"], indirect=True)


@pytest.fixture
def batch_driver(request, monkeypatch):
    """The batch driver this test runs on ("sync" unless parametrized)."""
    name = getattr(request, "param", "sync")
    monkeypatch.setenv("SMTP_SHELL_DRIVER", name)
    return name


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
