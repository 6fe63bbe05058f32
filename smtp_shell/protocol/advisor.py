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
import re
import weakref
from dataclasses import dataclass, field

from smtp_shell.protocol import sasl
from smtp_shell.protocol.capabilities import Capabilities
from smtp_shell.protocol.commands import VERBS, Command, classify
from smtp_shell.protocol.dates import check_date_header
from smtp_shell.protocol.errors import LocalProtocolError
from smtp_shell.protocol.replies import Reply
from smtp_shell.protocol.rules import (
    AFTER,
    BEFORE,
    ENVELOPE,
    KEYWORD,
    Advice,
    before,
    esmtp_param_problem,
    needs_ehlo_after_tls,
    steps_to,
    syntax_of,
    table_verbs,
)
from smtp_shell.protocol.session import ClientSession, ReplyEvent
from smtp_shell.protocol.states import State, expected, next_state, sensible_verbs

__all__ = ["Advice", "Line", "check_before", "hints_after", "projected_state", "steps_to"]


# ---- what a before-rule sees ----------------------------------------------------------------

_HEADER = re.compile(r"([!-9;-~]+):")


class DataTracker:
    """The message typed so far in one DATA phase: is the header block still open, which headers."""

    def __init__(self, opened_by: Reply | None = None) -> None:
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


_TRACKERS: dict[int, tuple[weakref.ref[ClientSession], DataTracker]] = {}


def data_tracker(core: ClientSession) -> DataTracker:
    """The tracker of the current DATA phase of `core` (a new one after each 354)."""
    key = id(core)
    entry = _TRACKERS.get(key)
    if entry is None or entry[0]() is not core or entry[1].opened_by is not core.last_reply:
        tracker = DataTracker(core.last_reply)

        def forget(_ref: weakref.ref[ClientSession], k: int = key) -> None:
            _TRACKERS.pop(k, None)

        _TRACKERS[key] = (weakref.ref(core, forget), tracker)
        return tracker
    return entry[1]


@dataclass(frozen=True)
class Line:
    text: str
    mode: str                       # "command" | "data" | "auth"
    state: State                    # the state once the commands still in flight succeed
    command: Command | None = None  # command mode only
    data: DataTracker = field(default_factory=DataTracker)  # data mode: the message before this line

    @property
    def verb(self) -> str:
        return self.command.verb if self.command else ""

    @property
    def args(self) -> str:
        """What follows the verb (command mode), else ""."""
        return self.command.args if self.command else ""


def projected_state(core: ClientSession) -> State:
    """The session state assuming every command in flight (pipelining) succeeds."""
    state: State = core.state
    for verb in core.in_flight:
        for klass in (2, 3):
            nxt = next_state(state, verb, klass)
            if nxt is not state:
                state = nxt
                break
    return state


def check_before(core: ClientSession, text: str) -> list[Advice]:
    """Warnings about `text` given the session `core` (a ClientSession), before it is sent."""
    mode, data, command = core.mode, DataTracker(), None
    if mode == "data":
        data = data_tracker(core)
    elif mode == "command":
        try:
            command = classify(text)
        except LocalProtocolError:
            return []  # the core itself refuses the line, with its own sentence
    line = Line(text, mode, projected_state(core), command, data)
    out = [advice for rule in BEFORE if (advice := rule(core, line)) is not None]
    if mode == "data" and text != ".":
        data.feed(text)
    return out


def hints_after(core: ClientSession, event: object) -> list[Advice]:
    """Hints after a reply event (usually a 4xx/5xx) naming the likely cause."""
    if not isinstance(event, ReplyEvent):
        return []
    found = [advice for rule in AFTER if (advice := rule(core, event)) is not None]
    if not found and event.kind != "greeting":
        from smtp_shell.protocol.hints import permanent_fallback  # registered with the other hints

        found = [a for a in (permanent_fallback(event),) if a is not None]
    return found


# ---- before: command order (asked of the state table) -------------------------------------------

@before
def no_greeting(core: ClientSession, line: Line) -> Advice | None:
    if line.mode == "command" and line.state is State.CONNECTED:
        return Advice("before-greeting", "The server has not sent its 220 greeting yet; wait for it, "
                                         "because many servers drop clients that talk first.")


@before
def greeting_refused(core: ClientSession, line: Line) -> Advice | None:
    if line.state is State.REJECTED and line.verb in table_verbs() and not expected(State.REJECTED, line.verb):
        return Advice("after-refusal", "The server refused this session in its greeting, so only "
                                       f"{', '.join(sensible_verbs(State.REJECTED))} make sense now.")


@before
def ehlo_after_starttls(core: ClientSession, line: Line) -> Advice | None:
    if line.mode == "command" and line.verb not in ("EHLO", "HELO", "QUIT", "NOOP", "RSET", "HELP", "") \
            and needs_ehlo_after_tls(core, line.state):
        return Advice("ehlo-after-starttls", "After STARTTLS the server has forgotten your EHLO: "
                                             "send EHLO again before anything else.")


