"""Run one session, the one way: batch mode or the REPL, with its listeners, a transcript closed
with the session's exit status, and a last line saying where that transcript is.

The default command, `connect` and lessons all come here, so recording, batch detection and the
closing message cannot drift apart between them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from smtp_shell.shell.options import SessionOptions
from smtp_shell.status import ExitStatus, log_error

if TYPE_CHECKING:
    from smtp_shell.transcript.recorder import Recorder


def run_session(options: SessionOptions, *, batch: bool, console: Any = None, listeners: Sequence[Any] = (),
                recorder: Recorder | None = None, on_ready: Callable[[Any], None] | None = None,
                on_end: Callable[[int], None] | None = None,
                before_close: Callable[[bool], None] | None = None) -> int:
    """The exit status of one session. Batch mode when asked or when stdin is not a terminal.

    `listeners` see everything the screen shows (put `recorder` among them to record);
    `on_ready(shell)` runs once the REPL is up; `before_close(interrupted)` runs while the
    transcript is still open (a lesson records its outcome; `interrupted`: the session did not
    return normally, e.g. Ctrl-C); `on_end(status)` runs after the recorder is closed and before
    the line naming the transcript.
    """
    status: int = ExitStatus.ERROR
    returned = False
    try:
        if batch or not sys.stdin.isatty():
            from smtp_shell.shell.batch import run_batch

            status = run_batch(options, console=console, listeners=listeners)
        else:
            import asyncio

            from smtp_shell.shell.repl import repl_session

            def ready(shell: Any) -> None:
                if recorder is not None:
                    from smtp_shell.shell.recording import show_in_toolbar  # the transcript modules: only when recording

                    show_in_toolbar(recorder)(shell)
                if on_ready is not None:
                    on_ready(shell)

            status = asyncio.run(repl_session(options, console=console, listeners=listeners, on_ready=ready))
        returned = True
        return status
    finally:
        if before_close is not None:
            before_close(not returned)
        if recorder is not None:
            recorder.close(status)
        if on_end is not None:
            on_end(status)
        if recorder is not None:
            log_error(f"the transcript is in {recorder.path}")
