"""Batch mode: lines from stdin, sent one at a time, rendered exactly like the live shell.

Each line waits for its reply (DATA body lines stream without waiting; with PIPELINING the
client may go on as RFC 2920 allows). Lines starting with ':' are the shell's own commands.
End of input leaves politely (QUIT if still connected). The exit status says how it went
(see `smtp_shell.status.ExitStatus`). No prompt_toolkit here: batch mode starts fast.
"""

from __future__ import annotations

import asyncio
import codecs
import collections
import io
import os
import sys

from smtp_shell.render import Renderer, make_console
from smtp_shell.shell import meta
from smtp_shell.shell.context import ShellContext
from smtp_shell.shell.driver import SessionDriver
from smtp_shell.shell.options import SessionOptions
from smtp_shell.status import ExitStatus


def run_batch(options: SessionOptions, stdin=None, console=None, listeners=()) -> int:
    return asyncio.run(batch_session(options, stdin or sys.stdin, console or make_console(options.no_color), listeners))


async def batch_session(options: SessionOptions, stdin, console, listeners=()) -> int:
    driver = SessionDriver(options, Renderer(console))
    driver.listeners.extend(listeners)
    shell = ShellContext(driver, interactive=False)
    if not await driver.connect():
        return int(driver.exit_status)
    await driver.wait_greeting()
    read_line = _line_reader(stdin, asyncio.get_running_loop())
    while not shell.leaving and driver.exit_status != ExitStatus.TIMEOUT:  # no greeting: nothing to say
        raw = await read_line()
        if raw == "":
            break
        line = raw[:-1] if raw.endswith("\n") else raw
        if line.endswith("\r"):
            line = line[:-1]
        if meta.handles(line, driver.core.mode):
            await meta.dispatch(shell, line)
            continue
        if not driver.connected:
            await driver.settle()  # let the reason (reported by the reader) come first
            driver.fail("The connection is closed, so the rest of the input was not sent.",
                        "Check the messages above; add :reconnect to the script to go on.")
            break
        if line.strip() == "" and driver.core.mode == "command":
            driver.note("nothing sent: the line holds only spaces (a server would answer 500)" if line
                        else "empty line skipped (an SMTP server would answer 500)")
            continue
        for advice in driver.advise(line):
            driver.warn(advice.message)
        await driver.send(line)
        if driver.exit_status in (ExitStatus.TIMEOUT,):
            break
    if driver.exit_status == ExitStatus.TIMEOUT:
        await driver.disconnect(quiet=True)  # a stuck server: waiting again (or for QUIT) only repeats the timeout
    elif not shell.leaving:
        await driver.wait_idle()
        if driver.core.mode == "data" and driver.connected:
            driver.fail("The input ended in the middle of DATA (no line with only '.'), so the message was not "
                        "delivered; end the message with a line holding only '.'.")
            driver.exit_status = ExitStatus.ERROR
            await driver.disconnect(quiet=True)
        else:
            await driver.quit()
    if driver.exit_status != ExitStatus.OK:
        return int(driver.exit_status)
    return int(ExitStatus.REPLY_5XX if driver.saw_5xx else ExitStatus.OK)


def _line_reader(stdin, loop):
    """An async readline() for stdin that reads ahead in blocks: one thread hop per 64 KiB of
    input instead of one per line, so a long script spends its time on the wire, not here.
    Lines split at LF only, decoded as stdin would (its encoding and errors). Objects without
    a real file descriptor (a StringIO in tests) are read line by line as before."""
    try:
        fd = stdin.fileno()
        decoder = codecs.getincrementaldecoder(stdin.encoding or "utf-8")(stdin.errors or "strict")
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation, LookupError):
        async def readline() -> str:
            return await loop.run_in_executor(None, stdin.readline)
        return readline
    lines: collections.deque[str] = collections.deque()
    state = {"partial": "", "eof": False}

    async def readline() -> str:
        while not lines and not state["eof"]:
            data = await loop.run_in_executor(None, os.read, fd, 65536)
            text = state["partial"] + decoder.decode(data, final=not data)
            if not data:
                state["eof"], state["partial"] = True, ""
                if text:
                    lines.append(text)
                break
            *complete, state["partial"] = text.split("\n")
            lines.extend(line + "\n" for line in complete)
        return lines.popleft() if lines else ""
    return readline
