"""A recording process killed with SIGKILL at any point leaves a transcript that reads back
with every event but at most the one being written, reported as incomplete."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from smtp_shell.transcript.reader import read_transcript
from tests.transcript.helpers import cli_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

SCRIPT = ["EHLO client.test", "MAIL FROM:<a@lab.test>", "RCPT TO:<b@lab.test>", "DATA",
          "Subject: killed", "", "line one", "line two"]


def _kinds(path):
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    out = []
    for row in text.splitlines()[1:]:
        try:
            out.append(json.loads(row))
        except json.JSONDecodeError:
            pass
    return out


def _wait(path, predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = _kinds(path)
        if predicate(events):
            return events
        time.sleep(0.02)
    raise AssertionError(f"the transcript never got there: {_kinds(path)}")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("lines_before_kill", [0, 1, 3, 6, 8])
def test_sigkill_mid_session(aiosmtpd_server, tmp_path, lines_before_kill):
    path = tmp_path / "killed.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "smtp_shell", "connect", aiosmtpd_server.target, "--batch",
                             "--record", str(path)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=cli_env(tmp_path), text=True)
    try:
        _wait(path, lambda ev: any(e["k"] == "s" for e in ev))  # the greeting is in
        for line in SCRIPT[:lines_before_kill]:
            sent = sum(e["k"] == "c" for e in _kinds(path))
            proc.stdin.write(line + "\n")
            proc.stdin.flush()
            _wait(path, lambda ev, n=sent: sum(e["k"] == "c" for e in ev) > n)
        time.sleep(0.05)
        seen = _kinds(path)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    data = path.read_bytes()
    whole = data.count(b"\n") - 1          # event lines that were written completely
    t = read_transcript(path)
    assert not t.complete and t.problem
    assert len(t.events) >= whole >= len(seen)
    assert [e.kind for e in t.events[:len(seen)]] == [e["k"] for e in seen]
    client_lines = [e.text for e in t.events if e.kind == "c"]
    assert client_lines == SCRIPT[:lines_before_kill]


def test_torn_last_line_is_reported(tmp_path):
    """What a kill in the middle of a write leaves: a last line without its end."""
    path = tmp_path / "torn.jsonl"
    path.write_text('{"format": "smtp-shell-transcript", "version": 1, "started": "2026-01-01T00:00:00Z"}\n'
                    '{"t": 0.1, "k": "note", "text": "connecting"}\n{"t": 0.2, "k": "c", "te', encoding="utf-8")
    t = read_transcript(path)
    assert not t.complete and "line 3 was cut off" in t.problem and [e.text for e in t.events] == ["connecting"]
