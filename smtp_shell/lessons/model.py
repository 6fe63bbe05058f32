"""The lesson as data: a lesson, its ordered steps and the lab server settings it needs.

Why this exists: the loader validates a TOML file once into these plain objects, so the engine,
the CLI listing and the tests never look at raw TOML again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smtp_shell.lessons.checks import Check


class LessonError(Exception):
    """A lesson file that cannot be used (the message is one sentence naming the file)."""


@dataclass(frozen=True)
class LabSettings:
    users: dict[str, str] = field(default_factory=dict)
    allow_plain_auth: bool = False
    faults: dict = field(default_factory=dict)      # validated with lab.Faults.from_mapping
    max_message_size: int | None = None


@dataclass(frozen=True)
class Step:
    number: int                   # 1-based
    title: str
    instruction: str
    check: Check
    hints: tuple[str, ...]
    explain: dict[str, str] = field(default_factory=dict)   # "550" | "5xx" | "DATA 503" | "other" -> text
    notice: str = ""
    golden: tuple[str, ...] = ()  # what a good student types for this step
    wrong: tuple[str, ...] = ()   # a wrong attempt (plus any lines that recover from it)
    predict: bool = False         # ask for the reply code the student expects (:predict) before they send

    def explanation_for(self, code: int | None, verb: str | None = None) -> str | None:
        """The step's own words for a reply code: "VERB code", "VERB class", then - only when the
        reply answered a verb this step is about - the bare code, its class and "other". A 503 to
        DATA in a step about RCPT is never explained with the words written for RCPT."""
        if code is None:
            return self.explain.get("other")
        keys = [f"{verb} {code}", f"{verb} {code // 100}xx"] if verb else []
        about = getattr(self.check, "verbs", lambda: None)()
        if verb is None or about is None or verb in about:
            keys += [str(code), f"{code // 100}xx", "other"]
        return next((self.explain[key] for key in keys if key in self.explain), None)


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    goal: str
    minutes: int
    intro: str
    steps: tuple[Step, ...]
    lab: LabSettings = field(default_factory=LabSettings)
    path: Path | None = None
    order: int = 999              # from the file name's number prefix ("02-first-message.toml")
