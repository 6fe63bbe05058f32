"""The lab server's self-signed certificate, made with `cryptography` on first use and reused.

A student's client should be able to *verify* the lab server, not just skip verification, so
the certificate is a proper leaf: valid for localhost, 127.0.0.1 and ::1, CA flag off, an
ECDSA P-256 key, lifetime under 825 days (what browsers and OpenSSL policies accept). The shell
then trusts exactly this file with hostname checking on.

`make_certificate` is general enough for tests to mint expired, wrong-host or CA-signed
certificates too.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import ipaddress
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

# `cryptography` is imported where a certificate is made (or an odd one parsed): reusing the
# lab certificate, as every start after the first does, reads it with the standard library,
# so `smtp-shell` reaches its prompt without paying for that import.

LAB_NAMES = ("localhost", "127.0.0.1", "::1")
LIFETIME_DAYS = 397


@dataclass(frozen=True)
class CertPair:
    cert_path: Path
    key_path: Path

    def fingerprint(self) -> str:
        """SHA-256 fingerprint as colon-separated hex, as `openssl x509 -fingerprint` shows it."""
        digest = hashlib.sha256(_pem_to_der(self.cert_path.read_bytes())).hexdigest().upper()
        return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


_PEM_BEGIN, _PEM_END = b"-----BEGIN CERTIFICATE-----", b"-----END CERTIFICATE-----"


def _pem_to_der(pem: bytes) -> bytes:
    """The DER bytes of the first certificate in a PEM file (ValueError if there is none)."""
    start = pem.find(_PEM_BEGIN)
    end = pem.find(_PEM_END, start)
    if start < 0 or end < 0:
        raise ValueError("no PEM certificate")
    try:
        return base64.b64decode(b"".join(pem[start + len(_PEM_BEGIN):end].split()), validate=True)
    except binascii.Error:
        raise ValueError("bad PEM certificate") from None


def _der_item(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the DER item at `pos`."""
    tag, length = der[pos], der[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4:
            raise ValueError("bad DER length")
        length = int.from_bytes(der[pos:pos + count], "big")
        pos += count
    if pos + length > len(der):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def _not_valid_after(der: bytes) -> _dt.datetime:
    """A certificate's notAfter, read from its DER (RFC 5280 §4.1) without `cryptography`."""
    _tag, pos, _end = _der_item(der, 0)            # Certificate
    tag, pos, _end = _der_item(der, pos)           # tbsCertificate
    if tag != 0x30:
        raise ValueError("not a certificate")
    tag, start, end = _der_item(der, pos)
    if tag == 0xA0:                                # [0] version
        tag, start, end = _der_item(der, end)      # serialNumber
    for _ in range(2):                             # signature, issuer
        tag, start, end = _der_item(der, end)
    tag, start, _end = _der_item(der, end)         # validity
    if tag != 0x30:
        raise ValueError("no validity")
    _tag, _s, after = _der_item(der, start)        # notBefore
    tag, s, e = _der_item(der, after)              # notAfter
    text = der[s:e].decode("ascii")
    if tag == 0x17 and len(text) == 13:            # UTCTime YYMMDDHHMMSSZ
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif not (tag == 0x18 and len(text) == 15):    # GeneralizedTime YYYYMMDDHHMMSSZ
        raise ValueError("unsupported time")
    return _dt.datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=_dt.timezone.utc)


def _san(names) -> x509.SubjectAlternativeName:
    from cryptography import x509

    entries = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def make_certificate(
    names=LAB_NAMES,
    *,
    common_name: str = "smtp-shell lab server",
    not_before: _dt.datetime | None = None,
    not_after: _dt.datetime | None = None,
    is_ca: bool = False,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A certificate and its key. Self-signed unless `issuer` (cert, key) is given."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = _dt.datetime.now(_dt.timezone.utc)
    not_before = not_before or now - _dt.timedelta(minutes=5)
    not_after = not_after or now + _dt.timedelta(days=LIFETIME_DAYS)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    issuer_name, signing_key = (issuer[0].subject, issuer[1]) if issuer else (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(_san(names), critical=False)
    if is_ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False), critical=True)
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(signing_key, hashes.SHA256()), key


def write_pair(cert: x509.Certificate, key, cert_path: Path, key_path: Path) -> CertPair:
    """Write PEM files atomically (key readable by the owner only)."""
    from cryptography.hazmat.primitives import serialization

    _atomic_write(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()), private=True)
    _atomic_write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return CertPair(cert_path, key_path)


def _atomic_write(path: Path, data: bytes, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if private:
            os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ensure_lab_certificate(directory: Path) -> CertPair:
    """The lab certificate in `directory`, made on first use and reused while valid for > 1 day."""
    pair = CertPair(directory / "lab-cert.pem", directory / "lab-key.pem")
    if pair.cert_path.exists() and pair.key_path.exists():
        try:
            pem = pair.cert_path.read_bytes()
            try:
                not_after = _not_valid_after(_pem_to_der(pem))
            except (ValueError, IndexError):  # not one we made: let cryptography read it
                from cryptography import x509

                not_after = x509.load_pem_x509_certificate(pem).not_valid_after_utc
            remaining = not_after - _dt.datetime.now(_dt.timezone.utc)
            if remaining > _dt.timedelta(days=1):
                return pair
        except ValueError:
            pass  # unreadable: make a new one
    cert, key = make_certificate()
    return write_pair(cert, key, pair.cert_path, pair.key_path)
