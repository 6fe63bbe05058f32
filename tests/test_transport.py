"""Transport tests against real asyncio servers on 127.0.0.1 (no socket or ssl mocks).

Why this exists: transport.py is where the network's failures become sentences a student acts
on, so each failure is provoked for real (refused port, wrong certificate, TLS on the wrong
kind of port, plaintext injected before STARTTLS, a server flooding or not reading) and the
exact kind and sentence are checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smtp_shell.transport import (
    ErrorKind,
    TLSSettings,
    TransportError,
    looks_like_tls,
    silence_hint,
)
from smtp_shell.transport.aio import READ_HIGH_WATER, Connection
from tests.certs import make_test_certs, server_context

HOST = "127.0.0.1"

pytestmark = pytest.mark.timeout(20)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_test_certs(tmp_path_factory.mktemp("certs"))


def run(coro, limit: float = 10.0):
    """Run one test coroutine on a fresh loop, bounded."""
    return asyncio.run(asyncio.wait_for(coro, limit))


@contextlib.asynccontextmanager
async def serve(handler, ssl_context=None):
    """An asyncio server on 127.0.0.1 running `handler(reader, writer)`; yields the port."""
    tasks: set[asyncio.Task] = set()

    async def wrapped(reader, writer):
        task = asyncio.current_task()
        tasks.add(task)
        try:
            await handler(reader, writer)
        except (asyncio.CancelledError, ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, OSError):
            pass
        finally:
            writer.transport.abort()

    server = await asyncio.start_server(wrapped, HOST, 0, ssl=ssl_context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


async def receive_until(conn: Connection, marker: bytes, timeout: float = 3.0) -> bytes:
    data = b""
    while marker not in data:
        chunk = await conn.receive(timeout=timeout)
        if not chunk:
            break
        data += chunk
    return data


async def expect_error(coro) -> TransportError:
    with pytest.raises(TransportError) as info:
        await coro
    return info.value


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# small pure pieces


def test_error_is_its_message():
    err = TransportError(ErrorKind.CLOSED, "The server closed the connection; use :reconnect.")
    assert str(err) == err.message and err.kind is ErrorKind.CLOSED
    assert ErrorKind.REFUSED == "refused"


def test_looks_like_tls():
    assert looks_like_tls(b"\x16\x03\x01\x00\x05")
    assert looks_like_tls(b"\x15\x03\x03\x00\x02\x02\x46")
    assert not looks_like_tls(b"220 ready\r\n")
    assert not looks_like_tls(b"\x16")
    assert not looks_like_tls(b"")


@given(st.binary(max_size=40).map(lambda b: b"220" + b))
def test_smtp_replies_never_look_like_tls(data):
    assert not looks_like_tls(data)


def test_silence_hint_sentences():
    assert silence_hint(465, "127.0.0.1") == (
        "127.0.0.1:465 sent no greeting; port 465 expects TLS from the first byte, so try --tls.")
    assert silence_hint(465, "mail.example", 5) == (
        "mail.example:465 sent no greeting within 5 seconds; port 465 expects TLS from the first byte, "
        "so try --tls.")
    assert silence_hint(2525, "127.0.0.1", 2.5) == (
        "127.0.0.1:2525 sent no greeting within 2.5 seconds; check the port, or try --tls if it expects "
        "TLS from the first byte.")
    assert silence_hint(993).startswith("The server on port 993 sent no greeting;")


# ---------------------------------------------------------------------------------------------
# plaintext


def test_send_receive_round_trip():
    async def handler(reader, writer):
        writer.write(b"220 hello\r\n")
        line = await reader.readline()
        writer.write(b"250 got " + line)
        await writer.drain()
        await reader.read()

    async def main():
        async with serve(handler) as port:
            conn = await Connection.open(HOST, port)
            assert conn.peer == f"127.0.0.1:{port}"
            assert conn.tls_info is None and not conn.closed
            assert await receive_until(conn, b"\r\n") == b"220 hello\r\n"
            await conn.send(b"EHLO me\r\n")
            assert await receive_until(conn, b"\r\n") == b"250 got EHLO me\r\n"
            await conn.close()
            assert conn.closed

    run(main())


def test_localhost_name_connects():
    async def handler(reader, writer):
        writer.write(b"220 hi\r\n")
        await reader.read()

    async def main():
        async with serve(handler) as port:  # listens on 127.0.0.1 only; ::1 may be tried first and refused
            conn = await Connection.open("localhost", port)
            assert await receive_until(conn, b"\r\n") == b"220 hi\r\n"
            await conn.close()

    run(main())


def test_receive_returns_empty_when_server_closes_and_send_then_fails():
    async def handler(reader, writer):
        writer.write(b"221 bye\r\n")
        await writer.drain()
        writer.close()

    async def main():
        async with serve(handler) as port:
            conn = await Connection.open(HOST, port)
            await asyncio.sleep(0.2)  # the reply and the close have both arrived
            assert not conn.closed  # ... but the reply has not been read yet
            data = b""
            while chunk := await conn.receive(timeout=3):
                data += chunk
            assert data == b"221 bye\r\n"
            assert await conn.receive(timeout=1) == b""  # stays closed
            assert conn.closed
            err = await expect_error(conn.send(b"NOOP\r\n"))
            assert err.kind is ErrorKind.CLOSED
            assert err.message == "The server closed the connection; use :reconnect to start a new session."
            await conn.close()

    run(main())


def test_close_is_idempotent_and_final():
    async def handler(reader, writer):
        await reader.read()

    async def main():
        async with serve(handler) as port:
            conn = await Connection.open(HOST, port)
            await conn.close()
            await conn.close()
            assert conn.closed
            assert await conn.receive(timeout=0.1) == b""
            err = await expect_error(conn.send(b"x"))
            assert err.kind is ErrorKind.CLOSED
            assert err.message == "The connection is already closed; use :reconnect to start a new session."

    run(main())


def test_receive_timeout_after_greeting():
    async def handler(reader, writer):
        writer.write(b"220 hi\r\n")
        await reader.read()

    async def main():
        async with serve(handler) as port:
            conn = await Connection.open(HOST, port)
            assert await receive_until(conn, b"\r\n") == b"220 hi\r\n"
            started = time.monotonic()
            err = await expect_error(conn.receive(timeout=0.2))
            assert time.monotonic() - started < 1.5
            assert err.kind is ErrorKind.TIMEOUT
            assert err.message == (f"No reply from 127.0.0.1:{port} within 0.2 seconds; wait longer with "
                                   f"--timeout, or use :reconnect to start a new session.")
            # the connection is still usable after a timeout
            await conn.send(b"NOOP\r\n")
            await conn.close()

    run(main())


def test_receive_timeout_before_any_byte_is_the_silence_hint():
    async def handler(reader, writer):
        await reader.read()

    async def main():
        async with serve(handler) as port:
            conn = await Connection.open(HOST, port)
            err = await expect_error(conn.receive(timeout=0.2))
            assert err.kind is ErrorKind.TIMEOUT
            assert err.message == silence_hint(port, HOST, 0.2)
            assert err.message == (f"127.0.0.1:{port} sent no greeting within 0.2 seconds; check the port, "
                                   f"or try --tls if it expects TLS from the first byte.")
            await conn.close()

    run(main())


def test_refused():
    port = free_port()

    async def main():
        err = await expect_error(Connection.open(HOST, port, connect_timeout=3))
        assert err.kind is ErrorKind.REFUSED
        assert err.message == (f"Connection to 127.0.0.1:{port} was refused: nothing is listening there; "
                               f"check the host and port (the lab server is on 8025 by default).")

    run(main())


def test_dns_failure(monkeypatch):
    """A name the resolver does not know, without asking a real resolver (tests make no DNS lookups)."""
    async def no_such_name(self, host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "getaddrinfo", no_such_name)

    async def main():
        err = await expect_error(Connection.open("nosuch.invalid", 25, connect_timeout=4))
        assert err.kind is ErrorKind.DNS
        assert err.message == ("The host name 'nosuch.invalid' could not be resolved; check the spelling "
                               "or use an IP address.")

    run(main())


def test_connect_timeout():
    """A listener whose accept queue is full makes the kernel drop further SYNs (Linux); skip elsewhere."""

    async def main():
        listener = socket.socket()
        listener.bind((HOST, 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(8):  # fill the accept queue
                s = socket.socket()
                s.setblocking(False)
                with contextlib.suppress(BlockingIOError, OSError):
                    s.connect((HOST, port))
                fillers.append(s)
            await asyncio.sleep(0.1)
            started = time.monotonic()
            try:
                conn = await Connection.open(HOST, port, connect_timeout=0.5)
            except TransportError as err:
                if err.kind is not ErrorKind.TIMEOUT:
                    pytest.skip(f"this system does not drop SYNs on a full backlog ({err.kind.name})")
                assert time.monotonic() - started < 2
                assert err.message == (f"No answer from 127.0.0.1:{port} within 0.5 seconds; check the address "
                                       f"or raise --timeout.")
            else:
                await conn.close()
                pytest.skip("this system accepted the connection despite a full backlog")
        finally:
            for s in fillers:
                s.close()
            listener.close()

    run(main())


# ---------------------------------------------------------------------------------------------
# implicit TLS


def _greeter(text: bytes = b"220 tls ready\r\n"):
    async def handler(reader, writer):
        writer.write(text)
        line = await reader.readline()
        writer.write(b"250 got " + line)
        await writer.drain()
        await reader.read()
    return handler


def test_implicit_tls_with_cafile(certs):
    async def main():
        async with serve(_greeter(), server_context(certs.valid)) as port:
            conn = await Connection.open(HOST, port, implicit_tls=True,
                                         tls=TLSSettings(cafile=certs.valid.cert_path))
            info = conn.tls_info
            assert info is not None
            assert info.version.startswith("TLS")
            assert info.cipher
            assert info.verified is True
            assert "CN=smtp-shell test" in info.subject
            assert info.issuer == info.subject and info.self_signed is True
            assert info.fingerprint_sha256 == certs.valid.fingerprint()
            assert info.server_hostname == HOST
            assert info.not_before.endswith(" UTC") and info.not_after.endswith(" UTC")
            assert await receive_until(conn, b"\r\n") == b"220 tls ready\r\n"
            await conn.send(b"EHLO me\r\n")
            assert await receive_until(conn, b"\r\n") == b"250 got EHLO me\r\n"
            await conn.close()
            await conn.close()

    run(main())


def test_implicit_tls_ca_signed_by_name(certs):
    async def main():
        async with serve(_greeter(), server_context(certs.ca_signed)) as port:
            conn = await Connection.open("localhost", port, implicit_tls=True,
                                         tls=TLSSettings(cafile=certs.ca.cert_path))
            info = conn.tls_info
            assert info.verified and not info.self_signed
            assert info.issuer == "CN=smtp-shell test CA"
            assert info.subject == "CN=ca-signed leaf"
            assert info.server_hostname == "localhost"
            assert await receive_until(conn, b"\r\n") == b"220 tls ready\r\n"
            await conn.close()

    run(main())


def test_ipv6_loopback_tls(certs):
    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")

    async def main():
        try:
            server = await asyncio.start_server(_greeter(), "::1", 0, ssl=server_context(certs.valid))
        except OSError:
            pytest.skip("::1 is not available here")
        port = server.sockets[0].getsockname()[1]
        try:
            conn = await Connection.open("::1", port, implicit_tls=True,
                                         tls=TLSSettings(cafile=certs.valid.cert_path))
            assert conn.peer == f"[::1]:{port}"
            assert conn.tls_info.verified and conn.tls_info.server_hostname == "::1"
            assert await receive_until(conn, b"\r\n") == b"220 tls ready\r\n"
            await conn.close()
        finally:
            server.close()

    run(main())


def test_implicit_tls_against_plaintext_server():
    async def handler(reader, writer):
        writer.write(b"220 plain smtp\r\n")
        await writer.drain()
        await reader.read()

    async def main():
        async with serve(handler) as port:
            err = await expect_error(Connection.open(HOST, port, implicit_tls=True, connect_timeout=3))
            assert err.kind is ErrorKind.TLS_ON_PLAIN_PORT
            assert err.message == (f"127.0.0.1:{port} does not speak TLS from the first byte; drop --tls and "
                                   f"use STARTTLS after EHLO.")

    run(main())


def test_implicit_tls_server_hangs_up_during_handshake():
    async def handler(reader, writer):
        await reader.read(1)  # the start of the ClientHello, then hang up
        writer.close()

    async def main():
        async with serve(handler) as port:
            err = await expect_error(Connection.open(HOST, port, implicit_tls=True, connect_timeout=3))
            assert err.kind is ErrorKind.TLS_HANDSHAKE
            assert err.message.startswith(f"127.0.0.1:{port} closed the connection during the TLS handshake (")
            assert err.message.endswith("drop --tls and use STARTTLS after EHLO if it does not speak TLS "
                                        "from the first byte.")

    run(main())


def test_implicit_tls_handshake_timeout():
    async def handler(reader, writer):
        await reader.read()  # plaintext server that waits for the client: never answers the ClientHello

    async def main():
        async with serve(handler) as port:
            err = await expect_error(Connection.open(HOST, port, implicit_tls=True, connect_timeout=0.5))
            assert err.kind is ErrorKind.TIMEOUT
            assert err.message == (f"127.0.0.1:{port} did not complete a TLS handshake within 0.5 seconds; if it "
                                   f"does not speak TLS from the first byte, drop --tls and use STARTTLS after EHLO.")

    run(main())


def test_plaintext_client_against_tls_server_hears_silence(certs):
    async def main():
        async with serve(_greeter(), server_context(certs.valid)) as port:
            conn = await Connection.open(HOST, port)
            err = await expect_error(conn.receive(timeout=0.3))
            assert err.kind is ErrorKind.TIMEOUT
            assert err.message == silence_hint(port, HOST, 0.3)
            # typing anyway: the TLS server rejects the plaintext, either with a TLS alert (which
            # receive() recognises) or by hanging up
            await conn.send(b"EHLO me\r\n")
            try:
                data = await conn.receive(timeout=3)
            except TransportError as err2:
                assert err2.kind is ErrorKind.PLAIN_ON_TLS_PORT
            else:
                assert data == b""
            await conn.close()

    run(main())


def test_tls_record_instead_of_greeting():
    async def handler(reader, writer):
        writer.write(b"\x15\x03\x03\x00\x02\x02\x46")  # a TLS alert record
        await reader.read()

    async def main():
        async with serve(handler) as port:
            conn = await Connection.open(HOST, port)
            err = await expect_error(conn.receive(timeout=3))
            assert err.kind is ErrorKind.PLAIN_ON_TLS_PORT
            assert err.message == (f"127.0.0.1:{port} answered with TLS instead of a plaintext greeting; it "
                                   f"expects TLS from the first byte, so reconnect with --tls.")
            assert conn.closed

    run(main())


# ---------------------------------------------------------------------------------------------
# certificate failures (implicit TLS and STARTTLS)


def _expired_sentence():
    return ("The server's certificate expired on 2020-01-01; the server must renew it "
            "(or pass --insecure to continue anyway).")


def _wrong_host_sentence(host):
    return (f"The server's certificate is for 'other.example' but you connected to '{host}'; connect using a "
            f"name the certificate covers, or pass --insecure.")


CERT_CASES = {
    # name: (server cert attr, trusted cafile attr or None for the system store, kind, sentence)
    "expired": ("expired", "expired", ErrorKind.CERT_EXPIRED, _expired_sentence()),
    "wrong_host": ("wrong_host", "wrong_host", ErrorKind.CERT_HOSTNAME, _wrong_host_sentence(HOST)),
    "self_signed_unknown": ("unknown", "valid", ErrorKind.CERT_UNVERIFIED,
                            "The server's certificate is not trusted (self-signed: CN=unknown test); pass "
                            "--cafile with the server's certificate, or --insecure to skip the check."),
    "self_signed_system_store": ("unknown", None, ErrorKind.CERT_UNVERIFIED,
                                 "The server's certificate is not trusted (self-signed: CN=unknown test); pass "
                                 "--cafile with the server's certificate, or --insecure to skip the check."),
    "unknown_issuer": ("unknown_ca_signed", "ca", ErrorKind.CERT_UNVERIFIED,
                       "The server's certificate is not trusted (unknown issuer: CN=nobody's CA); pass "
                       "--cafile with the issuer's certificate, or --insecure to skip the check."),
}


@pytest.mark.parametrize("case", sorted(CERT_CASES))
def test_certificate_failures_implicit(certs, case):
    server_cert, trusted, kind, sentence = CERT_CASES[case]
    settings = TLSSettings(cafile=getattr(certs, trusted).cert_path if trusted else None)

    async def main():
        async with serve(_greeter(), server_context(getattr(certs, server_cert))) as port:
            err = await expect_error(Connection.open(HOST, port, implicit_tls=True, tls=settings,
                                                     connect_timeout=3))
            assert err.kind is kind
            assert err.message == sentence

    run(main())


def test_wrong_host_by_name(certs):
    async def main():
        async with serve(_greeter(), server_context(certs.wrong_host)) as port:
            err = await expect_error(Connection.open("localhost", port, implicit_tls=True, connect_timeout=3,
                                                     tls=TLSSettings(cafile=certs.wrong_host.cert_path)))
            assert err.kind is ErrorKind.CERT_HOSTNAME
            assert err.message == _wrong_host_sentence("localhost")

    run(main())


@pytest.mark.parametrize("server_cert", ["unknown", "expired", "wrong_host"])
def test_insecure_skips_verification(certs, server_cert):
    async def main():
        async with serve(_greeter(), server_context(getattr(certs, server_cert))) as port:
            conn = await Connection.open(HOST, port, implicit_tls=True, tls=TLSSettings(insecure=True))
            info = conn.tls_info
            assert info.verified is False
            assert info.subject.startswith("CN=") and info.self_signed
            if server_cert == "expired":
                assert info.not_after == "2020-01-01 00:00:00 UTC"
            assert await receive_until(conn, b"\r\n") == b"220 tls ready\r\n"
            await conn.close()

    run(main())


def test_bad_cafile(tmp_path):
    bogus = tmp_path / "not-a-cert.pem"
    bogus.write_text("hello\n")

    async def handler(reader, writer):
        await reader.read()

    async def main():
        async with serve(handler) as port:
            err = await expect_error(Connection.open(HOST, port, implicit_tls=True, tls=TLSSettings(cafile=bogus)))
            assert err.kind is ErrorKind.TLS_HANDSHAKE
            assert err.message.startswith(f"The CA file '{bogus}' could not be loaded (")

    run(main())


# ---------------------------------------------------------------------------------------------
# STARTTLS


def _starttls_server(ctx: ssl.SSLContext, go_ahead: bytes = b"220 go ahead\r\n", injected: bytes = b"",
                     separate: bool = False):
    """220 greeting; on STARTTLS send `go_ahead` (+ `injected`, in the same or a later write), upgrade,
    then answer each line with '250 secure <line>'."""

    async def handler(reader, writer):
        writer.write(b"220 plain ready\r\n")
        line = await reader.readline()
        assert line == b"STARTTLS\r\n"
        if separate:
            writer.write(go_ahead)
            await writer.drain()
            await asyncio.sleep(0.1)
            writer.write(injected)
        else:
            writer.write(go_ahead + injected)
        await writer.drain()
        await writer.start_tls(ctx)
        while line := await reader.readline():
            writer.write(b"250 secure " + line)
            await writer.drain()

    return handler


def test_starttls_upgrades_the_same_connection(certs):
    async def main():
        async with serve(_starttls_server(server_context(certs.valid))) as port:
            conn = await Connection.open(HOST, port, tls=TLSSettings(cafile=certs.valid.cert_path))
            assert await receive_until(conn, b"\r\n") == b"220 plain ready\r\n"
            await conn.send(b"STARTTLS\r\n")
            assert await receive_until(conn, b"\r\n") == b"220 go ahead\r\n"
            info, leftover = await conn.starttls()
            assert leftover == b""
            assert conn.tls_info is info and info.verified and info.version.startswith("TLS")
            assert info.subject == "CN=smtp-shell test"
            await conn.send(b"EHLO me\r\n")
            assert await receive_until(conn, b"\r\n") == b"250 secure EHLO me\r\n"
            err = await expect_error(conn.starttls())
            assert err.kind is ErrorKind.TLS_HANDSHAKE
            await conn.close()

    run(main())


def test_starttls_injection_in_the_same_write(certs):
    """The injected line arrives with the 220 in one chunk: receive() hands both to the caller's parser."""

    async def main():
        handler = _starttls_server(server_context(certs.valid), injected=b"250 injected\r\n")
        async with serve(handler) as port:
            conn = await Connection.open(HOST, port, tls=TLSSettings(cafile=certs.valid.cert_path))
            assert await receive_until(conn, b"\r\n") == b"220 plain ready\r\n"
            await conn.send(b"STARTTLS\r\n")
            received = await receive_until(conn, b"\r\n")
            assert received.startswith(b"220 go ahead\r\n")
            _info, leftover = await conn.starttls()
            assert received + leftover == b"220 go ahead\r\n250 injected\r\n"
            await conn.send(b"NOOP\r\n")
            assert await receive_until(conn, b"\r\n") == b"250 secure NOOP\r\n"
            await conn.close()

    run(main())


