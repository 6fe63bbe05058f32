"""Batch mode loads only what it needs: a whole session to a plain server (STARTTLS with a
verified certificate, AUTH, a message with a Date header) as a fresh `smtp-shell connect
--batch` process, stdout a pipe, must not import the REPL's, the lab's or the teaching modules'
libraries. Each of these was on the batch path once and cost start-up time (issue 17); this
pins the set so it cannot come back silently."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest

from tests.shell.helpers import env
from tests.support.servers import PASSWORD, USER

pytestmark = pytest.mark.timeout(60)

NOT_ON_THE_BATCH_PATH = (
    "rich", "prompt_toolkit", "pygments",          # plain output on a pipe: no rich, no REPL
    "cryptography",                                # a verified certificate is described from ssl
    "email",                                       # Date headers are checked without the email package
    "aiosmtpd", "aiohttp",                         # the lab server
    "smtp_shell.lab", "smtp_shell.lessons",        # the lab, lessons
    "smtp_shell.transcript",                       # only with --record
    "smtp_shell.shell.repl", "smtp_shell.shell.completion", "smtp_shell.shell.teaching",
    "smtp_shell.protocol.catalogue",               # reply-code texts: first 5xx hint or :explain
    "platformdirs",                                # SMTP_SHELL_HOME names the folder
)

PROBE = """\
import runpy, sys
sys.argv = ["smtp-shell"] + sys.argv[1:]
try:
    runpy.run_module("smtp_shell", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    status = exc.code
else:
    status = 0
print("MODULES", " ".join(sorted(sys.modules)), file=sys.stderr)
sys.exit(status)
"""


def _loaded(result) -> set[str]:
    line = next(line for line in result.stderr.splitlines() if line.startswith("MODULES "))
    return set(line.split()[1:])


def test_a_whole_batch_session_imports_none_of_the_heavy_modules(aiosmtpd_server, tmp_path):
    plain = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
    script = "\n".join([
        "EHLO me", "STARTTLS", "EHLO me", f"AUTH PLAIN {plain}", "MAIL FROM:<a@lab.test>", "RCPT TO:<b@lab.test>",
        "DATA", "From: A <a@lab.test>", "To: B <b@lab.test>", "Date: Tue, 24 Nov 2026 19:01:02 +0000",
        "Subject: imports", "", "body", ".", "QUIT", ""])
    result = subprocess.run([sys.executable, "-c", PROBE, "connect", aiosmtpd_server.target, "--batch",
                             "--cafile", str(aiosmtpd_server.cafile), "--timeout", "10"],
                            input=script, capture_output=True, text=True, timeout=45, env=env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "TLS started" in result.stdout and "<~  235" in result.stdout and len(aiosmtpd_server.messages) == 1
    loaded = _loaded(result)
    heavy = sorted(m for m in loaded if any(m == p or m.startswith(p + ".") for p in NOT_ON_THE_BATCH_PATH))
    assert heavy == [], f"batch mode imported {heavy}"
    assert "smtp_shell.protocol.session" in loaded  # the probe saw the session's own modules
