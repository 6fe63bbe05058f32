"""What a `:command` handler may use: the driver (and through it the session model), whether
someone is at the keyboard, how to ask them a question (masked or not), and the little the shell
itself remembers between lines (typed fields, no free-form dict). The REPL and batch mode each
provide one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from smtp_shell.protocol.model import SessionModel
from smtp_shell.shell.driver import SessionDriver


@dataclass
class ShellContext:
    driver: SessionDriver
    interactive: bool
    ask: Callable[[str, bool], Awaitable[str | None]] | None = None  # (prompt, masked) -> answer / None if cancelled
    leaving: bool = False
    lesson: Any = None                       # the running lesson engine (lessons/engine.py), if any
    toolbar_extra: Callable[[], str] | None = None  # more toolbar text (the lesson's progress)
    recording: str | None = None             # the toolbar's label for the transcript being recorded
    retype: str = ""                         # a declined line, offered again at the next prompt
    compose_from: str = ""                   # the sender :compose remembers
    composed: tuple[Any, bytes, list[str]] | None = None  # the last :compose (draft, wire bytes, MIME tree)

    @property
    def session(self) -> SessionModel:
        """Everything known about the SMTP session (read it; only the core changes it)."""
        return self.driver.core.model

    async def question(self, prompt: str, masked: bool = False) -> str | None:
        """Ask whoever is at the keyboard; None if they cancelled or nobody can be asked."""
        return None if self.ask is None else await self.ask(prompt, masked)
