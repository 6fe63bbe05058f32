"""The lab certificate: made once, reused from the facts file beside it, remade when it is
about to expire or was replaced by hand."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

from smtp_shell.lab.certificate import ensure_lab_certificate, make_certificate, write_pair


def test_made_once_then_reused(tmp_path):
    first = ensure_lab_certificate(tmp_path)
    facts = json.loads((tmp_path / "lab-cert.json").read_text())
    assert facts["sha256"] == first.fingerprint().replace(":", "")
    pem = first.cert_path.read_bytes()
    again = ensure_lab_certificate(tmp_path)
    assert again.cert_path.read_bytes() == pem


def test_reuse_does_not_import_cryptography(tmp_path):
    ensure_lab_certificate(tmp_path)
    code = ("import sys; from pathlib import Path; from smtp_shell.lab.certificate import ensure_lab_certificate;"
            f"ensure_lab_certificate(Path({str(tmp_path)!r})); print('cryptography' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "False", out.stderr


def test_a_certificate_replaced_by_hand_is_read_by_cryptography(tmp_path):
    ensure_lab_certificate(tmp_path)
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    cert, key = make_certificate(not_after=soon)
    write_pair(cert, key, tmp_path / "lab-cert.pem", tmp_path / "lab-key.pem")  # the facts file is now stale
    pem = (tmp_path / "lab-cert.pem").read_bytes()
    renewed = ensure_lab_certificate(tmp_path)  # expires within a day: remade
    assert renewed.cert_path.read_bytes() != pem


def test_expiring_certificate_is_remade(tmp_path):
    pair = ensure_lab_certificate(tmp_path)
    (tmp_path / "lab-cert.json").write_text(json.dumps({
        "not_after": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat(),
        "sha256": pair.fingerprint().replace(":", "")}))
    old = pair.cert_path.read_bytes()
    assert ensure_lab_certificate(tmp_path).cert_path.read_bytes() != old
