"""The composer's pure part: a message built with the standard `email` package, exactly as it
will go on the wire, plus the words to explain it.

Why this exists: students who type DATA by hand learn headers; `:compose` shows the next step,
MIME, done right -- a Date in their zone, a Message-ID, `multipart/alternative` for an HTML
version, `multipart/mixed` with `Content-Disposition: attachment` for files, a transfer
encoding chosen per part (7bit when the text allows, else quoted-printable or base64, whichever
is shorter), UTF-8 display names and subjects as RFC 2047 encoded words, and, only when an
address itself is not ASCII, raw UTF-8 headers that need `MAIL FROM:<...> SMTPUTF8`. Nothing
here reads files or clocks: the shell passes bytes, the date and a random token in.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.utils import getaddresses

# 7bit transfer encodings for bodies (no 8BITMIME needed); CRLF line ends for the wire.
ASCII_POLICY = email_policy.SMTP.clone(cte_type="7bit")
UTF8_POLICY = email_policy.SMTPUTF8.clone(cte_type="7bit")

_SPECIALS = re.compile(r'[()<>@,;:\\".\[\]]')


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    content_type: str = ""  # guessed from the file name when empty

    @property
    def mime_type(self) -> str:
        return self.content_type or mimetypes.guess_type(self.filename)[0] or "application/octet-stream"


@dataclass(frozen=True)
class Draft:
    """What the student answered: addresses as typed ("Name <a@b>" or "a@b")."""

    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str = ""
    attachments: tuple[Attachment, ...] = ()


def parse_addresses(text: str) -> list[tuple[str, str]]:
    """"Zoë <z@lab.test>, b@lab.test" -> [("Zoë", "z@lab.test"), ("", "b@lab.test")]; ValueError if one is not an address."""
    pairs = [(name, addr) for name, addr in getaddresses([text]) if name or addr]
    if not pairs:
        raise ValueError("No address given: write one like student@lab.test or Student <student@lab.test>.")
    for name, addr in pairs:
        local, at, domain = addr.rpartition("@")
        if not at or not local or not domain or " " in addr or "@" in local:
            shown = addr or name
            raise ValueError(f"{shown!r} is not an e-mail address: write it like student@lab.test "
                             "or Student <student@lab.test>.")
    return pairs


def addr_spec(address: str) -> str:
    """The bare address of "Name <a@b>": what goes inside MAIL FROM:<...> and RCPT TO:<...>."""
    return parse_addresses(address)[0][1]


def needs_smtputf8(draft: Draft) -> bool:
    """True when an address itself (not just a name) is non-ASCII: only SMTPUTF8 can carry it."""
    return any(not addr.isascii() for item in (draft.sender, *draft.recipients) for _n, addr in parse_addresses(item))


def envelope_commands(draft: Draft) -> list[str]:
    """The commands the student types to send `draft`: MAIL FROM, one RCPT TO per recipient, DATA."""
    extra = " SMTPUTF8" if needs_smtputf8(draft) else ""
    rcpts = [f"RCPT TO:<{addr}>" for item in draft.recipients for _n, addr in parse_addresses(item)]
    return [f"MAIL FROM:<{addr_spec(draft.sender)}>{extra}", *rcpts, "DATA"]


def message_id(sender: str, token: str) -> str:
    """A Message-ID in the sender's domain: "<token@lab.test>" (the token is random, from the caller)."""
    try:
        domain = addr_spec(sender).rpartition("@")[2].encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        domain = "smtp-shell.invalid"
    return f"<{token}@{domain}>"


def _header_value(pairs: list[tuple[str, str]], utf8: bool) -> list[Address] | str:
    if not utf8:
        return [Address(display_name=name, addr_spec=addr) for name, addr in pairs]
    out = []
    for name, addr in pairs:  # Address() refuses non-ASCII local parts: write the header by hand
        if name and _SPECIALS.search(name):
            name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out.append(f"{name} <{addr}>" if name else addr)
    return ", ".join(out)


def build(draft: Draft, date: str, msg_id: str) -> EmailMessage:
    """The message for `draft`, with `date` (an RFC 5322 date-time) and `msg_id` ("<...>")."""
    utf8 = needs_smtputf8(draft)
    msg = EmailMessage(policy=UTF8_POLICY if utf8 else ASCII_POLICY)
    msg["From"] = _header_value(parse_addresses(draft.sender), utf8)
    msg["To"] = _header_value([p for item in draft.recipients for p in parse_addresses(item)], utf8)
    msg["Subject"] = draft.subject
    msg["Date"] = date
    msg["Message-ID"] = msg_id
    text = draft.text if draft.text.endswith("\n") or not draft.text else draft.text + "\n"
    msg.set_content(text)
    if draft.html:
        msg.add_alternative(draft.html, subtype="html")
    for item in draft.attachments:
        maintype, _, subtype = item.mime_type.partition("/")
        as_text = _text_or_none(item) if maintype == "text" else None
        if as_text is not None:
            msg.add_attachment(as_text, subtype=subtype, filename=item.filename)
        else:
            msg.add_attachment(item.data, maintype=maintype, subtype=subtype, filename=item.filename)
    for part in msg.walk():
        if part is not msg:
            del part["MIME-Version"]  # only the top level says MIME-Version (the package repeats it)
    return msg


def _text_or_none(item: Attachment) -> str | None:
    """A text attachment as str (so it may travel as 7bit or quoted-printable), if it is clean UTF-8."""
    try:
        text = item.data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if "\r" not in text and (not text or text.endswith("\n")) else None


def to_wire(msg: EmailMessage) -> bytes:
    """The exact bytes of the DATA body (before dot-stuffing), CRLF line ends."""
    return msg.as_bytes()


def mime_tree(msg: EmailMessage) -> list[str]:
    """One line per MIME part, indented by depth: type, charset, transfer encoding, disposition."""
    lines: list[str] = []

    def visit(part: MIMEPart, depth: int) -> None:
        bits = [part.get_content_type()]
        if part.get_content_charset():
            bits.append(f"charset={part.get_content_charset()}")
        if not part.is_multipart():
            bits.append(part.get("Content-Transfer-Encoding", "7bit"))
        if part.get_content_disposition() == "attachment":
            bits.append(f"attachment {part.get_filename()!r}")
        lines.append("  " * depth + ", ".join(bits))
        if part.is_multipart():
            for child in part.iter_parts():
                visit(child, depth + 1)

    visit(msg, 0)
    return lines
