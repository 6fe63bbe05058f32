"""The sans-IO SMTP client core: lines the student typed in, bytes to send out; bytes from the
server in, events out. The live REPL, batch mode, replay, lessons and tests all drive this one
object, so they can never disagree about what a reply or a state is.

    core = ClientSession()
    core.connected()
    events = core.receive_data(b"220 lab ESMTP\r\n")      # [ReplyEvent(kind="greeting")]
    out = core.send_line("EHLO me")                       # Outgoing(data=b"EHLO me\r\n", ...)

Replies are matched to commands in order (a FIFO of commands in flight), which is exactly what
PIPELINING needs. After the server's 220 to STARTTLS the core pauses: it emits `TLSReady`,
reports any bytes that came after the 220 as a `PlaintextInjection` (never parsed), and waits
for `tls_started()`, which forgets the pre-TLS capabilities: the client must EHLO again.
"""

from __future__ import annotations

import base64
import binascii
from collections import deque
from dataclasses import dataclass, field

from smtp_shell.protocol import sasl
from smtp_shell.protocol.capabilities import Capabilities, describe_change
from smtp_shell.protocol.commands import Command, classify, dot_stuff, text_line_warning
from smtp_shell.protocol.errors import LocalProtocolError, RemoteProtocolError
from smtp_shell.protocol.replies import Reply, ReplyParser
from smtp_shell.protocol.states import State, next_state

# RFC 2920 §3.1: these end a pipelined group; the client waits for their reply.
GROUP_ENDERS = frozenset({"EHLO", "HELO", "DATA", "VRFY", "EXPN", "TURN", "QUIT", "NOOP", "STARTTLS", "AUTH", "<dot>", "<auth>", "HELP"})


@dataclass(frozen=True)
class Outgoing:
    """What to put on the wire for one typed line, and how to describe it."""

    data: bytes
    text: str                  # the line as shown (dot-stuffed in DATA mode)
    kind: str                  # "command" | "data" | "dot" | "auth"
    command: Command | None = None
    secret: bool = False       # never show or record `text` as is
    masked_text: str = ""      # what to show/record instead when secret
    notes: tuple[str, ...] = ()
    wait_for_reply: bool = True  # False: the client may send more before the reply (DATA lines, pipelining)


@dataclass(frozen=True)
class ReplyEvent:
    reply: Reply
    kind: str                  # "greeting" | "response" | "unsolicited"
    verb: str | None           # the command it answers ("<dot>", "<auth>" pseudo-verbs included)
    command: Command | None
    state_before: State
    state_after: State
    challenge: str | None = None     # a decoded 334 challenge ("Username:")
    wants_secret: bool = False       # the server is asking for a password: mask the next line


@dataclass(frozen=True)
class TLSReady:
    """The server said 220 to STARTTLS: the transport must upgrade the connection now."""


@dataclass(frozen=True)
class PlaintextInjection:
    """Bytes that arrived after the 220 to STARTTLS and before the handshake: discarded."""

    data: bytes


@dataclass(frozen=True)
class CapabilitiesLearned:
    capabilities: Capabilities
    changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConnectionClosed:
    """The server closed the connection."""

    state_before: State
    in_flight: tuple[str, ...] = ()


@dataclass
class _InFlight:
    verb: str
    command: Command | None