@before
def out_of_order(core: ClientSession, line: Line) -> Advice | None:
    verb, state = line.verb, line.state
    if line.mode != "command" or verb not in table_verbs() or expected(state, verb):
        return None
    if state in (State.CONNECTED, State.REJECTED) or needs_ehlo_after_tls(core, state):
        return None  # the rules above say it better
    path = steps_to(state, verb)
    if not path:
        return Advice(f"{verb.lower()}-out-of-order", f"{verb} makes no sense now (the session is at "
                      f"'{state.label}'); what does: {', '.join(sensible_verbs(state))}.")
    last = "hello" if path[-1] in ("EHLO", "HELO") else path[-1].lower()
    return Advice(f"{verb.lower()}-before-{last}", f"{verb} is too early (the session is at '{state.label}'): "
                  f"first {syntax_of(path)}.")


@before
def nested_mail(core: ClientSession, line: Line) -> Advice | None:
    if line.verb == "MAIL" and line.state in (State.MAIL, State.RCPT):
        return Advice("nested-mail", "A message is already under way (MAIL was accepted): go on with "
                                     "RCPT TO and DATA, or send RSET to start over.")


# ---- before: what a command says -------------------------------------------------------------

@before
def envelope_keyword(core: ClientSession, line: Line) -> Advice | None:
    if line.verb in KEYWORD:
        m = ENVELOPE.match(line.args)
        want = KEYWORD[line.verb]
        if not m or m.group(1).upper() != want:
            return Advice("missing-from-to", f"{line.verb} needs '{want}:' before the address, "
                                             f"as in {VERBS[line.verb][0]}.")


@before
def angle_brackets(core: ClientSession, line: Line) -> Advice | None:
    if line.verb in KEYWORD and (m := ENVELOPE.match(line.args)):
        address = m.group(2)
        if not address:
            return Advice("missing-address", f"{line.verb} needs an address after the colon, as in {VERBS[line.verb][0]}.")
        if not address.startswith("<"):
            return Advice("address-brackets", f"Put the address in angle brackets ({line.verb} "
                          f"{m.group(1).upper()}:<{address}>): RFC 5321 requires them, and strict servers refuse a bare address.")


@before
def esmtp_params(core: ClientSession, line: Line) -> Advice | None:
    if line.verb in KEYWORD and (m := ENVELOPE.match(line.args)) and m.group(2).startswith("<"):
        problem = esmtp_param_problem(m.group(3))
        if problem:
            return Advice("esmtp-params", problem[0].upper() + problem[1:] + ".")
    return None


@before
def utf8_address(core: ClientSession, line: Line) -> Advice | None:
    if line.verb in KEYWORD and not line.args.isascii():
        m = ENVELOPE.match(line.args)
        if m and not m.group(2).isascii() and "SMTPUTF8" not in m.group(3).upper().split():
            offered = core.capabilities is not None and core.capabilities.has("SMTPUTF8")
            where = "this server advertised SMTPUTF8" if offered else "this server did not advertise SMTPUTF8, so it will likely refuse"
            return Advice("utf8-address", f"This address is not ASCII, which needs MAIL FROM:<...> SMTPUTF8 "
                                          f"for the whole message ({where}).")


@before
def mistyped_verb(core: ClientSession, line: Line) -> Advice | None:
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
def starttls_twice(core: ClientSession, line: Line) -> Advice | None:
    if line.verb == "STARTTLS" and core.tls:
        return Advice("starttls-twice", "TLS is already on, so the server will refuse a second STARTTLS.")


@before
def starttls_not_offered(core: ClientSession, line: Line) -> Advice | None:
    caps = core.capabilities
    if line.verb == "STARTTLS" and not core.tls and caps is not None and not caps.has("STARTTLS"):
        return Advice("starttls-not-offered", "The server did not advertise STARTTLS in its EHLO reply, "
                                              "so it will most likely refuse it.")


def _auth_context(core: ClientSession, line: Line) -> tuple[Capabilities, str] | None:
    """(capabilities, mechanism typed) for an AUTH line once EHLO is done, else None."""
    if line.verb != "AUTH" or core.capabilities is None or needs_ehlo_after_tls(core, line.state):
        return None
    return core.capabilities, line.args.partition(" ")[0]


@before
def auth_needs_tls(core: ClientSession, line: Line) -> Advice | None:
    ctx = _auth_context(core, line)
    if ctx and not core.tls and not ctx[0].auth_mechanisms and ctx[0].has("STARTTLS"):
        return Advice("auth-needs-tls", "The server did not advertise AUTH, but it offers STARTTLS, and many "
                                        "servers list AUTH only under TLS: send STARTTLS, then EHLO again, and "
                                        "look for AUTH before you log in.")


