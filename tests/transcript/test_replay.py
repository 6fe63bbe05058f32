"""Replay looks exactly like the live session; timing, --step and the interactive keys."""

from __future__ import annotations

import sys

import pexpect
import pytest

from smtp_shell.transcript.player import Position
from smtp_shell.transcript.reader import read_transcript
from smtp_shell.transcript.replay import delays, exchange_ends, play, screen_events
from tests.shell.helpers import FULL_SESSION
from tests.transcript.helpers import SHIPPED, cli, cli_env, small_transcript


@pytest.mark.timeout(120)
def test_replay_equals_the_live_rendering(aiosmtpd_server, tmp_path):
    path = tmp_path / "live.jsonl"
    live = cli(["connect", aiosmtpd_server.target, "--cafile", aiosmtpd_server.cafile, "--batch", "--record", path],
               tmp_path, "\n".join(FULL_SESSION) + "\n")
    assert live.returncode == 0, live.stdout + live.stderr
    replay = cli(["replay", path, "--no-timing"], tmp_path)
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout == live.stdout
    assert " ~> ********" in replay.stdout and "=== TLS started: TLSv1." in replay.stdout
    text = cli(["export", path, "--format", "text"], tmp_path)
    assert text.stdout == live.stdout


@pytest.mark.timeout(120)
def test_replay_equals_live_with_the_lab_server(tmp_path):
    """The default command: the lab's banner is printed before the session, so it is not recorded."""
    script = "EHLO me\nMAIL FROM:<a@lab.test>\nRCPT TO:<b@lab.test>\nDATA\nSubject: x\n\nbody\n.\nQUIT\n"
    live = cli(["--batch", "--record", "lab.jsonl"], tmp_path, script)
    assert live.returncode == 0, live.stdout + live.stderr
    replay = cli(["replay", "lab.jsonl"], tmp_path)  # not a terminal: no timing by default
    assert live.stdout.startswith("Lab server on ")
    assert replay.stdout == live.stdout.split("\n", 1)[1]


def test_gloss_in_replay(tmp_path):
    path = small_transcript(tmp_path / "s.jsonl")
    plain, glossed = cli(["replay", path], tmp_path).stdout, cli(["replay", path, "--gloss"], tmp_path).stdout
    assert len(glossed.splitlines()) == len(plain.splitlines()) + 3  # one gloss under each of the 3 replies


def test_timing_speed_and_idle_limit(tmp_path):
    t = read_transcript(small_transcript(tmp_path / "s.jsonl"))
    events = screen_events(t.events)
    assert delays(events)[1:3] == [pytest.approx(0.5), pytest.approx(0.25)]
    assert delays(events, speed=2)[1] == pytest.approx(0.25)
    assert max(delays(events, idle_limit=0.1)) <= 0.1
    slept = []

    class Quiet:
        def __getattr__(self, name):
            return lambda *a, **k: None
    play(t.events, Quiet(), timing=True, speed=4, sleep=slept.append)
    assert sum(slept) == pytest.approx((events[-1].t - 0) / 4, abs=1e-6)
    slept.clear()
    play(t.events, Quiet(), timing=False, sleep=slept.append)
    assert slept == []


def test_step_needs_a_terminal(tmp_path):
    result = cli(["replay", small_transcript(tmp_path / "s.jsonl"), "--step"], tmp_path)
    assert result.returncode == 1 and "--step needs a terminal" in result.stderr


def test_bad_speed(tmp_path):
    result = cli(["replay", small_transcript(tmp_path / "s.jsonl"), "--speed", "0"], tmp_path)
    assert result.returncode == 1 and "--speed 0 is not a speed" in result.stderr


def test_positions_for_keys(tmp_path):
    events = screen_events(read_transcript(small_transcript(tmp_path / "s.jsonl")).events)
    kinds = [e.kind for e in events]
    assert kinds == ["note", "s", "c", "s", "marker", "c", "s", "error"]
    p = Position(events)
    assert p.forward() == 1
    assert p.next_marker() == 5
    p.shown = 6
    assert p.previous_marker() == 5 and p.back() == 5
    p.shown = 0
    assert p.search("rcpt") == 6 and p.search("503") == 7 and p.search("nowhere") is None
    assert exchange_ends(events) == [2, 5, 8]  # the greeting, EHLO (and the marker), RCPT (and the error)
    step = Position(events, step=True)
    assert step.forward() == 2
    step.shown = 5
    assert step.forward() == 8 and step.back() == 2


@pytest.mark.skipif(sys.platform == "win32", reason="pty tests need a POSIX pty")
@pytest.mark.timeout(60)
def test_interactive_keys_in_a_pty(tmp_path):
    path = small_transcript(tmp_path / "s.jsonl")
    child = pexpect.spawn(sys.executable, ["-m", "smtp_shell", "replay", str(path), "--speed", "0.02"],
                          env=cli_env(tmp_path), cwd=str(tmp_path), encoding="utf-8", timeout=10, dimensions=(40, 160))
    child.expect("q quit")
    child.send(" ")                       # pause
    child.expect("paused")
    child.send("]")                        # jump to the marker
    child.expect("--- greeted the server ---")
    child.send("/")
    child.send("503\r")                    # search forward
    child.expect("503 5.5.1 need MAIL")
    child.send("\x1b[C")                   # right arrow: one more event
    child.expect("something went wrong")
    child.expect(r"end of the transcript")
    child.send("\x1b[D")                   # left arrow: one event back (redraw)
    child.expect("need MAIL")
    assert child.isalive()                 # it stays open at the end
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


@pytest.mark.skipif(sys.platform == "win32", reason="pty tests need a POSIX pty")
@pytest.mark.timeout(60)
def test_step_mode_in_a_pty(tmp_path):
    path = small_transcript(tmp_path / "s.jsonl")
    child = pexpect.spawn(sys.executable, ["-m", "smtp_shell", "replay", str(path), "--step"],
                          env=cli_env(tmp_path), cwd=str(tmp_path), encoding="utf-8", timeout=10, dimensions=(40, 160))
    child.expect("q quit")
    child.send(" ")
    child.expect("220 lab ESMTP")
    child.send(" ")
    child.expect("250 PIPELINING")
    assert "RCPT" not in child.before
    child.send(" ")
    child.expect("something went wrong")
    child.send("q")
    child.expect(pexpect.EOF)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_transcripts_replay(path, tmp_path):
    t = read_transcript(path)
    assert t.complete and t.skipped == 0
    result = cli(["replay", path, "--no-timing"], tmp_path)
    assert result.returncode == 0 and " -> " in result.stdout