def test_starttls_injection_in_a_separate_write_comes_back_as_leftover(certs):
    async def main():
        handler = _starttls_server(server_context(certs.valid), injected=b"250 injected\r\n", separate=True)
        async with serve(handler) as port:
            conn = await Connection.open(HOST, port, tls=TLSSettings(cafile=certs.valid.cert_path))
            assert await receive_until(conn, b"\r\n") == b"220 plain ready\r\n"
            await conn.send(b"STARTTLS\r\n")
            assert await receive_until(conn, b"\r\n") == b"220 go ahead\r\n"
            await asyncio.sleep(0.4)  # the injected line arrives while the client "parses" the 220
            _info, leftover = await conn.starttls()
            assert leftover == b"250 injected\r\n"
            await conn.send(b"NOOP\r\n")
            after = await receive_until(conn, b"\r\n")
            assert after == b"250 secure NOOP\r\n"  # never delivered by receive()
            await conn.close()

    run(main())


@pytest.mark.parametrize("case", ["expired", "wrong_host", "self_signed_unknown"])
def test_certificate_failures_starttls(certs, case):
    server_cert, trusted, kind, sentence = CERT_CASES[case]

    async def main():
        async with serve(_starttls_server(server_context(getattr(certs, server_cert)))) as port:
            conn = await Connection.open(HOST, port, tls=TLSSettings(cafile=getattr(certs, trusted).cert_path))
            await receive_until(conn, b"\r\n")
            await conn.send(b"STARTTLS\r\n")
            await receive_until(conn, b"\r\n")
            err = await expect_error(conn.starttls())
            assert err.kind is kind and err.message == sentence
            assert conn.closed and conn.tls_info is None
            assert await conn.receive(timeout=0.1) == b""
            await conn.close()

    run(main())


