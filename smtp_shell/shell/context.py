"""What a `:command` handler may use: the driver, whether someone is at the keyboard, and how
to ask them a question (masked or not). The REPL and batch mode each provide one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from smtp_shell.shell.driver import SessionDriver


@dataclass
class ShellContext:
    driver: SessionDriver
    interactive: bool
    ask: Callable[[str, bool], Awaitable[str | None]] | None = None  # (prompt, masked) -> answer / None if cancelled
    leaving: bool = False
    extras: dict = field(default_factory=dict)

    async def question(self, prompt: str, masked: bool = False) -> str | None:
        """Ask whoever is at the keyboard; None if they cancelled or nobody can be asked."""
        return None if self.ask is None else await self.ask(prompt, masked)
