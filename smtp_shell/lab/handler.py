"""The lab's aiosmtpd handler: envelope rules, scripted faults and delivery to the mailbox.

aiosmtpd calls these hooks once a command has passed its own syntax checks. Here the lab
decides what a student's MAIL, RCPT and DATA get: the scripted faults first (rejections,
greylisting, limits), then delivery of one `.eml` copy per recipient with trace headers in
front of the untouched message bytes. Nothing is ever relayed: every recipient is local.
Per-connection behaviour (logging, AUTH throttling, limits) lives in session.py.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as _dt
import email.utils
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from aiosmtpd.smtp import AuthResult

from smtp_shell.lab.accounts import Accounts
from smtp_shell.lab.faults import Faults
from smtp_shell.lab.limits import MAX_PER_ADDRESS, MAX_RECIPIENTS, AuthThrottle
from smtp_shell.lab.mailbox import Mailbox, MailboxError
from smtp_shell.lab.notify import call_each
from smtp_shell.lab.profiles import Profile
from smtp_shell.lab.safetext import visible

MAX_AUTH_FAILURES = 5
LOCAL_DOMAIN = "lab.test"   # the domain the lab hosts; others are "relayed" (kept here) only after AUTH
# RFC 6531 §3.5: a non-ASCII address in a transaction whose MAIL FROM had no SMTPUTF8.
NEEDS_SMTPUTF8 = "553 5.6.7 Non-ASCII address without SMTPUTF8: say MAIL FROM:<...> SMTPUTF8 (RFC 6531)"


@dataclass
class LabContext:
    """What every session of one lab server shares."""
    hostname: str
    accounts: Accounts
    faults: Faults
    mailbox: Mailbox
    max_sessions: int
    max_commands: int
    max_per_address: int = MAX_PER_ADDRESS
    max_recipients: int = MAX_RECIPIENTS
    auth_throttle: AuthThrottle = field(default_factory=AuthThrottle)
    on_event: Callable[[str], None] | None = None
    profile: Profile = field(default_factory=Profile)
    sessions: set = field(default_factory=set)
    per_address: collections.Counter = field(default_factory=collections.Counter)  # open sessions per client address
    session_counter: int = 0
    messages_saved: int = 0
    greylist_seen: set = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    observers: list = field(default_factory=list)  # callables(session, kind, data): see observe()

    def observe(self, session, kind: str, data) -> None:
        """Tell the observers (check-client, the web view) what a session just did: "open"
        (data: the peer), "client" (bytes as received), "server" (one reply line), "tls"
        (the TLS version), "close". Called in the server's event loop; must not block."""
        call_each(self.observers, session, kind, data)

    def event(self, text: str) -> None:
        if self.on_event is not None:
            call_each((self.on_event,), text)  # a broken listener must not break the server


def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    """aiosmtpd authenticator (a plain function, as aiosmtpd requires) for PLAIN and LOGIN.
    An account under attack (too many failures from anywhere) refuses even the right password
    until the throttle's window has passed: otherwise a spread-out guesser would still win."""
    throttle = server.lab.auth_throttle
    account = auth_data.login.decode("utf-8", "replace")
    locked = throttle.locked(server.peer_address, account)
    user = None if locked else server.lab.accounts.check(auth_data.login, auth_data.password)
    if user is not None:
        server.log.note(f"authenticated as {user}")
        return AuthResult(success=True, auth_data=user)
    server.auth_failures += 1
    if not locked:
        throttle.failed(server.peer_address, account)
    server.log.note(f"authentication failed ({server.auth_failures} in this session"
                    + ("; the account or address is locked for a while)" if locked else ")"))
    if server.auth_failures >= MAX_AUTH_FAILURES:
        server.close_after_reply = True
        return AuthResult(success=False, handled=False,
                          message="421 4.7.0 Too many failed authentication attempts, closing connection")
    return AuthResult(success=False, handled=False)  # aiosmtpd replies 535 5.7.8