@dataclass
class ClientSession:
    state: State = State.DISCONNECTED
    tls: bool = False
    capabilities: Capabilities | None = None
    capabilities_before_tls: Capabilities | None = None
    authenticated_user: str | None = None
    last_reply: Reply | None = None
    mail_parameters: frozenset[str] = frozenset()  # ESMTP parameters of the last accepted MAIL ("SMTPUTF8")
    _parser: ReplyParser = field(default_factory=ReplyParser)
    _in_flight: deque[_InFlight] = field(default_factory=deque)
    _auth_mechanism: str | None = None
    _auth_user: str | None = None
    _auth_step: int = 0
    _expect_secret: bool = False

    # ---- connection lifecycle -------------------------------------------------------
    def connected(self, tls: bool = False) -> None:
        """A new connection is open (implicit TLS if `tls`); wait for the greeting."""
        self.__init__()  # type: ignore[misc]
        self.state = State.CONNECTED
        self.tls = tls

    def tls_started(self) -> None:
        """The handshake after STARTTLS succeeded: forget what was said in plaintext."""
        self.tls = True
        self.capabilities_before_tls = self.capabilities
        self.capabilities = None
        self.authenticated_user = None
        self._in_flight.clear()
        self._parser = ReplyParser()
        self.state = State.GREETED

    def connection_lost(self) -> ConnectionClosed:
        event = ConnectionClosed(self.state, tuple(f.verb for f in self._in_flight))
        self._in_flight.clear()
        self.state = State.DISCONNECTED
        return event

    # ---- what the student types ------------------------------------------------------
    @property
    def mode(self) -> str:
        """"data" after 354, "auth" during an AUTH exchange, else "command"."""
        if self.state is State.DATA:
            return "data"
        if self.state is State.AUTH:
            return "auth"
        return "command"

    @property
    def expects_secret(self) -> bool:
        """The last challenge asked for a password: the next line must be typed masked."""
        return self.state is State.AUTH and self._expect_secret

    @property
    def partial_reply(self) -> bytes:
        """Bytes of a reply that has begun but not ended (what a hang-up mid-reply cut off)."""
        return self._parser.buffered

    @property
    def in_flight(self) -> tuple[str, ...]:
        return tuple(f.verb for f in self._in_flight)

    @property
    def pipelining(self) -> bool:
        return bool(self.capabilities and self.capabilities.has("PIPELINING"))

    def send_line(self, text: str) -> Outgoing:
        """Turn one typed line into bytes for the wire, according to the current mode."""
        if self.state in (State.DISCONNECTED, State.CLOSED):
            raise LocalProtocolError("Not connected to a server, so nothing was sent.",
                                     "Use :reconnect, or :connect HOST:PORT.")
        if self.state is State.TLS_PENDING:
            raise LocalProtocolError("TLS is being started, so nothing was sent.",
                                     "Wait for the handshake to finish, then EHLO again.")
        if self.mode == "data":
            return self._data_line(text)
        if self.mode == "auth":
            return self._auth_line(text)
        command = classify(text)
        self._in_flight.append(_InFlight(command.verb, command))
        notes = tuple(n for n in (command.length_warning(),) if n)
        masked, secret = sasl.mask_auth_command(text)
        if command.verb == "AUTH":
            mech, _, initial = command.args.partition(" ")
            self._auth_mechanism, self._auth_step = mech.upper(), 0
            self._auth_user = None
            if initial:
                self._note_auth_response(initial.strip())
        wait = not (self.pipelining and command.verb not in GROUP_ENDERS)
        return Outgoing(command.wire(), text, "command", command, secret, masked if secret else "", notes, wait)

    def _data_line(self, text: str) -> Outgoing:
        if "\r" in text or "\n" in text:
            raise LocalProtocolError("The line contains a line break, so it would reach the server as two lines.",
                                     "Paste or type one line at a time; smtp-shell ends each with CRLF.")
        if text == ".":
            self._in_flight.append(_InFlight("<dot>", None))
            return Outgoing(b".\r\n", ".", "dot")
        line, stuffed = dot_stuff(text)
        notes = []
        if stuffed:
            notes.append("this line starts with '.', so it was sent as '..' (dot-stuffing); the server removes the extra dot")
        warning = text_line_warning(line)
        if warning:
            notes.append(warning)
        return Outgoing(line.encode("utf-8") + b"\r\n", line, "data", notes=tuple(notes), wait_for_reply=False)

    def _auth_line(self, text: str) -> Outgoing:
        if "\r" in text or "\n" in text:
            raise LocalProtocolError("The line contains a line break.", "Type the base64 text on one line.")
        self._in_flight.append(_InFlight("<auth>", None))
        self._note_auth_response(text.strip())
        self._auth_step += 1
        return Outgoing(text.encode("utf-8") + b"\r\n", text, "auth", secret=True, masked_text=sasl.REDACTED)

    def _note_auth_response(self, b64: str) -> None:
        """Remember who is logging in (for the toolbar), never the password."""
        try:
            decoded = base64.b64decode(b64, validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return
        if self._auth_mechanism == "PLAIN":
            parts = decoded.split("\x00")
            if len(parts) == 3:
                self._auth_user = parts[1]
        elif self._auth_mechanism == "LOGIN" and self._auth_user is None and not self._expect_secret:
            self._auth_user = decoded

    # ---- what the server sends ---------------------------------------------------------
    def receive_data(self, data: bytes) -> list[object]:
        """Feed bytes from the server; return the events they complete, in order."""
        if self.state is State.TLS_PENDING:
            return [PlaintextInjection(data)] if data else []
        events: list[object] = []
        items = self._parser.feed(data)
        for i, item in enumerate(items):
            if isinstance(item, RemoteProtocolError):
                events.append(item)
                continue
            events.extend(self._reply(item))
            if self._tls_pending():
                # Everything after the 220, parsed or not, is injected plaintext: never a reply.
                leftover = b"".join(later.raw for later in items[i + 1:]) + self._parser.clear()
                if leftover:
                    events.append(PlaintextInjection(leftover))
                break
        return events

    def _tls_pending(self) -> bool:
        return self.state is State.TLS_PENDING

    def _reply(self, reply: Reply) -> list[object]:
        self.last_reply = reply
        before = self.state
        if self.state is State.CONNECTED and not self._in_flight:
            kind, verb, command = "greeting", "<greeting>", None
        elif self._in_flight:
            flight = self._in_flight.popleft()
            kind, verb, command = "response", flight.verb, flight.command
        else:
            kind, verb, command = "unsolicited", None, None
        after = next_state(before, verb, reply.klass) if verb else before
        if reply.code == 421:  # service closing: whatever was asked, the server is leaving
            after = State.CLOSED
        self.state = after
        events: list[object] = []
        challenge = None
        if reply.code == 334 and after is State.AUTH:
            try:
                challenge = sasl.decode_challenge(reply.lines[0].strip())
            except sasl.SaslError:
                challenge = None
            # Mask everything typed during AUTH except an answer to a clear "Username:" prompt:
            # a PLAIN blob after an empty challenge and unknown prompts may carry the password.
            self._expect_secret = not (challenge and sasl.is_username_prompt(challenge))
        else:
            self._expect_secret = False
        if verb in ("AUTH", "<auth>") and reply.klass == 2:
            self.authenticated_user = self._auth_user or "(authenticated)"
        if verb in ("EHLO",) and reply.klass == 2:
            previous = self.capabilities or self.capabilities_before_tls
            self.capabilities = Capabilities.from_ehlo(reply.lines)
            changes = tuple(describe_change(previous, self.capabilities)) if previous else ()
            events.append(ReplyEvent(reply, kind, verb, command, before, after, challenge, self._expect_secret))
            events.append(CapabilitiesLearned(self.capabilities, changes))
            return events
        if verb == "HELO" and reply.klass == 2:
            self.capabilities = Capabilities.from_ehlo([])
        if verb == "MAIL" and reply.klass == 2 and command is not None:
            args = command.args
            self.mail_parameters = frozenset(args[args.find(">") + 1:].upper().split()) if ">" in args else frozenset()
        events.append(ReplyEvent(reply, kind, verb, command, before, after, challenge, self._expect_secret))
        if after is State.TLS_PENDING:
            self._in_flight.clear()
            events.append(TLSReady())
        return events
