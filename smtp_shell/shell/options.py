"""The settings of one shell session, gathered by the CLI and read by the REPL and batch mode."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from smtp_shell.address import format_hostport


@dataclass
class SessionOptions:
    """How to open one session: the server, TLS, timeouts, recording, batch behaviour."""

    host: str
    port: int
    implicit_tls: bool = False
    insecure: bool = False
    cafile: Path | None = None
    timeout: float = 30.0
    helo_name: str | None = None
    record: Path | None = None
    record_force: bool = False  # --force: --record may overwrite an existing file
    no_color: bool = False
    keep_going: bool = False   # batch: go on after a failed transaction (default: stop with QUIT)
    no_pipeline: bool = False  # one command at a time even when the server advertises PIPELINING
    practice: bool = False     # a lesson: a refused step is feedback; batch mode neither stops nor skips lines
    # Set when the target is the embedded lab server: trust exactly its certificate.
    lab_cafile: Path | None = None
    lab_mailbox: Path | None = None

    @property
    def target(self) -> str:
        return format_hostport(self.host, self.port)
