"""The sans-IO SMTP client core: lines the student typed in, bytes to send out; bytes from the
server in, events out. The live REPL, batch mode, replay, lessons and tests all drive this one
object, so they can never disagree about what a reply or a state is.

    core = ClientSession()
    core.connected()
    events = core.receive_data(b"220 lab ESMTP\r\n")      # [ReplyEvent(kind="greeting")]
    out = core.send_line("EHLO me")                       # Outgoing(data=b"EHLO me\r\n", ...)

Everything the core knows lives in its `model` (`model.SessionModel`), which it changes only by
applying the typed events it hands out (`events`); the attributes below (`state`, `tls`,
`capabilities`, ...) read that model. Replies are matched to commands in order (the model's
commands in flight), which is exactly what PIPELINING needs. After the server's 220 to
STARTTLS the core pauses: it emits `TLSReady`, reports any bytes that came after the 220 as a
`PlaintextInjection` (never parsed), and waits for `tls_started()`, which forgets the pre-TLS
capabilities: the client must EHLO again.
"""

from __future__ import annotations

from smtp_shell.protocol import sasl
from smtp_shell.protocol.capabilities import Capabilities, describe_change
from smtp_shell.protocol.commands import Command, bdat_size, classify, dot_stuff, text_line_warning
from smtp_shell.protocol.errors import LocalProtocolError, RemoteProtocolError
from smtp_shell.protocol.events import (
    CapabilitiesLearned,
    Connected,
    ConnectionClosed,
    Outgoing,
    PlaintextInjection,
    ReplyEvent,
    ReplyKind,
    ServerEvent,
    TLSFacts,
    TLSReady,
    TLSStarted,
)
from smtp_shell.protocol.model import SessionModel
from smtp_shell.protocol.replies import Reply, ReplyParser
from smtp_shell.protocol.states import State, after_reply

__all__ = ["GROUP_ENDERS", "CapabilitiesLearned", "ClientSession", "ConnectionClosed", "Outgoing",
           "PlaintextInjection", "ReplyEvent", "TLSReady"]

# RFC 2920 §3.1: these end a pipelined group; the client waits for their reply.
GROUP_ENDERS = frozenset({"EHLO", "HELO", "DATA", "VRFY", "EXPN", "TURN", "QUIT", "NOOP", "STARTTLS", "AUTH",
                          "<dot>", "<auth>", "HELP"})

_INITIAL_SECRET = {"PLAIN": "plain-initial", "LOGIN": "login-username-initial"}


