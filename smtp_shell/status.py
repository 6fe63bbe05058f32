"""Documented exit statuses of the `smtp-shell` command (one enum, used by the CLI and batch
mode), and the one way to report an error on stderr: `smtp-shell: ` and one sentence.

Batch mode's promise: 0 means every message the script sent was accepted at its final dot and
nothing the script needed was refused. docs/batch.md has the table, checked against `BATCH_TABLE`.
"""

from __future__ import annotations

import enum
import sys
from typing import TextIO


class ExitStatus(enum.IntEnum):
    OK = 0                  # the session ran to the end; batch: every message accepted
    ERROR = 1               # bad arguments or input the user must fix (message says which)
    USAGE = 2               # argparse usage error
    CONNECTION_FAILED = 3   # refused, DNS failure, server closed the connection outside a transaction
    TLS_FAILED = 4          # handshake or certificate verification failed
    TIMEOUT = 5             # connect or reply timeout
    REPLY_5XX = 6           # batch: a command outside a transaction (EHLO, AUTH, STARTTLS ...) got 4xx/5xx
    MESSAGE_REFUSED_4XX = 7  # batch: a message was refused at its final dot with 4xx (try again later)
    MESSAGE_REFUSED_5XX = 8  # batch: a message was refused at its final dot with 5xx (permanent)
    ENVELOPE_REFUSED = 9    # batch: MAIL, RCPT, DATA or BDAT was refused (4xx/5xx)
    CONNECTION_LOST = 10    # batch: a 421, or the connection ended, in the middle of a transaction
    ABANDONED = 11          # batch: a message was left unfinished (:quit or end of input in DATA/BDAT)
    INTERRUPTED = 130       # Ctrl-C (batch mode sends QUIT first)
    OUTPUT_CLOSED = 141     # stdout was closed (`| head`): the session ended quietly, QUIT sent (128+SIGPIPE)


BATCH_TABLE: list[tuple[ExitStatus, str]] = [
    (ExitStatus.OK, "every message was accepted at its final dot (250) and nothing else was refused"),
    (ExitStatus.ERROR, "bad arguments or input (one sentence on stderr or stdout says which)"),
    (ExitStatus.USAGE, "the command line could not be parsed"),
    (ExitStatus.CONNECTION_FAILED, "could not connect, or the server closed the connection outside a transaction"),
    (ExitStatus.TLS_FAILED, "the TLS handshake or certificate verification failed"),
    (ExitStatus.TIMEOUT, "the server did not greet, or did not reply in time (--timeout)"),
    (ExitStatus.REPLY_5XX, "a command outside a transaction was refused (EHLO, STARTTLS, AUTH, VRFY, a greeting 554 ...)"),
    (ExitStatus.MESSAGE_REFUSED_4XX, "a message was refused at its final dot with a 4xx (temporary: try again later)"),
    (ExitStatus.MESSAGE_REFUSED_5XX, "a message was refused at its final dot with a 5xx (permanent)"),
    (ExitStatus.ENVELOPE_REFUSED, "MAIL FROM, RCPT TO, DATA or BDAT was refused"),
    (ExitStatus.CONNECTION_LOST, "the server said 421 (closing), or the connection ended, in the middle of a transaction "
                                 "or right at the greeting"),
    (ExitStatus.ABANDONED, "a message was left unfinished: :quit in DATA, or the input ended before the lone '.'"),
    (ExitStatus.INTERRUPTED, "Ctrl-C: the session ended with QUIT"),
    (ExitStatus.OUTPUT_CLOSED, "stdout was closed (e.g. `| head`): the session ended quietly with QUIT"),
]


def log_error(message: str, file: TextIO | None = None) -> None:
    """`smtp-shell: message` on stderr (looked up when called, so a redirected stderr gets it)."""
    print(f"smtp-shell: {message}", file=file if file is not None else sys.stderr)


def fail(message: str, status: int = ExitStatus.ERROR) -> int:
    """Report `message` with `log_error` and return `status`: `return fail("...")` in a command."""
    log_error(message)
    return int(status)