def test_starttls_insecure(certs):
    async def main():
        async with serve(_starttls_server(server_context(certs.unknown))) as port:
            conn = await Connection.open(HOST, port, tls=TLSSettings(insecure=True))
            await receive_until(conn, b"\r\n")
            await conn.send(b"STARTTLS\r\n")
            await receive_until(conn, b"\r\n")
            info, leftover = await conn.starttls()
            assert info.verified is False and info.subject == "CN=unknown test" and leftover == b""
            await conn.send(b"NOOP\r\n")
            assert await receive_until(conn, b"\r\n") == b"250 secure NOOP\r\n"
            await conn.close()

    run(main())


def test_starttls_after_server_closed():
    async def handler(reader, writer):
        writer.write(b"220 plain ready\r\n")
        await reader.readline()
        writer.write(b"454 TLS not available\r\n")
        await writer.drain()
        writer.close()

    async def main():
        async with serve(handler) as port:
            conn = await Connection.open(HOST, port)
            await receive_until(conn, b"\r\n")
            await conn.send(b"STARTTLS\r\n")
            await asyncio.sleep(0.3)
            err = await expect_error(conn.starttls())
            assert err.kind is ErrorKind.CLOSED
            assert err.message == ("The server closed the connection instead of starting TLS; use :reconnect to "
                                   "start a new session.")

    run(main())


