"""The one session model: everything known about an SMTP session, in one typed object.

State, capabilities before and after TLS, the MAIL transaction with its parameters
(`SMTPUTF8`, `BODY=8BITMIME`, `SIZE=`), the commands in flight, the AUTH exchange and who
logged in, the TLS facts, and the message being typed in DATA (headers seen so far). The core
(`session.ClientSession`) owns one and changes it only through `apply(event)` with the typed
events of `events`; the driver, the advisor, hints, completion, the toolbar, the recorder and
lesson checks read it and keep no copy of their own.

Only what was *sent* counts: an `Outgoing` exists once a line went on the wire, so a line the
student declined (answered `n` to a warning) leaves no trace here.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import deque
from dataclasses import dataclass, field

from smtp_shell.protocol.capabilities import Capabilities
from smtp_shell.protocol.commands import Command, bdat_size
from smtp_shell.protocol.events import (
    CapabilitiesLearned,
    Connected,
    ConnectionClosed,
    ModelEvent,
    Outgoing,
    ReplyEvent,
    TLSFacts,
    TLSStarted,
)
from smtp_shell.protocol.replies import Reply
from smtp_shell.protocol.states import State, next_state

# MAIL FROM:<a> PARAMS / RCPT TO:<b> PARAMS -> (keyword, address, the rest)
ENVELOPE = re.compile(r"(FROM|TO)\s*:\s*(\S*)(.*)", re.IGNORECASE)
HEADER = re.compile(r"([!-9;-~]+):")


@dataclass(frozen=True)
class MailParameters:
    """The ESMTP parameters of one MAIL FROM (RFC 6531 SMTPUTF8, RFC 6152 BODY, RFC 1870 SIZE)."""

    smtputf8: bool = False
    body: str | None = None        # "8BITMIME", "7BIT", "BINARYMIME" as typed (upper case)
    size: int | None = None
    other: tuple[str, ...] = ()    # AUTH=<>, RET=, ENVID=, ... as typed

    @classmethod
    def parse(cls, text: str) -> MailParameters:
        """`SMTPUTF8 BODY=8BITMIME SIZE=1234` -> MailParameters(True, "8BITMIME", 1234)."""
        smtputf8, body, size, other = False, None, None, []
        for word in text.split():
            key, _, value = word.partition("=")
            key = key.upper()
            if key == "SMTPUTF8" and not value:
                smtputf8 = True
            elif key == "BODY" and value:
                body = value.upper()
            elif key == "SIZE" and value.isdigit():
                size = int(value)
            else:
                other.append(word)
        return cls(smtputf8, body, size, tuple(other))


def envelope_address(command: Command) -> tuple[str, str] | None:
    """(address without brackets, parameters) of a MAIL/RCPT command, or None if malformed."""
    m = ENVELOPE.match(command.args)
    if not m:
        return None
    return m.group(2).strip("<>"), m.group(3)


@dataclass
class Transaction:
    """One message's envelope, from MAIL (sent) to the reply to the final dot (or RSET)."""

    sender: str
    params: MailParameters
    accepted: bool = False          # the server said 2xx to MAIL
    recipients: list[str] = field(default_factory=list)  # accepted RCPT TO addresses


@dataclass
class MessageSoFar:
    """The message sent so far in one DATA phase: is the header block still open, which headers."""

    in_headers: bool = True
    headers: list[str] = field(default_factory=list)  # field names, lower case, in order
    lines: int = 0

    def has(self, name: str) -> bool:
        return name.lower() in self.headers

    def feed(self, text: str) -> None:
        self.lines += 1
        if not self.in_headers or text[:1] in (" ", "\t"):
            return
        m = HEADER.match(text)
        if m:
            self.headers.append(m.group(1).lower())
        else:  # a blank line, or a body line that ends the headers anyway
            self.in_headers = False


