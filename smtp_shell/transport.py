"""The only code in smtp-shell that touches sockets and ssl.

Why this module exists: everything above it (protocol core, shell, lessons, replay) works on
bytes and events and must never care how they travel. Here the bytes meet the network: TCP
connect with a bounded timeout, implicit TLS, the STARTTLS upgrade of the *same* connection,
flow control both ways, and a translation of every low-level failure (refused, DNS, timeout,
TLS on the wrong kind of port, certificate problems) into ONE sentence a student can act on.

CONTRACT (the shell codes against exactly this):

    settings = TLSSettings(cafile=None, insecure=False)
    conn = await Connection.open(host, port, implicit_tls=False, tls=settings, connect_timeout=10.0)
    await conn.send(b"EHLO me\\r\\n")
    data = await conn.receive(timeout=30.0)   # bytes as they arrive; b"" means the server closed
    info, leftover = await conn.starttls()     # after the server's 220 to STARTTLS
    await conn.close()

- Built on asyncio's Protocol API (`loop.create_connection`, `loop.start_tls`), not streams, so
  the bytes received after the 220 and before the handshake are known exactly: `starttls()`
  returns them as `leftover` (the caller reports them as a plaintext injection and never
  parses them); `receive()` never delivers them.
- `conn.tls_info` is a `TLSInfo` once TLS is up (implicit or STARTTLS), else None.
- Every failure raises `TransportError(kind, message)` where `message` is ONE sentence saying
  what happened and what to do next; `kind` is one of the `ErrorKind` values.
- A server that greets with TLS bytes while we speak plaintext is reported by `receive()` as
  PLAIN_ON_TLS_PORT. A real implicit-TLS server stays *silent* until it sees a ClientHello, so
  the usual symptom is silence: a `receive()` timeout before any byte has ever arrived on a
  plaintext connection carries `silence_hint(...)` as its message (kind TIMEOUT).
- Memory stays bounded: reading pauses while more than 1 MiB is queued and unread, and
  `send()` waits for the transport's write buffer to drain (pause_writing/resume_writing).

Portable (no POSIX-only calls) and quick to import: `cryptography` is imported lazily, only
when a certificate has to be described.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import os
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from smtp_shell.address import format_hostport

if TYPE_CHECKING:
    from cryptography import x509

__all__ = [
    "TLS_PORTS",
    "Connection",
    "ErrorKind",
    "TLSInfo",
    "TLSSettings",
    "TransportError",
    "looks_like_tls",
    "seconds_text",
    "silence_hint",
]

READ_HIGH_WATER = 1024 * 1024  # pause reading while more than this is queued and unread

# Ports where the service expects TLS from the first byte (SMTPS, IMAPS, POP3S, LDAPS, FTPS).
TLS_PORTS = frozenset({465, 636, 990, 993, 995})

# OpenSSL verify codes (X509_V_ERR_*), as found in ssl.SSLCertVerificationError.verify_code.
_V_UNABLE_TO_GET_ISSUER_CERT = 2
_V_CERT_NOT_YET_VALID = 9
_V_CERT_HAS_EXPIRED = 10
_V_DEPTH_ZERO_SELF_SIGNED_CERT = 18
_V_SELF_SIGNED_CERT_IN_CHAIN = 19
_V_UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20
_V_UNABLE_TO_VERIFY_LEAF_SIGNATURE = 21
_V_INVALID_CA = 24
_V_CERT_UNTRUSTED = 27
_V_HOSTNAME_MISMATCH = 62
_V_EMAIL_MISMATCH = 63
_V_IP_ADDRESS_MISMATCH = 64

_UNTRUSTED_CODES = frozenset({
    _V_UNABLE_TO_GET_ISSUER_CERT, _V_DEPTH_ZERO_SELF_SIGNED_CERT, _V_SELF_SIGNED_CERT_IN_CHAIN,
    _V_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, _V_UNABLE_TO_VERIFY_LEAF_SIGNATURE, _V_INVALID_CA,
    _V_CERT_UNTRUSTED,
})
_HOSTNAME_CODES = frozenset({_V_HOSTNAME_MISMATCH, _V_EMAIL_MISMATCH, _V_IP_ADDRESS_MISMATCH})

# OpenSSL reasons meaning "the peer's bytes are not TLS records" (it answered in plaintext).
# The server speaks TLS, but only a version this client refuses (SSL 3, TLS 1.0, TLS 1.1).
_OLD_TLS_REASONS = frozenset({
    "TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE", "WRONG_SSL_VERSION",
    "VERSION_TOO_LOW", "SSLV3_ALERT_HANDSHAKE_FAILURE_PROTOCOL_VERSION",
})
_NOT_TLS_REASONS = frozenset({
    "WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL", "RECORD_LAYER_FAILURE",
    "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST", "HTTPS_PROXY_REQUEST",
})
# OpenSSL reasons that are just "the peer went away without a TLS goodbye".
_EOF_REASONS = frozenset({"UNEXPECTED_EOF_WHILE_READING", "EOF", "APPLICATION_DATA_AFTER_CLOSE_NOTIFY"})


class ErrorKind(str, enum.Enum):
    """What went wrong, for exit statuses, tests and lesson checks (the message is for humans)."""

    REFUSED = "refused"
    DNS = "dns"
    TIMEOUT = "timeout"
    TLS_ON_PLAIN_PORT = "tls_on_plain_port"
    PLAIN_ON_TLS_PORT = "plain_on_tls_port"
    CERT_UNVERIFIED = "cert_unverified"
    CERT_HOSTNAME = "cert_hostname"
    CERT_EXPIRED = "cert_expired"
    TLS_HANDSHAKE = "tls_handshake"
    CLOSED = "closed"
    NETWORK = "network"


class TransportError(Exception):
    """A network or TLS failure: `kind` for code, `message` (one sentence + next step) for people."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"TransportError({self.kind.name}, {self.message!r})"