def test_starttls_server_answers_in_plaintext():
    async def handler(reader, writer):
        writer.write(b"220 plain ready\r\n")
        await reader.readline()
        writer.write(b"220 go ahead\r\n")
        await writer.drain()
        await reader.read(1)  # the ClientHello starts arriving: answer it with plaintext
        writer.write(b"500 what is this\r\n")
        await writer.drain()
        await reader.read()

    async def main():
        async with serve(handler) as port:
            conn = await Connection.open(HOST, port, tls=TLSSettings(insecure=True))
            await receive_until(conn, b"\r\n")
            await conn.send(b"STARTTLS\r\n")
            await receive_until(conn, b"220 go ahead\r\n")
            err = await expect_error(conn.starttls(timeout=3))
            assert err.kind is ErrorKind.TLS_HANDSHAKE
            assert err.message.startswith(f"127.0.0.1:{port} answered the TLS handshake with plaintext (")

    run(main())


# ---------------------------------------------------------------------------------------------
# flow control


def _pattern(size: int) -> bytes:
    block = bytes(range(256)) * 256  # 64 KiB
    return (block * (size // len(block) + 1))[:size]


@pytest.mark.parametrize("use_tls", [False, True])
def test_flood_while_reading_slowly(certs, use_tls):
    total = 5 * 1024 * 1024
    expected = _pattern(total)

    async def handler(reader, writer):
        for i in range(0, total, 256 * 1024):
            writer.write(expected[i:i + 256 * 1024])
            await writer.drain()
        writer.close()

    async def main():
        ctx = server_context(certs.valid) if use_tls else None
        async with serve(handler, ctx) as port:
            conn = await Connection.open(HOST, port, implicit_tls=use_tls,
                                         tls=TLSSettings(cafile=certs.valid.cert_path))
            received = bytearray()
            largest = 0
            await asyncio.sleep(0.3)  # let the server push as much as it can
            while chunk := await conn.receive(timeout=3):
                largest = max(largest, len(chunk))
                received += chunk
                await asyncio.sleep(0.02)
            assert bytes(received) == expected
            # reading paused at the high-water mark: no single hand-over is much bigger than 1 MiB
            assert largest <= READ_HIGH_WATER + 512 * 1024
            await conn.close()

    run(main(), limit=15)


@pytest.mark.parametrize("use_tls,megabytes", [(False, 50), (True, 20)])
def test_big_send_in_chunks(certs, use_tls, megabytes):
    total = megabytes * 1024 * 1024
    chunk = _pattern(64 * 1024)

    async def handler(reader, writer):
        await asyncio.sleep(0.3)  # not reading at first: the client must wait, not buffer
        count = 0
        while count < total:
            data = await reader.read(256 * 1024)
            if not data:
                break
            count += len(data)
        writer.write(f"250 {count}\r\n".encode())
        await writer.drain()
        await reader.read()

    async def main():
        ctx = server_context(certs.valid) if use_tls else None
        async with serve(handler, ctx) as port:
            conn = await Connection.open(HOST, port, implicit_tls=use_tls,
                                         tls=TLSSettings(cafile=certs.valid.cert_path))
            biggest_buffer = 0
            for _ in range(total // len(chunk)):
                await conn.send(chunk)
                biggest_buffer = max(biggest_buffer, conn._transport.get_write_buffer_size())
            assert biggest_buffer <= 1024 * 1024
            assert await receive_until(conn, b"\r\n", timeout=5) == f"250 {total}\r\n".encode()
            await conn.close()

    run(main(), limit=15)


def test_send_timeout_when_server_never_reads():
    async def handler(reader, writer):
        await asyncio.sleep(30)

    async def main():
        async with serve(handler) as port:
            conn = await Connection.open(HOST, port)
            block = b"x" * (1024 * 1024)
            with pytest.raises(TransportError) as info:
                for _ in range(200):  # far more than the kernel buffers hold
                    await conn.send(block, timeout=0.3)
            assert info.value.kind is ErrorKind.TIMEOUT
            assert info.value.message == (f"127.0.0.1:{port} accepted no data for 0.3 seconds; raise --timeout, "
                                          f"or use :reconnect to start a new session.")
            await conn.close()

    run(main())
