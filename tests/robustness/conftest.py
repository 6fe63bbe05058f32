"""Fixtures for the robustness suite: hostile servers on 127.0.0.1, test certificates, and
helpers that run the real shell (batch subprocess) and check it never leaks a traceback or a
raw control character."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.certs import make_test_certs
from tests.robustness.hostile import HostileServer
from tests.shell.helpers import env


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    return make_test_certs(tmp_path_factory.mktemp("robust-certs"))


@pytest.fixture
def hostile():
    """`server = hostile(script, tls_context=..., implicit_tls=...)`: started now, stopped after the test."""
    servers: list[HostileServer] = []

    def make(script, **kwargs) -> HostileServer:
        server = HostileServer(script, **kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


def shell(args, stdin_text: str, home, timeout: float = 30) -> subprocess.CompletedProcess:
    """`python -m smtp_shell ARGS` with stdin; output as text (undecodable bytes kept visible)."""
    result = subprocess.run([sys.executable, "-m", "smtp_shell", *map(str, args)], input=stdin_text.encode("utf-8"),
                            capture_output=True, timeout=timeout, env=env(home))
    result.stdout = result.stdout.decode("utf-8", "backslashreplace")
    result.stderr = result.stderr.decode("utf-8", "backslashreplace")
    return result


def batch(server, stdin_text: str, home, *extra, timeout: float = 1) -> subprocess.CompletedProcess:
    """The shell in batch mode against `server` with a short reply timeout."""
    return shell(["connect", server.target, "--batch", "--timeout", f"{timeout:g}", *extra], stdin_text, home)


def assert_clean(result) -> None:
    """No traceback anywhere, no raw ESC or BEL on stdout (server text is always shown escaped)."""
    both = result.stdout + result.stderr
    assert "Traceback" not in both, both
    assert "never retrieved" not in both, both
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout, result.stdout


def errors(out: str) -> list[str]:
    """The shell's own error sentences (`*** ...` lines), in order."""
    return [line[4:] for line in out.splitlines() if line.startswith("*** ")]
