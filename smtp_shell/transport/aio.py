"""The asyncio connection: the REPL's, the lessons', replay's and the lab tools'.

Built on asyncio's Protocol API (`loop.create_connection`, `loop.start_tls`), not streams, so
the bytes received after the 220 and before the handshake are known exactly (`starttls()`
returns them as `leftover`). Memory stays bounded: reading pauses while more than 1 MiB is
queued and unread, and `send()` waits for the transport's write buffer to drain
(pause_writing/resume_writing). Every failure is one of the shared sentences of
`smtp_shell.transport`; the contract is written there.
"""

from __future__ import annotations

import asyncio
import collections
import os
import socket
import ssl
from typing import cast

from smtp_shell.address import format_hostport
from smtp_shell.transport import (
    DEFAULT_TLS,
    TLSInfo,
    TLSSettings,
    _is_reset,
    already_closed,
    already_tls,
    closed_instead_of_tls,
    connect_failed,
    connect_timed_out,
    describe_tls,
    distinct_addresses,
    handshake_failed,
    handshake_timed_out,
    looks_like_tls,
    lookup_failed,
    make_context,
    network_failure,
    numeric_addrinfo,
    plain_on_tls_port,
    receive_timed_out,
    send_timed_out,
    server_closed,
    tls_on_plain_port,
    unresolvable,
)

READ_HIGH_WATER = 1024 * 1024  # pause reading while more than this is queued and unread

# --------------------------------------------------------------------------------------------
# the protocol object: a queue of received chunks plus write flow control


