"""Batch mode: lines from stdin, sent one at a time, rendered exactly like the live shell.

Each line waits for its reply (DATA body lines stream without waiting, in large coalesced
writes; with PIPELINING the client may go on as RFC 2920 allows). Which lines are the shell's
own `:commands` is decided by the one input-mode table (`smtp_shell.shell.modes`). DATA lines
go out byte for byte: stdin is read as bytes and undecodable bytes pass through unchanged.

What a script can rely on (docs/batch.md): exit 0 only if every message was accepted at its
final dot; the first failed transaction stops the session with QUIT unless `--keep-going`;
when DATA is refused, the message lines up to the lone '.' are skipped, never sent as
commands. Ctrl-C ends the session with QUIT; a closed stdout ends it quietly.
End of input leaves politely (QUIT if still connected). No prompt_toolkit here: batch mode
starts fast.

Two drivers run this same code: by default the blocking one (shell/blocking.py: plain sockets,
no event loop, no asyncio import), with `SMTP_SHELL_DRIVER=async` the asyncio one the REPL uses.
Both show, record and judge through the same SessionDriver methods.
"""

from __future__ import annotations

import codecs
import collections
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING

from smtp_shell.protocol.states import State
from smtp_shell.render import Renderer, batch_console
from smtp_shell.shell import meta
from smtp_shell.shell.context import ShellContext
from smtp_shell.shell.driver import SessionDriver
from smtp_shell.shell.modes import Route
from smtp_shell.shell.options import SessionOptions
from smtp_shell.status import ExitStatus

if TYPE_CHECKING:
    import asyncio

COALESCE = 64 * 1024  # body lines are written in one write up to this many octets


def run_batch(options: SessionOptions, stdin=None, console=None, listeners=(), driver: str | None = None) -> int:
    """One batch session on the driver named (default: $SMTP_SHELL_DRIVER, else the blocking one)."""
    from smtp_shell.shell.blocking import driver_name

    stdin = stdin or sys.stdin
    console = console or batch_console(options.no_color)
    if (driver or driver_name()) == "async":
        import asyncio

        return asyncio.run(batch_session(options, stdin, console, listeners))
    return blocking_batch_session(options, stdin, console, listeners)


def blocking_batch_session(options: SessionOptions, stdin, console, listeners=()) -> int:
    """A batch session on the blocking driver: no event loop, Ctrl-C is a KeyboardInterrupt."""
    from smtp_shell.shell.blocking import BlockingDriver, run_now

    driver = BlockingDriver(options, Renderer(console))
    driver.listeners.extend(listeners)
    shell = ShellContext(driver, interactive=False)
    try:
        try:
            return run_now(_session(shell, _BlockingLineReader(stdin, before_waiting=driver.renderer.flush)))
        except KeyboardInterrupt:
            pass
        run_now(_interrupted(driver))  # a second Ctrl-C stops at once (KeyboardInterrupt: 130)
        return _status(driver)
    finally:
        driver.renderer.holding = False
        driver.renderer.flush()


async def batch_session(options: SessionOptions, stdin, console, listeners=()) -> int:
    """A batch session on the asyncio driver (the REPL's): Ctrl-C cancels the session task."""
    import asyncio

    driver = SessionDriver(options, Renderer(console))
    driver.listeners.extend(listeners)
    shell = ShellContext(driver, interactive=False)
    loop = asyncio.get_running_loop()
    interrupted = _on_ctrl_c(loop, asyncio.current_task())
    try:
        return await _session(shell, _LineReader(stdin, loop))
    except asyncio.CancelledError:
        if not interrupted.is_set():
            raise
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        await _interrupted(driver)
    finally:
        _restore_ctrl_c(loop)
    return _status(driver)


async def _session(shell: ShellContext, reader) -> int:
    """Connect, wait for the greeting, run the input's lines: the exit status (the same code for
    both drivers)."""
    driver = shell.driver
    if not await driver.connect():
        return int(driver.failure or ExitStatus.CONNECTION_FAILED)
    await driver.wait_greeting()
    await _run_lines(shell, reader)
    return _status(driver)


async def _interrupted(driver: SessionDriver) -> None:
    driver.note("interrupted (Ctrl-C): ending the session")
    driver.record_failure(ExitStatus.INTERRUPTED)
    await _leave(driver)


def _status(driver: SessionDriver) -> int:
    if driver.renderer.output_closed:
        return int(ExitStatus.OUTPUT_CLOSED)
    return int(driver.failure or ExitStatus.OK)


