"""The one in-process REPL harness: the real REPL on prompt_toolkit's pipe input and a dummy
output, with a rich console writing to a buffer. Tests assert on what the student would see
(`screen`) and on the session (`driver`, `shell`), never on terminal bytes.

`run_repl(server, scenario)` runs a scenario and checks the REPL never crashed nor leaked a
raw escape; `Repl.session()` is the same start-up as a context manager for tests that drive
it step by step (tests/shell/test_repl_inprocess.py)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re

from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from smtp_shell.render import make_console
from smtp_shell.shell.options import SessionOptions
from smtp_shell.shell.repl import repl_session


class Repl:
    def __init__(self, server=None, timeout: float = 1.0, *, options: SessionOptions | None = None, width: int = 250,
                 **more) -> None:
        self.options = options or SessionOptions(host=server.host, port=server.port, timeout=timeout, **more)
        self.buffer = io.StringIO()
        self.console = make_console(file=self.buffer, width=width)
        self.shell = None
        self.inp = None
        self.task: asyncio.Task | None = None

    @property
    def screen(self) -> str:
        return self.buffer.getvalue()

    @property
    def driver(self):
        return self.shell.driver

    def errors(self, start: int = 0) -> list[str]:
        return [line[4:] for line in self.screen[start:].splitlines() if line.startswith("*** ")]

    async def until(self, text: str, timeout: float = 10.0, start: int = 0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while text not in self.screen[start:]:
            if self.task is not None and self.task.done():
                raise AssertionError(f"the REPL ended (waiting for {text!r}); screen:\n{self.screen}")
            if loop.time() > deadline:
                raise AssertionError(f"{text!r} never appeared; screen:\n{self.screen}")
            await asyncio.sleep(0.02)

    async def type(self, line: str, expect: str, timeout: float = 10.0) -> int:
        """Type a line and Enter; wait for `expect` in what follows. Returns the screen mark."""
        mark = len(self.screen)
        self.inp.send_text(line + "\r")
        await self.until(expect, timeout, start=mark)
        return mark

    async def keys(self, text: str) -> None:
        """Send raw keys (no Enter), e.g. half a line or Ctrl-C (\\x03)."""
        self.inp.send_text(text)
        await asyncio.sleep(0.1)

    async def idle(self, prompt_mode: str | None = None, timeout: float = 5.0) -> None:
        """Wait until the REPL is back at a prompt in `prompt_mode` ("command", "data", "auth")."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while prompt_mode is not None and self.driver.core.mode != prompt_mode:
            if loop.time() > deadline:
                raise AssertionError(f"never got to {prompt_mode} mode; screen:\n{self.screen}")
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.15)

    async def quit(self) -> int:
        self.inp.send_text(":quit\r")
        return await asyncio.wait_for(self.task, 10)


    @contextlib.asynccontextmanager
    async def session(self, listeners=()):
        """The REPL running on a pipe input until the scenario ends (then :quit); yields the input."""
        with create_pipe_input() as inp:
            self.inp = inp
            self.task = asyncio.create_task(repl_session(
                self.options, input=inp, output=DummyOutput(), console=self.console, history=InMemoryHistory(),
                listeners=listeners, on_ready=lambda shell: setattr(self, "shell", shell)))
            try:
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 15
                while self.shell is None:
                    if self.task.done():
                        self.task.result()
                        raise AssertionError(f"the REPL ended before it was ready:\n{self.screen}")
                    if loop.time() > deadline:
                        raise AssertionError(f"the REPL never got ready:\n{self.screen}")
                    await asyncio.sleep(0.02)
                yield inp
            finally:
                if not self.task.done():
                    inp.send_text(":quit\r")
                    try:
                        await asyncio.wait_for(asyncio.shield(self.task), 8)
                    except TimeoutError:
                        self.task.cancel()
                    except Exception:
                        pass

    async def finished(self) -> int:
        """The REPL's exit status once it ends by itself (after :quit)."""
        return await asyncio.wait_for(self.task, 10)


def run_repl(server, scenario, timeout: float = 1.0, limit: float = 40, **options) -> Repl:
    """Start the REPL against `server`, run `await scenario(repl)`, then make sure the REPL ends."""
    repl = Repl(server, timeout, **options)

    async def main():
        async with repl.session():
            await scenario(repl)

    asyncio.run(asyncio.wait_for(main(), limit))
    assert "Internal error" not in repl.screen, repl.screen
    assert "Traceback" not in repl.screen, repl.screen
    assert not re.search(r"[\x1b\x07]", repl.screen), repl.screen
    return repl