@dataclass(frozen=True)
class TLSSettings:
    """How to verify the server: system trust store by default, or `cafile`, or not at all."""

    cafile: Path | None = None
    insecure: bool = False


@dataclass(frozen=True)
class TLSInfo:
    """What the TLS layer negotiated and who the server claims to be (shown to the student)."""

    version: str             # "TLSv1.3"
    cipher: str              # "TLS_AES_256_GCM_SHA384"
    subject: str             # "CN=smtp-shell lab server"
    issuer: str
    not_before: str          # "2024-05-01 12:00:00 UTC"
    not_after: str
    verified: bool           # False when --insecure skipped verification
    fingerprint_sha256: str  # "AB:CD:..."
    server_hostname: str     # the name (or IP) the certificate was checked against
    self_signed: bool


# --------------------------------------------------------------------------------------------
# helpers the shell may use directly


def looks_like_tls(data: bytes) -> bool:
    """True when `data` starts like a TLS record (a handshake or an alert), not like SMTP text."""
    return len(data) >= 2 and data[0] in (0x15, 0x16) and data[1] == 0x03


def silence_hint(port: int, host: str | None = None, waited: float | None = None) -> str:
    """The sentence to show when a server sent nothing at all (no greeting) on a plaintext connection.

    A server that expects TLS from the first byte waits silently for a ClientHello, so to a
    plaintext client it looks exactly like a server that says nothing.
    """
    where = format_hostport(host, port) if host else f"The server on port {port}"
    within = f" within {seconds_text(waited)}" if waited is not None else ""
    if port in TLS_PORTS:
        return f"{where} sent no greeting{within}; port {port} expects TLS from the first byte, so try --tls."
    return (f"{where} sent no greeting{within}; check the port, "
            f"or try --tls if it expects TLS from the first byte.")


# --------------------------------------------------------------------------------------------
# formatting


