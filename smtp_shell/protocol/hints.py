"""Hints after an error reply: each names the likely cause of a 4xx/5xx a student just got.

Part of the advisor (`smtp_shell.protocol.advisor` imports this module, which registers them):
the same `Advice`, registry and table questions from `rules`, kept in their own module so each
reads in one sitting. Each hint is one small `@after` rule seeing the session and the reply
event; adding a hint is adding one rule here and one test.
"""

from __future__ import annotations

from smtp_shell.protocol import sasl
from smtp_shell.protocol.capabilities import human_size
from smtp_shell.protocol.commands import VERBS
from smtp_shell.protocol.events import ReplyEvent
from smtp_shell.protocol.model import SessionModel
from smtp_shell.protocol.rules import (
    ENVELOPE,
    KEYWORD,
    Advice,
    after,
    esmtp_param_problem,
    needs_ehlo_after_tls,
    steps_to,
    syntax_of,
    table_verbs,
)
from smtp_shell.protocol.states import State


def _code(event: ReplyEvent) -> int:
    return event.reply.code


@after
def hint_greeting_refused(core: SessionModel, event: ReplyEvent) -> Advice | None:
    if event.kind == "greeting" and event.reply.klass in (4, 5):
        return Advice("greeting-refused", "The server refused this session in its greeting: QUIT, then try later or another server.")


@after
def hint_closing(core: SessionModel, event: ReplyEvent) -> Advice | None:
    if _code(event) == 421:
        return Advice("server-closing", "The server is closing the connection: use :reconnect to start a new session.")


def _wants_tls(core: SessionModel, event: ReplyEvent) -> bool:
    """A 530/538 that asks for TLS rather than for a login."""
    if core.tls or _code(event) not in (530, 538):
        return False
    caps = core.capabilities or core.capabilities_before_tls
    offers_tls_only = caps is not None and caps.has("STARTTLS") and not caps.auth_mechanisms
    return _code(event) == 538 or "TLS" in event.reply.text.upper() or offers_tls_only


@after
def hint_starttls_first(core: SessionModel, event: ReplyEvent) -> Advice | None:
    if _wants_tls(core, event):
        return Advice("starttls-first", "This server wants an encrypted connection first: send STARTTLS, "
                                        "then EHLO again, then try this again.")


@after
def hint_login_first(core: SessionModel, event: ReplyEvent) -> Advice | None:
    if _code(event) == 530 and not _wants_tls(core, event) and not core.authenticated_user:
        return Advice("login-first", "The server wants you to log in first: AUTH LOGIN (or :auth login).")


@after
def hint_auth_failed(core: SessionModel, event: ReplyEvent) -> Advice | None:
    if _code(event) == 535:
        return Advice("auth-failed", "Login failed: the username or password is wrong, or its base64 holds an "
                                     "extra newline (echo adds one); :auth login encodes them for you.")


@after
def hint_not_base64(core: SessionModel, event: ReplyEvent) -> Advice | None:
    if _code(event) != 501 or event.verb not in ("AUTH", "<auth>"):
        return None
    if event.verb == "AUTH" and event.command is not None:
        mechanism, _, response = event.command.args.strip().partition(" ")
        problem = sasl.diagnose_response(response, mechanism) if response.strip() else None
        if problem:
            return Advice("auth-response", f"The server could not use that AUTH {mechanism.upper()} response: {problem}.")
    return Advice("auth-not-base64", "501 means the server could not parse that AUTH answer: it must be base64 "
                                     "(for PLAIN: of authzid NUL user NUL password); :b64 or :auth builds it.")


@after
def hint_mechanism(core: SessionModel, event: ReplyEvent) -> Advice | None:
    if _code(event) == 504 and event.verb == "AUTH":
        offered = core.capabilities.auth_mechanisms if core.capabilities else ()
        listed = ", ".join(offered) if offered else "the ones in the EHLO reply"
        return Advice("auth-mechanism", f"Use a mechanism the server advertised ({listed}), written in capitals.")


@after
def hint_helo_fallback(core: SessionModel, event: ReplyEvent) -> Advice | None:
    if event.verb == "EHLO" and _code(event) in (500, 502):
        return Advice("helo-fallback", "This server does not speak ESMTP (it did not understand EHLO): fall back to "
                                       "HELO with the same name, as RFC 5321 §4.1.1.1 says; you get no extensions.")


@after
def hint_auth_not_enabled(core: SessionModel, event: ReplyEvent) -> Advice | None:
    if event.verb == "AUTH" and _code(event) in (502, 503) and "not enabled" in event.reply.text.lower():
        return Advice("auth-not-enabled", "The server has no AUTH on this connection (Postfix says 'authentication "
                                          "not enabled'): it did not advertise AUTH, so there is nothing to log in to "
                                          "here; check the EHLO reply (after STARTTLS) or use the submission port.")


_TRANSIENT = {450: "the mailbox is busy or not available right now", 451: "the server had a local problem or is "
              "greylisting you", 452: "the server is short of storage or you hit a recipient limit",
              454: "TLS or the login is not available right now", 455: "the server cannot take these parameters now"}


