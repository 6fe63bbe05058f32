"""The lesson engine: a session listener that watches the protocol and moves through the steps.

Why this exists: the student types everything; the engine only looks. Each reply (and TLS
starting) is offered to the current step's check: PASS draws a chapter marker (recorded in the
transcript), shows the step's notice and the next step; FAIL, or any 4xx/5xx reply the step did
not ask for, counts a failed attempt and explains the reply code in the step's own words (or the
catalogue's). `:hint`, `:skip`, `:restart` and `:lesson` reach it through `shell/lessonui.py`.

Everything that happens is also recorded for grading, as transcript events (docs/grading.md):
the lesson's start (id, version, step count, student), each step shown, each attempt with
its result and reason, each hint (which level), skips, restarts and the outcome (completed,
abandoned or interrupted) with the seconds spent on each step.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

from rich.text import Text

from smtp_shell.lessons.checks import Outcome, verb_label
from smtp_shell.lessons.facts import Facts, Happening
from smtp_shell.lessons.model import Lesson
from smtp_shell.lessons.progress import Progress
from smtp_shell.protocol.catalogue import lookup
from smtp_shell.protocol.events import Outgoing, ReplyEvent
from smtp_shell.protocol.model import SessionModel
from smtp_shell.render import Renderer
from smtp_shell.shell import lessonui
from smtp_shell.shell.driver import Listener

_PLACEHOLDER = re.compile(r"\{(message|mailbox|transcript)\}")


class LessonEngine(Listener):
    def __init__(self, lesson: Lesson, console, *, mailbox: Path | None = None, progress: Progress | None = None,
                 transcript: Path | None = None, recorder=None, clock=time.monotonic,
                 student: str | None = None) -> None:
        self.lesson = lesson
        self.student = student
        self.outcome: str | None = None
        self._end_recorded = False
        self.console = console
        self.facts = Facts(mailbox=mailbox)
        self.progress = progress
        self.transcript = transcript
        self.recorder = recorder
        self.driver = None
        self.shell = None
        self.lab_reset = None   # set when the lesson runs its own lab server: :restart resets its state
        self._claimed: object = None   # the reply event that passed the last step
        self._clock = clock
        self.log: list[tuple[int, str, str]] = []   # (step number, "pass"|"fail"|"hint"|"skip", text)
        self._reset()

    def _reset(self) -> None:
        n = len(self.lesson.steps)
        self.index = 0
        self.states = ["todo"] * n
        self.attempts = [0] * n
        self.hints_used = [0] * n
        self.complete = False
        self.started = self._clock()
        self.ended: float | None = None
        self._show_on_greeting = True
        self._announced: set[int] = set()
        self.seconds = [0.0] * n
        self._step_clock: float | None = None
        self._nudged: set[str] = set()
        self.predictions: list[tuple[str, int] | None] = [None] * n   # (what was predicted, the code that came)
        self._predicted: str | None = None
        self.facts.new_step()
        for step in self.lesson.steps:
            step.check.reset()

    @property
    def step(self):
        return self.lesson.steps[self.index] if self.index < len(self.lesson.steps) else None

    # -- starting -----------------------------------------------------------------------------
    def begin(self) -> None:
        """Before the session: remember the mailbox as it is, show the intro and earlier progress."""
        self.facts.start()
        before = None
        if self.progress is not None:
            done = self.progress.passed_before(self.lesson.id)
            if done:
                finished = " and finished the lesson" if self.progress.completed_before(self.lesson.id) else ""
                before = (f"Last time you passed step{'s' if len(done) > 1 else ''} {', '.join(map(str, done))} "
                          f"of {len(self.lesson.steps)}{finished}. The server has forgotten that session, "
                          "so this run starts again at step 1.")
        self._record_event("lesson", id=self.lesson.id, title=self.lesson.title, version=lesson_version(self.lesson),
                           steps=len(self.lesson.steps), student=self.student)
        lessonui.show_intro(self.console, title=self.lesson.title, goal=self.lesson.goal, minutes=self.lesson.minutes,
                            intro=self.lesson.intro, steps=len(self.lesson.steps), before=before)

    def lesson_command(self, shell) -> None:
        """The shell this lesson runs in (called from on_ready and from every lesson command)."""
        self.shell, self.driver = shell, shell.driver
        self.watch(shell.driver.core.model)
        shell.lesson = self
        shell.toolbar_extra = self.toolbar_text

    def toolbar_text(self) -> str:
        if self.complete:
            return f"lesson {self.lesson.id}: complete"
        return f"lesson {self.lesson.id}: step {self.index + 1}/{len(self.lesson.steps)} " \
               f"{lessonui.marks_line(self.states, self.index)}"

    # -- what the session does (Listener) -------------------------------------------------------
    def watch(self, session: SessionModel) -> None:
        self.facts.session = session

    def connected(self, target: str, tls: bool = False) -> None:
        self.facts.connection_changed()

    def closed(self, reason: str) -> None:
        self.facts.connection_changed()

    def claims(self, event: object) -> bool:
        """This reply passed a step: the step's own notice explains it (no generic hint beside it)."""
        return event is not None and event is self._claimed

    def client_ran(self) -> None:
        """The student's own program ran against the lab (:run): the step may read what it did."""
        self._offer(Happening("client"))

    def tls_info(self, info: object) -> None:
        self._offer(Happening("tls"))

    def sent(self, outgoing: Outgoing, *, tls: bool = False) -> None:
        self.facts.sent(outgoing)

    def server_reply(self, event: ReplyEvent, *, tls: bool = False) -> None:
        self.facts.reply(event)
        if event.kind == "greeting" and self._show_on_greeting:
            self._show_on_greeting = False
            self.show_step()
            if event.reply.klass == 2:
                return
        self._offer(Happening("reply", event))

    # -- judging ----------------------------------------------------------------------------------
    def _offer(self, happening: Happening) -> None:
        step = self.step
        if step is None or self.complete:
            return
        outcome = step.check.evaluate(happening, self.facts)
        event = happening.event if happening.kind == "reply" else None
        if event is not None:
            self._settle_prediction(event)
        if outcome is None and event is not None and event.reply.klass in (4, 5):
            outcome = Outcome(False, f"the server refused {verb_label(event.verb)} with {event.reply.code}",
                              event.reply.code)
        if outcome is None and event is not None and not self.facts.stale_reply:
            self._nudge(step.check.nudge(happening, self.facts))
        if outcome is None or outcome.progress:
            return
        if outcome.passed:
            self._claimed = event
            self._passed(outcome.reason)
            return
        if outcome.code is None and event is not None and event.reply.klass in (4, 5):
            outcome = Outcome(False, outcome.reason, event.reply.code)
        self._failed(outcome, event.verb if event is not None else None)

    # -- predictions ------------------------------------------------------------------------------
    def predict(self, text: str) -> None:
        """:predict CODE: the reply code (550) or class (5xx, 5) the student expects next."""
        if self.step is None:
            raise ValueError("The lesson is complete; there is nothing to predict.")
        guess = text.strip().lower().rstrip("x")
        if not (guess.isdigit() and ((len(guess) == 3 and 200 <= int(guess) <= 599) or (len(guess) == 1 and guess in "2345"))):
            raise ValueError("Predict a reply code like :predict 550, or a class like :predict 5xx")
        self._predicted = guess
        shown = guess if len(guess) == 3 else f"{guess}xx"
        self.log.append((self.step.number, "predict", shown))
        self._say(f"Your prediction: {shown}. Now send the command and compare.")

    def _settle_prediction(self, event) -> None:
        about = self.step.check.verbs()
        if self._predicted is None or event.kind != "response" or (about is not None and event.verb not in about):
            return
        guess, self._predicted = self._predicted, None
        code = event.reply.code
        right = str(code) == guess or str(code)[0] == guess
        shown = guess if len(guess) == 3 else f"{guess}xx"
        self.predictions[self.index] = (shown, code)
        self._say(f"{'✓' if right else '✗'} you predicted {shown}; the server said {code}."
                           + ("" if right else " Read the reply: what made the difference?"))

    def _nudge(self, text: str | None) -> None:
        """Valid, but not what the step asks for: say so once per step, without counting an attempt."""
        if text and text not in self._nudged:
            self._nudged.add(text)
            self.log.append((self.step.number, "nudge", text))
            self._say(f"↪ step {self.step.number}: {text}")

    def _explanation(self, code: int | None, verb: str | None = None) -> str | None:
        own = self.step.explanation_for(code, verb)
        if own or code is None or code < 400:
            return own
        entry = lookup(str(code))
        return f"{code}: {entry.summary}. {entry.explanation}" if entry else None

    def _failed(self, outcome: Outcome, verb: str | None = None) -> None:
        i, step = self.index, self.step
        self.attempts[i] += 1
        self.states[i] = "failed"
        explanation = self._explanation(outcome.code, verb)
        explanation = self._fill(explanation) if explanation else None
        self.log.append((step.number, "fail", "\n".join(t for t in (outcome.reason, explanation) if t)))
        self._record_event("attempt", step=step.number, passed=False, reason=outcome.reason or "", code=outcome.code)
        self._record_note(f"lesson step {step.number}: not yet ({outcome.reason})")
        lessonui.show_fail(self.console, number=step.number, attempt=self.attempts[i], reason=outcome.reason,
                           explanation=explanation, hints_left=self.hints_used[i] < len(step.hints))

    def _passed(self, why: str = "") -> None:
        step = self.step
        if why:
            self._say(f"✓ step {step.number}: {why}")
        self.states[self.index] = "passed"
        self.log.append((step.number, "pass", step.title))
        self._record_event("attempt", step=step.number, passed=True, reason="")
        self._marker(f"step {step.number} passed: {step.title}")
        lessonui.show_pass(self.console, number=step.number, notice=self._fill(step.notice))
        if self.progress is not None:
            self.progress.record(self.lesson.id, [step.number], completed=False)
        self._advance()

    def _advance(self) -> None:
        self._stop_step_clock()
        self.index += 1
        self.facts.new_step()
        if self.step is None:
            self._finish()
            return
        self.step.check.reset()
        self._nudged = set()
        self.show_step()
        self._offer(Happening("enter"))

    def _finish(self) -> None:
        self.complete = True
        self.ended = self._clock()
        self._record_outcome("completed")
        if self.progress is not None and "skipped" not in self.states:
            self.progress.record(self.lesson.id, [], completed=True)
        self.summary()
        self._say("You can go on exploring in this session; :quit (or Ctrl-D) leaves.")

    # -- drawing ------------------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        """One line of the lesson's own voice, wrapped at the terminal's width at word boundaries."""
        self.console.print(Text(text), soft_wrap=False)

    def _fill(self, text: str) -> str:
        values = {"message": str(self.facts.saved[-1]) if self.facts.saved else "(no message saved yet)",
                  "mailbox": str(self.facts.mailbox or "(unknown)"), "transcript": str(self.transcript or "(none)")}
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)

    def _marker(self, label: str) -> None:
        if self.driver is not None:
            self.driver.marker(label)
            return
        Renderer(self.console).note(f"--- {label} ---")
        if self.recorder is not None:
            self.recorder.marker(label)

    def _record_event(self, kind: str, **fields) -> None:
        """A grading event to every recorder among the listeners (they have `lesson_event`)."""
        targets = [x for x in self.driver.listeners if x is not self] if self.driver else [self.recorder]
        for target in targets:
            if target is not None and hasattr(target, "lesson_event"):
                target.lesson_event(kind, **fields)

    def _stop_step_clock(self) -> None:
        if self._step_clock is not None and self.index < len(self.seconds):
            self.seconds[self.index] += self._clock() - self._step_clock
        self._step_clock = None

    def _record_outcome(self, outcome: str) -> None:
        self._stop_step_clock()
        self.outcome = outcome
        steps = [{"step": s.number, "state": self.states[i], "attempts": self.attempts[i], "hints": self.hints_used[i],
                  "seconds": round(self.seconds[i], 3)} for i, s in enumerate(self.lesson.steps)]
        self._record_event("outcome", outcome=outcome, passed=self.states.count("passed"), total=len(self.lesson.steps),
                           skipped=self.states.count("skipped"), seconds=round(sum(self.seconds), 3), steps=steps)

    def _record_note(self, text: str) -> None:
        targets = [x for x in self.driver.listeners if x is not self] if self.driver else [self.recorder]
        for target in targets:
            if target is not None:
                target.note(text)

    def show_step(self) -> None:
        step = self.step
        if step is None:
            self.summary()
            return
        if self.index not in self._announced:
            self._announced.add(self.index)
            self._step_clock = self._clock()
            self._record_event("step", step=step.number, title=step.title)
        self._record_note(f"lesson step {step.number}/{len(self.lesson.steps)}: {step.title}")
        lessonui.show_step(self.console, number=step.number, total=len(self.lesson.steps), title=step.title,
                           instruction=self._fill(step.instruction), states=self.states)
        if step.predict:
            self._say("Predict first: which reply code do you expect? Type :predict CODE (say :predict 250), "
                               "then send the command.")

    def summary(self) -> None:
        rows = [(str(s.number), s.title, self.states[i] if self.states[i] != "failed" else "not done",
                 self.attempts[i], self.hints_used[i]) for i, s in enumerate(self.lesson.steps)]
        end = self.ended if self.ended is not None else self._clock()
        extra = []
        if self.facts.saved:
            extra.append("Messages saved: " + ", ".join(str(p) for p in self.facts.saved[-3:])
                         + " (smtp-shell mailbox lists them)")
        if self.transcript:
            extra.append(f"Transcript: {self.transcript}")
        made = [p for p in self.predictions if p is not None]
        if made:
            right = sum(1 for shown, code in made if shown.rstrip("x") in (str(code), str(code)[0]))
            extra.append(f"Predictions: {right} of {len(made)} right.")
        lessonui.show_summary(self.console, title=self.lesson.title, rows=rows, complete=self.complete,
                              minutes=(end - self.started) / 60, extra=extra)

    # -- the lesson commands ----------------------------------------------------------------------------
    def hint(self) -> None:
        step = self.step
        if step is None:
            raise ValueError("The lesson is complete; there is nothing to hint at.")
        i = self.index
        shown = min(self.hints_used[i], len(step.hints) - 1)
        if self.hints_used[i] < len(step.hints):
            self.hints_used[i] += 1
        self.log.append((step.number, "hint", step.hints[shown]))
        self._record_event("hint", step=step.number, level=shown + 1, of=len(step.hints))
        lessonui.show_hint(self.console, number=step.number, index=shown + 1, total=len(step.hints),
                           text=self._fill(step.hints[shown]), last=shown == len(step.hints) - 1)

    def skip(self) -> None:
        step = self.step
        if step is None:
            raise ValueError("The lesson is complete; there is no step to skip.")
        self.states[self.index] = "skipped"
        self.log.append((step.number, "skip", step.title))
        self._record_event("skip", step=step.number)
        self._say(f"step {step.number} skipped")
        self._advance()

    def restart(self) -> None:
        self._record_event("restart", step=self.step.number if self.step is not None else len(self.lesson.steps) + 1)
        if self.lab_reset is not None:
            self.lab_reset()  # the lesson's own lab forgets too (greylisting), so step 1 works again
        self._reset()
        self._say(f"Starting {self.lesson.title} over from step 1 on a new connection.")

    def record_end(self, interrupted: bool = False) -> None:
        """The session is over: record how an unfinished lesson ended (while the transcript is open)."""
        if not self.complete and not self._end_recorded:
            self._end_recorded = True
            self._record_outcome("interrupted" if interrupted else "abandoned")

    def end_of_session(self, interrupted: bool = False) -> None:
        """The session is over: the outcome recorded (if not yet) and a summary if the lesson was left unfinished."""
        self.record_end(interrupted)
        if not self.complete:
            self.summary()


def lesson_version(lesson: Lesson) -> str | None:
    """The lesson's version: its own `version` if the file gives one, else a hash of the file."""
    own = getattr(lesson, "version", None)
    if isinstance(own, str) and own:
        return own
    try:
        return "sha256:" + hashlib.sha256(lesson.path.read_bytes()).hexdigest()[:12] if lesson.path else None
    except OSError:
        return None
