"""The advisor: novice mistakes caught before a line is sent and explained after an error reply.

Each rule is one small pure function registered with `@before` (sees the session and a `Line`,
the typed text already described) or `@after` (sees the session and the reply event). It
returns an `Advice` or None. The shell only displays advice: in the REPL a warning asks "send
anyway?", in batch mode it is printed and the line is sent as typed. Adding a mistake is adding
one rule here and one test. Order questions ("is MAIL allowed now?") go to the state table in
`states`, never to a copy of it. Messages never repeat what was typed in AUTH mode (a secret).
"""

from __future__ import annotations

import base64
import binascii
import difflib
import functools
import re
import weakref
from collections import deque
from dataclasses import dataclass
from typing import Callable

from smtp_shell.protocol import sasl
from smtp_shell.protocol.commands import VERBS, Command, classify
from smtp_shell.protocol.dates import check_date_header
from smtp_shell.protocol.errors import LocalProtocolError
from smtp_shell.protocol.states import TRANSITIONS, State, expected, next_state, sensible_verbs


@dataclass(frozen=True)
class Advice:
    rule: str      # the rule's name, stable (lessons and tests refer to it)
    message: str   # one sentence: what looks wrong and what to do


BEFORE: list[Callable] = []
AFTER: list[Callable] = []


def before(fn):
    BEFORE.append(fn)
    return fn


def after(fn):
    AFTER.append(fn)
    return fn


# ---- what a before-rule sees ----------------------------------------------------------------

_HEADER = re.compile(r"([!-9;-~]+):")


class DataTracker:
    """The message typed so far in one DATA phase: is the header block still open, which headers."""

    def __init__(self, opened_by=None) -> None:
        self.opened_by = opened_by      # the 354 reply that started this DATA phase
        self.in_headers = True
        self.headers: list[str] = []    # field names, lower case, in order
        self.lines = 0

    def has(self, name: str) -> bool:
        return name.lower() in self.headers

    def feed(self, text: str) -> None:
        self.lines += 1
        if not self.in_headers or text[:1] in (" ", "\t"):
            return
        m = _HEADER.match(text)
        if m:
            self.headers.append(m.group(1).lower())
        else:                           # a blank line, or a body line that ends the headers anyway
            self.in_headers = False


_TRACKERS: dict[int, tuple[weakref.ref, DataTracker]] = {}


def data_tracker(core) -> DataTracker:
    """The tracker of the current DATA phase of `core` (a new one after each 354)."""
    key = id(core)
    entry = _TRACKERS.get(key)
    if entry is None or entry[0]() is not core or entry[1].opened_by is not core.last_reply:
        tracker = DataTracker(core.last_reply)
        _TRACKERS[key] = (weakref.ref(core, lambda _ref, k=key: _TRACKERS.pop(k, None)), tracker)
        return tracker
    return entry[1]


@dataclass(frozen=True)
class Line:
    text: str
    mode: str                       # "command" | "data" | "auth"
    state: State                    # the state once the commands still in flight succeed
    command: Command | None = None  # command mode only
    data: DataTracker | None = None  # data mode only: the message before this line

    @property
    def verb(self) -> str:
        return self.command.verb if self.command else ""


def projected_state(core) -> State:
    """The session state assuming every command in flight (pipelining) succeeds."""
    state = core.state
    for verb in core.in_flight:
        for klass in (2, 3):
            nxt = next_state(state, verb, klass)
            if nxt is not state:
                state = nxt
                break
    return state


def steps_to(state: State, verb: str) -> list[str] | None:
    """The shortest list of verbs leading from `state` to one where `verb` makes sense (the table's answer)."""
    queue, seen = deque([(state, [])]), {state}
    while queue:
        here, path = queue.popleft()
        if expected(here, verb):
            return path
        for froms, step, classes, to in TRANSITIONS:
            if here in froms and to is not None and not step.startswith("<") and {2, 3} & set(classes) and to not in seen:
                seen.add(to)
                queue.append((to, path + [step]))
    return None


def _syntax(verbs: list[str]) -> str:
    return ", then ".join(VERBS[v][0] if v in VERBS else v for v in verbs)


@functools.lru_cache(maxsize=None)  # the table is constant: build the set once, not per line
def _table_verbs() -> frozenset[str]:
    return frozenset({verb for _f, verb, _c, _t in TRANSITIONS if not verb.startswith("<")})


