"""The only code in smtp-shell that touches sockets and ssl: what both connections share.

Why this package exists: everything above it (protocol core, shell, lessons, replay) works on
bytes and events and must never care how they travel. Here the bytes meet the network: TCP
connect with a bounded timeout, implicit TLS, the STARTTLS upgrade of the *same* connection,
flow control, and a translation of every low-level failure (refused, DNS, timeout, TLS on the
wrong kind of port, certificate problems) into ONE sentence a student can act on.

Two connections share this module's errors, TLS facts and sentences, so a failure reads the
same whichever carried the session:

- `transport.aio.Connection` (asyncio): the REPL, lessons, replay and the lab's own tools.
- `transport.blocking.BlockingConnection` (plain `socket` + `ssl`): batch mode's synchronous
  driver, which starts without asyncio's import and answers each reply without a loop turn.

CONTRACT (the shell codes against exactly this, for either connection):

    settings = TLSSettings(cafile=None, insecure=False)
    conn = await Connection.open(host, port, implicit_tls=False, tls=settings, connect_timeout=10.0)
    await conn.send(b"EHLO me\\r\\n")
    data = await conn.receive(timeout=30.0)   # bytes as they arrive; b"" means the server closed
    info, leftover = await conn.starttls()     # after the server's 220 to STARTTLS
    await conn.close()

(BlockingConnection's methods are coroutines too, but never suspend: they block, so batch mode
can run the same async-coloured session code without an event loop; see shell/blocking.py.)

- `starttls()` returns the bytes received after the 220 and before the handshake as
  `leftover` (the caller reports them as a plaintext injection and never parses them);
  `receive()` never delivers them.
- `conn.tls_info` is a `TLSInfo` once TLS is up (implicit or STARTTLS), else None.
- Every failure raises `TransportError(kind, message)` where `message` is ONE sentence saying
  what happened and what to do next; `kind` is one of the `ErrorKind` values.
- A server that greets with TLS bytes while we speak plaintext is reported by `receive()` as
  PLAIN_ON_TLS_PORT. A real implicit-TLS server stays *silent* until it sees a ClientHello, so
  the usual symptom is silence: a `receive()` timeout before any byte has ever arrived on a
  plaintext connection carries `silence_hint(...)` as its message (kind TIMEOUT).

Portable (no POSIX-only calls) and quick to import: no asyncio here, and `cryptography` is
imported lazily, only when a certificate has to be described.
"""

from __future__ import annotations

import enum
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


DEFAULT_TLS = TLSSettings()  # the system trust store, verified


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


def _tls_info(ssl_object: ssl.SSLObject | ssl.SSLSocket, server_hostname: str, verified: bool) -> TLSInfo:
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


def _tls_info_from_ssl(ssl_object: ssl.SSLObject | ssl.SSLSocket, der: bytes, version: str, cipher: str,
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
                getter = ssl_object._sslobj.get_verified_chain  # type: ignore[union-attr]  # private in 3.10-3.12
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

    last_object: ssl.SSLObject | ssl.SSLSocket | None = None

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        obj = super().wrap_bio(*args, **kwargs)
        self.last_object = obj
        return obj

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        sock = super().wrap_socket(*args, **kwargs)
        self.last_object = sock
        return sock


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
            getter = obj._sslobj.get_unverified_chain  # type: ignore[union-attr]  # private in 3.10-3.12
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


def _is_reset(exc: BaseException | None) -> bool:
    """A peer going away abruptly is a close, not a failure worth a different message."""
    if exc is None:
        return True
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return True
    return isinstance(exc, ssl.SSLError) and (getattr(exc, "reason", None) in _EOF_REASONS
                                              or isinstance(exc, ssl.SSLEOFError))


def describe_tls(ssl_object: ssl.SSLObject | ssl.SSLSocket, server_hostname: str, verified: bool) -> TLSInfo:
    """What a finished handshake negotiated, for either connection (an SSLObject or an SSLSocket)."""
    return _tls_info(ssl_object, server_hostname, verified)


def make_context(settings: TLSSettings) -> _CapturingContext:
    """The client context for `settings`; one sentence (TransportError) if the CA file is unusable."""
    try:
        return _make_context(settings)
    except (OSError, ssl.SSLError) as exc:
        raise TransportError(ErrorKind.TLS_HANDSHAKE,
                             f"The CA file '{settings.cafile}' could not be loaded ({_reason(exc)}); "
                             f"pass --cafile with a PEM certificate file.") from None


# --------------------------------------------------------------------------------------------
AddrInfo = tuple[int, int, int, str, tuple[Any, ...]]


# the one sentence for each failure, shared by both connections (transport.aio for the REPL and
# the lab tools, transport.blocking for batch mode): the same failure reads the same either way


def numeric_addrinfo(host: str, port: int) -> Sequence[AddrInfo] | None:
    """getaddrinfo for an IP address literal, answered at once without DNS; None for a name."""
    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError, OSError):
        return None


def distinct_addresses(infos: Sequence[AddrInfo]) -> list[tuple[int, int, tuple[Any, ...]]]:
    """One (family, proto, sockaddr) per distinct address, in getaddrinfo's order."""
    seen: set[tuple[int, str]] = set()
    addrs: list[tuple[int, int, tuple[Any, ...]]] = []
    for family, _type, proto, _canon, sockaddr in infos:
        key = (family, sockaddr[0])
        if key not in seen:
            seen.add(key)
            addrs.append((family, proto, sockaddr))
    return addrs


def connect_timed_out(where: str, timeout: float) -> TransportError:
    return TransportError(ErrorKind.TIMEOUT,
                          f"No answer from {where} within {seconds_text(timeout)}; "
                          f"check the address or raise --timeout.")


