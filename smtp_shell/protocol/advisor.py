"""The advisor: novice mistakes caught before a line is sent and explained after an error reply.

Each rule is one small pure function registered with `@before` (sees the session and a `Line`,
the typed text already described) or `@after` (sees the session and the reply event). It
returns an `Advice` or None. The shell only displays advice: in the REPL a warning asks "send
anyway?", in batch mode it is printed and the line is sent as typed. Adding a mistake is adding
one rule here and one test. Order questions ("is MAIL allowed now?") go to the state table in
`states`, never to a copy of it. Messages never repeat what was typed in AUTH mode (a secret).

The advisor is pure: rules read the session model (`model.SessionModel`: the transaction and
its MAIL parameters, the message sent so far, AUTH, TLS) and keep nothing. Asking about a line
changes nothing; the line counts once the core sends it, so a line the student declines leaves
the next warnings exactly as they were.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import NamedTuple

from smtp_shell.protocol import sasl
from smtp_shell.protocol.capabilities import Capabilities
from smtp_shell.protocol.commands import VERBS, Command, classify
from smtp_shell.protocol.errors import LocalProtocolError
from smtp_shell.protocol.model import HEADER, MessageSoFar, SessionModel
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
from smtp_shell.protocol.states import State, expected, sensible_verbs

__all__ = ["Advice", "Line", "check_before", "hints_after", "projected_state", "steps_to"]


BODY: list[Callable[..., Advice | None]] = []


def body(fn: Callable[..., Advice | None]) -> Callable[..., Advice | None]:
    """Also run this before-rule on message body lines (after the header block). Only these run
    there: a 20,000-line body must not cost 30 rules per line. A body rule is also `@before`."""
    BODY.append(fn)
    return fn


# ---- what a before-rule sees ----------------------------------------------------------------

_HEADER = HEADER
_ADDRESS_HEADERS = frozenset({"from", "to", "cc", "bcc", "reply-to", "sender", "resent-from", "resent-to",
                              "resent-cc", "resent-bcc", "resent-sender"})


class Line(NamedTuple):
    """The line a before-rule judges (immutable; a tuple, made once per typed or body line)."""

    text: str
    mode: str                       # "command" | "data" | "auth"
    state: State                    # the state once the commands still in flight succeed
    command: Command | None         # command mode only
    data: MessageSoFar              # data mode: the message sent before this line

    @property
    def verb(self) -> str:
        return self.command.verb if self.command else ""

    @property
    def args(self) -> str:
        """What follows the verb (command mode), else ""."""
        return self.command.args if self.command else ""


def _model(session: SessionModel | ClientSession) -> SessionModel:
    return session.model if isinstance(session, ClientSession) else session


def projected_state(session: SessionModel | ClientSession) -> State:
    """The session state assuming every command in flight (pipelining) succeeds."""
    return _model(session).projected_state


def check_before(session: SessionModel | ClientSession, text: str) -> list[Advice]:
    """Warnings about sending `text` now, given the session. Pure: reading the session only,
    so asking about a line the student then declines changes nothing."""
    model = _model(session)
    mode, command = model.mode, None
    data = model.message if mode == "data" and model.message is not None else MessageSoFar()
    if mode == "command":
        try:
            command = classify(text)
        except LocalProtocolError:
            return []  # the core itself refuses the line, with its own sentence
    rules = BODY if mode == "data" and not data.in_headers else BEFORE
    line = Line(text, mode, model.state if rules is BODY else model.projected_state, command, data)
    return [advice for rule in rules if (advice := rule(model, line)) is not None]


def hints_after(session: SessionModel | ClientSession, event: object) -> list[Advice]:
    """Hints after a reply event (usually a 4xx/5xx) naming the likely cause."""
    if not isinstance(event, ReplyEvent) or event.reply.klass in (2, 3):
        return []  # every hint is about a 4xx/5xx (tests/protocol/test_hints_by_class.py holds them to it)
    model = _model(session)
    found = [advice for rule in AFTER if (advice := rule(model, event)) is not None]
    if not found and event.kind != "greeting":
        from smtp_shell.protocol.hints import permanent_fallback  # registered with the other hints

        found = [a for a in (permanent_fallback(event),) if a is not None]
    return found


# ---- before: command order (asked of the state table) -------------------------------------------

@before
def no_greeting(core: SessionModel, line: Line) -> Advice | None:
    if line.mode == "command" and line.state is State.CONNECTED:
        return Advice("before-greeting", "The server has not sent its 220 greeting yet; wait for it, "
                                         "because many servers drop clients that talk first.")


@before
def greeting_refused(core: SessionModel, line: Line) -> Advice | None:
    if line.state is State.REJECTED and line.verb in table_verbs() and not expected(State.REJECTED, line.verb):
        return Advice("after-refusal", "The server refused this session in its greeting, so only "
                                       f"{', '.join(sensible_verbs(State.REJECTED))} make sense now.")


@before
def ehlo_after_starttls(core: SessionModel, line: Line) -> Advice | None:
    if line.mode == "command" and line.verb not in ("EHLO", "HELO", "QUIT", "NOOP", "RSET", "HELP", "") \
            and needs_ehlo_after_tls(core, line.state):
        return Advice("ehlo-after-starttls", "After STARTTLS the server has forgotten your EHLO: "
                                             "send EHLO again before anything else.")


@before
def out_of_order(core: SessionModel, line: Line) -> Advice | None:
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
def nested_mail(core: SessionModel, line: Line) -> Advice | None:
    if line.verb == "MAIL" and line.state in (State.MAIL, State.RCPT):
        if core.transaction is not None and not core.transaction.accepted:
            return Advice("nested-mail", "The MAIL FROM you sent is still waiting for its reply; if the server "
                                         "accepts it, a second MAIL is refused (503). Wait for the reply first.")
        return Advice("nested-mail", "A message is already under way (MAIL was accepted): go on with "
                                     "RCPT TO and DATA, or send RSET to start over.")


# ---- before: what a command says -------------------------------------------------------------

@before
def envelope_keyword(core: SessionModel, line: Line) -> Advice | None:
    if line.verb in KEYWORD:
        m = ENVELOPE.match(line.args)
        want = KEYWORD[line.verb]
        if not m or m.group(1).upper() != want:
            return Advice("missing-from-to", f"{line.verb} needs '{want}:' before the address, "
                                             f"as in {VERBS[line.verb][0]}.")


@before
def angle_brackets(core: SessionModel, line: Line) -> Advice | None:
    if line.verb in KEYWORD and (m := ENVELOPE.match(line.args)):
        address = m.group(2)
        if not address:
            return Advice("missing-address", f"{line.verb} needs an address after the colon, as in {VERBS[line.verb][0]}.")
        if not address.startswith("<"):
            return Advice("address-brackets", f"Put the address in angle brackets ({line.verb} "
                          f"{m.group(1).upper()}:<{address}>): RFC 5321 requires them, and strict servers refuse a bare address.")


def _smtputf8_offered(core: SessionModel) -> str:
    offered = core.capabilities is not None and core.capabilities.has("SMTPUTF8")
    return "this server advertised SMTPUTF8" if offered else "this server did not advertise SMTPUTF8, so it will likely refuse"


@before
def esmtp_params(core: SessionModel, line: Line) -> Advice | None:
    if line.verb in KEYWORD and (m := ENVELOPE.match(line.args)) and m.group(2).startswith("<"):
        problem = esmtp_param_problem(m.group(3))
        if problem:
            return Advice("esmtp-params", problem[0].upper() + problem[1:] + ".")
    return None


@before
def utf8_address(core: SessionModel, line: Line) -> Advice | None:
    if line.verb in KEYWORD and not line.args.isascii():
        m = ENVELOPE.match(line.args)
        if not m or m.group(2).isascii():
            return None
        if line.verb == "MAIL" and "SMTPUTF8" in m.group(3).upper().split():
            return None
        if line.verb == "RCPT" and core.smtputf8:
            return None  # this message was started with MAIL FROM:<...> SMTPUTF8
        return Advice("utf8-address", f"This address is not ASCII, which needs MAIL FROM:<...> SMTPUTF8 "
                                      f"for the whole message ({_smtputf8_offered(core)}).")


@before
def mistyped_verb(core: SessionModel, line: Line) -> Advice | None:
    verb = line.verb
    if line.mode != "command" or not verb or verb in VERBS:
        return None
    if core.capabilities is not None and core.capabilities.has(verb):
        return None  # a server extension the student means to use (XCLIENT, ...)
    typed = line.text.split()[0]
    glued = next((v for v in VERBS if verb.startswith(v)), None)
    if glued:
        return Advice("mistyped-verb", f"{typed} is not an SMTP command; did you mean {glued} followed by a space?")
    import difflib  # only for a verb that is not one: not at start-up

    close = difflib.get_close_matches(verb, VERBS, n=1, cutoff=0.6)
    if close:
        return Advice("mistyped-verb", f"{typed} is not an SMTP command; did you mean {close[0]}?")
    return Advice("unknown-verb", f"{typed} is not an SMTP command, so the server will probably answer 500 "
                                  "(:help lists the commands).")


# ---- before: CHUNKING (RFC 3030): BDAT and DATA never mix in one transaction ---------------------

_BDAT_LINE = re.compile(r"BDAT\s+\d+(\s+LAST)?\s*", re.I)


@before
def bdat_then_data(core: SessionModel, line: Line) -> Advice | None:
    if line.verb == "DATA" and core.bdat_used:
        return Advice("bdat-then-data", "This message already went out in BDAT chunks, and RFC 3030 forbids "
                                        "mixing BDAT and DATA in one transaction: end it with BDAT n LAST "
                                        "(or RSET to start over).")


@before
@body
def bdat_in_data(core: SessionModel, line: Line) -> Advice | None:
    if line.mode == "data" and _BDAT_LINE.fullmatch(line.text):
        return Advice("bdat-in-data", "You are in DATA mode, and BDAT and DATA cannot be mixed in one "
                                      "transaction: this line becomes message text; end the message with '.'.")


@before
def bdat_not_offered(core: SessionModel, line: Line) -> Advice | None:
    caps = core.capabilities
    if line.verb == "BDAT" and caps is not None and not caps.has("CHUNKING"):
        return Advice("bdat-not-offered", "The server did not advertise CHUNKING, so it will not understand "
                                          "BDAT: use DATA instead.")


@before
def bdat_size(core: SessionModel, line: Line) -> Advice | None:
    if line.command is not None and line.verb == "BDAT" and not re.fullmatch(r"\d+(\s+LAST)?", line.command.args, re.I):
        return Advice("bdat-size", "BDAT needs the chunk size in octets (CRLF counts as 2), then LAST on the "
                                   "final chunk, e.g. BDAT 27 LAST.")


# ---- before: STARTTLS and AUTH ------------------------------------------------------------------

@before
def starttls_twice(core: SessionModel, line: Line) -> Advice | None:
    if line.verb == "STARTTLS" and core.tls:
        return Advice("starttls-twice", "TLS is already on, so the server will refuse a second STARTTLS.")


@before
def starttls_not_offered(core: SessionModel, line: Line) -> Advice | None:
    caps = core.capabilities
    if line.verb == "STARTTLS" and not core.tls and caps is not None and not caps.has("STARTTLS"):
        return Advice("starttls-not-offered", "The server did not advertise STARTTLS in its EHLO reply, "
                                              "so it will most likely refuse it.")


def _auth_context(core: SessionModel, line: Line) -> tuple[Capabilities, str] | None:
    """(capabilities, mechanism typed) for an AUTH line once EHLO is done, else None."""
    if line.verb != "AUTH" or core.capabilities is None or needs_ehlo_after_tls(core, line.state):
        return None
    return core.capabilities, line.args.partition(" ")[0]


@before
def auth_needs_tls(core: SessionModel, line: Line) -> Advice | None:
    ctx = _auth_context(core, line)
    if ctx and not core.tls and not ctx[0].auth_mechanisms and ctx[0].has("STARTTLS"):
        return Advice("auth-needs-tls", "The server did not advertise AUTH, but it offers STARTTLS, and many "
                                        "servers list AUTH only under TLS: send STARTTLS, then EHLO again, and "
                                        "look for AUTH before you log in.")


@before
def auth_not_offered(core: SessionModel, line: Line) -> Advice | None:
    ctx = _auth_context(core, line)
    if ctx and not ctx[0].auth_mechanisms and (core.tls or not ctx[0].has("STARTTLS")):
        return Advice("auth-not-offered", "The server did not advertise AUTH in its EHLO reply"
                                          " (after HELO it advertises nothing), so it will refuse to log you in.")


@before
def auth_in_plaintext(core: SessionModel, line: Line) -> Advice | None:
    """Whenever the connection is not encrypted, whatever the server advertised (a server, or
    someone in the middle, that strips STARTTLS from EHLO must not get a silent login)."""
    if line.verb != "AUTH" or core.tls:
        return None
    caps = core.capabilities
    if caps is not None and not caps.auth_mechanisms:
        return None  # auth-needs-tls or auth-not-offered says what will happen instead
    if caps is not None and caps.has("STARTTLS"):
        return Advice("auth-in-plaintext", "Your password would cross the network unencrypted: "
                                           "send STARTTLS first (then EHLO again).")
    return Advice("auth-in-plaintext", "Your password would cross the network unencrypted: this connection "
                                       "has no TLS and the server did not offer STARTTLS, so anyone on the path "
                                       "can read it; log in only with a throw-away lab password.")


@before
def auth_mechanism(core: SessionModel, line: Line) -> Advice | None:
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
def auth_initial_response(core: SessionModel, line: Line) -> Advice | None:
    if line.verb == "AUTH" and line.command is not None:
        mechanism, _, response = line.command.args.strip().partition(" ")
        problem = sasl.diagnose_response(response, mechanism) if response.strip() else None
        if problem:
            return Advice("auth-response", f"This AUTH {mechanism.upper()} response looks wrong: {problem}.")
    return None


@before
def auth_twice(core: SessionModel, line: Line) -> Advice | None:
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
def auth_plain_text(core: SessionModel, line: Line) -> Advice | None:
    text = line.text.strip()
    if line.mode != "auth" or text in ("", "*", "="):
        return None
    mechanism = core.auth.mechanism if core.auth is not None else "LOGIN"
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
@body
def command_in_data(core: SessionModel, line: Line) -> Advice | None:
    if line.mode == "data" and _COMMAND_LIKE.fullmatch(line.text.strip()):
        return Advice("command-in-data", "You are in DATA mode, so this line becomes part of the message, "
                                         "not a command; end the message with a line holding only '.' first.")


@before
@body
def dot_with_spaces(core: SessionModel, line: Line) -> Advice | None:
    if line.mode == "data" and line.text != "." and line.text.strip() == ".":
        return Advice("dot-with-spaces", "Only a line holding a single '.' with nothing around it ends the message; "
                                         "this one will be sent as text.")


@before
def body_in_headers(core: SessionModel, line: Line) -> Advice | None:
    if line.mode == "data" and line.text not in ("", ".") and line.text.strip() != "." and _ends_headers(line):
        return Advice("body-in-headers", "This looks like body text but the headers have not ended: "
                                         "type an empty line first, or it will be read as a broken header.")


@before
def missing_from(core: SessionModel, line: Line) -> Advice | None:
    if line.mode == "data" and _ends_headers(line) and not line.data.has("from"):
        return Advice("missing-from", "The headers end without a From: line, which RFC 5322 requires, "
                                      "e.g. From: Student <student@lab.test>.")


@before
def missing_date(core: SessionModel, line: Line) -> Advice | None:
    if line.mode == "data" and _ends_headers(line) and not line.data.has("date"):
        return Advice("missing-date", "The headers end without a Date: line, which RFC 5322 requires "
                                      "(:date prints one to copy).")


def _header_of(line: Line) -> tuple[str, str] | None:
    """(field name, value) of a header line; a folded continuation belongs to the last header."""
    text = line.text
    if text[:1] in (" ", "\t"):
        return (line.data.headers[-1], text) if line.data.headers else None
    m = _HEADER.match(text)
    return (m.group(1).lower(), text[m.end():]) if m else None


def _non_ascii_address(value: str) -> bool:
    """An address (not a display name) in this header value has non-ASCII characters."""
    addresses = re.findall(r"<([^<>]*)>", value)
    if not addresses:  # bare addresses: the words holding an @
        addresses = [word for word in re.split(r"[\s,]+", value) if "@" in word]
    return any(not address.isascii() for address in addresses)


@before
def non_ascii_header(core: SessionModel, line: Line) -> Advice | None:
    if line.mode != "data" or not line.data.in_headers or line.text.isascii() or core.smtputf8:
        return None  # in an SMTPUTF8 message, UTF-8 header fields are allowed as they are (RFC 6532)
    header = _header_of(line)
    if header is None:
        return None
    name, value = header
    if name in _ADDRESS_HEADERS and _non_ascii_address(value):
        # RFC 2047 §5 forbids encoded-words in an address: only SMTPUTF8 can carry this one.
        return Advice("non-ascii-address", "This header has a non-ASCII address, which RFC 2047 encoding cannot "
                                           "carry (it is only for display names and text): the message needs "
                                           f"SMTPUTF8, so RSET and start again with MAIL FROM:<...> SMTPUTF8 "
                                           f"({_smtputf8_offered(core)}).")
    return Advice("non-ascii-header", "This header has non-ASCII characters without RFC 2047 encoding: "
                                      "write them as =?utf-8?b?...?= (:compose does it for you), or start the "
                                      "message with MAIL FROM:<...> SMTPUTF8.")


@before
def malformed_date(core: SessionModel, line: Line) -> Advice | None:
    m = _HEADER.match(line.text) if line.mode == "data" and line.data.in_headers else None
    if m and m.group(1).lower() == "date":
        from smtp_shell.protocol.dates import check_date_header  # email.utils etc.: only for a Date header

        problem = check_date_header(line.text[m.end():])
        if problem:
            return Advice("bad-date", f"This Date header is malformed: {problem} (:date prints a correct one).")


# The after-reply hints live in their own module; importing it registers them.
from smtp_shell.protocol import hints  # noqa: E402,F401
