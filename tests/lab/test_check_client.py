"""`smtp-shell check-client` judging real clients: smtplib, swaks, and broken raw-socket clients.

check-client runs as the student runs it (a process); the test reads the port and the CA file
from what it prints, runs a client against it, and checks the JSON rubric: the exact findings
(rule and evidence) and the exit status.
"""

from __future__ import annotations

import json
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest

from tests.lab.student_clients import Mistakes, b64, run_client

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class CheckClient:
    def __init__(self, tmp_path, *extra: str):
        env = dict(os.environ, SMTP_SHELL_HOME=str(tmp_path / "home"), PYTHONPATH=ROOT, NO_COLOR="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "smtp_shell", "check-client", "--listen", "127.0.0.1:0", "--wait", "40",
             "--mailbox", str(tmp_path / "mailbox"), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.banner: list[str] = []
        stream = self.proc.stderr if "--json" in extra else self.proc.stdout
        while True:
            line = stream.readline()
            assert line, f"check-client ended early: {self.proc.stderr.read()}"
            self.banner.append(line)
            if line.startswith("  port:"):
                self.port = int(line.split()[-1])
            if line.startswith("  implicit TLS port:"):
                self.tls_port = int(line.split()[-1])
            if line.startswith("  CA file to trust:"):
                self.cafile = line.split(":", 1)[1].strip()
            if line.startswith("Run your program now"):
                break

    def result(self) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=50)
        return self.proc.returncode, out, err


@pytest.fixture
def check_client(tmp_path):
    started = []

    def start(*extra: str) -> CheckClient:
        c = CheckClient(tmp_path, *extra)
        started.append(c)
        return c

    yield start
    for c in started:
        if c.proc.poll() is None:
            c.proc.kill()
            c.proc.communicate()


def judged(c: CheckClient) -> tuple[int, dict]:
    status, out, _ = c.result()
    return status, json.loads(out)


def failed_items(session: dict) -> set[str]:
    return {i["id"] for i in session["items"] if i["status"] == "fail"}


def pairs(session: dict) -> set[tuple[str, str]]:
    return {(f["rule"], f["evidence"]) for f in session["findings"]}


def test_the_banner_says_where_to_point_the_client(check_client):
    c = check_client("--json")
    text = "".join(c.banner)
    assert "host:    127.0.0.1" in text and f"port:    {c.port}" in text
    assert "account: student / lab-password" in text and c.cafile.endswith("lab-cert.pem")
    c.proc.kill()


def test_smtplib_with_starttls_login_and_a_correct_message_passes(check_client):
    c = check_client("--json")
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "Student <student@lab.test>", "teacher@lab.test", "Lab 4"
    msg["Date"], msg["Message-ID"] = format_datetime(datetime.now().astimezone()), make_msgid()
    msg.set_content("Hello from smtplib.\n")
    with smtplib.SMTP("127.0.0.1", c.port, timeout=10) as smtp:
        smtp.ehlo("student.example")
        smtp.starttls(context=ssl.create_default_context(cafile=c.cafile))
        smtp.ehlo("student.example")
        smtp.login("student", "lab-password")
        smtp.send_message(msg)
    status, result = judged(c)
    [session] = result["sessions"]
    assert session["findings"] == [] and failed_items(session) == set()
    assert status == 0 and result["passed"] and session["user"] == "student" and session["tls"]
    assert {i["id"]: i["status"] for i in session["items"]}["utf8"] == "na"


def test_smtplib_over_implicit_tls_passes(check_client):
    c = check_client("--json", "--tls-port", "0")
    context = ssl.create_default_context(cafile=c.cafile)
    with smtplib.SMTP_SSL("127.0.0.1", c.tls_port, timeout=10, context=context) as smtp:
        smtp.ehlo("student.example")
        smtp.login("student", "lab-password")
        smtp.sendmail("student@lab.test", ["teacher@lab.test"],
                      b"From: s@lab.test\r\nTo: t@lab.test\r\nSubject: x\r\nDate: Tue, 24 Nov 2026 19:01:02 +0100\r\n"
                      b"Message-ID: <implicit.1@student.example>\r\n\r\nhi\r\n")
    status, result = judged(c)
    [session] = result["sessions"]
    assert (session["findings"], status, session["tls"]) == ([], 0, True)


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is not installed")
def test_swaks_passes(check_client):
    c = check_client("--json")
    done = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{c.port}", "--ehlo", "swaks.example", "--tls", "--tls-verify",
         "--tls-ca-path", c.cafile, "--auth", "LOGIN", "--auth-user", "student", "--auth-password", "lab-password",
         "--from", "swaks@lab.test", "--to", "teacher@lab.test"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    status, result = judged(c)
    [session] = result["sessions"]
    assert (session["findings"], status) == ([], 0)


