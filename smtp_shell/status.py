"""Documented exit statuses of the `smtp-shell` command (one enum, used by the CLI and batch
mode), and the one way to report an error on stderr: `smtp-shell: ` and one sentence."""

from __future__ import annotations

import enum
import sys
from typing import TextIO


class ExitStatus(enum.IntEnum):
    OK = 0                 # the session ran to the end
    ERROR = 1              # bad arguments or input the user must fix (message says which)
    USAGE = 2              # argparse usage error
    CONNECTION_FAILED = 3  # refused, DNS failure, server closed the connection
    TLS_FAILED = 4         # handshake or certificate verification failed
    TIMEOUT = 5            # connect or reply timeout
    REPLY_5XX = 6          # batch mode: at least one command got a 5xx reply
    INTERRUPTED = 130      # Ctrl-C outside the REPL


def log_error(message: str, file: TextIO | None = None) -> None:
    """`smtp-shell: message` on stderr (looked up when called, so a redirected stderr gets it)."""
    print(f"smtp-shell: {message}", file=file if file is not None else sys.stderr)


def fail(message: str, status: int = ExitStatus.ERROR) -> int:
    """Report `message` with `log_error` and return `status`: `return fail("...")` in a command."""
    log_error(message)
    return int(status)
