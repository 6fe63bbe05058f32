"""What a lesson transcript says about the student's work: the numbers an instructor grades on.

Why this exists: `report`, the class page and the gradebook CSV must count the same way.
Counting rules (docs/grading.md):

- steps passed: the distinct steps whose check passed in the *last* run (after the last
  `:restart`), so a restarted lesson never shows more steps than it has;
- attempts, hints, skips, restarts and time: over the whole file (effort counts in every run);
  attempts are checks that judged a step (passed or not), failed attempts the ones that did not pass;
- completed: the lesson recorded the outcome `completed`; a file without an outcome was cut off
  (`interrupted`).

A file whose hash chain breaks is counted only up to the line where it breaks: what follows is
not vouched for (a hand-added "step passed" never counts).

Transcripts recorded before lessons wrote these events (format minor 1) only have step markers:
their distinct markers count as steps passed and the step total is unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from smtp_shell.transcript.reader import Transcript, TranscriptFile

_MARKER_STEP = re.compile(r"^step (\d{1,6}) passed")
MAX_STEPS = 1000  # steps a lesson can have: a hostile file's millions of step numbers are not kept


@dataclass
class LessonWork:
    lesson: str | None = None
    title: str = ""
    version: str | None = None
    total: int | None = None          # steps in the lesson (None: not recorded)
    passed_steps: list[int] = field(default_factory=list)
    attempts: int = 0
    failed: int = 0
    hints: int = 0
    skips: int = 0
    restarts: int = 0
    outcome: str = "none"              # completed | abandoned | interrupted | none (not a lesson)
    seconds: float = 0.0
    step_seconds: dict[int, float] = field(default_factory=dict)
    recorded_events: bool = False      # False: an old transcript with markers only

    @property
    def passed(self) -> int:
        return len(self.passed_steps)

    @property
    def completed(self) -> bool:
        return self.outcome == "completed"

    def as_dict(self) -> dict:
        return {"lesson": self.lesson or "", "lesson_title": self.title, "lesson_version": self.version or "",
                "steps_passed": self.passed, "steps_total": self.total, "passed_steps": self.passed_steps,
                "attempts": self.attempts, "failed_attempts": self.failed, "hints": self.hints, "skips": self.skips,
                "restarts": self.restarts, "completed": self.completed, "outcome": self.outcome,
                "seconds": round(self.seconds, 3),
                "step_seconds": {str(k): round(v, 3) for k, v in sorted(self.step_seconds.items())}}


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def lesson_work(transcript: Transcript | TranscriptFile) -> LessonWork:
    """One pass over the events (a `TranscriptFile` is streamed, never held whole)."""
    work = LessonWork(lesson=transcript.lesson)
    run_passed: set[int] = set()
    markers: set[int] = set()
    started_at: float | None = None
    current: tuple[int, float] | None = None   # (step, when it was shown)
    last_t = 0.0

    def stop_clock(t: float) -> None:
        nonlocal current
        if current is not None:
            step, since = current
            work.step_seconds[step] = work.step_seconds.get(step, 0.0) + max(0.0, t - since)
            current = None

    for event in transcript.events:
        upto = transcript.chain_line  # a streamed file learns where its chain breaks as it is read
        if upto is not None and event.line >= upto:
            continue  # read on (the pass completes: duration, completeness) but count nothing more
        kind, last_t = event.kind, event.t
        if kind == "lesson":
            work.recorded_events = True
            work.lesson = event.get("id") or work.lesson
            work.title = event.get("title") or ""
            work.version = event.get("version")
            work.total = _int(event.get("steps"))
            started_at = event.t if started_at is None else started_at
        elif kind == "step":
            stop_clock(event.t)
            step = _int(event.get("step"))
            current = (step, event.t) if step is not None and 0 <= step <= MAX_STEPS else None
        elif kind == "attempt":
            work.attempts += 1
            if event.get("passed") is True:
                step = _int(event.get("step"))
                if step is not None and 1 <= step <= MAX_STEPS:
                    run_passed.add(step)
            else:
                work.failed += 1
        elif kind == "hint":
            work.hints += 1
        elif kind == "skip":
            work.skips += 1
        elif kind == "restart":
            stop_clock(event.t)
            work.restarts += 1
            run_passed = set()
        elif kind == "outcome":
            stop_clock(event.t)
            outcome = event.get("outcome")
            work.outcome = outcome if outcome in ("completed", "abandoned", "interrupted") else "abandoned"
            if started_at is not None:
                work.seconds = event.t - started_at
        elif kind == "marker":
            match = _MARKER_STEP.match(event.text)
            if len(markers) < MAX_STEPS:
                markers.add(int(match.group(1)) if match else len(markers) + 1)
    if work.recorded_events:
        work.passed_steps = sorted(s for s in run_passed if work.total is None or 1 <= s <= work.total)
        if work.outcome == "none":
            stop_clock(last_t)
            work.outcome = "interrupted"
            work.seconds = last_t - (started_at or 0.0)
    else:
        work.passed_steps = sorted(markers)
        work.seconds = transcript.duration
        if work.lesson:
            work.outcome = "unknown"
    return work
