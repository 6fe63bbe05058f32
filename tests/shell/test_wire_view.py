"""`:wire on` against the default lab: each line is shown again as its bytes, CR LF drawn as ␍␊,
trailing spaces as ␠, a dot-stuffed line beside what was typed, UTF-8 in hex, the TLS boundary
marked, and an AUTH secret still masked; `:wire off` stops it."""

from __future__ import annotations

import base64

import pytest

from tests.shell.helpers import run_cli

LINES = [":wire on", "EHLO me", "STARTTLS", "EHLO me", "AUTH LOGIN", base64.b64encode(b"student").decode(),
         base64.b64encode(b"lab-password").decode(), "MAIL FROM:<student@lab.test>   ", "RCPT TO:<teacher@lab.test>",
         "DATA", "Subject: Café", "", ".hidden", ".", ":wire off", "NOOP", "QUIT"]


@pytest.mark.timeout(60)
def test_the_wire_view_shows_the_bytes_and_hides_secrets(tmp_path):
    done = run_cli([], "".join(line + "\n" for line in LINES), tmp_path)
    out = done.stdout
    assert " => EHLO me␍␊" in out and "<=  250 HELP␍␊" in out
    assert "──── TLS boundary" in out and " ≈> EHLO me␍␊" in out
    assert " ≈> MAIL FROM:<student@lab.test>␠␠␠␍␊   ← 3 trailing spaces" in out
    assert " ≈> Subject: Café␍␊   ← UTF-8: é=C3 A9" in out
    assert " ≈> ..hidden␍␊   ← dot-stuffed: you typed '.hidden'" in out
    assert "bGFiLXBhc3N3b3Jk" not in out and "lab-password" not in out.replace("log in as student / lab-password", "")
    assert " ≈> ********␍␊" in out
    assert " ≈> NOOP␍␊" not in out and "wire view is off" in out
