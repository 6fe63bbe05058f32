"""What `smtp-shell lab` adds for a class: the roster's accounts, the session tracker and the web view.

`run_lab` (console.py) asks a `Classroom` for extra accounts before the server starts, lets it
observe the server, starts the web view in the server's loop, prints its lines in the banner
and stops it first on the way out. Without --web and --roster it does nothing at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from smtp_shell.lab.mailbox import safe_folder_name

if TYPE_CHECKING:
    from smtp_shell.lab.roster import Roster
    from smtp_shell.lab.tracker import SessionTracker
    from smtp_shell.lab.web.app import WebView


class ClassroomError(Exception):
    """--web or --roster cannot be used (the message is one sentence)."""


class Classroom:
    def __init__(self, web: str | None = None, roster: Path | None = None, stuck_minutes: float = 5.0) -> None:
        from smtp_shell.lab.roster import RosterError, load_roster

        self.web_address = web
        self.stuck_after = stuck_minutes * 60
        self.roster: Roster | None = None
        self.tracker: SessionTracker | None = None
        self.view: WebView | None = None
        if roster is not None:
            try:
                self.roster = load_roster(roster)
            except RosterError as exc:
                raise ClassroomError(str(exc)) from None
        if web is not None:
            from smtp_shell.address import parse_hostport
            from smtp_shell.lab.tracker import SessionTracker

            try:
                self.web_host, self.web_port = parse_hostport(web, 8080, port_zero_ok=True)
            except ValueError as exc:
                raise ClassroomError(f"--web: {exc}") from None
            self.tracker = SessionTracker()

    @classmethod
    def from_args(cls, args) -> Classroom:
        return cls(getattr(args, "web", None), getattr(args, "roster", None), getattr(args, "stuck_minutes", 5.0))

    @property
    def users(self) -> dict[str, str]:
        return dict(self.roster.users) if self.roster else {}

    def attach(self, server) -> None:
        """Before server.start(): observe its sessions."""
        if self.tracker is not None:
            server.observers.append(self.tracker)

    def start(self, server) -> None:
        """After server.start(): the students' mailboxes and the web view."""
        if self.roster is not None:
            for name in self.roster.users:
                (Path(server.mailbox) / safe_folder_name(self.roster.mailbox_of(name))).mkdir(parents=True, exist_ok=True)
        if self.tracker is None:
            return
        from smtp_shell.lab.web.app import start_web

        roster = tuple(self.roster.users) if self.roster else ()
        try:
            self.view = start_web(server, self.tracker, self.web_host, self.web_port,
                                  stuck_after=self.stuck_after, roster=roster)
        except OSError as exc:
            raise ClassroomError(f"the web view cannot listen on {self.web_address} ({exc.strerror or exc}); "
                                 f"choose another address with --web HOST:PORT") from None

    def banner(self) -> list[str]:
        lines = []
        if self.roster is not None:
            lines.append(f"roster: {len(self.roster.users)} student account(s), mailboxes NAME@lab.test")
            if self.roster.passwords_file is not None:
                lines.append(f"generated passwords ({len(self.roster.generated)}): {self.roster.passwords_file}")
        if self.view is not None:
            lines.append(f"web view: {self.view.url}")
            if self.view.token:
                lines.append("the web view is reachable from the network: it needs the token in that URL")
        return lines

    def stop(self) -> None:
        if self.view is not None:
            self.view.stop()
            self.view = None
