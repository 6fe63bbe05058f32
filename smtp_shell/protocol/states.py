"""The SMTP client session state machine, as ONE table of data.

Every other part asks this table: the core applies it to each reply, completion asks which
verbs make sense now, the advisor and lessons ask what state a session is in. Nothing keeps
its own copy. `docs/states.md`-style diagrams can be derived from `TRANSITIONS`.

A row reads: in any of these states, a reply of one of these classes to this verb moves the
session to that state (`SAME` keeps it). Pseudo-verbs: `<greeting>` (the server's first reply),
`<dot>` (the reply to the end of DATA), `<auth>` (the reply to a line sent during AUTH).
"""

from __future__ import annotations

import enum


class State(enum.Enum):
    DISCONNECTED = "not connected"
    CONNECTED = "waiting for the greeting"
    REJECTED = "greeted with a refusal"
    GREETED = "greeted"
    READY = "EHLO/HELO done"
    MAIL = "sender accepted"
    RCPT = "recipients accepted"
    DATA = "sending the message"
    TLS_PENDING = "starting TLS"
    AUTH = "AUTH in progress"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value

    @property
    def status(self) -> str:
        """The toolbar's words: where the session is and what comes next."""
        return _STATUS.get(self, self.value)


_STATUS = {
    State.CONNECTED: "waiting for the server's greeting",
    State.GREETED: "greeted by the server — say EHLO next",
    State.REJECTED: "refused in the greeting — QUIT",
    State.READY: "EHLO done — MAIL FROM next",
    State.MAIL: "sender accepted — RCPT TO next",
    State.RCPT: "recipients accepted — more RCPT, or DATA",
    State.DATA: "typing the message — a lone . ends it",
}


SAME = None  # "stay in the state you are in"

S = State
_OPEN = (S.GREETED, S.READY, S.MAIL, S.RCPT)
_HELLO_DONE = (S.READY, S.MAIL, S.RCPT)

# (from states, verb, reply classes, to state). Order matters only for readability.
TRANSITIONS: list[tuple[tuple[State, ...], str, tuple[int, ...], State | None]] = [
    ((S.CONNECTED,), "<greeting>", (2,), S.GREETED),
    ((S.CONNECTED,), "<greeting>", (4, 5), S.REJECTED),
    (_OPEN, "EHLO", (2,), S.READY),
    (_OPEN, "HELO", (2,), S.READY),
    (_HELLO_DONE, "MAIL", (2,), S.MAIL),
    ((S.MAIL, S.RCPT), "RCPT", (2,), S.RCPT),
    ((S.RCPT,), "DATA", (3,), S.DATA),
    ((S.DATA,), "<dot>", (2, 4, 5), S.READY),
    (_HELLO_DONE, "RSET", (2,), S.READY),
    ((S.GREETED,), "RSET", (2,), SAME),
    (_OPEN, "STARTTLS", (2,), S.TLS_PENDING),
    (_HELLO_DONE, "AUTH", (2,), SAME),
    (_HELLO_DONE, "AUTH", (3,), S.AUTH),
    ((S.AUTH,), "<auth>", (3,), SAME),
    ((S.AUTH,), "<auth>", (2, 4, 5), S.READY),
    (_OPEN + (S.REJECTED,), "NOOP", (2,), SAME),
    (_OPEN, "VRFY", (2,), SAME),
    (_OPEN, "EXPN", (2,), SAME),
    (_OPEN + (S.REJECTED,), "HELP", (2,), SAME),
    (_OPEN + (S.REJECTED,), "QUIT", (2,), S.CLOSED),
]

# Derived lookup: (state, verb, class) -> state (None = same).
_TABLE: dict[tuple[State, str, int], State | None] = {}
for _froms, _verb, _classes, _to in TRANSITIONS:
    for _f in _froms:
        for _c in _classes:
            _TABLE[(_f, _verb, _c)] = _to


def next_state(state: State, verb: str, reply_class: int) -> State:
    """The state after a reply of `reply_class` to `verb` sent in `state` (unchanged if no row)."""
    to = _TABLE.get((state, verb, reply_class), SAME)
    return state if to is None else to


def expected(state: State, verb: str) -> bool:
    """True if some success (2xx/3xx) row exists for `verb` in `state`: it makes sense now."""
    return any((state, verb, c) in _TABLE for c in (2, 3))


def sensible_verbs(state: State) -> list[str]:
    """The real SMTP verbs that make sense in `state`, in table order (completion uses this)."""
    seen: dict[str, None] = {}
    for froms, verb, classes, _to in TRANSITIONS:
        if state in froms and not verb.startswith("<") and (2 in classes or 3 in classes):
            seen[verb] = None
    return list(seen)


def mermaid() -> str:
    """The state table as a Mermaid `stateDiagram-v2` (docs/states.md is generated from this)."""
    lines = ["stateDiagram-v2", "    [*] --> DISCONNECTED", "    DISCONNECTED --> CONNECTED: connect"]
    seen = set()
    for froms, verb, classes, to in TRANSITIONS:
        for f in froms:
            target = f if to is None else to
            label = f"{verb.strip('<>')} {'/'.join(f'{c}xx' for c in classes)}"
            if target is f or (f, target, label) in seen:
                continue
            seen.add((f, target, label))
            lines.append(f"    {f.name} --> {target.name}: {label}")
    lines.append("    TLS_PENDING --> GREETED: TLS handshake done (EHLO again)")
    lines.append("    CLOSED --> [*]")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m smtp_shell.protocol.states > diagram
    print(mermaid(), end="")

