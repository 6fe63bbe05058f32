"""Every path a password was seen to leak by, closed: each test searches every output (screen,
transcript, history file, exports, report, the lab's session logs, what a server received)
for the password in plain and in base64 forms.

The REPL runs in-process (prompt_toolkit pipe input, as the user types it, keys included);
servers are the lab, plain aiosmtpd and the scriptable hostile server, all on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import stat
import subprocess
import sys
import time

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from smtp_shell.lab import LabConfig, LabServer
from smtp_shell.render import make_console
from smtp_shell.shell.options import SessionOptions
from smtp_shell.shell.repl import repl_session
from smtp_shell.transcript.recorder import Recorder
from tests.robustness.hostile import serve
from tests.support.servers import PASSWORD, USER
from tests.transcript.helpers import cli, cli_env

pytestmark = pytest.mark.timeout(90)

LAB_PASSWORD = "Lab-Pa55word-xyz"
UP = "\x1b[A"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def forms(password: str, user: str = USER) -> tuple[str, ...]:
    """The password as it could leak: plain, base64 (with and without padding), the PLAIN blob."""
    return (password, b64(password), b64(password).rstrip("="), b64(f"\0{user}\0{password}"))


def assert_absent(password: str, *texts: str, user: str = USER) -> None:
    for text in texts:
        for form in forms(password, user):
            assert form not in text, f"{form!r} leaked into:\n{text[:3000]}"


@pytest.fixture
def lab(tmp_path):
    server = LabServer(LabConfig(host="127.0.0.1", port=0, mailbox=tmp_path / "mbox", cert_dir=tmp_path / "cert",
                                 users={USER: LAB_PASSWORD}))
    server.start()
    yield server
    server.stop()


def lab_logs(server) -> str:
    """Every session log, once each is complete (the lab's log writer thread finishes a file
    moments after its session ends), so a secret cannot hide in a line not yet written."""
    deadline = time.monotonic() + 5
    while True:
        texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(server.log_dir.glob("*.log"))]
        if (texts and all(t.endswith("-- connection closed\n") for t in texts)) or time.monotonic() > deadline:
            return "".join(texts)
        time.sleep(0.05)


def every_output(tmp_path, transcript) -> list[str]:
    """The transcript itself, every export of it, the report over its folder (the class page and
    the transcript pages beside it too) and `diff` of it with itself."""
    texts = [transcript.read_text(encoding="utf-8")]
    for fmt in ("text", "md", "html", "svg", "mermaid", "cast"):
        result = cli(["export", transcript, "--format", fmt], tmp_path)
        assert result.returncode == 0, result.stderr
        texts.append(result.stdout)
    for fmt in ("table", "csv", "json"):
        result = cli(["report", transcript.parent, "--format", fmt], tmp_path)
        texts.append(result.stdout)
    page = tmp_path / "class-page" / "class.html"
    assert cli(["report", transcript.parent, "--format", "html", "-o", page], tmp_path).returncode == 0
    texts += [p.read_text(encoding="utf-8") for p in sorted(page.parent.rglob("*.html"))]
    for fmt in ("text", "html"):
        texts.append(cli(["diff", transcript, transcript, "--format", fmt], tmp_path).stdout)
    return texts


def type_into_repl(options, steps, *, history=None, recorder=None) -> str:
    """Run the REPL; `steps` are (keys, text expected after them or None). Returns the screen."""
    buffer = io.StringIO()
    console = make_console(file=buffer, width=250)

    async def scenario():
        with create_pipe_input() as inp:
            task = asyncio.create_task(repl_session(options, input=inp, output=DummyOutput(), console=console,
                                                    history=history, listeners=[recorder] if recorder else []))
            loop = asyncio.get_running_loop()
            for keys, expect in steps:
                mark = len(buffer.getvalue())
                inp.send_text(keys)
                if expect is None:
                    await asyncio.sleep(0.4)
                    continue
                deadline = loop.time() + 10
                while expect not in buffer.getvalue()[mark:]:
                    assert not task.done(), buffer.getvalue()
                    assert loop.time() < deadline, f"{expect!r} never appeared:\n{buffer.getvalue()}"
                    await asyncio.sleep(0.02)
            return await asyncio.wait_for(task, 15)

    status = asyncio.run(asyncio.wait_for(scenario(), 60))
    if recorder is not None:
        recorder.close(status)
    return buffer.getvalue()


TLS_LOGIN = [("EHLO me\r", "250 "), ("STARTTLS\r", "send EHLO again"), ("EHLO me\r", "250 ")]


def test_b64_and_unb64_show_but_never_record_nor_enter_history(lab, tmp_path):
    """Lesson 5 has students type `:b64 lab-password`: the screen shows it (they asked), nothing else keeps it."""
    options = SessionOptions(host="127.0.0.1", port=lab.port, cafile=lab.cert_path, timeout=5)
    path = tmp_path / "class" / "alice.jsonl"
    screen = type_into_repl(options, [
        *TLS_LOGIN,
        (f":b64 {LAB_PASSWORD}\r", "is base64 for"),
        (f":unb64 {b64(LAB_PASSWORD)}\r", "is base64 for"),
        (f":unb64 {LAB_PASSWORD}!\r", "not base64"),
        (f"AUTH PLAIN {b64(chr(0) + USER + chr(0) + LAB_PASSWORD)}\r", "235 "),
        (":quit\r", "221 "),
    ], recorder=Recorder(path, target=options.target))
    assert b64(LAB_PASSWORD) in screen  # shown: the student asked for it
    from smtp_shell import paths
    history = paths.history_file().read_text(encoding="utf-8")
    assert "EHLO me" in history  # the history works; it just never holds a secret
    recorded = path.read_text(encoding="utf-8")
    assert ":b64 ********" in recorded and ":unb64 ********" in recorded
    assert_absent(LAB_PASSWORD, history, lab_logs(lab), *every_output(tmp_path, path))


@pytest.mark.parametrize("how", ["typed at password>", ":auth login"])
def test_a_masked_password_never_comes_back_with_the_up_arrow(lab, tmp_path, how):
    """↑ then Enter at data>, auth> and pipe> after a masked password: the password is not recalled."""
    options = SessionOptions(host="127.0.0.1", port=lab.port, cafile=lab.cert_path, timeout=5)
    if how == ":auth login":
        login = [(f":auth login {USER}\r", None), (f"{LAB_PASSWORD}\r", "235 ")]
    else:
        login = [("AUTH LOGIN\r", "334 "), (f"{b64(USER)}\r", "334 "), (f"{b64(LAB_PASSWORD)}\r", "235 ")]
    screen = type_into_repl(options, [
        *TLS_LOGIN, *login,
        ("MAIL FROM:<a@lab.test>\r", "250 "), ("RCPT TO:<b@lab.test>\r", "250 "), ("DATA\r", "354 "),
        ("Subject: up\r", None), (UP * 3 + "\r", None), (".\r", "warning"), ("\r", "250 "),
        (":pipeline\r", "empty line sends"), (UP * 3 + "\r", None), ("\r", None),
        (":reconnect\r", "220 "), *TLS_LOGIN,
        ("AUTH LOGIN\r", "334 "), (UP * 3 + "\r", None), ("*\r", None),
        (":quit\r", "221 "),
    ], history=None)
    from smtp_shell import paths
    history = paths.history_file().read_text(encoding="utf-8")
    messages = [p.read_bytes().decode("utf-8", "replace") for p in (tmp_path / "mbox").rglob("*.eml")]
    assert len(messages) == 1
    assert_absent(LAB_PASSWORD, screen, history, lab_logs(lab), *messages)


def _username_twice(lines_seen: list[bytes]):
    async def script(peer):
        async def auth(p, line):
            await p.send("334 VXNlcm5hbWU6")  # Username:
            while True:
                answer = await p.line()
                if not answer:
                    return False
                lines_seen.append(answer)
                if answer == b"*":
                    await p.send("501 5.7.0 cancelled")
                    return True
                await p.send("334 VXNlcm5hbWU6")  # Username: again, and again
        await peer.smtp({"EHLO": "250-hostile.test\r\n250 AUTH LOGIN PLAIN", "AUTH": auth})
    return script


def test_a_repeated_username_challenge_gets_no_password(tmp_path):
    seen: list[bytes] = []
    path = tmp_path / "class" / "t.jsonl"
    with serve(_username_twice(seen)) as server:
        env = cli_env(tmp_path)
        env["SMTP_SHELL_PASSWORD"] = PASSWORD
        result = subprocess.run([sys.executable, "-m", "smtp_shell", "connect", server.target, "--batch",
                                 "--record", str(path), "--keep-going"] if False else
                                [sys.executable, "-m", "smtp_shell", "connect", server.target, "--batch",
                                 "--record", str(path)],
                                input=f"EHLO me\n:auth login {USER}\nQUIT\n", capture_output=True, text=True,
                                timeout=60, env=env, cwd=str(tmp_path))
    assert "user name again" in result.stdout, result.stdout + result.stderr
    assert seen and seen[-1] == b"*"
    assert_absent(PASSWORD, b"\n".join(seen).decode(), result.stdout, result.stderr, *every_output(tmp_path, path))
    users = {json.loads(line).get("user") for line in path.read_text().splitlines()[1:]} - {None}
    assert users == {USER}
    report = json.loads(cli(["report", path.parent, "--format", "json"], tmp_path).stdout)
    assert report["files"][0]["user"] in ("", USER)


def test_the_cleartext_auth_warning_also_when_starttls_is_not_offered(tmp_path):
    async def script(peer):
        await peer.smtp({"EHLO": "250-hostile.test\r\n250 AUTH PLAIN LOGIN", "AUTH": "235 2.7.0 ok"})
    with serve(script) as server:
        result = subprocess.run([sys.executable, "-m", "smtp_shell", "connect", server.target, "--batch"],
                                input=f"EHLO me\nAUTH PLAIN {b64(chr(0) + USER + chr(0) + PASSWORD)}\nQUIT\n",
                                capture_output=True, text=True, timeout=60, env=cli_env(tmp_path), cwd=str(tmp_path))
    assert "unencrypted" in result.stdout and "did not offer STARTTLS" in result.stdout, result.stdout
    assert_absent(PASSWORD, result.stdout)


def _forged(path, events) -> None:
    header = {"format": "smtp-shell-transcript", "version": 1, "started": "2026-05-01T09:30:00.000Z",
              "target": "127.0.0.1:25"}
    path.write_text("".join(json.dumps(o) + "\n" for o in [header, *events, {"t": 9, "k": "end"}]))


@pytest.mark.parametrize("case", ["forged-ehlo", "auth-before-tls"])
def test_replay_against_never_sends_a_credential_outside_a_recorded_auth_line_under_tls(tmp_path, case):
    received: list[bytes] = []

    async def script(peer):
        await peer.smtp({"EHLO": "250-hostile.test\r\n250 AUTH PLAIN LOGIN", "AUTH": "235 2.7.0 ok"})
        received.extend(peer.lines)
    greeting = {"t": 0.1, "k": "s", "text": "220 x\r\n", "code": 220, "reply": "greeting"}
    if case == "forged-ehlo":
        events = [{"t": 0, "k": "connect", "target": "x", "tls": False}, greeting,
                  {"t": 0.2, "k": "c", "text": "EHLO ********", "as": "command", "verb": "EHLO",
                   "secret": "login-password"},
                  {"t": 0.3, "k": "c", "text": "MAIL FROM:<********>", "as": "command", "verb": "MAIL",
                   "secret": "plain-initial", "user": USER},
                  {"t": 0.4, "k": "c", "text": "QUIT", "as": "command", "verb": "QUIT"}]
    else:  # a genuine recording that logged in without TLS: replaying it must not repeat that
        events = [{"t": 0, "k": "connect", "target": "x", "tls": False}, greeting,
                  {"t": 0.2, "k": "c", "text": "EHLO me", "as": "command", "verb": "EHLO"},
                  {"t": 0.3, "k": "s", "text": "250 AUTH PLAIN\r\n", "code": 250},
                  {"t": 0.4, "k": "c", "text": "AUTH PLAIN ********", "as": "command", "verb": "AUTH",
                   "secret": "plain-initial", "user": USER},
                  {"t": 0.5, "k": "s", "text": "235 ok\r\n", "code": 235},
                  {"t": 0.6, "k": "c", "text": "QUIT", "as": "command", "verb": "QUIT"}]
    path = tmp_path / "forged.jsonl"
    _forged(path, events)
    with serve(script) as server:
        env = cli_env(tmp_path)
        env["THE_PW"] = PASSWORD
        result = subprocess.run([sys.executable, "-m", "smtp_shell", "replay", str(path), "--against", server.target,
                                 "--password-env", "THE_PW"], capture_output=True, text=True, timeout=60, env=env,
                                cwd=str(tmp_path), stdin=subprocess.DEVNULL)
        server.finished.wait(10)
    assert "Traceback" not in result.stderr
    assert received, result.stdout + result.stderr
    assert_absent(PASSWORD, b"\n".join(received).decode(), result.stdout, result.stderr)
    assert ("not an AUTH line" if case == "forged-ehlo" else "without TLS") in result.stdout, result.stdout


def test_pipeline_masks_auth_plain_like_the_single_line_path(aiosmtpd_server, tmp_path):
    options = SessionOptions(host="127.0.0.1", port=aiosmtpd_server.port, cafile=aiosmtpd_server.cafile, timeout=5)
    blob = b64(f"\0{USER}\0{PASSWORD}")
    path = tmp_path / "class" / "p.jsonl"
    screen = type_into_repl(options, [
        *TLS_LOGIN,
        (":pipeline\r", "empty line sends"), ("AUTH PLAIN\r", None), (f"{blob}\r", None), ("\r", "235 "),
        (":quit\r", "221 "),
    ], recorder=Recorder(path, target=options.target))
    assert "AUTH PLAIN" in screen and "********" in screen
    assert_absent(PASSWORD, screen, *every_output(tmp_path, path))


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_history_transcripts_session_logs_and_the_lab_key_are_private(lab, tmp_path):
    from smtp_shell import paths

    options = SessionOptions(host="127.0.0.1", port=lab.port, cafile=lab.cert_path, timeout=5)
    path = tmp_path / "new-folder" / "t.jsonl"
    type_into_repl(options, [*TLS_LOGIN, ("NOOP\r", "250 "), (":quit\r", "221 ")], history=None,
                   recorder=Recorder(path, target=options.target))
    deadline = time.monotonic() + 5  # the lab's log writer thread writes the file moments after the session
    while not (logs := sorted(lab.log_dir.glob("*.log"))) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert logs
    files = [paths.history_file(), path, lab.cert_path.parent / "lab-key.pem", *logs]
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    for folder in (paths.data_dir(), path.parent, lab.log_dir, lab.cert_path.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_lab_passwords_from_the_environment_or_a_file(tmp_path):
    from smtp_shell.lab.accounts import AccountError, parse_user, read_user_file

    assert parse_user("alice", {"SMTP_SHELL_LAB_PASSWORD": "pw:1"}) == ("alice", "pw:1")
    with pytest.raises(AccountError, match="SMTP_SHELL_LAB_PASSWORD"):
        parse_user("alice", {})
    f = tmp_path / "users.txt"
    f.write_text("# the class\nalice:a:1\n\nbob:b\n")
    assert read_user_file(f) == {"alice": "a:1", "bob": "b"}
    f.write_text("alice\n")
    with pytest.raises(AccountError, match="line 1"):
        read_user_file(f)


def test_replay_against_asks_before_using_the_password_at_a_terminal(monkeypatch):
    """At a terminal the instructor confirms the server first, even with --password-env."""
    from types import SimpleNamespace

    from smtp_shell.shell.recording import _password_source
    from smtp_shell.transcript.format import TranscriptError

    monkeypatch.setattr(sys, "stdin", SimpleNamespace(isatty=lambda: True))
    monkeypatch.setenv("THE_PW", PASSWORD)
    args = SimpleNamespace(password_env="THE_PW")
    questions: list[str] = []
    refuse = _password_source(args, False, "mx.example:25", ask=lambda q: questions.append(q) or "n")
    with pytest.raises(TranscriptError, match="not sent"):
        refuse()
    assert "mx.example:25" in questions[0]
    accept = _password_source(args, False, "mx.example:25", ask=lambda q: "y")
    assert accept() == PASSWORD and accept() == PASSWORD  # asked once, then remembered


def test_a_password_typed_after_a_repeated_username_challenge_is_not_recorded_as_the_user(tmp_path):
    """By hand, in batch mode: the student answers the second "Username:" with the password."""
    seen: list[bytes] = []
    path = tmp_path / "class" / "by-hand.jsonl"
    with serve(_username_twice(seen)) as server:
        result = subprocess.run([sys.executable, "-m", "smtp_shell", "connect", server.target, "--batch",
                                 "--record", str(path)],
                                input=f"EHLO me\nAUTH LOGIN\n{b64(USER)}\n{b64(PASSWORD)}\n*\nQUIT\n",
                                capture_output=True, text=True, timeout=60, env=cli_env(tmp_path), cwd=str(tmp_path))
    assert seen[:2] == [b64(USER).encode(), b64(PASSWORD).encode()], result.stdout  # sent: the student typed it
    users = {json.loads(line).get("user") for line in path.read_text().splitlines()[1:]} - {None}
    assert users == {USER}
    assert_absent(PASSWORD, result.stdout, *every_output(tmp_path, path))