async def _run_lines(shell: ShellContext, reader: _LineReader) -> None:
    driver = shell.driver
    body: list[str] = []      # DATA lines waiting to go out in one write
    size = 0
    while not shell.leaving and driver.exit_status != ExitStatus.TIMEOUT:
        if driver.renderer.output_closed:
            break
        raw = await reader.readline()
        if raw is None:
            break
        line = raw[:-1] if raw.endswith("\n") else raw
        if line.endswith("\r"):
            line = line[:-1]
        mode = driver.core.mode
        if mode == "bdat":
            if not await _chunk_line(driver, line, raw.endswith("\n")):
                break
            continue
        route = meta.route(line, "password" if driver.core.expects_secret else mode) if line[:1] == ":" else None
        if (route is None or route.action == "send") and mode == "data" and line != "." and driver.connected:
            text = line if route is None else route.text  # a message line: the hot path
            if route is not None and route.note:
                driver.note(route.note)
            driver.warn_advice(driver.advise(text))
            body.append(text)
            size += len(text) + 2
            message = driver.core.model.message
            if size < COALESCE and reader.buffered() and message is not None and not message.in_headers:
                continue  # past the headers, more body lines are already here: send them together
            await _flush(driver, body)
            body, size = [], 0
            continue
        if body:
            await _flush(driver, body)
            body, size = [], 0
        if route is None:
            route = Route("send", line)
        if route.action == "refuse":
            driver.fail(route.note)
            continue
        if route.action == "run":
            # a :command acts on the session as it stands: the replies to the commands before it
            # first (`:predict` must not judge an earlier pipelined reply; the same on both drivers)
            await driver.wait_idle()
            await meta.dispatch(shell, route.text)  # :send FILE, :bdat FILE, :auth ... can fail a transaction too
            if await _stopped(shell):
                return
            continue
        if route.note:
            driver.note(route.note)
        if not driver.connected:
            await driver.settle()  # let the reason (reported by the reader) come first
            driver.fail("The connection is closed, so the rest of the input was not sent.",
                        "Check the messages above; add :reconnect to the script to go on.")
            break
        if line.strip() == "" and mode == "command":
            driver.note("nothing sent: the line holds only spaces (a server would answer 500)" if line
                        else "empty line skipped (an SMTP server would answer 500)")
            continue
        driver.warn_advice(driver.advise(route.text))
        event = await driver.send(route.text)
        if driver.exit_status == ExitStatus.TIMEOUT:
            break
        practice = driver.options.practice
        if not practice and _is_data_command(route.text) and event is not None and event.state_after is not State.DATA:
            await _skip_message(driver, reader)
        if await _stopped(shell):
            return
    if body:
        await _flush(driver, body)
    if driver.exit_status == ExitStatus.TIMEOUT:
        await driver.disconnect(quiet=True)  # a stuck server: waiting again (or for QUIT) only repeats the timeout
    elif not shell.leaving:
        await driver.wait_idle()
        if driver.core.mode in ("data", "bdat") and driver.connected:
            driver.fail("message abandoned, not sent: the input ended in the middle of DATA (no line with only '.')"
                        if driver.core.mode == "data" else
                        "message abandoned, not sent: the input ended before the BDAT chunk had all its octets.")
            driver.record_failure(ExitStatus.ABANDONED)
            await driver.disconnect(quiet=True)
        else:
            await driver.quit()


async def _flush(driver: SessionDriver, body: list[str]) -> None:
    """Send the DATA lines held for one write, unless the connection ended meanwhile: then they
    are part of "the rest of the input", which the next line (or the end) reports as not sent."""
    await driver.catch_up()
    if driver.connected:
        await driver.send_body(body)


async def _stopped(shell: ShellContext) -> bool:
    """After a failed transaction, stop (QUIT) unless --keep-going or a lesson; True if stopped."""
    driver = shell.driver
    if not driver.transaction_failed or driver.options.keep_going or driver.options.practice:
        driver.transaction_failed = False
        return False
    await driver.wait_idle()
    driver.note("stopping after the first failed transaction (--keep-going goes on to the next one)")
    shell.leaving = True
    await _leave(driver)
    return True


def _is_data_command(text: str) -> bool:
    return text.strip().upper() == "DATA"


async def _skip_message(driver: SessionDriver, reader: _LineReader) -> None:
    """DATA was refused: the message lines up to the lone '.' were meant for DATA mode, so they
    are skipped (counted), never sent as commands."""
    skipped = 0
    while (raw := await reader.readline()) is not None:
        if raw.rstrip("\r\n") == ".":
            break
        skipped += 1
    driver.note(f"DATA was refused, so the {skipped} message line(s) up to the lone '.' were skipped, "
                "not sent as commands")


async def _chunk_line(driver: SessionDriver, line: str, had_newline: bool) -> bool:
    """One input line towards the BDAT chunk owed: the line plus CRLF, or the line alone when
    it ends the chunk exactly. False: the input cannot complete the chunk (message abandoned)."""
    data = line.encode("utf-8", "surrogateescape")
    left = driver.core.chunk_remaining
    if len(data) + 2 <= left and had_newline:
        data += b"\r\n"
    elif len(data) != left:
        driver.fail(f"message abandoned, not sent: the line is {len(data) + 2} octets with CRLF but the BDAT "
                    f"chunk has {left} left; BDAT's size must count every octet, CRLF included.")
        driver.record_failure(ExitStatus.ABANDONED)
        await driver.disconnect(quiet=True)
        return False
    await driver.send_chunk(data)
    return True