def _needs_ehlo_after_tls(core, state: State) -> bool:
    return bool(core.tls and state is State.GREETED and core.capabilities_before_tls is not None)


def check_before(core, text: str) -> list[Advice]:
    """Warnings about `text` given the session `core` (a ClientSession), before it is sent."""
    mode, data, command = core.mode, None, None
    if mode == "data":
        data = data_tracker(core)
    elif mode == "command":
        try:
            command = classify(text)
        except LocalProtocolError:
            return []  # the core itself refuses the line, with its own sentence
    line = Line(text, mode, projected_state(core), command, data)
    out = [advice for rule in BEFORE if (advice := rule(core, line)) is not None]
    if data is not None and text != ".":
        data.feed(text)
    return out


def hints_after(core, event) -> list[Advice]:
    """Hints after a reply event (usually a 4xx/5xx) naming the likely cause."""
    if getattr(event, "reply", None) is None:
        return []
    return [advice for rule in AFTER if (advice := rule(core, event)) is not None]


# ---- before: command order (asked of the state table) -------------------------------------------

@before
def no_greeting(core, line: Line):
    if line.mode == "command" and line.state is State.CONNECTED:
        return Advice("before-greeting", "The server has not sent its 220 greeting yet; wait for it, "
                                         "because many servers drop clients that talk first.")


@before
def greeting_refused(core, line: Line):
    if line.state is State.REJECTED and line.verb in _table_verbs() and not expected(State.REJECTED, line.verb):
        return Advice("after-refusal", "The server refused this session in its greeting, so only "
                                       f"{', '.join(sensible_verbs(State.REJECTED))} make sense now.")


@before
def ehlo_after_starttls(core, line: Line):
    if line.mode == "command" and line.verb not in ("EHLO", "HELO", "QUIT", "NOOP", "RSET", "HELP", "") \
            and _needs_ehlo_after_tls(core, line.state):
        return Advice("ehlo-after-starttls", "After STARTTLS the server has forgotten your EHLO: "
                                             "send EHLO again before anything else.")


@before
def out_of_order(core, line: Line):
    verb, state = line.verb, line.state
    if line.mode != "command" or verb not in _table_verbs() or expected(state, verb):
        return None
    if state in (State.CONNECTED, State.REJECTED) or _needs_ehlo_after_tls(core, state):
        return None  # the rules above say it better
    path = steps_to(state, verb)
    if not path:
        return Advice(f"{verb.lower()}-out-of-order", f"{verb} makes no sense now (the session is at "
                      f"'{state.label}'); what does: {', '.join(sensible_verbs(state))}.")
    last = "hello" if path[-1] in ("EHLO", "HELO") else path[-1].lower()
    return Advice(f"{verb.lower()}-before-{last}", f"{verb} is too early (the session is at '{state.label}'): "
                  f"first {_syntax(path)}.")


@before
def nested_mail(core, line: Line):
    if line.verb == "MAIL" and line.state in (State.MAIL, State.RCPT):
        return Advice("nested-mail", "A message is already under way (MAIL was accepted): go on with "
                                     "RCPT TO and DATA, or send RSET to start over.")


# ---- before: what a command says -------------------------------------------------------------

_ENVELOPE = re.compile(r"(FROM|TO)\s*:\s*(\S*)(.*)", re.I)
_KEYWORD = {"MAIL": "FROM", "RCPT": "TO"}


@before
def envelope_keyword(core, line: Line):
    if line.verb in _KEYWORD:
        m = _ENVELOPE.match(line.command.args)
        want = _KEYWORD[line.verb]
        if not m or m.group(1).upper() != want:
            return Advice("missing-from-to", f"{line.verb} needs '{want}:' before the address, "
                                             f"as in {VERBS[line.verb][0]}.")


@before
def angle_brackets(core, line: Line):
    if line.verb in _KEYWORD and (m := _ENVELOPE.match(line.command.args)):
        address = m.group(2)
        if not address:
            return Advice("missing-address", f"{line.verb} needs an address after the colon, as in {VERBS[line.verb][0]}.")
        if not address.startswith("<"):
            return Advice("address-brackets", f"Put the address in angle brackets ({line.verb} "
                          f"{m.group(1).upper()}:<{address}>): RFC 5321 requires them, and strict servers refuse a bare address.")


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


@before
def esmtp_params(core, line: Line):
    if line.verb in _KEYWORD and (m := _ENVELOPE.match(line.command.args)) and m.group(2).startswith("<"):
        problem = esmtp_param_problem(m.group(3))
        if problem:
            return Advice("esmtp-params", problem[0].upper() + problem[1:] + ".")