@dataclass
class AuthExchange:
    """An AUTH exchange under way: the mechanism, how many responses were sent, who is logging in."""

    mechanism: str
    responses: int = 0
    user: str | None = None


@dataclass(frozen=True)
class InFlight:
    """A command sent and not yet answered."""

    seq: int
    verb: str                  # "<dot>", "<auth>" for the end of DATA and an AUTH response
    command: Command | None


def _decoded(b64: str) -> str | None:
    try:
        return base64.b64decode(b64, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None


@dataclass
class SessionModel:
    """Everything known about one SMTP session (docs/architecture.md lists the fields)."""

    state: State = State.DISCONNECTED
    tls: bool = False
    tls_facts: TLSFacts | None = None
    capabilities: Capabilities | None = None
    capabilities_before_tls: Capabilities | None = None
    in_flight_commands: deque[InFlight] = field(default_factory=deque)
    sent_commands: int = 0                       # how many commands (and AUTH/dot lines) were sent
    peak_in_flight: int = 0                      # most commands awaiting replies at once
    auth: AuthExchange | None = None             # an AUTH exchange going on
    expect_secret: bool = False                  # the last 334 asked for a password
    authenticated_user: str | None = None
    authenticated_mechanism: str | None = None
    transaction: Transaction | None = None
    message: MessageSoFar | None = None          # in DATA: the message sent so far
    last_reply: Reply | None = None
    last_challenge: str | None = None            # the decoded text of the last 334 challenge
    chunk_remaining: int = 0                     # octets of a BDAT chunk still owed (RFC 3030): "bdat" mode
    bdat_used: bool = False                      # this transaction sent BDAT (DATA may not follow)

    # -- what everyone reads ------------------------------------------------------------------
    @property
    def mode(self) -> str:
        """"data" after 354, "auth" during an AUTH exchange, "bdat" while a BDAT chunk is owed,
        else "command"."""
        if self.chunk_remaining:
            return "bdat"
        if self.state is State.DATA:
            return "data"
        if self.state is State.AUTH:
            return "auth"
        return "command"

    @property
    def expects_secret(self) -> bool:
        """The last challenge asked for a password: the next line must be typed masked."""
        return self.state is State.AUTH and self.expect_secret

    @property
    def in_flight(self) -> tuple[str, ...]:
        """The verbs awaiting replies, oldest first."""
        return tuple(f.verb for f in self.in_flight_commands)

    @property
    def pipelining(self) -> bool:
        return bool(self.capabilities and self.capabilities.has("PIPELINING"))

    @property
    def smtputf8(self) -> bool:
        """The message under way was started with MAIL FROM:<...> SMTPUTF8."""
        return self.transaction is not None and self.transaction.params.smtputf8

    @property
    def projected_state(self) -> State:
        """The state once every command in flight (pipelining) has succeeded."""
        state = self.state
        for verb in self.in_flight:
            for klass in (2, 3):
                nxt = next_state(state, verb, klass)
                if nxt is not state:
                    state = nxt
                    break
        return state

    # -- the one way it changes ---------------------------------------------------------------
    def apply(self, event: ModelEvent) -> None:
        if isinstance(event, Outgoing):
            self._sent(event)
        elif isinstance(event, ReplyEvent):
            self._reply(event)
        elif isinstance(event, CapabilitiesLearned):
            self.capabilities = event.capabilities
        elif isinstance(event, Connected):
            self._reset(next_state(State.DISCONNECTED, "<connect>", 2))
            self.tls, self.tls_facts = event.tls, event.facts
        elif isinstance(event, TLSStarted):
            self.tls, self.tls_facts = True, event.facts
            self.capabilities_before_tls, self.capabilities = self.capabilities, None
            self.authenticated_user = self.authenticated_mechanism = None
            self.in_flight_commands.clear()
            self.transaction, self.message, self.auth = None, None, None
            self.state = next_state(self.state, "<tls>", 2)
        elif isinstance(event, ConnectionClosed):
            self.in_flight_commands.clear()
            self.chunk_remaining, self.bdat_used = 0, False
            self.transaction, self.message, self.auth = None, None, None
            self.state = next_state(self.state, "<lost>", 2)

    def _reset(self, state: State) -> None:
        fresh = SessionModel()
        self.__dict__.update(fresh.__dict__)
        self.state = state

    def _sent(self, out: Outgoing) -> None:
        if out.kind == "data":
            if self.message is not None:
                self.message.feed(out.typed)
            return
        if out.kind == "chunk":
            self.chunk_remaining -= len(out.data)
            return
        if out.seq is not None:
            verb = out.command.verb if out.command is not None else ("<dot>" if out.kind == "dot" else "<auth>")
            if out.command is not None and verb == "BDAT":
                size, last = bdat_size(out.command.args)
                if size is not None:
                    self.chunk_remaining, self.bdat_used = size, True
                    verb = "<bdat-last>" if last else "BDAT"
            self.in_flight_commands.append(InFlight(out.seq, verb, out.command))
            self.sent_commands = max(self.sent_commands, out.seq)
            self.peak_in_flight = max(self.peak_in_flight, len(self.in_flight_commands))
        command = out.command
        if out.kind == "auth":
            if self.auth is not None:
                self._auth_response(out.text.strip())
                self.auth.responses += 1
        elif command is not None and command.verb == "AUTH":
            mechanism, _, initial = command.args.partition(" ")
            self.auth = AuthExchange(mechanism.upper())
            if initial.strip():
                self._auth_response(initial.strip())
        elif command is not None and command.verb == "MAIL":
            found = envelope_address(command)
            sender, params = found if found else ("", "")
            self.transaction = Transaction(sender, MailParameters.parse(params))

    def _auth_response(self, b64: str) -> None:
        """Remember who is logging in (for the toolbar and reports), never the password."""
        auth = self.auth
        decoded = _decoded(b64)
        if auth is None or decoded is None:
            return
        if auth.mechanism == "PLAIN":
            parts = decoded.split("\x00")
            if len(parts) == 3:
                auth.user = parts[1]
        elif auth.mechanism == "LOGIN" and auth.user is None and not self.expect_secret:
            auth.user = decoded

    def _reply(self, event: ReplyEvent) -> None:
        reply, verb = event.reply, event.verb
        self.last_reply = reply
        self.last_challenge = event.challenge
        if event.kind == "response" and self.in_flight_commands:
            self.in_flight_commands.popleft()
        if event.state_after is not self.state and event.state_after in (State.READY, State.MAIL, State.GREETED):
            self.bdat_used = False  # a transaction ended or began: BDAT or DATA may be chosen afresh
        self.state = event.state_after
        self.expect_secret = event.wants_secret
        ok = reply.klass == 2
        if verb in ("AUTH", "<auth>"):
            if ok:
                self.authenticated_user = (self.auth.user if self.auth else None) or "(authenticated)"
                self.authenticated_mechanism = self.auth.mechanism if self.auth else None
            if reply.klass != 3:
                self.auth = None
        elif verb == "HELO" and ok:
            self.capabilities = Capabilities.from_ehlo([])
        if verb in ("EHLO", "HELO", "RSET") and ok:
            self.transaction, self.message = None, None
        elif verb == "MAIL" and self.transaction is not None:
            if ok:
                self.transaction.accepted = True
            else:
                self.transaction = None
        elif verb == "RCPT" and ok and self.transaction is not None and event.command is not None:
            found = envelope_address(event.command)
            if found:
                self.transaction.recipients.append(found[0])
        elif verb == "DATA" and event.state_after is State.DATA:
            self.message = MessageSoFar()
        elif verb == "<dot>":
            self.transaction, self.message = None, None
        if event.state_after is State.TLS_PENDING:
            self.in_flight_commands.clear()
