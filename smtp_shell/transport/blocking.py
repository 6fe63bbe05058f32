"""The blocking connection: batch mode's, over plain `socket` and `ssl`, no event loop.

Why it exists: a batch session is one conversation in order, so it needs no event loop, and
asyncio's import and loop turns cost more than the whole session is allowed (issue 17). Its
methods are coroutines only so the shell's session code, written once and async-coloured, can
call them; none of them ever suspends (each blocks until done, bounded by its timeout), so
`smtp_shell.shell.blocking` runs that code with a plain `coro.send(None)`.

Same contract as `transport.aio.Connection`, and every failure is the same sentence (both come
from `smtp_shell.transport`). Differences a caller sees: nothing is read until asked
(`receive()`, or `ready()` to learn whether a read would not block), so memory is bounded by
what the caller reads; `send()` blocks until the kernel took every byte (its flow control).
Portable: `select` is only used on sockets, which works on Windows too.
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
import time
from collections.abc import Sequence

from smtp_shell.address import format_hostport
from smtp_shell.transport import (
    DEFAULT_TLS,
    AddrInfo,
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

RECEIVE_SIZE = 256 * 1024  # the most one receive() returns (asyncio's read size)


class BlockingConnection:
    """One TCP connection to an SMTP server, plaintext or TLS, upgradable with STARTTLS."""

    def __init__(self, host: str, port: int, sock: socket.socket, tls: TLSSettings, connect_timeout: float) -> None:
        self.host = host
        self.port = port
        self.where = format_hostport(host, port)
        self.tls_info: TLSInfo | None = None
        self._sock: socket.socket = sock
        self._tls = tls
        self._connect_timeout = connect_timeout
        self._closed = False
        self._eof = False
        self._broken = False  # a write failed: the server is gone (what it sent can still be read)
        self._received_any = False
        self._reported_error = False
        try:
            peername = sock.getpeername()
            self.peer = format_hostport(str(peername[0]).split("%")[0], int(peername[1]))
        except (OSError, IndexError, TypeError, ValueError):
            self.peer = self.where

    # ---- open -------------------------------------------------------------------------------

    @classmethod
    async def open(cls, host: str, port: int, *, implicit_tls: bool = False,
                   tls: TLSSettings = DEFAULT_TLS, connect_timeout: float = 10.0) -> BlockingConnection:
        """Connect (and, with implicit_tls, complete the TLS handshake) within connect_timeout seconds."""
        deadline = time.monotonic() + connect_timeout
        conn = cls(host, port, _connect(host, port, connect_timeout, deadline), tls, connect_timeout)
        if implicit_tls:
            if conn._take_arrived():  # it spoke first, in plaintext, before we even said hello
                conn._close_now()
                raise tls_on_plain_port(conn.where)
            try:
                conn._handshake(max(deadline - time.monotonic(), 0.001), implicit=True, budget=connect_timeout)
            except BaseException:
                conn._close_now()
                raise
        return conn

    # ---- properties -------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once we closed, or the server has gone and every byte it sent has been received."""
        return self._closed or self._eof

    def poll(self) -> bytes | None:
        """What has arrived, without waiting: bytes, b"" if the server has closed, None if nothing
        (TLS records that carry no data, such as TLS 1.3 session tickets, count as nothing)."""
        if self._closed or self._eof:
            return None
        sock = self._sock
        if not (isinstance(sock, ssl.SSLSocket) and sock.pending()):
            try:
                readable, _, _ = select.select([sock], [], [], 0)
            except (OSError, ValueError):
                readable = [sock]  # let recv say what is wrong
            if not readable:
                return None
        try:
            sock.setblocking(False)
            return self._received(sock.recv(RECEIVE_SIZE))
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return None
        except (OSError, ValueError) as exc:
            return self._failed(exc)

    # ---- send -------------------------------------------------------------------------------

    async def send(self, data: bytes, timeout: float | None = None) -> None:
        """Write all of `data`, blocking while the kernel's buffer is full (flow control)."""
        if self._closed:
            raise already_closed()
        if self._eof or self._broken:
            raise server_closed()
        if not data:
            return
        try:
            self._sock.settimeout(timeout)
            self._sock.sendall(data)
        except TimeoutError:
            raise send_timed_out(self.where, timeout) from None
        except (OSError, ValueError):
            self._broken = True  # not the end of reading: a 421 sent before the close may still be there
            raise server_closed() from None

    # ---- receive ----------------------------------------------------------------------------

    async def receive(self, timeout: float | None = None) -> bytes:
        """The bytes that have arrived (waiting for some); b"" once the server has closed."""
        if self._closed or self._eof:
            return b""
        try:
            self._sock.settimeout(timeout)
            data = self._sock.recv(RECEIVE_SIZE)
        except TimeoutError:
            raise receive_timed_out(self.host, self.port, self.where, timeout or 0.0,
                                    silent_so_far=not self._received_any and self.tls_info is None) from None
        except (OSError, ValueError) as exc:
            return self._failed(exc)
        return self._received(data)

    def _received(self, data: bytes) -> bytes:
        if not data:
            self._eof = True
            return b""
        if not self._received_any and self.tls_info is None and looks_like_tls(data):
            self._close_now()
            raise plain_on_tls_port(self.where)
        self._received_any = True
        return data

    def _failed(self, exc: BaseException) -> bytes:
        """The connection broke while reading: b"" (a close), or one sentence if it was not a hang-up."""
        self._eof = True
        if not _is_reset(exc) and not self._reported_error:
            self._reported_error = True
            raise network_failure(self.where, exc) from None
        return b""

    def _take_arrived(self) -> bytes:
        """Whatever has arrived and not been received, without waiting (noting the end if seen)."""
        chunks = []
        try:
            self._sock.setblocking(False)
            while True:
                data = self._sock.recv(RECEIVE_SIZE)
                if not data:
                    self._eof = True
                    break
                chunks.append(data)
        except (BlockingIOError, ssl.SSLWantReadError):
            pass
        except (OSError, ValueError):
            self._eof = True
        return b"".join(chunks)

    # ---- TLS --------------------------------------------------------------------------------

    async def starttls(self, timeout: float | None = None) -> tuple[TLSInfo, bytes]:
        """Upgrade this connection to TLS (after the server's 220 reply to STARTTLS).

        Returns the TLS info and the bytes that had arrived but not been received yet (sent by
        the server *before* the handshake: a plaintext-injection attempt).
        """
        if self.tls_info is not None:
            raise already_tls()
        if self._closed:
            raise already_closed()
        leftover = self._take_arrived()
        if self._eof:
            self._close_now()
            raise closed_instead_of_tls()
        try:
            self._handshake(timeout if timeout is not None else self._connect_timeout, implicit=False)
        except BaseException:
            self._close_now()
            raise
        assert self.tls_info is not None
        return self.tls_info, leftover

    def _handshake(self, timeout: float, *, implicit: bool, budget: float | None = None) -> None:
        """TLS over this socket within `timeout` seconds (`budget`: the total to report)."""
        budget = timeout if budget is None else budget
        ctx = make_context(self._tls)
        self._sock.settimeout(timeout)
        try:
            self._sock = ctx.wrap_socket(self._sock, server_hostname=self.host, do_handshake_on_connect=False)
            self._sock.do_handshake()
        except TimeoutError:
            raise handshake_timed_out(self.where, budget, implicit=implicit) from None
        except (OSError, ValueError) as exc:  # ssl.SSLError included
            raise handshake_failed(exc, ctx, self.host, self.where, implicit=implicit) from None
        assert isinstance(self._sock, ssl.SSLSocket)
        self.tls_info = describe_tls(self._sock, self.host, verified=not self._tls.insecure)

    # ---- close ------------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the connection (a TLS goodbye first if the server is still there). Never raises."""
        self._close_now()

    def _close_now(self) -> None:
        if self._closed:
            return
        self._closed = True
        sock = self._sock
        try:
            if isinstance(sock, ssl.SSLSocket) and not self._eof and self.tls_info is not None:
                sock.setblocking(False)
                sock.unwrap()  # sends close_notify; not waiting for the server's
        except (OSError, ValueError):  # SSLWantReadError included: the answer is not awaited
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass

    async def __aenter__(self) -> BlockingConnection:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._close_now()

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("tls" if self.tls_info else "plain")
        return f"<BlockingConnection {self.where} {state}>"