def _clean(text: str, limit: int = 200) -> str:
    """A client-chosen string made fit for a header line: no control characters, bounded."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return visible(text)[:limit]


class LabHandler:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname  # required when this hook exists
        head, last = responses[:-1], responses[-1]
        return head + ["250-PIPELINING", "250-ENHANCEDSTATUSCODES", last]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        faults: Faults = server.lab.faults
        if not address.isascii() and not envelope.smtp_utf8:
            return NEEDS_SMTPUTF8
        if faults.max_size is not None:
            for option in mail_options:
                name, _, value = option.partition("=")
                if name == "SIZE" and value.isdigit() and int(value) > faults.max_size:
                    return f"552 5.3.4 Message size exceeds fixed limit of {faults.max_size} bytes"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Sender OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        lab: LabContext = server.lab
        faults = lab.faults
        if not address.isascii() and not envelope.smtp_utf8:
            return NEEDS_SMTPUTF8
        if faults.relay_requires_auth and not session.authenticated \
                and address.rpartition("@")[2].lower() != LOCAL_DOMAIN:
            return f"554 5.7.1 <{_clean(address)}>: Relay access denied (log in with AUTH to send beyond {LOCAL_DOMAIN})"
        reply = faults.rejection_for(address)
        if reply is not None:
            return reply
        most = min(lab.max_recipients, faults.max_recipients if faults.max_recipients is not None else lab.max_recipients)
        if len(envelope.rcpt_tos) >= most:
            return "452 4.5.3 Too many recipients"
        if faults.greylist:
            triple = (str(session.peer[0]) if session.peer else "", (envelope.mail_from or "").lower(),
                      address.lower())
            if triple not in lab.greylist_seen:
                lab.greylist_seen.add(triple)
                return "451 4.7.1 Greylisted, please try again later"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Recipient OK"

    async def handle_DATA(self, server, session, envelope):
        lab: LabContext = server.lab
        content: bytes = envelope.original_content
        if lab.faults.max_size is not None and len(content) > lab.faults.max_size:
            return f"552 5.3.4 Message size exceeds fixed limit of {lab.faults.max_size} bytes"
        if lab.profile.strict and not content.isascii() and not {"BODY=8BITMIME", "BODY=BINARYMIME"} & {
                o.upper() for o in envelope.mail_options}:
            return "554 5.6.0 8-bit message content without BODY=8BITMIME on MAIL FROM (RFC 6152)"
        recipients = list(dict.fromkeys(r.lower() for r in envelope.rcpt_tos))
        trace = _trace_headers(server, session, envelope)
        try:  # the writer thread answers once this message (and any others waiting) is synced to disk
            stored = await asyncio.wrap_future(lab.mailbox.submit([(rcpt, trace(rcpt) + content)
                                                                   for rcpt in recipients]))
        except (OSError, MailboxError) as exc:
            server.log.note(f"could not save the message: {exc}")
            return "451 4.3.0 The lab mailbox could not save the message, try again later"
        with lab.lock:
            lab.messages_saved += len(stored)
        ids = ", ".join(m.id for m in stored)
        server.log.note(f"saved as {ids}")
        lab.event(f"message from <{_clean(envelope.mail_from or '')}> to "
                  f"{', '.join('<' + _clean(r) + '>' for r in recipients)} saved as {ids}")
        more = f" (+{len(stored) - 1} more)" if len(stored) > 1 else ""
        return f"250 2.6.0 Message saved as {stored[0].id}{more}"

    async def handle_exception(self, error):  # must be async despite aiosmtpd's documentation
        return f"451 4.3.0 Lab server error ({error.__class__.__name__}), try again"


_dates: list = [None, ""]  # (the second, its RFC 5322 date): formatted once a second


def _date() -> str:
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0)
    if now != _dates[0]:
        _dates[0], _dates[1] = now, email.utils.format_datetime(now)
    return _dates[1]


def _trace_headers(server, session, envelope) -> Callable[[str], bytes]:
    """Return-Path, Delivered-To, Received, X-Lab-Authenticated-User and X-Lab-TLS, one line each."""
    peer_ip = str(session.peer[0]) if session.peer else "unknown"
    tls = server.uses_tls
    user = session.auth_data if session.authenticated and isinstance(session.auth_data, str) else None
    protocol = ("ESMTP" + ("S" if tls else "") + ("A" if user else "")) if session.extended_smtp else "SMTP"
    date = _date()
    helo = _clean(session.host_name or "unknown")

    def trace(recipient: str) -> bytes:
        lines = [
            f"Return-Path: <{_clean(envelope.mail_from or '')}>",
            f"Delivered-To: {_clean(recipient)}",
            f"Received: from {helo} ([{peer_ip}]) by {server.lab.hostname} (smtp-shell lab server) "
            f"with {protocol} for <{_clean(recipient)}>; {date}",
            f"X-Lab-Authenticated-User: {_clean(user) if user else '(none)'}",
            f"X-Lab-TLS: {'yes' if tls else 'no'}",
        ]
        return "".join(line + "\r\n" for line in lines).encode("utf-8")

    return trace
