"""AUTH secrets never reach a transcript, an export or a report: not the password, not its
base64, not the AUTH PLAIN blob that carries it."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import subprocess
import sys

import pytest
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from smtp_shell.render import make_console
from smtp_shell.shell.meta import registry
from smtp_shell.shell.options import SessionOptions
from smtp_shell.shell.repl import repl_session
from smtp_shell.transcript.reader import read_transcript
from smtp_shell.transcript.recorder import Recorder
from tests.support.servers import PASSWORD, USER
from tests.transcript.helpers import cli, cli_env

B64 = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
PLAIN_BLOB = B64(f"\0{USER}\0{PASSWORD}")
FORBIDDEN = (PASSWORD, B64(PASSWORD), PLAIN_BLOB, B64(PASSWORD).rstrip("="))

PLAIN = ["EHLO me", "STARTTLS", "EHLO me", f"AUTH PLAIN {PLAIN_BLOB}", "QUIT"]
PLAIN_CHALLENGE = ["EHLO me", "STARTTLS", "EHLO me", "AUTH PLAIN", PLAIN_BLOB, "QUIT"]
LOGIN = ["EHLO me", "STARTTLS", "EHLO me", "AUTH LOGIN", B64(USER), B64(PASSWORD), "QUIT"]


def _everything_written(tmp_path, transcript):
    texts = [transcript.read_text(encoding="utf-8")]
    for fmt in ("text", "md", "html", "svg", "mermaid"):
        result = cli(["export", transcript, "--format", fmt], tmp_path)
        assert result.returncode == 0, result.stderr
        texts.append(result.stdout)
    for fmt in ("table", "csv", "json"):
        result = cli(["report", transcript.parent, "--format", fmt], tmp_path)
        assert result.returncode == 0, result.stderr
        texts.append(result.stdout)
    return texts


@pytest.mark.timeout(120)
@pytest.mark.parametrize("script", [PLAIN, PLAIN_CHALLENGE, LOGIN], ids=["plain-initial", "plain-challenge", "login"])
def test_batch_logins_leave_no_secret(aiosmtpd_server, tmp_path, script):
    out = tmp_path / "rec" / "session.jsonl"
    result = cli(["connect", aiosmtpd_server.target, "--cafile", aiosmtpd_server.cafile, "--batch", "--record", out],
                 tmp_path, "\n".join(script) + "\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "<~  235 " in result.stdout
    t = read_transcript(out)
    secrets = [e for e in t.events if e.get("secret")]
    assert secrets and all("********" in e.text for e in secrets)
    assert {e.get("user") for e in secrets} >= {USER}
    for text in _everything_written(tmp_path, out) + [result.stdout]:
        for forbidden in FORBIDDEN:
            assert forbidden not in text
    report = json.loads(cli(["report", out.parent, "--format", "json"], tmp_path).stdout)
    assert report[0]["authenticated"] is True and report[0]["user"] == USER


def test_recorder_masks_even_if_handed_a_secret(tmp_path):
    """Defence in depth: a listener call with an unmasked AUTH line, or a line sent after a 334."""
    from tests.transcript.helpers import Clock, reply
    path = tmp_path / "t.jsonl"
    rec = Recorder(path, target="x", clock=Clock())
    rec.client(f"auth plain {PLAIN_BLOB}", True)                    # not masked by the caller
    rec.reply(reply(b"503 5.5.1 no\r\n"), True, None)
    rec.client("AUTH LOGIN", True)

    class Out:  # what the driver hands listeners: Outgoing
        kind, secret, masked_text, notes = "command", False, "", ()
        text = "AUTH LOGIN"

        class command:
            verb, args = "AUTH", "LOGIN"
    rec.sent(Out(), tls=True)
    rec.reply(reply(b"334 VXNlcm5hbWU6\r\n"), True, "Username:")
    rec.client(B64(USER), True)                                      # not masked by the caller
    rec.reply(reply(b"334 UGFzc3dvcmQ6\r\n"), True, "Password:")
    rec.client(B64(PASSWORD), True)
    rec.reply(reply(b"235 ok\r\n"), True, None)
    rec.note(f"later someone echoed {PASSWORD}")
    rec.close()
    text = path.read_text()
    for forbidden in FORBIDDEN:
        assert forbidden not in text
    t = read_transcript(path)
    assert [e.get("secret") for e in t.events if e.kind == "c"] == [None, None, "login-username", "login-password"]
    assert t.events[0].text == "auth plain ********"


def _repl(options, script, recorder, answer_prompts=()):
    buffer = io.StringIO()
    console = make_console(file=buffer, width=200)
    state = {}

    async def scenario():
        with create_pipe_input() as inp:
            task = asyncio.create_task(repl_session(options, input=inp, output=DummyOutput(), console=console,
                                                    history=InMemoryHistory(), listeners=[recorder],
                                                    on_ready=lambda shell: state.setdefault("shell", shell)))
            for line, expect in script:
                mark = len(buffer.getvalue())
                inp.send_text(line + "\r")
                if expect is None:  # a prompt of the shell's own (drawn by prompt_toolkit, not on the console)
                    await asyncio.sleep(0.5)
                    continue
                deadline = asyncio.get_running_loop().time() + 10
                while expect not in buffer.getvalue()[mark:]:
                    if asyncio.get_running_loop().time() > deadline:
                        raise AssertionError(f"{expect!r} never appeared:\n{buffer.getvalue()}")
                    await asyncio.sleep(0.02)
            return await asyncio.wait_for(task, 10)
    status = asyncio.run(asyncio.wait_for(scenario(), 40))
    recorder.close(status)
    return buffer.getvalue()


@pytest.mark.timeout(60)
def test_repl_login_typed_at_the_password_prompt(aiosmtpd_server, tmp_path):
    options = SessionOptions(host="127.0.0.1", port=aiosmtpd_server.port, cafile=aiosmtpd_server.cafile, timeout=5)
    path = tmp_path / "repl.jsonl"
    screen = _repl(options, [("EHLO me", "250 "), ("STARTTLS", "send EHLO again"), ("EHLO me", "250 "),
                             ("AUTH LOGIN", "334 "), (B64(USER), "334 "), (B64(PASSWORD), "235 "),
                             (":quit", "221 ")], Recorder(path, target=options.target))
    text = path.read_text()
    for forbidden in FORBIDDEN:
        assert forbidden not in text and forbidden not in screen
    assert read_transcript(path).complete


@pytest.mark.timeout(90)
@pytest.mark.parametrize("mech", ["plain", "login"])
def test_auth_helper_leaves_no_secret(aiosmtpd_server, tmp_path, mech):
    """`:auth` at the keyboard (the password typed at a hidden prompt), and in batch mode (from the environment)."""
    assert "auth" in registry(), ":auth (smtp_shell/shell/teaching.py) is no longer registered"
    options = SessionOptions(host="127.0.0.1", port=aiosmtpd_server.port, cafile=aiosmtpd_server.cafile, timeout=5)
    path = tmp_path / "t" / f"auth-{mech}.jsonl"
    path.parent.mkdir()
    screen = _repl(options, [("EHLO me", "250 "), ("STARTTLS", "send EHLO again"), ("EHLO me", "250 "),
                             (f":auth {mech} {USER}", None), (PASSWORD, "235 "), (":quit", "221 ")],
                   Recorder(path, target=options.target))
    assert "logged in as student" in screen
    texts = _everything_written(tmp_path, path) + [screen]
    batch_path = tmp_path / "t" / f"batch-{mech}.jsonl"
    env = cli_env(tmp_path)
    env["SMTP_SHELL_PASSWORD"] = PASSWORD
    result = subprocess.run([sys.executable, "-m", "smtp_shell", "connect", aiosmtpd_server.target, "--cafile",
                             str(aiosmtpd_server.cafile), "--batch", "--record", str(batch_path)],
                            input=f"EHLO me\nSTARTTLS\nEHLO me\n:auth {mech} {USER}\nQUIT\n", capture_output=True,
                            text=True, timeout=60, env=env, cwd=str(tmp_path))
    assert "235 " in result.stdout, result.stdout + result.stderr
    texts += _everything_written(tmp_path, batch_path) + [result.stdout, result.stderr]
    for text in texts:
        for forbidden in FORBIDDEN:
            assert forbidden not in text