NO_QUIT = ("no-quit", "(the client closed the connection without QUIT)")
BROKEN = {
    "bare LF": (Mistakes(eol=b"\n"),
                {("bare-lf", "C: EHLO student.example\\x0a"), ("data-unfinished", "C: .\\x0a"), NO_QUIT},
                {"line-ends", "accepted", "quit"}),
    "no Date": (Mistakes(date=None), {("date-missing", "(no Date header)")}, {"date"}),
    "AUTH before STARTTLS": (Mistakes(auth_before_starttls=True), {("auth-before-tls", "C: AUTH LOGIN")}, {"auth"}),
    "no EHLO after STARTTLS": (Mistakes(skip_ehlo_after_tls=True), {("no-ehlo-after-tls", "C: AUTH LOGIN")},
                               {"ehlo-again", "auth", "envelope", "accepted"}),
    "user name not in base64": (Mistakes(username=b"student"),
                                {("auth-bad-base64", "C: *** (the answer to 334 Username:)")}, {"auth"}),
    "base64 of the user name with its newline": (
        Mistakes(username=b64("student\n")),
        {("auth-newline", "C: *** (the answer to 334 Username:)"),
         ("auth-failed", "S: 535 5.7.8 Authentication credentials invalid")}, {"auth"}),
    "a client that does not trust the lab's certificate": (
        Mistakes(cafile_override=True),
        {("tls-not-completed", "S: 220 Ready to start TLS"), NO_QUIT}, {"starttls", "auth", "envelope", "accepted", "quit"}),
    "no Message-ID": (Mistakes(message_id=None), {("message-id-missing", "(no Message-ID header)")}, {"message-id"}),
}


@pytest.mark.parametrize("name", BROKEN)
def test_broken_raw_socket_clients_get_exactly_their_findings(check_client, name):
    mistakes, expected, failing = BROKEN[name]
    c = check_client("--json")
    run_client(c.port, c.cafile, mistakes, timeout=3)
    status, result = judged(c)
    [session] = result["sessions"]
    assert pairs(session) == expected
    assert failed_items(session) == failing
    required_failed = any(i["status"] == "fail" and i["required"] for i in session["items"])
    assert status == (1 if required_failed else 0) and result["passed"] is not required_failed


def test_the_text_rubric_shows_marks_evidence_and_the_fix(check_client):
    c = check_client()
    run_client(c.port, c.cafile, Mistakes(date="Tue, 24 Nov 2026 19:01:02 CET"))
    status, out, _ = c.result()
    assert status == 1
    assert "✓ Every line ends in CRLF" in out
    assert "✗ A Date header in RFC 5322 form with a numeric zone  (required)" in out
    assert "H: Date: Tue, 24 Nov 2026 19:01:02 CET" in out
    assert "'CET' is not a time zone RFC 5322 knows" in out and "fix: format it with email.utils.format_datetime" in out
    assert "\u2013 UTF-8 sent by the standards (extra credit): the message is plain ASCII" in out
    assert "score 18/19: 1 required item(s) failed" in out


def test_a_rubric_file_chooses_and_weights_items(check_client, tmp_path):
    rubric = tmp_path / "rubric.toml"
    rubric.write_text("[items.starttls]\nweight = 5\n[items.date]\nrequired = false\n", encoding="utf-8")
    c = check_client("--json", "--rubric", str(rubric))
    run_client(c.port, c.cafile, Mistakes(date=None))
    status, result = judged(c)
    [session] = result["sessions"]
    assert [(i["id"], i["status"], i["weight"]) for i in session["items"]] == [("starttls", "pass", 5),
                                                                               ("date", "fail", 1)]
    assert status == 0 and session["score"] == 5


def test_a_bad_rubric_file_is_one_sentence(tmp_path):
    rubric = tmp_path / "rubric.toml"
    rubric.write_text("[items.colour]\nweight = 1\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "smtp_shell", "check-client", "--rubric", str(rubric)],
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=ROOT), timeout=30)
    assert done.returncode == 1
    assert "'colour' is not an item; the items are line-ends, greeting" in done.stderr
    assert "Traceback" not in done.stderr


def test_several_sessions_and_a_message_id_reused(check_client):
    c = check_client("--json", "--sessions", "2")
    run_client(c.port, c.cafile)
    run_client(c.port, c.cafile)
    status, result = judged(c)
    first, second = result["sessions"]
    assert pairs(first) == set()
    assert pairs(second) == {("message-id-duplicate", "H: Message-ID: <lab4.1@student.example>")}
    assert status == 0  # the Message-ID item is recommended, not required


def test_nobody_came(check_client, tmp_path):
    env = dict(os.environ, SMTP_SHELL_HOME=str(tmp_path / "home"), PYTHONPATH=ROOT)
    done = subprocess.run([sys.executable, "-m", "smtp_shell", "check-client", "--listen", "127.0.0.1:0",
                           "--wait", "1", "--mailbox", str(tmp_path / "mb"), "--json"],
                          capture_output=True, text=True, env=env, timeout=30)
    assert done.returncode == 5 and json.loads(done.stdout) == {"passed": False, "sessions": []}
    assert "0 of 1 session(s) arrived" in done.stderr


def test_a_client_that_talks_before_the_greeting(check_client):
    c = check_client("--json")
    with socket.create_connection(("127.0.0.1", c.port), timeout=5) as sock:
        sock.sendall(b"EHLO student.example\r\nQUIT\r\n")
        while sock.recv(4096):
            pass
    status, result = judged(c)
    [session] = result["sessions"]
    assert ("early-talker", "C: EHLO student.example") in pairs(session)
    assert "greeting" in failed_items(session) and status == 1