class _Pipe(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.chunks: collections.deque[bytes] = collections.deque()
        self.size = 0
        self.eof = False
        self.lost = False
        self.exc: BaseException | None = None
        self.read_paused = False
        self.write_paused = False
        self._data_waiter: asyncio.Future[None] | None = None
        self._lost_waiter: asyncio.Future[None] | None = None
        self._drain_waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    # asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # a stream connection

    def data_received(self, data: bytes) -> None:
        if not data:
            return
        self.chunks.append(bytes(data))
        self.size += len(data)
        if self.size > READ_HIGH_WATER and not self.read_paused and self.transport is not None:
            try:
                self.transport.pause_reading()
                self.read_paused = True
            except RuntimeError:  # the transport is already closing: nothing left to pause
                pass
        self._wake_reader()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake_reader()
        return False  # let the transport close itself

    def connection_lost(self, exc: BaseException | None) -> None:
        if exc is not None:
            self._salvage()
        self.lost = True
        self.eof = True
        if exc is not None and self.exc is None:
            self.exc = exc
        self._wake_reader()
        self.write_paused = False
        self._wake_writers()
        if self._lost_waiter is not None and not self._lost_waiter.done():
            self._lost_waiter.set_result(None)

    def _salvage(self) -> None:
        """A write failed (the server reset the connection) and asyncio is about to close the
        socket: replies the server sent before it left may still be in the kernel, unread (a
        421 before a close is the usual case). Read them now so they are shown and recorded
        before the error. Plaintext only: under TLS those bytes would be records, not replies."""
        transport = self.transport
        if transport is None or transport.get_extra_info("ssl_object") is not None:
            return
        raw = transport.get_extra_info("socket")
        try:
            with socket.socket(fileno=os.dup(raw.fileno())) as sock:
                sock.setblocking(False)
                while len(data := sock.recv(65536)) > 0:
                    self.chunks.append(data)
                    self.size += len(data)
        except (OSError, AttributeError, ValueError):
            pass  # nothing (more) to read: the usual case

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        self._wake_writers()

    # used by Connection
    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        self.size = 0
        if self.read_paused and not self.lost and self.transport is not None:
            try:
                self.transport.resume_reading()
            except RuntimeError:  # the transport is already closing: nothing left to resume
                pass
            self.read_paused = False
        return data

    async def wait_data(self) -> None:
        self._data_waiter = asyncio.get_running_loop().create_future()
        try:
            await self._data_waiter
        finally:
            self._data_waiter = None

    async def wait_lost(self) -> None:
        if not self.lost:
            self._lost_waiter = asyncio.get_running_loop().create_future()
            await self._lost_waiter

    async def drain(self) -> None:
        while self.write_paused and not self.lost:
            fut = asyncio.get_running_loop().create_future()
            self._drain_waiters.append(fut)
            try:
                await fut
            finally:
                if fut in self._drain_waiters:
                    self._drain_waiters.remove(fut)

    def _wake_reader(self) -> None:
        if self._data_waiter is not None and not self._data_waiter.done():
            self._data_waiter.set_result(None)

    def _wake_writers(self) -> None:
        for fut in self._drain_waiters:
            if not fut.done():
                fut.set_result(None)


# --------------------------------------------------------------------------------------------
# the connection


class Connection:
    """One TCP connection to an SMTP server, plaintext or TLS, upgradable with STARTTLS."""

    def __init__(self, host: str, port: int, transport: asyncio.Transport, pipe: _Pipe,
                 tls: TLSSettings, connect_timeout: float) -> None:
        self.host = host
        self.port = port
        self.where = format_hostport(host, port)
        self.tls_info: TLSInfo | None = None
        self._transport = transport
        self._pipe = pipe
        self._tls = tls
        self._connect_timeout = connect_timeout
        self._closed = False
        self._received_any = False
        self._reported_error = False
        self._transport_dead = False  # a failed start_tls already closed the raw transport
        peername = transport.get_extra_info("peername")
        if isinstance(peername, tuple) and len(peername) >= 2:
            self.peer = format_hostport(str(peername[0]).split("%")[0], int(peername[1]))
        else:
            self.peer = self.where

    # ---- open -------------------------------------------------------------------------------

    @classmethod
    async def open(cls, host: str, port: int, *, implicit_tls: bool = False,
                   tls: TLSSettings = DEFAULT_TLS, connect_timeout: float = 10.0) -> Connection:
        """Connect (and, with implicit_tls, complete the TLS handshake) within connect_timeout seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + connect_timeout
        transport, pipe = await _connect(host, port, connect_timeout, deadline)
        conn = cls(host, port, transport, pipe, tls, connect_timeout)
        if implicit_tls:
            if pipe.chunks:  # it spoke first, in plaintext, before we even said hello
                await conn.close()
                raise tls_on_plain_port(conn.where)
            remaining = max(deadline - loop.time(), 0.001)
            try:
                await conn._handshake(remaining, implicit=True, budget=connect_timeout)
            except BaseException:
                await conn.close()
                raise
        return conn

    # ---- properties -------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once we closed, or the server has gone and every byte it sent has been received."""
        return self._closed or (self._pipe.eof and not self._pipe.chunks)

    # ---- send -------------------------------------------------------------------------------

    async def send(self, data: bytes, timeout: float | None = None) -> None:
        """Write `data` and wait until the transport's buffer has room again (flow control)."""
        self._check_writable()
        if data:
            self._transport.write(data)
        try:
            async with asyncio.timeout(timeout):
                await self._pipe.drain()
        except TimeoutError:
            raise send_timed_out(self.where, timeout) from None
        if self._pipe.lost:
            raise server_closed()

    def _check_writable(self) -> None:
        if self._closed:
            raise already_closed()
        if self._pipe.lost or self._pipe.eof or self._transport.is_closing():
            raise server_closed()

    # ---- receive ----------------------------------------------------------------------------

    async def receive(self, timeout: float | None = None) -> bytes:
        """The bytes that have arrived (waiting for some); b"" once the server has closed."""
        pipe = self._pipe
        if self._closed and not pipe.chunks:
            return b""
        if not pipe.chunks and not pipe.eof:
            try:
                async with asyncio.timeout(timeout):
                    await pipe.wait_data()
            except TimeoutError:
                raise receive_timed_out(self.host, self.port, self.where, timeout or 0.0,
                                        silent_so_far=not self._received_any and self.tls_info is None) from None
        if pipe.chunks:
            data = pipe.take()
            if not self._received_any and self.tls_info is None and looks_like_tls(data):
                await self.close()
                raise plain_on_tls_port(self.where)
            self._received_any = True
            return data
        # nothing queued and the connection is over
        exc = pipe.exc
        if exc is not None and not _is_reset(exc) and not self._reported_error:
            self._reported_error = True
            raise network_failure(self.where, exc)
        return b""

    # ---- TLS --------------------------------------------------------------------------------

    async def starttls(self, timeout: float | None = None) -> tuple[TLSInfo, bytes]:
        """Upgrade this connection to TLS (after the server's 220 reply to STARTTLS).

        Returns the TLS info and the bytes that had arrived but not been received yet (sent by
        the server *before* the handshake: a plaintext-injection attempt). The handshake is
        bounded by `timeout`, by default the connect timeout.
        """
        if self.tls_info is not None:
            raise already_tls()
        if self._closed:
            self._check_writable()
        leftover = self._pipe.take()  # no await between this and start_tls pausing the socket
        if self._pipe.eof or self._pipe.lost:
            await self.close()
            raise closed_instead_of_tls()
        try:
            await self._handshake(timeout if timeout is not None else self._connect_timeout, implicit=False)
        except BaseException:
            await self.close()
            raise
        assert self.tls_info is not None
        return self.tls_info, leftover

    async def _handshake(self, timeout: float, *, implicit: bool, budget: float | None = None) -> None:
        """TLS over the current transport within `timeout` seconds (`budget`: the total to report)."""
        budget = timeout if budget is None else budget
        loop = asyncio.get_running_loop()
        ctx = make_context(self._tls)
        pipe = self._pipe
        self._transport_dead = True  # until the handshake succeeds, start_tls owns (and closes) it
        try:
            async with asyncio.timeout(timeout):
                new_transport = await loop.start_tls(
                    self._transport, pipe, ctx, server_hostname=self.host,
                    ssl_handshake_timeout=timeout + 5)
        except TimeoutError:
            raise handshake_timed_out(self.where, budget, implicit=implicit) from None
        except (ssl.SSLError, ConnectionError, OSError) as exc:
            raise handshake_failed(exc, ctx, self.host, self.where, implicit=implicit) from None
        if new_transport is None:  # the loop closed under us
            raise closed_instead_of_tls()
        self._transport = new_transport
        self._transport_dead = False
        pipe.transport = new_transport
        pipe.read_paused = False  # start_tls resumed reading on the new transport
        pipe.write_paused = False
        ssl_object = new_transport.get_extra_info("ssl_object")
        self.tls_info = describe_tls(ssl_object, self.host, verified=not self._tls.insecure)

    # ---- close ------------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the connection (politely for TLS, bounded to about a second). Never raises."""
        if self._closed:
            return
        self._closed = True
        pipe = self._pipe
        pipe.chunks.clear()
        pipe.size = 0
        if pipe.lost or self._transport_dead:
            return
        try:
            self._transport.close()  # for TLS this sends close_notify first
            async with asyncio.timeout(1.0):
                await pipe.wait_lost()
        except BaseException as exc:  # timeout, a broken transport, or our caller cancelled us
            try:
                self._transport.abort()
            except Exception:
                pass
            if isinstance(exc, asyncio.CancelledError):
                raise

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("tls" if self.tls_info else "plain")
        return f"<Connection {self.where} {state}>"


# --------------------------------------------------------------------------------------------
# TCP connect: resolve, then try each address in turn within one overall deadline


async def _connect(host: str, port: int, timeout: float, deadline: float) -> tuple[asyncio.Transport, _Pipe]:
    """Resolve, then try each address in turn within one overall deadline."""
    loop = asyncio.get_running_loop()
    where = format_hostport(host, port)
    try:
        infos = numeric_addrinfo(host, port)  # an IP address needs no resolver (nor its thread)
        if infos is None:
            async with asyncio.timeout(timeout):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise connect_timed_out(where, timeout) from None
    except (socket.gaierror, UnicodeError):
        raise unresolvable(host) from None
    except OSError as exc:
        raise lookup_failed(host, exc) from None
    if not infos:
        raise unresolvable(host)
    addrs = distinct_addresses(infos)  # one attempt per address, each a fair share of the time left
    errors: list[BaseException] = []
    for index, (family, proto, sockaddr) in enumerate(addrs):
        remaining = deadline - loop.time()
        if remaining <= 0:
            errors.append(TimeoutError())
            break
        share = remaining / (len(addrs) - index)
        try:
            async with asyncio.timeout(share):
                transport, pipe = await loop.create_connection(
                    _Pipe, host=str(sockaddr[0]), port=port, family=family, proto=proto,
                    flags=socket.AI_NUMERICHOST)
            return transport, pipe
        except OSError as exc:  # TimeoutError included
            errors.append(exc)
    raise connect_failed(where, timeout, errors)
