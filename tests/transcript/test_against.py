"""`replay --against`: the client side re-sent to a live server, replies compared by code."""

from __future__ import annotations

import json
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


@pytest.mark.timeout(120)
def test_the_message_re_sent_equals_the_original(aiosmtpd_server, tmp_path):
    """A body line starting with '.' is recorded dot-stuffed; the replay must not stuff it twice."""
    path = tmp_path / "s.jsonl"
    rec = cli(["connect", aiosmtpd_server.target, "--cafile", aiosmtpd_server.cafile, "--batch", "--record", path],
              tmp_path, "\n".join(FULL_SESSION) + "\n")
    assert rec.returncode == 0, rec.stdout
    env = cli_env(tmp_path)
    env["SMTP_PW"] = PASSWORD
    result = subprocess.run([sys.executable, "-m", "smtp_shell", "replay", str(path), "--against",
                             aiosmtpd_server.target, "--cafile", str(aiosmtpd_server.cafile), "--password-env", "SMTP_PW"],
                            capture_output=True, text=True, timeout=60, env=env, cwd=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    original, replayed = aiosmtpd_server.messages
    assert b"\r\n.A line that starts with a dot.\r\n" in original
    assert replayed == original


@pytest.mark.timeout(120)
def test_skipped_lines_do_not_shift_the_comparison(rejecting_lab, tmp_path):
    """RCPT refused now, so DATA fails and the message lines are not sent: only RCPT and DATA differ,
    and QUIT is compared with QUIT's recorded reply (not with the reply to the final dot)."""
    path = ROOT / "transcripts" / "starttls-auth-login-send.jsonl"
    env = cli_env(tmp_path)
    env["LAB_PW"] = "lab-password"
    result = subprocess.run([sys.executable, "-m", "smtp_shell", "replay", str(path), "--against",
                             f"127.0.0.1:{rejecting_lab.port}", "--cafile", str(rejecting_lab.cert_path),
                             "--password-env", "LAB_PW", "--no-color"], capture_output=True, text=True, timeout=60,
                            env=env, cwd=str(tmp_path))
    differences = [line for line in result.stdout.splitlines() if "differs from the recording" in line]
    assert len(differences) == 2, result.stdout
    assert "after RCPT TO:<teacher@lab.test>" in differences[0] and "after DATA" in differences[1]
    assert "2 of the recorded replies differ" in result.stdout


@pytest.fixture
def lab(tmp_path):
    server = LabServer(LabConfig(host="127.0.0.1", port=0, mailbox=tmp_path / "mbox", cert_dir=tmp_path / "cert"))
    server.start()
    yield server
    server.stop()


@pytest.mark.timeout(120)
def test_a_failed_login_is_replayed_as_a_failed_login(lab, tmp_path):
    import base64

    b64 = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
    path = tmp_path / "failed.jsonl"
    lines = ["EHLO me", "STARTTLS", "EHLO me", "AUTH LOGIN", b64("student"), b64("wrong-guess"),
             "AUTH LOGIN", b64("student"), b64("lab-password"), "QUIT"]
    rec = cli(["connect", f"127.0.0.1:{lab.port}", "--cafile", lab.cert_path, "--batch",
               "--record", path], tmp_path, "\n".join(lines) + "\n")
    codes = [json.loads(x).get("code") for x in path.read_text().splitlines() if '"k": "s"' in x]
    assert 535 in codes and 235 in codes, rec.stdout + rec.stderr
    result = cli(["replay", path, "--against", "lab"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "replies matched the recording" in result.stdout
    assert "wrong-guess" not in path.read_text() and "lab-password" not in path.read_text()


@pytest.mark.timeout(120)
def test_a_lesson_transcript_is_replayed_against_that_lessons_lab(tmp_path):
    from tests.lessons.helpers import LESSONS, golden_lines

    lesson = next(x for x in LESSONS if x.path.name.startswith("09-"))
    run = cli(["lesson", lesson.id, "--batch", "--record-dir", tmp_path / "rec", "--mailbox", tmp_path / "mb",
               "--student", "Ada"], tmp_path, "\n".join(golden_lines(lesson)) + "\n")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr
    (path,) = (tmp_path / "rec").glob("*.jsonl")
    result = cli(["replay", path, "--against", "lab"], tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "replies matched the recording" in result.stdout
