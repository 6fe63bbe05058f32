"""Helpers for the transcript tests: run the real CLI, and build transcripts by calling a
`Recorder` the way the session driver does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from smtp_shell.protocol.replies import ReplyParser
from smtp_shell.transcript.recorder import Recorder
from tests.shell.helpers import env

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "transcripts").glob("*.jsonl"))


def cli_env(home) -> dict:
    e = env(home)
    e["PYTHONPATH"] = str(ROOT) + (":" + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    return e


def cli(args, home, stdin_text: str = "", timeout: float = 60) -> subprocess.CompletedProcess:
    """The real `python -m smtp_shell`, run in the folder `home` (so relative paths land there)."""
    return subprocess.run([sys.executable, "-m", "smtp_shell", *map(str, args)], input=stdin_text, capture_output=True,
                          text=True, timeout=timeout, env=cli_env(home), cwd=str(home))


def reply(raw: bytes):
    return ReplyParser().feed(raw)[0]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 0.25
        return self.now


def small_transcript(path: Path, **kwargs) -> Path:
    """A short session written through the recorder's listener methods, as the driver calls them."""
    rec = Recorder(path, target="127.0.0.1:8025", clock=Clock(), **kwargs)
    rec.note("connecting to 127.0.0.1:8025 ...")
    rec.connected("127.0.0.1:8025", False)
    rec.reply(reply(b"220 lab ESMTP\r\n"), False, None)
    rec.client("EHLO me", False)
    rec.reply(reply(b"250-lab\r\n250 PIPELINING\r\n"), False, None)
    rec.marker("greeted the server")
    rec.client("RCPT TO:<x@lab.test>", False)
    rec.reply(reply(b"503 5.5.1 need MAIL\r\n"), False, None)
    rec.error("something went wrong", "try again")
    rec.close(0)
    return path


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def lesson_transcript(path: Path, *, student: str, lesson: str, passed: list[int], total: int = 4,
                      complete: bool = False, failed: int = 1, hints: int = 1) -> Path:
    """A lesson transcript with its grading events, written as the lesson engine writes them."""
    rec = Recorder(path, target="127.0.0.1:8025", clock=Clock(), lesson=lesson, student=student)
    rec.lesson_event("lesson", id=lesson, title=lesson.replace("-", " "), version="1", steps=total, student=student)
    rec.connected("127.0.0.1:8025", False)
    rec.reply(reply(b"220 lab ESMTP\r\n"), False, None)
    for _ in range(failed):
        rec.lesson_event("attempt", step=passed[0] if passed else 1, passed=False, reason="not yet", code=501)
    for _ in range(hints):
        rec.lesson_event("hint", step=1, level=1, of=2)
    for step in passed:
        rec.lesson_event("step", step=step, title=f"step {step}")
        rec.client("NOOP", False)
        rec.reply(reply(b"250 OK\r\n"), False, None)
        rec.lesson_event("attempt", step=step, passed=True, reason="")
        rec.marker(f"step {step} passed: step {step}")
    rec.lesson_event("outcome", outcome="completed" if complete else "abandoned", passed=len(passed), total=total)
    rec.close(0)
    return path
