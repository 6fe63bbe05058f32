"""What the lesson engine has seen of the session, for checks: the session model, read live,
plus what only a lesson needs (how many commands waited at once during this step, which
messages the lab saved since the lesson began).

Why this exists: checks must judge protocol events, never raw text. Every fact about the
session itself (TLS, login, capabilities, state) is read from the one session model
(`protocol.model.SessionModel`) that the driver hands every listener; nothing is re-parsed
or copied here.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from smtp_shell.protocol.capabilities import Capabilities
from smtp_shell.protocol.events import Outgoing, ReplyEvent
from smtp_shell.protocol.model import SessionModel
from smtp_shell.protocol.states import State


@dataclass(frozen=True)
class Happening:
    """One thing a check may react to: a reply (with its ReplyEvent) or TLS starting."""

    kind: str                 # "reply" | "tls" | "enter" (a step begins) | "client" (the student's program ran)
    event: ReplyEvent | None = None  # for "reply"


@dataclass
class Facts:
    mailbox: Path | None = None
    session: SessionModel = field(default_factory=SessionModel)  # the driver's model, once watched
    step_peak: int = 0                     # most commands in flight at once since the step began
    saved: list[Path] = field(default_factory=list)        # every message saved during the lesson
    just_saved: list[Path] | None = field(default_factory=list)  # those of the last accepted DATA
    mail_params: frozenset[str] = frozenset()  # ESMTP parameters of the last accepted MAIL ("BODY=8BITMIME")
    stale_reply: bool = False              # the last reply answered a command sent during an earlier step
    _known: set[Path] = field(default_factory=set)
    _step_serial: int = 0
    _sent_in: deque[int] = field(default_factory=deque)   # the step serial of each command in flight
    _logs_before: set[Path] = field(default_factory=set)

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
        if outgoing.kind != "data":
            self._sent_in.append(self._step_serial)

    def reply(self, event: ReplyEvent) -> None:
        self.stale_reply = False
        if event.kind == "response":
            serial = self._sent_in.popleft() if self._sent_in else self._step_serial
            self.stale_reply = serial != self._step_serial
        if event.verb == "MAIL" and event.reply.klass == 2 and event.command is not None:
            args = event.command.args
            self.mail_params = frozenset(args[args.find(">") + 1:].upper().split()) if ">" in args else frozenset()
        if event.verb == "<dot>":
            self.just_saved = self._new_messages() if event.reply.klass == 2 else []

    def connection_changed(self) -> None:
        """A new connection, or the end of one: no command is waiting any more."""
        self._sent_in.clear()
        self.mail_params = frozenset()

    def client_sessions(self) -> list[Path]:
        """Session logs the lab started since this step began: other clients (the student's own)."""
        from smtp_shell.lessons.mailcheck import log_dir

        if self.mailbox is None:
            return []
        return sorted(set(log_dir(self.mailbox).glob("*.log")) - self._logs_before)

    def new_step(self) -> None:
        self.step_peak = self.in_flight
        self._step_serial += 1
        if self.mailbox is not None:
            from smtp_shell.lessons.mailcheck import log_dir

            self._logs_before = set(log_dir(self.mailbox).glob("*.log"))

    def new_messages(self) -> list[Path] | None:
        """Messages saved since last asked that no DATA of this session delivered (another client's)."""
        return self._new_messages()

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
