"""The interactive player: replay on a terminal, driven by single key presses.

Why this exists: an instructor projecting a student's session wants to stop at a mistake,
step back, jump to the next lesson step and find a command, without re-running anything.
Keys are read with prompt_toolkit's portable input (raw mode on POSIX and Windows alike):

    space  pause / resume          →  /  ←   one event (with --step: one exchange) forward / back
    ]  [   next / previous marker  /        search forward (Enter to find, Esc to cancel)
    q      quit (at the end the player stays open until q)

`Position` is the pure part (what is shown after a key) and is tested without a terminal.
"""

from __future__ import annotations

import asyncio

from rich.text import Text

from smtp_shell.render import rich_style
from smtp_shell.transcript.reader import Event
from smtp_shell.transcript.replay import delays, exchange_ends, render_event

REDRAW_LIMIT = 400  # events drawn again after a step back (older ones stay in the scrollback)


class Position:
    """How many events are on screen, and where each key moves that number."""

    def __init__(self, events: list[Event], step: bool = False) -> None:
        self.events = events
        self.shown = 0
        self.step = step
        self.ends = exchange_ends(events)

    @property
    def at_end(self) -> bool:
        return self.shown >= len(self.events)

    def forward(self) -> int:
        if self.step:
            return next((end for end in self.ends if end > self.shown), len(self.events))
        return min(self.shown + 1, len(self.events))

    def back(self) -> int:
        if self.step:
            return max((end for end in self.ends if end < self.shown), default=0)
        return max(self.shown - 1, 0)

    def next_marker(self) -> int | None:
        return next((i + 1 for i in range(self.shown, len(self.events)) if self.events[i].kind == "marker"), None)

    def previous_marker(self) -> int | None:
        return next((i + 1 for i in range(self.shown - 2, -1, -1) if self.events[i].kind == "marker"), None)

    def search(self, query: str) -> int | None:
        q = query.lower()
        return next((i + 1 for i in range(self.shown, len(self.events))
                     if q in self.events[i].text.lower() or q in str(self.events[i].get("code", ""))), None)


class Player:
    def __init__(self, events: list[Event], renderer, *, speed: float = 1.0, idle_limit: float | None = None,
                 step: bool = False, input=None) -> None:
        self.events = events
        self.renderer = renderer
        self.console = renderer.console
        self.pos = Position(events, step)
        self.waits = delays(events, speed, idle_limit)
        self.paused = step
        self._input = input

    def _status(self, text: str) -> None:
        self.console.print(Text(f"[{text}]", style=rich_style("gloss")), soft_wrap=True)

    def move_to(self, target: int) -> None:
        """Show exactly `target` events: draw the new ones, or redraw from the top after a step back."""
        shown = self.pos.shown
        if target > shown:
            for event in self.events[shown:target]:
                render_event(self.renderer, event)
        elif target < shown:
            self.console.clear()
            start = max(0, target - REDRAW_LIMIT)
            for event in self.events[start:target]:
                render_event(self.renderer, event)
        self.pos.shown = target

    async def run(self) -> None:
        from prompt_toolkit.input import create_input
        from prompt_toolkit.keys import Keys

        inp = self._input or create_input()
        queue: asyncio.Queue = asyncio.Queue()

        def keys_ready() -> None:
            for press in inp.read_keys():
                queue.put_nowait(press)

        self._status("space pause · → ← step · ] [ markers · / search · q quit")
        with inp.raw_mode(), inp.attach(keys_ready):
            announced_end = False
            while True:
                if self.pos.at_end and not announced_end:
                    self._status("end of the transcript: ← back, [ previous marker, q quit")
                    announced_end = True
                timeout = None
                if not self.paused and not self.pos.at_end:
                    timeout = self.waits[self.pos.shown]
                try:
                    press = await asyncio.wait_for(queue.get(), timeout) if timeout is not None else await queue.get()
                except TimeoutError:
                    self.move_to(self.pos.shown + 1)
                    continue
                key = press.key
                if key in ("q", "Q", Keys.ControlC, Keys.ControlD):
                    return
                if key == " ":
                    if self.pos.step:
                        self.move_to(self.pos.forward())
                    else:
                        self.paused = not self.paused
                        self._status("paused" if self.paused else "playing")
                elif key in (Keys.Right, Keys.ControlM, Keys.ControlJ):
                    self.move_to(self.pos.forward())
                elif key == Keys.Left:
                    self.paused = True
                    self.move_to(self.pos.back())
                    announced_end = False
                elif key in ("]", "["):
                    target = self.pos.next_marker() if key == "]" else self.pos.previous_marker()
                    if target is None:
                        self._status("no " + ("further" if key == "]" else "earlier") + " marker")
                    else:
                        self.paused = True
                        self.move_to(target)
                        announced_end = False
                elif key == "/":
                    query = await self._read_query(queue)
                    if query:
                        target = self.pos.search(query)
                        if target is None:
                            self._status(f"{query!r} not found after this point")
                        else:
                            self.paused = True
                            self.move_to(target)

    async def _read_query(self, queue: asyncio.Queue) -> str | None:
        from prompt_toolkit.keys import Keys

        out = self.console.file
        query = ""
        while True:
            out.write("\r/" + query + "\x1b[K")
            out.flush()
            press = await queue.get()
            if press.key in (Keys.ControlM, Keys.ControlJ):
                out.write("\r\x1b[K")
                return query
            if press.key in (Keys.Escape, Keys.ControlC):
                out.write("\r\x1b[K")
                return None
            if press.key in (Keys.Backspace, Keys.ControlH):
                query = query[:-1]
            elif len(press.data) == 1 and press.data.isprintable():
                query += press.data