class ClientSession:
    """The core: turns typed lines into `Outgoing` and server bytes into events, keeping `model`."""

    def __init__(self) -> None:
        self.model = SessionModel()
        self._parser = ReplyParser()

    # ---- reading the model --------------------------------------------------------------
    @property
    def state(self) -> State:
        return self.model.state

    @property
    def tls(self) -> bool:
        return self.model.tls

    @property
    def capabilities(self) -> Capabilities | None:
        return self.model.capabilities

    @property
    def capabilities_before_tls(self) -> Capabilities | None:
        return self.model.capabilities_before_tls

    @property
    def authenticated_user(self) -> str | None:
        return self.model.authenticated_user

    @property
    def last_reply(self) -> Reply | None:
        return self.model.last_reply

    @property
    def mode(self) -> str:
        """"data" after 354, "auth" during an AUTH exchange, else "command"."""
        return self.model.mode

    @property
    def expects_secret(self) -> bool:
        """The last challenge asked for a password: the next line must be typed masked."""
        return self.model.expects_secret

    @property
    def in_flight(self) -> tuple[str, ...]:
        return self.model.in_flight

    @property
    def pipelining(self) -> bool:
        return self.model.pipelining

    @property
    def chunk_remaining(self) -> int:
        """Octets of a BDAT chunk still owed (the "bdat" input mode)."""
        return self.model.chunk_remaining

    @property
    def bdat_used(self) -> bool:
        return self.model.bdat_used

    @property
    def partial_reply(self) -> bytes:
        """Bytes of a reply that has begun but not ended (what a hang-up mid-reply cut off)."""
        return self._parser.buffered

    # ---- connection lifecycle -------------------------------------------------------
    def connected(self, tls: bool = False, facts: TLSFacts | None = None) -> Connected:
        """A new connection is open (implicit TLS if `tls`); wait for the greeting."""
        self._parser = ReplyParser()
        event = Connected(tls, facts)
        self.model.apply(event)
        return event

    def tls_started(self, facts: TLSFacts | None = None) -> TLSStarted:
        """The handshake after STARTTLS succeeded: forget what was said in plaintext."""
        self._parser = ReplyParser()
        event = TLSStarted(facts)
        self.model.apply(event)
        return event

    def connection_lost(self) -> ConnectionClosed:
        event = ConnectionClosed(self.model.state, self.model.in_flight)
        self.model.apply(event)
        return event

    # ---- what the student types ------------------------------------------------------
    def send_line(self, text: str) -> Outgoing:
        """Turn one typed line into bytes for the wire, according to the current mode.

        Call it only for a line that is really sent: it counts in the model from now on.
        """
        if self.state in (State.DISCONNECTED, State.CLOSED):
            raise LocalProtocolError("Not connected to a server, so nothing was sent.",
                                     "Use :reconnect, or :connect HOST:PORT.")
        if self.state is State.TLS_PENDING:
            raise LocalProtocolError("TLS is being started, so nothing was sent.",
                                     "Wait for the handshake to finish, then EHLO again.")
        mode = self.model.mode
        if mode == "bdat":
            raise LocalProtocolError(f"A BDAT chunk is being sent: {self.chunk_remaining} more octets are owed first.",
                                     "Type the rest of the chunk; the server reads exactly the octets BDAT announced.")
        if mode == "data":
            out = self._data_line(text)
        elif mode == "auth":
            out = self._auth_line(text)
        else:
            out = self._command_line(text)
        self.model.apply(out)
        return out

    def send_chunk(self, data: bytes) -> Outgoing:
        """Octets of the BDAT chunk owed: sent raw (no dot-stuffing, no line ends added)."""
        if len(data) > self.chunk_remaining:
            raise LocalProtocolError(f"That is {len(data)} octets, but the chunk has only {self.chunk_remaining} left.",
                                     "BDAT announced the size: type at most the octets left (CRLF counts as 2).")
        out = Outgoing(data, data.decode("utf-8", "surrogateescape"), "chunk", wait_for_reply=False)
        self.model.apply(out)
        return out

    def _next_seq(self) -> int:
        return self.model.sent_commands + 1

    def _command_line(self, text: str) -> Outgoing:
        command = classify(text)
        notes = tuple(n for n in (command.length_warning(),) if n)
        masked, secret = sasl.mask_auth_command(text)
        secret_kind = ""
        if secret:
            secret_kind = _INITIAL_SECRET.get(command.args.partition(" ")[0].upper(), "initial-response")
        wait = not (self.pipelining and command.verb not in GROUP_ENDERS)
        if command.verb == "BDAT" and bdat_size(command.args)[0]:
            wait = False  # the reply comes after the chunk's octets
        return Outgoing(command.wire(), text, "command", command, secret, masked if secret else "", notes, wait,
                        self._next_seq(), secret_kind)

    def _data_line(self, text: str) -> Outgoing:
        if "\n" in text:
            raise LocalProtocolError("The line contains a line break, so it would reach the server as two lines.",
                                     "Paste or type one line at a time; smtp-shell ends each with CRLF.")
        if text == ".":
            return Outgoing(b".\r\n", ".", "dot", seq=self._next_seq())
        line, stuffed = dot_stuff(text)
        notes = []
        if stuffed:
            notes.append("this line starts with '.', so it was sent as '..' (dot-stuffing); the server removes the extra dot")
        warning = text_line_warning(line)
        if warning:
            notes.append(warning)
        if "\r" in text:
            notes.append("this line holds a bare CR (no LF after it): it was sent as typed, but RFC 5321 forbids "
                         "it in a message and some servers refuse the message or split the line there")
        return Outgoing(line.encode("utf-8", "surrogateescape") + b"\r\n", line, "data", notes=tuple(notes),
                        wait_for_reply=False)

    def _auth_line(self, text: str) -> Outgoing:
        if "\r" in text or "\n" in text:
            raise LocalProtocolError("The line contains a line break.", "Type the base64 text on one line.")
        return Outgoing(text.encode("utf-8", "surrogateescape") + b"\r\n", text, "auth", secret=True, masked_text=sasl.REDACTED,
                        seq=self._next_seq(), secret_kind=self._auth_secret_kind(text.strip()))

    def _auth_secret_kind(self, text: str) -> str:
        """Which secret an AUTH response is: what a transcript records in place of the text."""
        if text == "*":
            return "cancel"
        auth = self.model.auth
        mechanism = auth.mechanism if auth else ""
        if mechanism == "PLAIN":
            return "plain-response"
        if mechanism == "LOGIN":
            # Only the first answer, before any user name was given, can be the user name: a server
            # that asks "Username:" again must not get the password recorded as a user name.
            first = auth is not None and auth.responses == 0 and auth.user is None
            challenge = (self.model.last_challenge or "").strip().lower()
            if challenge.startswith("user") and first:
                return "login-username"
            if challenge.startswith("pass"):
                return "login-password"
            return "login-username" if first else "login-password"
        return "response"

    # ---- what the server sends ---------------------------------------------------------
    def receive_data(self, data: bytes) -> list[ServerEvent]:
        """Feed bytes from the server; return the events they complete, in order."""
        if self.state is State.TLS_PENDING:
            return [PlaintextInjection(data)] if data else []
        events: list[ServerEvent] = []
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

    def _reply(self, reply: Reply) -> list[ServerEvent]:
        model = self.model
        before = model.state
        seq = None
        kind: ReplyKind
        verb: str | None
        command: Command | None
        if before is State.CONNECTED and not model.in_flight_commands:
            kind, verb, command = "greeting", "<greeting>", None
        elif model.in_flight_commands:
            flight = model.in_flight_commands[0]
            kind, verb, command, seq = "response", flight.verb, flight.command, flight.seq
        else:
            kind, verb, command = "unsolicited", None, None
        after = after_reply(before, verb, reply.code)
        challenge, wants_secret = None, False
        if reply.code == 334 and after is State.AUTH:
            try:
                challenge = sasl.decode_challenge(reply.lines[0].strip())
            except sasl.SaslError:
                challenge = None
            # Mask everything typed during AUTH except an answer to a clear "Username:" prompt:
            # a PLAIN blob after an empty challenge and unknown prompts may carry the password.
            wants_secret = not (challenge and sasl.is_username_prompt(challenge))
        event = ReplyEvent(reply, kind, verb, command, before, after, challenge, wants_secret, seq)
        events: list[ServerEvent] = [event]
        previous = model.capabilities or model.capabilities_before_tls
        model.apply(event)
        if verb == "EHLO" and reply.klass == 2:
            learned = Capabilities.from_ehlo(reply.lines)
            changes = tuple(describe_change(previous, learned)) if previous else ()
            found = CapabilitiesLearned(learned, changes)
            model.apply(found)
            events.append(found)
        if after is State.TLS_PENDING:
            events.append(TLSReady())
        return events
