"""The typed events of a session: what the core hands out, and what updates the session model.

The core (`session.ClientSession`) turns typed lines and server bytes into these small frozen
dataclasses; the session model (`model.SessionModel`) changes only by applying them, so every
fact about a session can be traced to an event a type checker can follow. The driver, the
recorder and the lesson engine receive the same objects.

- `Connected`, `TLSStarted`, `ConnectionClosed`: the connection's own life.
- `Outgoing`: one line the client has just *sent* (a line the student declined never becomes
  one, so it never counts).
- `ReplyEvent`, `CapabilitiesLearned`, `TLSReady`, `PlaintextInjection`: what the server sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from smtp_shell.protocol.capabilities import Capabilities
from smtp_shell.protocol.commands import Command
from smtp_shell.protocol.errors import RemoteProtocolError
from smtp_shell.protocol.replies import Reply
from smtp_shell.protocol.states import State

OutgoingKind: TypeAlias = Literal["command", "data", "dot", "auth", "chunk"]  # chunk: BDAT octets (RFC 3030)
ReplyKind: TypeAlias = Literal["greeting", "response", "unsolicited"]


@dataclass(frozen=True)
class TLSFacts:
    """What the transport learnt in the handshake (the core itself never touches ssl)."""

    version: str = ""
    cipher: str = ""
    verified: bool = False


@dataclass(frozen=True)
class Connected:
    """A new connection is open (implicit TLS when `tls`); the greeting is next."""

    tls: bool = False
    facts: TLSFacts | None = None


@dataclass(frozen=True)
class TLSStarted:
    """The handshake after STARTTLS succeeded: everything said in plaintext is forgotten."""

    facts: TLSFacts | None = None


@dataclass(frozen=True)
class Outgoing:
    """One line the client sent: the bytes for the wire, and how to describe them."""

    data: bytes
    text: str                  # the line as shown (dot-stuffed in DATA mode)
    kind: OutgoingKind
    command: Command | None = None
    secret: bool = False       # never show or record `text` as is
    masked_text: str = ""      # what to show/record instead when secret
    notes: tuple[str, ...] = ()
    wait_for_reply: bool = True  # False: the client may send more before the reply (DATA lines, pipelining)
    seq: int | None = None     # the number of the command now awaiting a reply (None for DATA lines)
    secret_kind: str = ""      # for a secret: "plain-response", "login-username", "login-password", ...

    @property
    def typed(self) -> str:
        """The line as the student typed it (DATA lines without their dot-stuffing)."""
        return self.text[1:] if self.kind == "data" and self.text.startswith("..") else self.text


@dataclass(frozen=True)
class ReplyEvent:
    """A complete server reply, with the command it answers and the state change it made."""

    reply: Reply
    kind: ReplyKind
    verb: str | None           # the command it answers ("<dot>", "<auth>" pseudo-verbs included)
    command: Command | None
    state_before: State
    state_after: State
    challenge: str | None = None     # a decoded 334 challenge ("Username:")
    wants_secret: bool = False       # the server is asking for a password: mask the next line
    seq: int | None = None           # the `Outgoing.seq` of the command it answers


@dataclass(frozen=True)
class TLSReady:
    """The server said 220 to STARTTLS: the transport must upgrade the connection now."""


@dataclass(frozen=True)
class PlaintextInjection:
    """Bytes that arrived after the 220 to STARTTLS and before the handshake: discarded."""

    data: bytes


@dataclass(frozen=True)
class CapabilitiesLearned:
    """An EHLO reply's extensions, and what changed since the last EHLO."""

    capabilities: Capabilities
    changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConnectionClosed:
    """The connection ended (the server closed it, or it was lost)."""

    state_before: State
    in_flight: tuple[str, ...] = ()


# What `ClientSession.receive_data` returns, in order.
ServerEvent: TypeAlias = ReplyEvent | CapabilitiesLearned | TLSReady | PlaintextInjection | RemoteProtocolError

# What the session model applies.
ModelEvent: TypeAlias = Connected | TLSStarted | Outgoing | ReplyEvent | CapabilitiesLearned | ConnectionClosed