@after
def hint_transient(core: SessionModel, event: ReplyEvent) -> Advice | None:
    code = _code(event)
    if event.reply.klass != 4 or code == 421 or event.kind == "greeting":
        return None
    enhanced = event.reply.enhanced or ""
    why = ("greylisting: the first try of a new sender/recipient pair is put off on purpose"
           if enhanced == "4.7.1" or "greylist" in event.reply.text.lower()
           else _TRANSIENT.get(code, "something on the server's side is temporarily wrong"))
    return Advice("try-later", f"{code} is temporary ({why}): try the same command again later - that is what "
                               "4xx means; a real mail server keeps the message and retries for days.")


@after
def hint_bad_sequence(core: SessionModel, event: ReplyEvent) -> Advice | None:
    verb, state = event.verb, event.state_before
    if _code(event) != 503 or verb not in table_verbs():
        return None
    if verb == "AUTH" and "not enabled" in event.reply.text.lower():
        return None  # hint_auth_not_enabled says it better
    if needs_ehlo_after_tls(core, state):
        return Advice("ehlo-after-starttls", "After STARTTLS the server forgot your EHLO: send EHLO again first.")
    if verb == "MAIL" and state in (State.MAIL, State.RCPT):
        return Advice("nested-mail", "A message is already under way: go on with RCPT TO, or RSET to start over.")
    if verb == "AUTH" and core.authenticated_user:
        return Advice("auth-twice", "You are already logged in on this connection.")
    path = steps_to(state, verb)
    if path:
        return Advice("bad-sequence", f"The server wants another command first: {syntax_of(path)}.")


@after
def hint_unknown_command(core: SessionModel, event: ReplyEvent) -> Advice | None:
    verb = event.command.verb if event.command else ""
    if _code(event) in (500, 502) and verb and verb not in VERBS:
        import difflib

        close = difflib.get_close_matches(verb, VERBS, n=1, cutoff=0.6)
        if close:
            return Advice("mistyped-verb", f"{verb} is not an SMTP command; did you mean {close[0]}?")


@after
def hint_address_syntax(core: SessionModel, event: ReplyEvent) -> Advice | None:
    if _code(event) in (501, 553) and event.verb in KEYWORD and event.command is not None:
        m = ENVELOPE.match(event.command.args)
        if m and m.group(2) and not m.group(2).startswith("<"):
            return Advice("address-brackets", f"Write the address in angle brackets, as in {VERBS[event.verb][0]}.")
        problem = esmtp_param_problem(m.group(3)) if m else None
        if problem:
            return Advice("esmtp-params", f"The address is fine, the parameters are not: {problem}.")
        return Advice("address-syntax", "Check the address: one @, no spaces, inside <...> right after the colon.")


@after
def hint_unknown_mailbox(core: SessionModel, event: ReplyEvent) -> Advice | None:
    if event.verb == "RCPT" and _code(event) in (550, 551) and event.reply.enhanced in (None, "5.1.1"):
        return Advice("unknown-mailbox", "That mailbox is unknown here: check the spelling, or use an address this server hosts.")


@after
def hint_relay_denied(core: SessionModel, event: ReplyEvent) -> Advice | None:
    if event.verb == "RCPT" and (_code(event) == 554 or event.reply.enhanced == "5.7.1"):
        return Advice("relay-denied", "The server will not take mail for that address from you: log in first "
                                      "(AUTH), or send to a domain it hosts.")


@after
def hint_too_big(core: SessionModel, event: ReplyEvent) -> Advice | None:
    if _code(event) == 552 or event.reply.enhanced == "5.3.4":
        size = core.capabilities.size if core.capabilities else None
        limit = f" (its SIZE limit is {human_size(size)})" if size else ""
        return Advice("too-big", f"The message is larger than the server accepts{limit}: shrink it or drop an attachment.")


@after
def hint_line_too_long(core: SessionModel, event: ReplyEvent) -> Advice | None:
    if event.verb == "<dot>" and _code(event) == 500 and "long" in event.reply.text.lower():
        return Advice("line-too-long", "A line of the message was over 1000 octets: wrap it, or let :compose encode the body.")


def permanent_fallback(event: ReplyEvent) -> Advice | None:
    """For a 5xx no rule above explains: what it is, that repeating it fails the same way, and
    the catalogue's most usual cause (called by `advisor.hints_after` when nothing else spoke)."""
    if event.reply.klass != 5:
        return None
    from smtp_shell.protocol import catalogue  # the reply-code texts: loaded with the first 5xx

    entry = catalogue.lookup(str(_code(event)))
    if entry is None:
        return Advice("permanent", f"{_code(event)} is a permanent failure: sending the same again fails the same "
                                   "way; :explain tells what it means.")
    cause = f" Usual cause: {entry.causes[0]}" if entry.causes else ""
    return Advice("permanent", f"{_code(event)} ({entry.summary.lower()}) is permanent: the same command fails the "
                               f"same way until something changes.{cause}")
