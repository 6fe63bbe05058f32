"""`replay --against`: the client side re-sent to a live server, replies compared by code."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from smtp_shell.lab import Faults, LabConfig, LabServer
from tests.shell.helpers import FULL_SESSION
from tests.support.servers import PASSWORD
from tests.transcript.helpers import ROOT, SHIPPED, cli, cli_env


@pytest.mark.timeout(120)
@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_transcripts_still_match_the_lab(path, tmp_path):
    result = cli(["replay", path, "--against", "lab"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "replies matched the recording" in result.stdout
    assert "differs" not in result.stdout


@pytest.fixture
def rejecting_lab(tmp_path):
    faults = Faults(reject_recipients={"teacher@lab.test": "550 5.1.1 <teacher@lab.test>: no such user here"})
    server = LabServer(LabConfig(host="127.0.0.1", port=0, mailbox=tmp_path / "mbox", cert_dir=tmp_path / "cert",
                                 faults=faults))
    server.start()
    yield server
    server.stop()


@pytest.mark.timeout(120)
def test_a_rejected_recipient_is_reported(rejecting_lab, tmp_path):
    path = ROOT / "transcripts" / "starttls-auth-login-send.jsonl"
    env = cli_env(tmp_path)
    env["LAB_PW"] = "lab-password"
    result = subprocess.run([sys.executable, "-m", "smtp_shell", "replay", str(path), "--against",
                             f"127.0.0.1:{rejecting_lab.port}", "--cafile", str(rejecting_lab.cert_path),
                             "--password-env", "LAB_PW"], capture_output=True, text=True, timeout=60, env=env,
                            cwd=str(tmp_path))
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert ("differs from the recording: after RCPT TO:<teacher@lab.test>: the recording got 250 2.1.5 "
            "Recipient OK, the server now answers 550 5.1.1") in out
    assert "DATA or AUTH lines were not sent" in out
    assert "Traceback" not in out + result.stderr
    assert os.environ.get("LAB_PW") is None


@pytest.mark.timeout(120)
def test_against_an_unchanged_independent_server(aiosmtpd_server, tmp_path):
    path = tmp_path / "s.jsonl"
    rec = cli(["connect", aiosmtpd_server.target, "--cafile", aiosmtpd_server.cafile, "--batch", "--record", path],
              tmp_path, "\n".join(FULL_SESSION) + "\n")
    assert rec.returncode == 0, rec.stdout
    env = cli_env(tmp_path)
    env["SMTP_PW"] = PASSWORD
    args = [sys.executable, "-m", "smtp_shell", "replay", str(path), "--against", aiosmtpd_server.target,
            "--cafile", str(aiosmtpd_server.cafile)]
    result = subprocess.run(args + ["--password-env", "SMTP_PW"], capture_output=True, text=True, timeout=60,
                            env=env, cwd=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all 12 replies matched" in result.stdout
    assert len(aiosmtpd_server.messages) == 2
    # Without a password and without a terminal: one sentence, no traceback.
    result = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env, cwd=str(tmp_path), stdin=subprocess.DEVNULL)
    assert result.returncode == 1
    assert "needs the password; give --password-env VAR" in result.stderr and "Traceback" not in result.stderr
