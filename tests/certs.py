"""Test certificates for TLS tests: one helper mints every kind a test needs in one directory.

Why this exists: transport and lab tests need real certificates that fail verification in
specific ways (expired, wrong host, unknown issuer), made with the same `make_certificate` the
lab server uses, so nothing is mocked and no files are checked in.
"""

from __future__ import annotations

import datetime as dt
import ssl
from dataclasses import dataclass
from pathlib import Path

from smtp_shell.lab.certificate import CertPair, make_certificate, write_pair

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class TestCerts:
    __test__ = False  # not a pytest test class

    valid: CertPair          # self-signed, CN=smtp-shell test, valid for loopback names
    ca: CertPair             # a CA certificate (CN=smtp-shell test CA)
    ca_signed: CertPair      # leaf for loopback names issued by `ca`
    expired: CertPair        # self-signed for loopback names, expired 2020-01-01
    wrong_host: CertPair     # self-signed, only for other.example
    unknown: CertPair        # self-signed for loopback names, trusted by nobody
    unknown_ca_signed: CertPair  # loopback leaf issued by a CA nobody trusts


def make_test_certs(directory: Path) -> TestCerts:
    utc = dt.UTC

    def pair(name: str, cert_key) -> CertPair:
        cert, key = cert_key
        return write_pair(cert, key, directory / f"{name}-cert.pem", directory / f"{name}-key.pem")

    ca_cert, ca_key = make_certificate((), common_name="smtp-shell test CA", is_ca=True)
    other_ca = make_certificate((), common_name="nobody's CA", is_ca=True)
    return TestCerts(
        valid=pair("valid", make_certificate(LOOPBACK_NAMES, common_name="smtp-shell test")),
        ca=pair("ca", (ca_cert, ca_key)),
        ca_signed=pair("ca-signed", make_certificate(LOOPBACK_NAMES, common_name="ca-signed leaf",
                                                     issuer=(ca_cert, ca_key))),
        expired=pair("expired", make_certificate(
            LOOPBACK_NAMES, common_name="expired test",
            not_before=dt.datetime(2019, 1, 1, tzinfo=utc), not_after=dt.datetime(2020, 1, 1, tzinfo=utc))),
        wrong_host=pair("wrong-host", make_certificate(("other.example",), common_name="other.example")),
        unknown=pair("unknown", make_certificate(LOOPBACK_NAMES, common_name="unknown test")),
        unknown_ca_signed=pair("unknown-ca-signed", make_certificate(
            LOOPBACK_NAMES, common_name="orphan leaf", issuer=other_ca)),
    )


def server_context(pair: CertPair) -> ssl.SSLContext:
    """A server-side SSLContext presenting `pair`."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pair.cert_path, pair.key_path)
    return ctx