async def _leave(driver: SessionDriver) -> None:
    """End the session: QUIT if it can be said; in the middle of a message, close without the
    final dot so nothing half-typed is delivered."""
    if driver.core.mode in ("data", "bdat") and driver.connected:
        driver.note("message abandoned, not sent: closing the connection without the final '.'")
        await driver.disconnect(quiet=True)
        return
    try:
        await driver.within(driver.quit(), driver.options.timeout + 3)
    except TimeoutError:
        await driver.disconnect(quiet=True)


# ---- Ctrl-C ----------------------------------------------------------------------------------

def _on_ctrl_c(loop, task) -> threading.Event:
    """Ctrl-C cancels the session task (so it can still say QUIT) instead of killing the process."""
    flag = threading.Event()

    def handler() -> None:
        flag.set()
        task.cancel()
        _restore_ctrl_c(loop)  # a second Ctrl-C stops at once (KeyboardInterrupt: "interrupted", 130)
    try:
        loop.add_signal_handler(signal.SIGINT, handler)
    except (NotImplementedError, RuntimeError, ValueError):
        pass
    return flag


def _restore_ctrl_c(loop) -> None:
    try:
        loop.remove_signal_handler(signal.SIGINT)
    except (NotImplementedError, RuntimeError, ValueError):
        pass


# ---- reading stdin ---------------------------------------------------------------------------

class _Lines:
    """Stdin's lines from 64 KiB blocks. Lines split at LF only; bytes that are not valid in
    stdin's encoding are kept as surrogate escapes and go out unchanged. Objects without a real
    file descriptor (a StringIO in tests) are read line by line (`_fd` is None)."""

    def __init__(self, stdin) -> None:
        self.lines: collections.deque[str] = collections.deque()
        self._partial = ""
        self._eof = False
        self._stdin = stdin
        self._fd: int | None
        try:
            self._fd = stdin.fileno()
            encoding = stdin.encoding or "utf-8"
            self._decoder = codecs.getincrementaldecoder(encoding)("surrogateescape")
        except (AttributeError, OSError, ValueError, LookupError):
            self._fd = None

    def _feed(self, data: bytes) -> None:
        text = self._partial + self._decoder.decode(data, final=not data)
        if not data:
            self._eof, self._partial = True, ""
            if text:
                self.lines.append(text)
            return
        *complete, self._partial = text.split("\n")
        self.lines.extend(line + "\n" for line in complete)


class _BlockingLineReader(_Lines):
    """readline() for the blocking driver: reads stdin when it needs a line (a Ctrl-C while it
    waits is a KeyboardInterrupt, which ends the session with QUIT)."""

    def __init__(self, stdin, before_waiting=lambda: None) -> None:
        super().__init__(stdin)
        self._before_waiting = before_waiting  # called before a read that may wait (output is flushed)

    def buffered(self) -> bool:
        """Is another line already here (no waiting)?"""
        return bool(self.lines)

    async def readline(self) -> str | None:
        """The next line with its LF, or None at the end of input."""
        if self._fd is None:
            self._before_waiting()
            return self._stdin.readline() or None
        while not self.lines and not self._eof:
            self._before_waiting()
            try:
                data = os.read(self._fd, 65536)
            except OSError:
                data = b""
            self._feed(data)
        return self.lines.popleft() if self.lines else None


class _LineReader(_Lines):
    """An async readline() for stdin that reads ahead on a daemon thread (so a Ctrl-C or a
    closed server never waits for the keyboard)."""

    def __init__(self, stdin, loop) -> None:
        super().__init__(stdin)
        self.loop = loop
        if self._fd is None:
            return
        import asyncio

        self._blocks: asyncio.Queue[bytes] = asyncio.Queue()
        threading.Thread(target=self._pump, name="stdin", daemon=True).start()

    def _pump(self) -> None:
        assert self._fd is not None
        while True:
            try:
                data = os.read(self._fd, 65536)
            except OSError:
                data = b""
            try:
                self.loop.call_soon_threadsafe(self._blocks.put_nowait, data)
            except RuntimeError:  # the loop has closed
                return
            if not data:
                return

    def buffered(self) -> bool:
        """Is another line already here (no waiting)?"""
        if self._fd is None:
            return False
        self._take_ready()
        return bool(self.lines)

    def _take_ready(self) -> None:
        while not self._eof and not self._blocks.empty():
            self._feed(self._blocks.get_nowait())

    async def readline(self) -> str | None:
        """The next line with its LF, or None at the end of input."""
        if self._fd is None:
            line = await self.loop.run_in_executor(None, self._stdin.readline)
            return line or None
        self._take_ready()
        while not self.lines and not self._eof:
            self._feed(await self._blocks.get())
        return self.lines.popleft() if self.lines else None
