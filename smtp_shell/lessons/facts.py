"""What the lesson engine has seen of the session: TLS, login, capabilities, commands in flight,
and the messages the lab saved since the lesson began.

Why this exists: checks must judge protocol events, never raw text, and some judgements need a
little memory (is the session under TLS? how many commands were waiting for replies at once?).
The engine feeds every listener call into one `Facts`; checks read it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from smtp_shell.protocol.capabilities import Capabilities
from smtp_shell.protocol.session import ReplyEvent
from smtp_shell.protocol.states import State


@dataclass(frozen=True)
class Happening:
    """One thing a check may react to: a reply (with its ReplyEvent) or TLS starting."""

    kind: str                 # "reply" | "tls" | "enter" (a step begins) | "client" (the student's program ran)
    event: ReplyEvent | None = None  # for "reply"


@dataclass
class Facts:
    mailbox: Path | None = None
    tls: bool = False
    authenticated: bool = False
    auth_mechanism: str | None = None      # of the last successful login
    capabilities: Capabilities | None = None
    state: State = State.DISCONNECTED
    in_flight: int = 0
    step_peak: int = 0                     # most commands in flight at once since the step began
    saved: list[Path] = field(default_factory=list)        # every message saved during the lesson
    just_saved: list[Path] | None = field(default_factory=list)  # those of the last accepted DATA
    mail_params: frozenset[str] = frozenset()  # ESMTP parameters of the accepted MAIL ("BODY=8BITMIME", "SMTPUTF8")
    stale_reply: bool = False              # the last reply answered a command sent during an earlier step
    _known: set[Path] = field(default_factory=set)
    _mechanism_tried: str | None = None
    _step_serial: int = 0
    _logs_before: set[Path] = field(default_factory=set)
    _sent_in: deque = field(default_factory=deque)   # the step serial of each command in flight

    # -- fed by the engine ---------------------------------------------------------------
    def start(self) -> None:
        """Remember which messages were already in the mailbox when the lesson began."""
        self._known = set(self._scan() or ())

    def connected(self, tls: bool) -> None:
        self.tls, self.authenticated, self.auth_mechanism = bool(tls), False, None
        self.capabilities, self.in_flight, self.state = None, 0, State.CONNECTED
        self.mail_params = frozenset()
        self._sent_in.clear()

    def closed(self) -> None:
        self.in_flight, self.state, self.authenticated = 0, State.DISCONNECTED, False
        self._sent_in.clear()

    def tls_started(self) -> None:
        self.tls, self.authenticated, self.capabilities, self.mail_params = True, False, None, frozenset()

    def sent(self, outgoing) -> None:
        if outgoing.kind != "data":
            self.in_flight += 1
            self._sent_in.append(self._step_serial)
            self.step_peak = max(self.step_peak, self.in_flight)
        command = outgoing.command
        if command is not None and command.verb == "AUTH":
            self._mechanism_tried = (command.args.split() or [""])[0].upper()

    def reply(self, event, tls: bool) -> None:
        self.tls = bool(tls)
        self.stale_reply = False
        if event.kind == "response":
            self.in_flight = max(0, self.in_flight - 1)
            serial = self._sent_in.popleft() if self._sent_in else self._step_serial
            self.stale_reply = serial != self._step_serial
        self.state = event.state_after
        klass = event.reply.klass
        if event.verb == "MAIL" and klass == 2 and event.command is not None:
            rest = event.command.args[event.command.args.find(">") + 1:] if ">" in event.command.args else ""
            self.mail_params = frozenset(word.upper() for word in rest.split())
        if event.verb in ("AUTH", "<auth>") and klass == 2:
            self.authenticated, self.auth_mechanism = True, self._mechanism_tried
        if event.verb == "EHLO" and klass == 2:
            self.capabilities = Capabilities.from_ehlo(event.reply.lines)
        elif event.verb == "HELO" and klass == 2:
            self.capabilities = Capabilities.from_ehlo([])
        if event.verb == "<dot>":
            self.just_saved = self._new_messages() if klass == 2 else []

    def client_sessions(self) -> list[Path]:
        """Session logs the lab started since this step began: other clients (the student's own)."""
        from smtp_shell.lessons.mailcheck import log_dir

        if self.mailbox is None:
            return []
        return sorted(set(log_dir(self.mailbox).glob("*.log")) - self._logs_before)

    def new_step(self) -> None:
        if self.mailbox is not None:
            from smtp_shell.lessons.mailcheck import log_dir

            self._logs_before = set(log_dir(self.mailbox).glob("*.log"))
        self.step_peak = self.in_flight
        self._step_serial += 1

    # -- the mailbox ---------------------------------------------------------------------
    def _scan(self) -> list[Path] | None:
        if self.mailbox is None or not Path(self.mailbox).is_dir():
            return None
        from smtp_shell.lab.mailbox import Mailbox

        return [m.path for m in Mailbox(Path(self.mailbox)).messages()]

    def new_messages(self) -> list[Path] | None:
        """Messages saved since last asked that no DATA of this session delivered (another client's)."""
        return self._new_messages()

    def _new_messages(self) -> list[Path] | None:
        found = self._scan()
        if found is None:
            return None
        new = [p for p in found if p not in self._known]
        self._known.update(new)
        self.saved.extend(new)
        return new