def seconds_text(value: float) -> str:
    """3 -> "3 seconds", 0.5 -> "0.5 seconds": a timeout as a sentence says it."""
    if float(value).is_integer():
        n = int(value)
        return f"{n} second" if n == 1 else f"{n} seconds"
    return f"{value:g} seconds"


def _reason(exc: BaseException) -> str:
    """A short, lower-case reason from an ssl/OS error ('wrong version number')."""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str) and reason:
        return reason.lower().replace("_", " ")
    strerror = getattr(exc, "strerror", None)
    if isinstance(strerror, str) and strerror:
        return strerror[0].lower() + strerror[1:]
    names: dict[type[BaseException], str] = {ConnectionResetError: "connection reset", BrokenPipeError: "broken pipe",
                                              ConnectionAbortedError: "connection aborted"}
    text = str(exc) or names.get(type(exc), type(exc).__name__)
    return text.rstrip(".")


# --------------------------------------------------------------------------------------------
# certificates (cryptography is imported only here, lazily)


def _load_der(der: bytes) -> x509.Certificate:
    from cryptography import x509

    return x509.load_der_x509_certificate(der)


def _utc(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S UTC")


def _not_before(cert: x509.Certificate) -> datetime:
    when: datetime = getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before
    return when


def _not_after(cert: x509.Certificate) -> datetime:
    when: datetime = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after
    return when


def _is_self_signed(cert: x509.Certificate) -> bool:
    if cert.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except Exception:  # wrong signature, unsupported key type, old cryptography
        return False
    return True


def _cert_names(cert: x509.Certificate) -> list[str]:
    """The names a certificate covers: SAN DNS names and IPs, else its common name."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(n) for n in san.get_values_for_type(x509.DNSName)]
        names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
        if names:
            return names
    except x509.ExtensionNotFound:
        pass
    return [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]


def _tls_info(ssl_object: ssl.SSLObject, server_hostname: str, verified: bool) -> TLSInfo:
    version = ssl_object.version() or "TLS"
    cipher_tuple = ssl_object.cipher()
    cipher = cipher_tuple[0] if cipher_tuple else ""
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return TLSInfo(version, cipher, "", "", "", "", verified, "", server_hostname, False)
    quick = _tls_info_from_ssl(ssl_object, der, version, cipher, server_hostname) if verified else None
    if quick is not None:
        return quick
    from cryptography.hazmat.primitives import hashes

    cert = _load_der(der)
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return TLSInfo(
        version=version,
        cipher=cipher,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=_utc(_not_before(cert)),
        not_after=_utc(_not_after(cert)),
        verified=verified,
        fingerprint_sha256=":".join(digest[i:i + 2] for i in range(0, len(digest), 2)),
        server_hostname=server_hostname,
        self_signed=_is_self_signed(cert),
    )


# getpeercert()'s attribute names -> the short names cryptography's rfc4514_string() uses
_RFC4514_NAMES = {"commonName": "CN", "countryName": "C", "localityName": "L", "stateOrProvinceName": "ST",
                  "organizationName": "O", "organizationalUnitName": "OU", "streetAddress": "STREET",
                  "domainComponent": "DC", "userId": "UID"}
_RFC4514_SPECIAL = frozenset(',+"\\<>;=#\0')


def _rfc4514(name: Any) -> str | None:
    """cryptography's `Name.rfc4514_string()` from getpeercert()'s form, for the names where the
    two agree at a glance (short attribute names, one value per RDN, nothing to escape); else None."""
    parts = []
    for rdn in reversed(name):
        if len(rdn) != 1 or rdn[0][0] not in _RFC4514_NAMES:
            return None
        attr, value = rdn[0]
        if not value or value != value.strip() or not value.isprintable() or _RFC4514_SPECIAL.intersection(value):
            return None
        parts.append(f"{_RFC4514_NAMES[attr]}={value}")
    return ",".join(parts)


def _tls_info_from_ssl(ssl_object: ssl.SSLObject, der: bytes, version: str, cipher: str,
                       server_hostname: str) -> TLSInfo | None:
    """TLSInfo for a verified certificate from the `ssl` module alone (no `cryptography` import,
    which costs a batch session ~35 ms), or None where only cryptography can say it the same way.
    Self-signed here means: its subject is its issuer and the verified chain is the certificate
    alone (OpenSSL accepted it as its own trust anchor)."""
    import hashlib

    info: dict[str, Any] = dict(ssl_object.getpeercert() or {})
    if not info:
        return None
    subject, issuer = _rfc4514(info.get("subject", ())), _rfc4514(info.get("issuer", ()))
    if subject is None or issuer is None or "notBefore" not in info or "notAfter" not in info:
        return None
    self_signed = False
    if info["subject"] == info["issuer"]:
        try:
            getter = getattr(ssl_object, "get_verified_chain", None)  # public from Python 3.13
            if getter is None:
                getter = ssl_object._sslobj.get_verified_chain  # type: ignore[attr-defined]  # private in 3.10-3.12
            chain = getter()
        except Exception:
            return None
        if not chain or len(chain) != 1:  # another certificate of the same name vouched for it
            return None
        self_signed = True
    digest = hashlib.sha256(der).hexdigest().upper()

    def when(text: str) -> str:
        return _utc(datetime.fromtimestamp(ssl.cert_time_to_seconds(text), UTC))
    return TLSInfo(version=version, cipher=cipher, subject=subject, issuer=issuer,
                   not_before=when(info["notBefore"]), not_after=when(info["notAfter"]), verified=True,
                   fingerprint_sha256=":".join(digest[i:i + 2] for i in range(0, len(digest), 2)),
                   server_hostname=server_hostname, self_signed=self_signed)


class _CapturingContext(ssl.SSLContext):
    """An SSLContext that remembers the SSLObject asyncio makes with it.

    After a failed verification the handshake is gone, but the SSLObject still holds the
    chain the server sent; reading its leaf lets the error message name the certificate
    (its CN, its names, its expiry date) instead of only quoting OpenSSL.
    """

    last_object: ssl.SSLObject | None = None

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        obj = super().wrap_bio(*args, **kwargs)
        self.last_object = obj
        return obj


def _make_context(settings: TLSSettings) -> _CapturingContext:
    ctx = _CapturingContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED + check_hostname, like create_default_context
    if settings.insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif settings.cafile is not None:
        ctx.load_verify_locations(cafile=str(settings.cafile))
    else:
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
    return ctx


def _unverified_leaf(ctx: _CapturingContext) -> x509.Certificate | None:
    """The server's leaf certificate from a failed handshake, parsed, or None if unavailable."""
    obj = ctx.last_object
    if obj is None:
        return None
    try:
        getter = getattr(obj, "get_unverified_chain", None)  # public from Python 3.13
        if getter is None:
            getter = obj._sslobj.get_unverified_chain  # type: ignore[attr-defined]  # private in 3.10-3.12
        chain = getter()
        if not chain:
            return None
        leaf = chain[0]
        der = leaf if isinstance(leaf, (bytes, bytearray)) else leaf.public_bytes(ssl._ssl.ENCODING_DER)  # type: ignore[attr-defined]
        return _load_der(bytes(der))
    except Exception:
        return None


def _cert_error(exc: ssl.SSLCertVerificationError, ctx: _CapturingContext, host: str) -> TransportError:
    code = getattr(exc, "verify_code", None)
    detail = (getattr(exc, "verify_message", None) or _reason(exc)).rstrip(".")
    cert = _unverified_leaf(ctx)
    if code == _V_CERT_HAS_EXPIRED:
        when = f" on {_not_after(cert):%Y-%m-%d}" if cert is not None else ""
        return TransportError(ErrorKind.CERT_EXPIRED,
                              f"The server's certificate expired{when}; the server must renew it "
                              f"(or pass --insecure to continue anyway).")
    if code == _V_CERT_NOT_YET_VALID:
        when = f" until {_not_before(cert):%Y-%m-%d}" if cert is not None else " yet"
        return TransportError(ErrorKind.CERT_EXPIRED,
                              f"The server's certificate is not valid{when}; check this computer's clock "
                              f"(or pass --insecure to continue anyway).")
    if code in _HOSTNAME_CODES:
        if cert is not None:
            names = ", ".join(f"'{n}'" for n in _cert_names(cert)) or "no host name at all"
            text = f"The server's certificate is for {names} but you connected to '{host}'"
        else:
            text = f"The server's certificate does not cover '{host}', the name you connected to"
        return TransportError(ErrorKind.CERT_HOSTNAME,
                              f"{text}; connect using a name the certificate covers, or pass --insecure.")
    if code in _UNTRUSTED_CODES:
        if cert is not None and _is_self_signed(cert):
            why, whose = f"self-signed: {cert.subject.rfc4514_string()}", "the server's certificate"
        elif cert is not None:
            why, whose = f"unknown issuer: {cert.issuer.rfc4514_string()}", "the issuer's certificate"
        else:
            why, whose = f"self-signed or unknown issuer: {detail}", "the server's certificate"
        return TransportError(ErrorKind.CERT_UNVERIFIED,
                              f"The server's certificate is not trusted ({why}); pass --cafile with "
                              f"{whose}, or --insecure to skip the check.")
    return TransportError(ErrorKind.CERT_UNVERIFIED,
                          f"The server's certificate could not be verified ({detail}); pass --cafile "
                          f"with a certificate you trust, or --insecure to skip the check.")


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


def _is_reset(exc: BaseException | None) -> bool:
    """A peer going away abruptly is a close, not a failure worth a different message."""
    if exc is None:
        return True
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return True
    return isinstance(exc, ssl.SSLError) and (getattr(exc, "reason", None) in _EOF_REASONS
                                              or isinstance(exc, ssl.SSLEOFError))


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
                   tls: TLSSettings = TLSSettings(), connect_timeout: float = 10.0) -> Connection:
        """Connect (and, with implicit_tls, complete the TLS handshake) within connect_timeout seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + connect_timeout
        transport, pipe = await _connect(host, port, connect_timeout, deadline)
        conn = cls(host, port, transport, pipe, tls, connect_timeout)
        if implicit_tls:
            if pipe.chunks:  # it spoke first, in plaintext, before we even said hello
                await conn.close()
                raise conn._tls_on_plain_port()
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
            raise TransportError(
                ErrorKind.TIMEOUT,
                f"{self.where} accepted no data for {seconds_text(timeout or 0.0)}; raise --timeout, "
                f"or use :reconnect to start a new session.") from None
        if self._pipe.lost:
            raise self._closed_error()

    def _check_writable(self) -> None:
        if self._closed:
            raise TransportError(ErrorKind.CLOSED,
                                 "The connection is already closed; use :reconnect to start a new session.")
        if self._pipe.lost or self._pipe.eof or self._transport.is_closing():
            raise self._closed_error()

    def _closed_error(self) -> TransportError:
        return TransportError(ErrorKind.CLOSED,
                              "The server closed the connection; use :reconnect to start a new session.")

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
                raise self._receive_timeout(timeout or 0.0) from None
        if pipe.chunks:
            data = pipe.take()
            if not self._received_any and self.tls_info is None and looks_like_tls(data):
                await self.close()
                raise TransportError(
                    ErrorKind.PLAIN_ON_TLS_PORT,
                    f"{self.where} answered with TLS instead of a plaintext greeting; it expects TLS "
                    f"from the first byte, so reconnect with --tls.")
            self._received_any = True
            return data
        # nothing queued and the connection is over
        exc = pipe.exc
        if exc is not None and not _is_reset(exc) and not self._reported_error:
            self._reported_error = True
            raise TransportError(ErrorKind.NETWORK,
                                 f"The connection to {self.where} failed ({_reason(exc)}); "
                                 f"use :reconnect to start a new session.")
        return b""

    def _receive_timeout(self, timeout: float) -> TransportError:
        if not self._received_any and self.tls_info is None:
            return TransportError(ErrorKind.TIMEOUT, silence_hint(self.port, self.host, timeout))
        return TransportError(
            ErrorKind.TIMEOUT,
            f"No reply from {self.where} within {seconds_text(timeout)}; wait longer with --timeout, "
            f"or use :reconnect to start a new session.")

    # ---- TLS --------------------------------------------------------------------------------

    async def starttls(self, timeout: float | None = None) -> tuple[TLSInfo, bytes]:
        """Upgrade this connection to TLS (after the server's 220 reply to STARTTLS).

        Returns the TLS info and the bytes that had arrived but not been received yet (sent by
        the server *before* the handshake: a plaintext-injection attempt). The handshake is
        bounded by `timeout`, by default the connect timeout.
        """
        if self.tls_info is not None:
            raise TransportError(ErrorKind.TLS_HANDSHAKE,
                                 "This connection already uses TLS, so it cannot be upgraded again; "
                                 "use :reconnect for a fresh session.")
        if self._closed:
            self._check_writable()
        leftover = self._pipe.take()  # no await between this and start_tls pausing the socket
        if self._pipe.eof or self._pipe.lost:
            await self.close()
            raise self._closed_instead_of_tls()
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
        try:
            ctx = _make_context(self._tls)
        except (OSError, ssl.SSLError) as exc:
            raise TransportError(ErrorKind.TLS_HANDSHAKE,
                                 f"The CA file '{self._tls.cafile}' could not be loaded ({_reason(exc)}); "
                                 f"pass --cafile with a PEM certificate file.") from None
        pipe = self._pipe
        self._transport_dead = True  # until the handshake succeeds, start_tls owns (and closes) it
        try:
            async with asyncio.timeout(timeout):
                new_transport = await loop.start_tls(
                    self._transport, pipe, ctx, server_hostname=self.host,
                    ssl_handshake_timeout=timeout + 5)
        except TimeoutError:
            if implicit:
                msg = (f"{self.where} did not complete a TLS handshake within {seconds_text(budget)}; "
                       f"if it does not speak TLS from the first byte, drop --tls and use STARTTLS after EHLO.")
            else:
                msg = (f"{self.where} did not complete the TLS handshake within {seconds_text(budget)}; "
                       f"raise --timeout, or use :reconnect to start a new session.")
            raise TransportError(ErrorKind.TIMEOUT, msg) from None
        except ssl.SSLCertVerificationError as exc:
            raise _cert_error(exc, ctx, self.host) from None
        except ssl.SSLError as exc:
            if not implicit and _is_reset(exc):
                raise self._closed_instead_of_tls() from None
            if exc.reason in _OLD_TLS_REASONS:
                raise TransportError(
                    ErrorKind.TLS_HANDSHAKE,
                    f"{self.where} offers only an old TLS version ({_reason(exc)}); smtp-shell needs TLS 1.2 or "
                    f"newer, as every current mail client does. The server speaks TLS, so dropping --tls or "
                    f"STARTTLS would not help: its TLS configuration must be updated.") from None
            if exc.reason in _NOT_TLS_REASONS:
                if implicit:
                    raise self._tls_on_plain_port() from None
                raise TransportError(
                    ErrorKind.TLS_HANDSHAKE,
                    f"{self.where} answered the TLS handshake with plaintext ({_reason(exc)}); "
                    f"the server did not really start TLS, so use :reconnect to start a new session.") from None
            raise TransportError(
                ErrorKind.TLS_HANDSHAKE,
                f"The TLS handshake with {self.where} failed ({_reason(exc)}); the server rejected this "
                f"connection's TLS settings, so check the port or try another server.") from None
        except (ConnectionError, OSError) as exc:
            if not implicit:  # the same sentence whether the hang-up came before or during the handshake
                raise self._closed_instead_of_tls() from None
            hint = ("drop --tls and use STARTTLS after EHLO if it does not speak TLS from the first byte"
                    if implicit else "use :reconnect to start a new session")
            raise TransportError(
                ErrorKind.TLS_HANDSHAKE,
                f"{self.where} closed the connection during the TLS handshake ({_reason(exc)}); {hint}.") from None
        if new_transport is None:  # the loop closed under us
            raise self._closed_instead_of_tls()
        self._transport = new_transport
        self._transport_dead = False
        pipe.transport = new_transport
        pipe.read_paused = False  # start_tls resumed reading on the new transport
        pipe.write_paused = False
        ssl_object = new_transport.get_extra_info("ssl_object")
        self.tls_info = _tls_info(ssl_object, self.host, verified=not self._tls.insecure)

    def _closed_instead_of_tls(self) -> TransportError:
        return TransportError(ErrorKind.CLOSED,
                              "The server closed the connection instead of starting TLS; "
                              "use :reconnect to start a new session.")

    def _tls_on_plain_port(self) -> TransportError:
        return TransportError(ErrorKind.TLS_ON_PLAIN_PORT,
                              f"{self.where} does not speak TLS from the first byte; "
                              f"drop --tls and use STARTTLS after EHLO.")

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


AddrInfo = tuple[int, int, int, str, tuple[Any, ...]]


def _numeric_addrinfo(host: str, port: int) -> Sequence[AddrInfo] | None:
    """getaddrinfo for an IP address literal, answered at once without DNS; None for a name."""
    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError, OSError):
        return None


async def _connect(host: str, port: int, timeout: float, deadline: float) -> tuple[asyncio.Transport, _Pipe]:
    loop = asyncio.get_running_loop()
    where = format_hostport(host, port)

    def timed_out() -> TransportError:
        return TransportError(ErrorKind.TIMEOUT,
                              f"No answer from {where} within {seconds_text(timeout)}; "
                              f"check the address or raise --timeout.")

    try:
        infos = _numeric_addrinfo(host, port)  # an IP address needs no resolver (nor its thread)
        if infos is None:
            async with asyncio.timeout(timeout):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise timed_out() from None
    except (socket.gaierror, UnicodeError):
        raise TransportError(ErrorKind.DNS,
                             f"The host name '{host}' could not be resolved; check the spelling "
                             f"or use an IP address.") from None
    except OSError as exc:
        raise TransportError(ErrorKind.NETWORK,
                             f"Could not look up '{host}' ({_reason(exc)}); check your network connection.") from None
    if not infos:
        raise TransportError(ErrorKind.DNS,
                             f"The host name '{host}' could not be resolved; check the spelling "
                             f"or use an IP address.")

    # one attempt per distinct address, each given a fair share of the remaining time
    seen: set[tuple[int, str]] = set()
    addrs: list[tuple[int, int, tuple[Any, ...]]] = []  # (family, proto, sockaddr)
    for family, _type, proto, _canon, sockaddr in infos:
        key = (family, sockaddr[0])
        if key not in seen:
            seen.add(key)
            addrs.append((family, proto, sockaddr))
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
        except TimeoutError as exc:
            errors.append(exc)
        except OSError as exc:
            errors.append(exc)
    if errors and all(isinstance(e, ConnectionRefusedError) for e in errors):
        raise TransportError(ErrorKind.REFUSED,
                             f"Connection to {where} was refused: nothing is listening there; check the "
                             f"host and port (the lab server is on 8025 by default).")
    if any(isinstance(e, TimeoutError) for e in errors):
        raise timed_out()
    other = next((e for e in errors if not isinstance(e, ConnectionRefusedError)), errors[0])
    raise TransportError(ErrorKind.NETWORK,
                         f"Could not connect to {where} ({_reason(other)}); check the host, the port "
                         f"and your network connection.")
