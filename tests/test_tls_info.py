"""The TLS details shown after a verified handshake are the same whether they come from the `ssl`
module alone (the fast path, no `cryptography` import) or from `cryptography` (the full path).

Why: batch sessions skip the ~35 ms `cryptography` import by reading a verified certificate
with `getpeercert()`; the student must still see exactly the same subject, issuer, dates,
fingerprint and self-signed flag, including for names the fast path declines (escaping,
attributes without a short name), which fall back to `cryptography`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress

import pytest

from smtp_shell import transport
from smtp_shell.lab.certificate import write_pair
from smtp_shell.transport import TLSSettings
from smtp_shell.transport.aio import Connection
from tests.certs import make_test_certs, server_context

pytestmark = pytest.mark.timeout(30)


def _named_cert(directory, attributes):
    """A self-signed certificate for 127.0.0.1 whose subject has these (oid, value) attributes."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=3))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return write_pair(cert, key, directory / "named-cert.pem", directory / "named-key.pem")


async def _info(pair, cafile, host="127.0.0.1"):
    async def greet(reader, writer):
        writer.write(b"220 ready\r\n")
        await writer.drain()
        await reader.read()

    server = await asyncio.start_server(greet, "127.0.0.1", 0, ssl=server_context(pair))
    try:
        port = server.sockets[0].getsockname()[1]
        conn = await Connection.open(host, port, implicit_tls=True, tls=TLSSettings(cafile=cafile))
        info = conn.tls_info
        await conn.close()
        return info
    finally:
        server.close()


def _both(monkeypatch, pair, cafile, host="127.0.0.1"):
    fast = asyncio.run(asyncio.wait_for(_info(pair, cafile, host), 10))
    with monkeypatch.context() as m:
        m.setattr(transport, "_tls_info_from_ssl", lambda *a: None)
        full = asyncio.run(asyncio.wait_for(_info(pair, cafile, host), 10))
    return fast, full


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_test_certs(tmp_path_factory.mktemp("certs"))


def test_self_signed_and_ca_signed_details_are_identical_on_both_paths(certs, monkeypatch):
    fast, full = _both(monkeypatch, certs.valid, certs.valid.cert_path)
    assert fast == full and fast.self_signed and fast.subject == "CN=smtp-shell test"
    fast, full = _both(monkeypatch, certs.ca_signed, certs.ca.cert_path, host="localhost")
    assert fast == full and not fast.self_signed and fast.issuer == "CN=smtp-shell test CA"


@pytest.mark.parametrize(("attributes", "fast_path"), [
    ([("C", "DE"), ("O", "Lab School"), ("OU", "Room 4"), ("CN", "mail.lab.test")], True),
    ([("O", "Smith, Jones & Co"), ("CN", "mail.lab.test")], False),          # needs escaping
    ([("CN", "mail.lab.test"), ("emailAddress", "admin@lab.test")], False),  # no short name
    ([("CN", "#hash"), ("O", " padded ")], False),
])
def test_richer_names_are_shown_the_same_as_cryptography_shows_them(tmp_path, monkeypatch, attributes, fast_path):
    from cryptography.x509.oid import NameOID

    oids = {"C": NameOID.COUNTRY_NAME, "O": NameOID.ORGANIZATION_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
            "CN": NameOID.COMMON_NAME, "emailAddress": NameOID.EMAIL_ADDRESS}
    pair = _named_cert(tmp_path, [(oids[k], v) for k, v in attributes])
    fast, full = _both(monkeypatch, pair, pair.cert_path)
    assert fast == full and fast.self_signed
    calls = []
    real = transport._load_der
    monkeypatch.setattr(transport, "_load_der", lambda der: calls.append(der) or real(der))
    assert asyncio.run(asyncio.wait_for(_info(pair, pair.cert_path), 10)) == fast
    assert (not calls) is fast_path  # which path answered


def test_the_fast_path_answers_for_the_lab_certificate_without_falling_back(certs, monkeypatch):
    calls = []
    monkeypatch.setattr(transport, "_load_der", lambda der: calls.append(der))  # the cryptography path
    info = asyncio.run(asyncio.wait_for(_info(certs.valid, certs.valid.cert_path), 10))
    assert not calls and info.self_signed and info.fingerprint_sha256 == certs.valid.fingerprint()
    info = asyncio.run(asyncio.wait_for(_info(certs.ca_signed, certs.ca.cert_path, "localhost"), 10))
    assert not calls and not info.self_signed
