"""What the advisor's rules share: `Advice`, the two rule registries, and the table questions.

The before-send rules (`advisor`) and the after-reply hints (`hints`) both return `Advice`,
register themselves here, and ask the state table the same questions ("which verbs lead from
here to a state where MAIL makes sense?"). Keeping those in this module lets `advisor` import
`hints` (to register them) without `hints` importing `advisor` back.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from smtp_shell.protocol.commands import VERBS
from smtp_shell.protocol.states import TRANSITIONS, State, expected


@dataclass(frozen=True)
class Advice:
    """One piece of advice from a rule: its stable name and one sentence."""

    rule: str      # the rule's name, stable (lessons and tests refer to it)
    message: str   # one sentence: what looks wrong and what to do


Rule = Callable[..., Advice | None]
R = TypeVar("R", bound=Rule)

BEFORE: list[Rule] = []  # filled once at import by @before; never changed afterwards
AFTER: list[Rule] = []   # filled once at import by @after


def before(fn: R) -> R:
    """Register a rule that sees (session, Line) before a line is sent."""
    BEFORE.append(fn)
    return fn


def after(fn: R) -> R:
    """Register a hint that sees (session, reply event) after a reply."""
    AFTER.append(fn)
    return fn


# MAIL FROM:<a> PARAMS / RCPT TO:<b> PARAMS -> (keyword, address, the rest)
ENVELOPE = re.compile(r"(FROM|TO)\s*:\s*(\S*)(.*)", re.I)
KEYWORD = {"MAIL": "FROM", "RCPT": "TO"}

# RFC 5321 §4.1.2: esmtp-param = esmtp-keyword ["=" esmtp-value]; these keywords need a value.
_PARAM_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*(=[\x21-\x3c\x3e-\x7e]+)?")
_NEEDS_VALUE = {"SIZE": "SIZE=1200", "BODY": "BODY=8BITMIME", "RET": "RET=HDRS", "ENVID": "ENVID=abc123",
                "NOTIFY": "NOTIFY=FAILURE", "ORCPT": "ORCPT=rfc822;a@b.example", "AUTH": "AUTH=<>", "BY": "BY=60;R"}


def esmtp_param_problem(rest: str) -> str | None:
    """What is wrong with the ESMTP parameters after an address ("SIZE 1200"), or None."""
    words = rest.split()
    for i, word in enumerate(words):
        name, eq, value = word.partition("=")
        key = name.upper().rstrip(":")
        if key in _NEEDS_VALUE and not value:
            after = words[i + 1] if i + 1 < len(words) else ""
            typed = f"{word} {after}".strip() if after and (not eq or after.startswith("=")) else word
            return (f"'{typed}' is not a parameter: write KEYWORD=value with no spaces, as in {_NEEDS_VALUE[key]} "
                    "(RFC 5321 §4.1.2)")
        if not _PARAM_WORD.fullmatch(word):
            return (f"'{word}' is not an ESMTP parameter: each is KEYWORD or KEYWORD=value, separated by single "
                    "spaces, after the address (RFC 5321 §4.1.2)")
    return None


def steps_to(state: State, verb: str) -> list[str] | None:
    """The shortest list of verbs leading from `state` to one where `verb` makes sense (the table's answer)."""
    queue: deque[tuple[State, list[str]]] = deque([(state, [])])
    seen = {state}
    while queue:
        here, path = queue.popleft()
        if expected(here, verb):
            return path
        for froms, step, classes, to in TRANSITIONS:
            if here in froms and to is not None and not step.startswith("<") and {2, 3} & set(classes) \
                    and to not in seen:
                seen.add(to)
                queue.append((to, [*path, step]))
    return None


def syntax_of(verbs: list[str]) -> str:
    """`EHLO` `MAIL` -> "EHLO <your-name>, then MAIL FROM:<you@example.org>"."""
    return ", then ".join(VERBS[v][0] if v in VERBS else v for v in verbs)


@functools.cache  # the table is constant: build the set once, not per line
def table_verbs() -> frozenset[str]:
    """Every verb the state table knows (not the pseudo-verbs like `<dot>`)."""
    return frozenset({verb for _f, verb, _c, _t in TRANSITIONS if not verb.startswith("<")})


def needs_ehlo_after_tls(core: Any, state: State) -> bool:
    """TLS was just started and the client has not said EHLO again yet."""
    return bool(core.tls and state is State.GREETED and core.capabilities_before_tls is not None)
