"""Fixtures for the lab server tests: a private data folder, lab servers on free ports, a wire client.

Every test runs a real LabServer on 127.0.0.1 with a tmp_path mailbox, and SMTP_SHELL_HOME points
at a tmp folder so nothing touches the real home. `Wire` is a tiny raw-socket client for the
exchanges smtplib cannot express (pipelining in one write, watching a server hang up).
"""

from __future__ import annotations

import socket
import ssl

import pytest

from smtp_shell.lab import LabConfig, LabServer


@pytest.fixture(autouse=True)
def lab_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("SMTP_SHELL_HOME", str(home))
    return home


@pytest.fixture
def make_lab(tmp_path):
    servers = []

    def make(**options) -> LabServer:
        options.setdefault("host", "127.0.0.1")
        options.setdefault("port", 0)
        options.setdefault("mailbox", tmp_path / "mailbox")
        server = LabServer(LabConfig(**options))
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def lab(make_lab):
    return make_lab(tls_port=0)


class Wire:
    """A line-oriented SMTP client on a raw socket."""

    def __init__(self, host: str, port: int, timeout: float = 10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = b""

    def starttls(self, cafile) -> None:
        context = ssl.create_default_context(cafile=str(cafile))
        self.sock = context.wrap_socket(self.sock, server_hostname="localhost")

    def send(self, data: bytes | str) -> None:
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; unread: {self.buffer!r}")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def reply(self) -> str:
        """One whole (possibly multi-line) reply as text, lines joined with newlines."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3:4] == b"-":
            lines.append(self.line())
        return "\n".join(x.decode() for x in lines)

    def cmd(self, line: str) -> str:
        self.send(line + "\r\n")
        return self.reply()

    def closed(self, timeout: float = 5) -> bool:
        """True when the server has closed the connection (after any unread data)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buffer += chunk
        except (ConnectionResetError, ssl.SSLError):
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def wire():
    opened = []

    def connect(server, port=None) -> Wire:
        w = Wire(server.host, port or server.port)
        opened.append(w)
        return w

    yield connect
    for w in opened:
        w.close()


def eventually(check, timeout: float = 10.0, what: str = "the condition"):
    """Poll `check()` until it returns something truthy (the server finishing work on its own
    thread); that value, or an AssertionError after `timeout` seconds. No fixed sleeps."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never happened within {timeout} s")
        time.sleep(0.02)
