"""Where the command runs: its streams, what they are connected to, colour, the user's folder.

HTTPie's `Environment` is the model: `main(argv, env=Environment(...))` runs the whole command
against these streams, so a test can call `main()` in-process with a StringIO for stdin and
read stdout and stderr back, without spawning a process. The real process uses the defaults
(`sys.stdin`, `sys.stdout`, `sys.stderr`, `os.environ`).

Lower layers keep looking streams up on `sys` when they write (rich consoles do, so prompts and
replies from the network print above the REPL's prompt); `Environment.active()` points `sys`
at this environment's streams for the length of one command.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from smtp_shell import paths, status


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):  # closed, or not a real file
        return False


@dataclass
class Environment:
    """The streams and facts one command runs with (tests pass StringIOs)."""

    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)

    @property
    def stdin_isatty(self) -> bool:
        """Someone types at a terminal (else batch mode: lines come from a pipe or a file)."""
        return _isatty(self.stdin)

    @property
    def stdout_isatty(self) -> bool:
        return _isatty(self.stdout)

    @property
    def colors(self) -> bool:
        """Colour only on a terminal, and never with NO_COLOR set (https://no-color.org)."""
        return self.stdout_isatty and not self.environ.get("NO_COLOR")

    @property
    def data_dir(self) -> Path:
        """The user's smtp-shell folder (history, lab certificate, mailbox)."""
        return paths.data_dir()

    def log_error(self, message: str) -> None:
        """`smtp-shell: message` on this environment's stderr."""
        status.log_error(message, self.stderr)

    @contextlib.contextmanager
    def active(self) -> Iterator[Environment]:
        """Point `sys.stdin/stdout/stderr` at this environment's streams for one command."""
        saved = sys.stdin, sys.stdout, sys.stderr
        sys.stdin, sys.stdout, sys.stderr = self.stdin, self.stdout, self.stderr
        try:
            yield self
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved
