"""Batch mode's synchronous driver: the same session code, run without an event loop.

Why it exists: a batch session is one conversation in order, and asyncio's import plus a loop
turn per reply cost more than the whole session may take (issue 17: a fresh `--batch` process
must keep pace with swaks). The protocol core is sans-IO, and the session code above it (the
driver's logic, batch mode's line loop, every `:command`) is written once, async-coloured. Here
that same code runs on `transport.blocking.BlockingConnection`, whose coroutines never suspend,
driven by `run_now` (one `coro.send(None)`): no loop, no reading task, no threads.

What differs from the asyncio driver is only *when* bytes are read: not by a task as they
arrive, but when the session waits for a reply (`_wait`), before it sends with nothing in flight
(`catch_up`: what has already arrived, a 421 or a close, is acted on first, as the task would
have shown it), and when it settles after a close. Everything shown, recorded, judged and every
exit status comes from the same `SessionDriver` methods, so both drivers give the same screen
and the same transcript (tests/shell/test_two_drivers.py compares them; the batch tests run on
both: `SMTP_SHELL_DRIVER=async` selects the asyncio one).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from smtp_shell.render import Renderer
from smtp_shell.shell.driver import SessionDriver
from smtp_shell.shell.options import SessionOptions
from smtp_shell.transport import TransportError
from smtp_shell.transport.blocking import BlockingConnection

T = TypeVar("T")

# A wait for the server is made of waits of at most this many seconds: on Windows a blocking
# socket wait is not interrupted by Ctrl-C, so each slice gives the interpreter a moment to see it.
WAIT_SLICE = 0.5


def run_now(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (the blocking driver's) to its end, without a loop."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise RuntimeError("batch mode's blocking driver met code that waits for an event loop; "
                       "run it with SMTP_SHELL_DRIVER=async")


class _Future:
    """The little of asyncio.Future the driver uses, for a world where nothing runs concurrently."""

    __slots__ = ("_done", "_exception", "_result")

    def __init__(self) -> None:
        self._done = False
        self._result: Any = None
        self._exception: BaseException | None = None

    def done(self) -> bool:
        return self._done

    def set_result(self, result: Any) -> None:
        self._result, self._done = result, True

    def set_exception(self, exception: BaseException) -> None:
        self._exception, self._done = exception, True

    def exception(self) -> BaseException | None:
        return self._exception

    def result(self) -> Any:
        if self._exception is not None:
            raise self._exception
        return self._result


class BlockingDriver(SessionDriver):
    """A SessionDriver whose I/O blocks: replies are read when the session waits for them."""

    blocking = True

    def __init__(self, options: SessionOptions, renderer: Renderer) -> None:
        super().__init__(options, renderer)
        self.conn: BlockingConnection | None = None
        # Plain output is flushed when the program is about to wait (for the server or for input),
        # not after every line: what is shown is on the screen before each wait, at one write.
        renderer.holding = True

    async def _open(self, host: str, port: int, **kwargs: Any) -> BlockingConnection:
        return await BlockingConnection.open(host, port, **kwargs)

    def _new_future(self) -> _Future:
        return _Future()

    def _start_reader(self) -> None:
        pass  # nothing reads ahead: _wait, _catch_up and settle read when the session needs it

    async def _stop_reader(self) -> None:
        pass

    def _reading(self) -> bool:
        return self.conn is not None and not self.conn.closed

    async def _read_until(self, finished: Callable[[], bool], timeout: float | None) -> bool:
        """Read and act on replies until `finished()` or the connection ends; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        conn = self.conn
        while not finished():
            if conn is None or self.conn is not conn or conn.closed:
                return True
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            self.renderer.flush()  # about to wait for the server: everything shown so far goes out first
            piece = WAIT_SLICE if remaining is None else min(remaining, WAIT_SLICE)
            try:
                if not await self._read_once(conn, piece):
                    return True
            except TimeoutError:
                if remaining is not None and remaining <= WAIT_SLICE:
                    return False  # the whole timeout has passed; else wait on, one slice at a time
        return True

    async def _wait(self, future: Any, timeout: float | None) -> Any:
        if not await self._read_until(future.done, timeout):
            raise TimeoutError
        await self._drain_ready()  # what came with it (a close right after a 354), as the task would see
        if not future.done():  # the connection ended without releasing it (it always does)
            raise ConnectionError("closed")
        return future.result()

    async def catch_up(self) -> None:
        if not self.core.model.in_flight_commands:  # else their replies are read at the next wait
            await self._drain_ready()

    async def _drain_ready(self) -> None:
        """Act on everything that has already arrived, without waiting."""
        conn = self.conn
        while conn is not None and self.conn is conn:
            try:
                data = conn.poll()
            except TransportError as exc:
                self._read_failed(exc)
                return
            if data is None or not await self._received(conn, data):
                return

    async def settle(self, timeout: float = 1.0) -> None:
        await self._read_until(lambda: False, timeout)

    async def within(self, work: Any, timeout: float) -> None:
        await work  # every blocking step has its own timeout


def driver_name(environ: dict[str, str] | None = None) -> str:
    """Which batch driver runs: `SMTP_SHELL_DRIVER=async` for the asyncio one, else blocking."""
    value = (os.environ if environ is None else environ).get("SMTP_SHELL_DRIVER", "").strip().lower()
    return "async" if value == "async" else "sync"
