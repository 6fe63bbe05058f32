"""What the lesson engine has seen of the session, for checks: the session model, read live,
plus what only a lesson needs (how many commands waited at once during this step, which
messages the lab saved since the lesson began).

Why this exists: checks must judge protocol events, never raw text. Every fact about the
session itself (TLS, login, capabilities, state) is read from the one session model
(`protocol.model.SessionModel`) that the driver hands every listener; nothing is re-parsed
or copied here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from smtp_shell.protocol.capabilities import Capabilities
from smtp_shell.protocol.events import Outgoing, ReplyEvent
from smtp_shell.protocol.model import SessionModel
from smtp_shell.protocol.states import State


@dataclass(frozen=True)
class Happening:
    """One thing a check may react to: a reply (with its ReplyEvent) or TLS starting."""

    kind: str                 # "reply" | "tls"
    event: ReplyEvent | None = None  # for "reply"


@dataclass
class Facts:
    mailbox: Path | None = None
    session: SessionModel = field(default_factory=SessionModel)  # the driver's model, once watched
    step_peak: int = 0                     # most commands in flight at once since the step began
    saved: list[Path] = field(default_factory=list)        # every message saved during the lesson
    just_saved: list[Path] | None = field(default_factory=list)  # those of the last accepted DATA
    _known: set[Path] = field(default_factory=set)

    # -- read from the session model -----------------------------------------------------
    @property
    def tls(self) -> bool:
        return self.session.tls

    @property
    def authenticated(self) -> bool:
        return self.session.authenticated_user is not None

    @property
    def auth_mechanism(self) -> str | None:
        """The mechanism of the last successful login."""
        return self.session.authenticated_mechanism

    @property
    def capabilities(self) -> Capabilities | None:
        return self.session.capabilities

    @property
    def state(self) -> State:
        return self.session.state

    @property
    def in_flight(self) -> int:
        return len(self.session.in_flight_commands)

    # -- fed by the engine ---------------------------------------------------------------
    def start(self) -> None:
        """Remember which messages were already in the mailbox when the lesson began."""
        self._known = set(self._scan() or ())

    def sent(self, outgoing: Outgoing) -> None:
        self.step_peak = max(self.step_peak, self.in_flight)

    def reply(self, event: ReplyEvent) -> None:
        if event.verb == "<dot>":
            self.just_saved = self._new_messages() if event.reply.klass == 2 else []

    def new_step(self) -> None:
        self.step_peak = self.in_flight

    # -- the mailbox ---------------------------------------------------------------------
    def _scan(self) -> list[Path] | None:
        if self.mailbox is None or not Path(self.mailbox).is_dir():
            return None
        from smtp_shell.lab.mailbox import Mailbox

        return [m.path for m in Mailbox(Path(self.mailbox)).messages()]

    def _new_messages(self) -> list[Path] | None:
        found = self._scan()
        if found is None:
            return None
        new = [p for p in found if p not in self._known]
        self._known.update(new)
        self.saved.extend(new)
        return new