@before
def utf8_address(core, line: Line):
    if line.verb in _KEYWORD and not line.command.args.isascii():
        m = _ENVELOPE.match(line.command.args)
        if m and not m.group(2).isascii() and "SMTPUTF8" not in m.group(3).upper().split():
            offered = core.capabilities is not None and core.capabilities.has("SMTPUTF8")
            where = "this server advertised SMTPUTF8" if offered else "this server did not advertise SMTPUTF8, so it will likely refuse"
            return Advice("utf8-address", f"This address is not ASCII, which needs MAIL FROM:<...> SMTPUTF8 "
                                          f"for the whole message ({where}).")


@before
def mistyped_verb(core, line: Line):
    verb = line.verb
    if line.mode != "command" or not verb or verb in VERBS:
        return None
    if core.capabilities is not None and core.capabilities.has(verb):
        return None  # a server extension the student means to use (XCLIENT, ...)
    typed = line.text.split()[0]
    glued = next((v for v in VERBS if verb.startswith(v)), None)
    if glued:
        return Advice("mistyped-verb", f"{typed} is not an SMTP command; did you mean {glued} followed by a space?")
    close = difflib.get_close_matches(verb, VERBS, n=1, cutoff=0.6)
    if close:
        return Advice("mistyped-verb", f"{typed} is not an SMTP command; did you mean {close[0]}?")
    return Advice("unknown-verb", f"{typed} is not an SMTP command, so the server will probably answer 500 "
                                  "(:help lists the commands).")


# ---- before: STARTTLS and AUTH ------------------------------------------------------------------

@before
def starttls_twice(core, line: Line):
    if line.verb == "STARTTLS" and core.tls:
        return Advice("starttls-twice", "TLS is already on, so the server will refuse a second STARTTLS.")


@before
def starttls_not_offered(core, line: Line):
    caps = core.capabilities
    if line.verb == "STARTTLS" and not core.tls and caps is not None and not caps.has("STARTTLS"):
        return Advice("starttls-not-offered", "The server did not advertise STARTTLS in its EHLO reply, "
                                              "so it will most likely refuse it.")


def _auth_context(core, line: Line):
    """(capabilities, mechanism typed) for an AUTH line once EHLO is done, else None."""
    if line.verb != "AUTH" or core.capabilities is None or _needs_ehlo_after_tls(core, line.state):
        return None
    return core.capabilities, line.command.args.partition(" ")[0]


@before
def auth_needs_tls(core, line: Line):
    ctx = _auth_context(core, line)
    if ctx and not core.tls and not ctx[0].auth_mechanisms and ctx[0].has("STARTTLS"):
        return Advice("auth-needs-tls", "The server did not advertise AUTH, but it offers STARTTLS, and many "
                                        "servers list AUTH only under TLS: send STARTTLS, then EHLO again, and "
                                        "look for AUTH before you log in.")


@before
def auth_not_offered(core, line: Line):
    ctx = _auth_context(core, line)
    if ctx and not ctx[0].auth_mechanisms and (core.tls or not ctx[0].has("STARTTLS")):
        return Advice("auth-not-offered", "The server did not advertise AUTH in its EHLO reply"
                                          " (after HELO it advertises nothing), so it will refuse to log you in.")


@before
def auth_in_plaintext(core, line: Line):
    ctx = _auth_context(core, line)
    if ctx and not core.tls and ctx[0].auth_mechanisms and ctx[0].has("STARTTLS"):
        return Advice("auth-in-plaintext", "Your password would cross the network unencrypted: "
                                           "send STARTTLS first (then EHLO again).")


@before
def auth_mechanism(core, line: Line):
    ctx = _auth_context(core, line)
    if not ctx or not ctx[0].auth_mechanisms:
        return None
    offered, mech = ctx[0].auth_mechanisms, ctx[1]
    if not mech:
        return Advice("auth-mechanism", f"AUTH needs a mechanism: the server offers {', '.join(offered)} (try AUTH LOGIN).")
    if mech.upper() not in offered:
        return Advice("auth-mechanism", f"The server offers {', '.join(offered)}, not {mech}.")
    if mech != mech.upper():
        return Advice("auth-mechanism", f"Write the mechanism in capitals as advertised ({mech.upper()}); "
                                        "some servers refuse lower case.")


