"""Protocol errors, split by who is at fault (as h11 does).

`LocalProtocolError`: the student asked for something that cannot be put on the wire (a line
with an embedded line break, a command while not connected). `RemoteProtocolError`: the server
broke the protocol (a garbled reply line, mixed codes). Both carry a one-sentence `message`
and a `hint` saying what to do. The reply parser *returns* RemoteProtocolError instances as
events rather than raising them, because a broken server is something to show a student, not
a reason to stop.
"""

from __future__ import annotations


class ProtocolError(Exception):
    def __init__(self, message: str, hint: str = "", raw: bytes = b"") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.raw = raw

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ProtocolError) and type(self) is type(other)
                and self.message == other.message and self.raw == other.raw)

    def __hash__(self) -> int:
        return hash((type(self), self.message, self.raw))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class LocalProtocolError(ProtocolError):
    """The student's input cannot be sent as it is."""


class RemoteProtocolError(ProtocolError):
    """The server sent something that is not valid SMTP."""