def unresolvable(host: str) -> TransportError:
    return TransportError(ErrorKind.DNS,
                          f"The host name '{host}' could not be resolved; check the spelling "
                          f"or use an IP address.")


def lookup_failed(host: str, exc: BaseException) -> TransportError:
    return TransportError(ErrorKind.NETWORK,
                          f"Could not look up '{host}' ({_reason(exc)}); check your network connection.")


def connect_failed(where: str, timeout: float, errors: Sequence[BaseException]) -> TransportError:
    """After every address was tried: refused everywhere, timed out, or another network failure."""
    if errors and all(isinstance(e, ConnectionRefusedError) for e in errors):
        return TransportError(ErrorKind.REFUSED,
                              f"Connection to {where} was refused: nothing is listening there; check the "
                              f"host and port (the lab server is on 8025 by default).")
    if not errors or any(isinstance(e, TimeoutError) for e in errors):
        return connect_timed_out(where, timeout)
    other = next((e for e in errors if not isinstance(e, ConnectionRefusedError)), errors[0])
    return TransportError(ErrorKind.NETWORK,
                          f"Could not connect to {where} ({_reason(other)}); check the host, the port "
                          f"and your network connection.")


def already_closed() -> TransportError:
    return TransportError(ErrorKind.CLOSED,
                          "The connection is already closed; use :reconnect to start a new session.")


def server_closed() -> TransportError:
    return TransportError(ErrorKind.CLOSED,
                          "The server closed the connection; use :reconnect to start a new session.")


def send_timed_out(where: str, timeout: float | None) -> TransportError:
    return TransportError(
        ErrorKind.TIMEOUT,
        f"{where} accepted no data for {seconds_text(timeout or 0.0)}; raise --timeout, "
        f"or use :reconnect to start a new session.")


def plain_on_tls_port(where: str) -> TransportError:
    return TransportError(
        ErrorKind.PLAIN_ON_TLS_PORT,
        f"{where} answered with TLS instead of a plaintext greeting; it expects TLS "
        f"from the first byte, so reconnect with --tls.")


def network_failure(where: str, exc: BaseException) -> TransportError:
    return TransportError(ErrorKind.NETWORK,
                          f"The connection to {where} failed ({_reason(exc)}); "
                          f"use :reconnect to start a new session.")


def receive_timed_out(host: str, port: int, where: str, timeout: float, *, silent_so_far: bool) -> TransportError:
    if silent_so_far:
        return TransportError(ErrorKind.TIMEOUT, silence_hint(port, host, timeout))
    return TransportError(
        ErrorKind.TIMEOUT,
        f"No reply from {where} within {seconds_text(timeout)}; wait longer with --timeout, "
        f"or use :reconnect to start a new session.")


def already_tls() -> TransportError:
    return TransportError(ErrorKind.TLS_HANDSHAKE,
                          "This connection already uses TLS, so it cannot be upgraded again; "
                          "use :reconnect for a fresh session.")


def closed_instead_of_tls() -> TransportError:
    return TransportError(ErrorKind.CLOSED,
                          "The server closed the connection instead of starting TLS; "
                          "use :reconnect to start a new session.")


def tls_on_plain_port(where: str) -> TransportError:
    return TransportError(ErrorKind.TLS_ON_PLAIN_PORT,
                          f"{where} does not speak TLS from the first byte; "
                          f"drop --tls and use STARTTLS after EHLO.")


def handshake_timed_out(where: str, budget: float, *, implicit: bool) -> TransportError:
    if implicit:
        msg = (f"{where} did not complete a TLS handshake within {seconds_text(budget)}; "
               f"if it does not speak TLS from the first byte, drop --tls and use STARTTLS after EHLO.")
    else:
        msg = (f"{where} did not complete the TLS handshake within {seconds_text(budget)}; "
               f"raise --timeout, or use :reconnect to start a new session.")
    return TransportError(ErrorKind.TIMEOUT, msg)


def handshake_failed(exc: BaseException, ctx: _CapturingContext, host: str, where: str, *,
                     implicit: bool) -> TransportError:
    """A failed TLS handshake (not a timeout) as one sentence: certificate, old TLS, not TLS at
    all, or the peer hanging up."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _cert_error(exc, ctx, host)
    if isinstance(exc, ssl.SSLError):
        if not implicit and _is_reset(exc):
            return closed_instead_of_tls()
        if exc.reason in _OLD_TLS_REASONS:
            return TransportError(
                ErrorKind.TLS_HANDSHAKE,
                f"{where} offers only an old TLS version ({_reason(exc)}); smtp-shell needs TLS 1.2 or "
                f"newer, as every current mail client does. The server speaks TLS, so dropping --tls or "
                f"STARTTLS would not help: its TLS configuration must be updated.")
        if exc.reason in _NOT_TLS_REASONS:
            if implicit:
                return tls_on_plain_port(where)
            return TransportError(
                ErrorKind.TLS_HANDSHAKE,
                f"{where} answered the TLS handshake with plaintext ({_reason(exc)}); "
                f"the server did not really start TLS, so use :reconnect to start a new session.")
        return TransportError(
            ErrorKind.TLS_HANDSHAKE,
            f"The TLS handshake with {where} failed ({_reason(exc)}); the server rejected this "
            f"connection's TLS settings, so check the port or try another server.")
    if not implicit:  # the same sentence whether the hang-up came before or during the handshake
        return closed_instead_of_tls()
    return TransportError(
        ErrorKind.TLS_HANDSHAKE,
        f"{where} closed the connection during the TLS handshake ({_reason(exc)}); drop --tls and use "
        f"STARTTLS after EHLO if it does not speak TLS from the first byte.")
