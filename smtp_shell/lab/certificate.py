"""The lab server's self-signed certificate, made with `cryptography` on first use and reused.

A student's client should be able to *verify* the lab server, not just skip verification, so
the certificate is a proper leaf: valid for localhost, 127.0.0.1 and ::1, CA flag off, an
ECDSA P-256 key, lifetime under 825 days (what browsers and OpenSSL policies accept). The shell
then trusts exactly this file with hostname checking on.

`make_certificate` is general enough for tests to mint expired, wrong-host or CA-signed
certificates too.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from smtp_shell.paths import atomic_write

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

# `cryptography` is imported where a certificate is made (or one we did not make is read):
# reusing the lab certificate, as every start after the first does, needs only the facts
# file written beside it (expiry, digest) and the standard library, so `smtp-shell` reaches
# its prompt without paying for that import.

LAB_NAMES = ("localhost", "127.0.0.1", "::1")
LIFETIME_DAYS = 397


@dataclass(frozen=True)
class CertPair:
    """The lab's certificate and private key files (PEM)."""

    cert_path: Path
    key_path: Path

    def fingerprint(self) -> str:
        """SHA-256 fingerprint as colon-separated hex, as `openssl x509 -fingerprint` shows it."""
        digest = _sha256_of_pem(self.cert_path.read_bytes())
        return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def _sha256_of_pem(pem: bytes) -> str:
    """Upper-case hex SHA-256 of a PEM certificate's DER bytes (ValueError if it is not PEM)."""
    import ssl

    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem.decode("ascii"))).hexdigest().upper()


def _write_facts(path: Path, cert_pem: bytes, not_after: _dt.datetime) -> None:
    """Beside a certificate we made: its expiry and digest, so reusing it needs no X.509 parser."""
    facts = {"not_after": not_after.isoformat(), "sha256": _sha256_of_pem(cert_pem)}
    atomic_write(path, json.dumps(facts).encode("ascii"))


def _reusable_until(pair: CertPair, facts_path: Path) -> _dt.datetime:
    """When the stored certificate expires: from the facts file written with it when its digest
    still matches, else (a certificate put there by hand) read by `cryptography`."""
    pem = pair.cert_path.read_bytes()
    try:
        facts = json.loads(facts_path.read_text(encoding="ascii"))
        if facts["sha256"] == _sha256_of_pem(pem):
            return _dt.datetime.fromisoformat(facts["not_after"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    from cryptography import x509

    return x509.load_pem_x509_certificate(pem).not_valid_after_utc


def _san(names) -> x509.SubjectAlternativeName:
    from cryptography import x509

    entries: list[x509.GeneralName] = []
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
    now = _dt.datetime.now(_dt.UTC)
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

    atomic_write(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()), private=True)
    atomic_write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return CertPair(cert_path, key_path)


def ensure_lab_certificate(directory: Path) -> CertPair:
    """The lab certificate in `directory`, made on first use and reused while valid for > 1 day."""
    pair = CertPair(directory / "lab-cert.pem", directory / "lab-key.pem")
    facts_path = directory / "lab-cert.json"
    if pair.cert_path.exists() and pair.key_path.exists():
        try:
            if _reusable_until(pair, facts_path) - _dt.datetime.now(_dt.UTC) > _dt.timedelta(days=1):
                return pair
        except ValueError:
            pass  # unreadable: make a new one
    cert, key = make_certificate()
    pair = write_pair(cert, key, pair.cert_path, pair.key_path)
    _write_facts(facts_path, pair.cert_path.read_bytes(), cert.not_valid_after_utc)
    return pair