@before
def auth_initial_response(core, line: Line):
    if line.verb == "AUTH":
        mechanism, _, response = line.command.args.strip().partition(" ")
        problem = sasl.diagnose_response(response, mechanism) if response.strip() else None
        if problem:
            return Advice("auth-response", f"This AUTH {mechanism.upper()} response looks wrong: {problem}.")


@before
def auth_twice(core, line: Line):
    if line.verb == "AUTH" and core.authenticated_user:
        return Advice("auth-twice", "You are already logged in on this connection, so the server will refuse another AUTH.")


def _base64_text(text: str) -> str | None:
    """What strict base64 decodes to, if it is UTF-8 text (NUL allowed for PLAIN), else None."""
    if not sasl.looks_like_base64(text):
        return None
    try:
        decoded = base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return decoded if all(c.isprintable() or c in "\0\t" for c in decoded) else None


@before
def auth_plain_text(core, line: Line):
    text = line.text.strip()
    if line.mode != "auth" or text in ("", "*", "="):
        return None
    mechanism = getattr(core, "_auth_mechanism", None) or "LOGIN"
    if sasl.looks_like_base64(text) and (problem := sasl.diagnose_response(text, mechanism)):
        return Advice("auth-response", f"This answer looks wrong: {problem}.")
    if _base64_text(text) is not None:
        return None
    if core.expects_secret:
        return Advice("auth-not-base64", "The server expects your password in base64 and this does not look like "
                                         "base64; encode it with :b64 or let :auth login do it.")
    return Advice("auth-not-base64", "The server expects base64 here and this looks like plain text; "
                                     "encode it with :b64 or let :auth login do it.")


# ---- before: the message typed in DATA mode -----------------------------------------------------

_COMMAND_LIKE = re.compile(r"(?:MAIL\s+FROM|RCPT\s+TO)\s*:.*|QUIT|RSET|DATA|NOOP|STARTTLS|(?:EHLO|HELO|AUTH)\s+\S+", re.I)


def _ends_headers(line: Line) -> bool:
    """This line closes the header block (blank line, final dot, or a body line typed too early)."""
    text = line.text
    return line.data.in_headers and (text in ("", ".") or (text[:1] not in (" ", "\t") and not _HEADER.match(text)))


@before
def command_in_data(core, line: Line):
    if line.mode == "data" and _COMMAND_LIKE.fullmatch(line.text.strip()):
        return Advice("command-in-data", "You are in DATA mode, so this line becomes part of the message, "
                                         "not a command; end the message with a line holding only '.' first.")


@before
def dot_with_spaces(core, line: Line):
    if line.mode == "data" and line.text != "." and line.text.strip() == ".":
        return Advice("dot-with-spaces", "Only a line holding a single '.' with nothing around it ends the message; "
                                         "this one will be sent as text.")


@before
def body_in_headers(core, line: Line):
    if line.mode == "data" and line.text not in ("", ".") and line.text.strip() != "." and _ends_headers(line):
        return Advice("body-in-headers", "This looks like body text but the headers have not ended: "
                                         "type an empty line first, or it will be read as a broken header.")


@before
def missing_from(core, line: Line):
    if line.mode == "data" and _ends_headers(line) and not line.data.has("from"):
        return Advice("missing-from", "The headers end without a From: line, which RFC 5322 requires, "
                                      "e.g. From: Student <student@lab.test>.")


@before
def missing_date(core, line: Line):
    if line.mode == "data" and _ends_headers(line) and not line.data.has("date"):
        return Advice("missing-date", "The headers end without a Date: line, which RFC 5322 requires "
                                      "(:date prints one to copy).")


@before
def non_ascii_header(core, line: Line):
    text = line.text
    if line.mode == "data" and line.data.in_headers and not text.isascii() \
            and (text[:1] in (" ", "\t") or _HEADER.match(text)):
        return Advice("non-ascii-header", "This header has non-ASCII characters without RFC 2047 encoding: "
                                          "write them as =?utf-8?b?...?= (:compose does it for you).")


@before
def malformed_date(core, line: Line):
    m = _HEADER.match(line.text) if line.mode == "data" and line.data.in_headers else None
    if m and m.group(1).lower() == "date":
        problem = check_date_header(line.text[m.end():])
        if problem:
            return Advice("bad-date", f"This Date header is malformed: {problem} (:date prints a correct one).")


# The after-reply hints live in their own module; importing it registers them.
from smtp_shell.protocol import hints  # noqa: E402,F401
