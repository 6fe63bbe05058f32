"""A plain aiosmtpd server for tests (not the lab server: an independent implementation),
with STARTTLS on a test certificate and AUTH LOGIN/PLAIN for one account."""

from __future__ import annotations

import socket
import ssl
import warnings
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from smtp_shell.lab.certificate import make_certificate, write_pair

USER, PASSWORD = "student", "s3cret-Pa55"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 2.0.0 Message accepted"


def _authenticator(server, session, envelope, mechanism, auth_data):
    if isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode():
        return AuthResult(success=True)
    return AuthResult(success=False, handled=False)


class PlainAiosmtpd:
    def __init__(self, tmp: Path, **kwargs) -> None:
        cert, key = make_certificate(("localhost", "127.0.0.1", "::1"), common_name="aiosmtpd test")
        self.pair = write_pair(cert, key, tmp / "test-cert.pem", tmp / "test-key.pem")
        self.cafile = self.pair.cert_path
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.pair.cert_path, self.pair.key_path)
        self.handler = _Handler()
        self.port = free_port()
        self.host = "127.0.0.1"
        self.controller = Controller(
            self.handler, hostname=self.host, port=self.port, server_hostname="aiosmtpd.test",
            tls_context=ctx, require_starttls=False, authenticator=_authenticator,
            auth_require_tls=True, decode_data=False, **kwargs)

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def messages(self) -> list[bytes]:
        return [e.original_content for e in self.handler.envelopes]

    def start(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