# --------------------------------------------------------------------------------------------
# TCP connect: resolve (bounded), then try each address in turn within one overall deadline


def _resolve(host: str, port: int, timeout: float) -> Sequence[AddrInfo]:
    """getaddrinfo for a name, bounded by `timeout` (the resolver runs on a daemon thread)."""
    result: dict[str, object] = {}

    def work() -> None:
        try:
            result["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=work, name="resolver", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise connect_timed_out(format_hostport(host, port), timeout)
    error = result.get("error")
    if isinstance(error, (socket.gaierror, UnicodeError)):
        raise unresolvable(host)
    if isinstance(error, OSError):
        raise lookup_failed(host, error)
    if isinstance(error, BaseException):
        raise error
    infos = result.get("infos")
    return infos if isinstance(infos, list) else []


def _connect(host: str, port: int, timeout: float, deadline: float) -> socket.socket:
    where = format_hostport(host, port)
    infos = numeric_addrinfo(host, port)  # an IP address needs no resolver (nor its thread)
    if infos is None:
        infos = _resolve(host, port, timeout)
    if not infos:
        raise unresolvable(host)
    addrs = distinct_addresses(infos)  # one attempt per address, each a fair share of the time left
    errors: list[BaseException] = []
    for index, (family, proto, sockaddr) in enumerate(addrs):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            errors.append(TimeoutError())
            break
        sock = socket.socket(family, socket.SOCK_STREAM, proto)
        try:
            sock.settimeout(remaining / (len(addrs) - index))
            sock.connect(sockaddr)
        except OSError as exc:  # TimeoutError included
            sock.close()
            errors.append(exc)
            continue
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as asyncio does: no Nagle delay
        except OSError:
            pass
        return sock
    raise connect_failed(where, timeout, errors)