@before
def auth_not_offered(core: ClientSession, line: Line) -> Advice | None:
    ctx = _auth_context(core, line)
    if ctx and not ctx[0].auth_mechanisms and (core.tls or not ctx[0].has("STARTTLS")):
        return Advice("auth-not-offered", "The server did not advertise AUTH in its EHLO reply"
                                          " (after HELO it advertises nothing), so it will refuse to log you in.")


@before
def auth_in_plaintext(core: ClientSession, line: Line) -> Advice | None:
    ctx = _auth_context(core, line)
    if ctx and not core.tls and ctx[0].auth_mechanisms and ctx[0].has("STARTTLS"):
        return Advice("auth-in-plaintext", "Your password would cross the network unencrypted: "
                                           "send STARTTLS first (then EHLO again).")


@before
def auth_mechanism(core: ClientSession, line: Line) -> Advice | None:
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
def auth_initial_response(core: ClientSession, line: Line) -> Advice | None:
    if line.verb == "AUTH" and line.command is not None:
        mechanism, _, response = line.command.args.strip().partition(" ")
        problem = sasl.diagnose_response(response, mechanism) if response.strip() else None
        if problem:
            return Advice("auth-response", f"This AUTH {mechanism.upper()} response looks wrong: {problem}.")
    return None


@before
def auth_twice(core: ClientSession, line: Line) -> Advice | None:
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
def auth_plain_text(core: ClientSession, line: Line) -> Advice | None:
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
def command_in_data(core: ClientSession, line: Line) -> Advice | None:
    if line.mode == "data" and _COMMAND_LIKE.fullmatch(line.text.strip()):
        return Advice("command-in-data", "You are in DATA mode, so this line becomes part of the message, "
                                         "not a command; end the message with a line holding only '.' first.")


@before
def dot_with_spaces(core: ClientSession, line: Line) -> Advice | None:
    if line.mode == "data" and line.text != "." and line.text.strip() == ".":
        return Advice("dot-with-spaces", "Only a line holding a single '.' with nothing around it ends the message; "
                                         "this one will be sent as text.")


@before
def body_in_headers(core: ClientSession, line: Line) -> Advice | None:
    if line.mode == "data" and line.text not in ("", ".") and line.text.strip() != "." and _ends_headers(line):
        return Advice("body-in-headers", "This looks like body text but the headers have not ended: "
                                         "type an empty line first, or it will be read as a broken header.")


@before
def missing_from(core: ClientSession, line: Line) -> Advice | None:
    if line.mode == "data" and _ends_headers(line) and not line.data.has("from"):
        return Advice("missing-from", "The headers end without a From: line, which RFC 5322 requires, "
                                      "e.g. From: Student <student@lab.test>.")


@before
def missing_date(core: ClientSession, line: Line) -> Advice | None:
    if line.mode == "data" and _ends_headers(line) and not line.data.has("date"):
        return Advice("missing-date", "The headers end without a Date: line, which RFC 5322 requires "
                                      "(:date prints one to copy).")


_ADDRESS_HEADERS = {"from", "to", "cc", "bcc", "reply-to", "sender"}


@before
def non_ascii_header(core: ClientSession, line: Line) -> Advice | None:
    text = line.text
    if line.mode != "data" or line.data is None or not line.data.in_headers or text.isascii() \
            or not (text[:1] in (" ", "\t") or _HEADER.match(text)):
        return None
    if "SMTPUTF8" in core.mail_parameters:
        return None  # RFC 6532: inside an SMTPUTF8 transaction headers may be raw UTF-8
    m = _HEADER.match(text)
    if m and m.group(1).lower() in _ADDRESS_HEADERS and not "".join(re.findall(r"<([^>]*)>", text)).isascii():
        return Advice("non-ascii-address-header", "A non-ASCII address cannot be an encoded word (RFC 2047 §5 forbids "
                                                  "them in an address): it needs MAIL FROM:<...> SMTPUTF8 (RFC 6531); "
                                                  "only the display name may be written =?utf-8?b?...?=.")
    return Advice("non-ascii-header", "This header has non-ASCII characters without RFC 2047 encoding: "
                                      "write them as =?utf-8?b?...?= (:compose does it for you), or send the message "
                                      "with MAIL FROM:<...> SMTPUTF8.")


@before
def malformed_date(core: ClientSession, line: Line) -> Advice | None:
    m = _HEADER.match(line.text) if line.mode == "data" and line.data.in_headers else None
    if m and m.group(1).lower() == "date":
        problem = check_date_header(line.text[m.end():])
        if problem:
            return Advice("bad-date", f"This Date header is malformed: {problem} (:date prints a correct one).")


# The after-reply hints live in their own module; importing it registers them.
from smtp_shell.protocol import hints  # noqa: E402,F401
