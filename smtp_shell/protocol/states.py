"""The SMTP client session state machine, as ONE table of data.

Every other part asks this table: the session model applies it to each event, completion asks
which verbs make sense now, the advisor and lessons ask what state a session is in. Nothing
keeps its own copy, and no transition lives in code: `docs/states.md` is generated from
`TRANSITIONS` alone (`python -m smtp_shell.protocol.states`).

A row reads: in any of these states, a reply of one of these classes to this verb moves the
session to that state (`SAME` keeps it). Pseudo-verbs: `<greeting>` (the server's first reply),
`<dot>` (the reply to the end of DATA), `<bdat-last>` (the reply to a `BDAT n LAST` chunk),
`<auth>` (the reply to a line sent during AUTH),
`<421>` (a 421 reply to anything, or to nothing: the server is closing), and the connection's
own events, which count as class 2: `<connect>`, `<tls>` (the STARTTLS handshake is done),
`<lost>` (the connection ended).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType


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
INITIAL = State.DISCONNECTED
FINAL = State.CLOSED

S = State
_ANY = tuple(State)
_TALKING = tuple(s for s in State if s not in (S.DISCONNECTED, S.CLOSED, S.TLS_PENDING))
_OPEN = (S.GREETED, S.READY, S.MAIL, S.RCPT)
_HELLO_DONE = (S.READY, S.MAIL, S.RCPT)

# (from states, verb, reply classes, to state). Order matters only for readability.
TRANSITIONS: list[tuple[tuple[State, ...], str, tuple[int, ...], State | None]] = [
    ((S.DISCONNECTED,), "<connect>", (2,), S.CONNECTED),
    (_TALKING, "<421>", (4,), S.CLOSED),  # checked before the verb's own row
    ((S.CONNECTED,), "<greeting>", (2,), S.GREETED),
    ((S.CONNECTED,), "<greeting>", (4, 5), S.REJECTED),
    (_OPEN, "EHLO", (2,), S.READY),
    (_OPEN, "HELO", (2,), S.READY),
    (_HELLO_DONE, "MAIL", (2,), S.MAIL),
    ((S.MAIL, S.RCPT), "RCPT", (2,), S.RCPT),
    ((S.RCPT,), "DATA", (3,), S.DATA),
    ((S.DATA,), "<dot>", (2, 4, 5), S.READY),
    ((S.RCPT,), "BDAT", (2,), SAME),              # a chunk accepted; more may follow (RFC 3030)
    ((S.RCPT,), "BDAT", (4, 5), S.READY),         # a refused chunk ends the transaction
    ((S.RCPT,), "<bdat-last>", (2, 4, 5), S.READY),
    (_HELLO_DONE, "RSET", (2,), S.READY),
    ((S.GREETED,), "RSET", (2,), SAME),
    (_OPEN, "STARTTLS", (2,), S.TLS_PENDING),
    ((S.TLS_PENDING,), "<tls>", (2,), S.GREETED),
    (_HELLO_DONE, "AUTH", (2,), SAME),
    (_HELLO_DONE, "AUTH", (3,), S.AUTH),
    ((S.AUTH,), "<auth>", (3,), SAME),
    ((S.AUTH,), "<auth>", (2, 4, 5), S.READY),
    (_OPEN + (S.REJECTED,), "NOOP", (2,), SAME),
    (_OPEN, "VRFY", (2,), SAME),
    (_OPEN, "EXPN", (2,), SAME),
    (_OPEN + (S.REJECTED,), "HELP", (2,), SAME),
    (_OPEN + (S.REJECTED,), "QUIT", (2,), S.CLOSED),
    (_ANY, "<lost>", (2,), S.DISCONNECTED),
]

# How the diagram names the pseudo-verbs.
_LABELS = {"<connect>": "connect", "<421>": "421 (server closing)", "<tls>": "TLS handshake done (EHLO again)",
           "<lost>": "connection lost", "<greeting>": "greeting", "<dot>": "end of DATA", "<auth>": "AUTH response",
           "<bdat-last>": "BDAT LAST"}

# Derived lookup, read-only: (state, verb, class) -> state (None = same). TRANSITIONS stays the
# one source of truth; this is an index over it, never written after import.
_TABLE: Mapping[tuple[State, str, int], State | None] = MappingProxyType(
    {(f, verb, c): to for froms, verb, classes, to in TRANSITIONS for f in froms for c in classes})


def next_state(state: State, verb: str, reply_class: int) -> State:
    """The state after a reply of `reply_class` to `verb` sent in `state` (unchanged if no row)."""
    to = _TABLE.get((state, verb, reply_class), SAME)
    return state if to is None else to


def after_reply(state: State, verb: str | None, code: int) -> State:
    """The state after a reply with `code` to `verb` (None: a reply nobody asked for) in `state`.

    A 421 closes the session whatever it answers (its own row); otherwise the verb's row decides.
    """
    if code == 421 and (state, "<421>", 4) in _TABLE:
        return next_state(state, "<421>", 4)
    return next_state(state, verb, code // 100) if verb else state


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


def _label(verb: str, classes: tuple[int, ...]) -> str:
    if verb in ("<connect>", "<tls>", "<lost>", "<421>"):
        return _LABELS[verb]
    return f"{_LABELS.get(verb, verb)} {'/'.join(f'{c}xx' for c in classes)}"


def mermaid() -> str:
    """The state table as a Mermaid `stateDiagram-v2` (docs/states.md is generated from this).

    Every row that changes the state is drawn; a row that applies in (nearly) every state is
    drawn once, as a note on its target, instead of one arrow from each state.
    """
    lines = ["stateDiagram-v2", f"    [*] --> {INITIAL.name}"]
    seen = set()
    for froms, verb, classes, to in TRANSITIONS:
        label = _label(verb, classes)
        if to is not None and len(froms) >= len(_TALKING):
            where = "every state" if set(froms) == set(_ANY) else "every state while talking"
            lines.append(f"    note right of {to.name}: from {where}, {label}")
            continue
        for f in froms:
            target = f if to is None else to
            if target is f or (f, target, label) in seen:
                continue
            seen.add((f, target, label))
            lines.append(f"    {f.name} --> {target.name}: {label}")
    lines.append(f"    {FINAL.name} --> [*]")
    return "\n".join(lines) + "\n"


def page() -> str:
    """docs/states.md, whole: the diagram and the states' labels, all from this module."""
    states = "\n".join(f"| `{s.name}` | {s.label} |" for s in State)
    return (
        "# The SMTP session state machine\n\n"
        "Generated from the one table in `smtp_shell/protocol/states.py` (`TRANSITIONS`) by\n"
        "`python -m smtp_shell.protocol.states > docs/states.md`; a test fails if this page and the table\n"
        "disagree. The session model, completion, the advisor and lesson checks all ask that table;\n"
        "nothing keeps its own copy. Rows that keep the state (NOOP, VRFY, HELP, errors) are not drawn.\n\n"
        f"```mermaid\n{mermaid()}```\n\n| state | shown as |\n|---|---|\n{states}\n"
    )


if __name__ == "__main__":  # python -m smtp_shell.protocol.states > docs/states.md
    print(page(), end="")

