"""Read stored lab messages for people: decoded headers, MIME structure, attachments.

The mailbox commands show what arrived in terms a student can check against what their
client meant to send: RFC 2047 encoded words decoded, the MIME tree with each part's type,
transfer encoding and size, and the attachments. Parsing uses the standard `email` package
(policy=default) and never raises on a malformed message: problems become visible text.
"""

from __future__ import annotations

import email.message
from dataclasses import dataclass, field

from smtp_shell.lab.mailbox import StoredMessage, split_trace


def header_text(msg: email.message.Message, name: str, default: str = "") -> str:
    """A header's decoded value (RFC 2047), or the raw value if it cannot be decoded."""
    try:
        value = msg.get(name)
    except Exception:  # a header the parser chokes on: show it as it was sent
        value = next((v for k, v in msg.raw_items() if k.lower() == name.lower()), None)
    return default if value is None else " ".join(str(value).split())


@dataclass
class Summary:
    id: str
    received: str
    sender: str
    recipient: str
    subject: str
    size: int
    tls: str
    user: str


def summarize(message: StoredMessage) -> Summary:
    raw = message.read()
    _, body = split_trace(raw)
    try:
        msg = message.parse(headers_only=True)
    except Exception:
        msg = email.message.EmailMessage()
    when = message.received
    return Summary(
        id=message.id,
        received=when.astimezone().strftime("%Y-%m-%d %H:%M:%S") if when else "?",
        sender=header_text(msg, "From") or header_text(msg, "Return-Path"),
        recipient=header_text(msg, "Delivered-To") or header_text(msg, "To"),
        subject=header_text(msg, "Subject"),
        size=len(body),
        tls=header_text(msg, "X-Lab-TLS", "?"),
        user=header_text(msg, "X-Lab-Authenticated-User", "?"),
    )


@dataclass
class Part:
    content_type: str
    details: str
    size: int | None = None
    filename: str | None = None
    is_attachment: bool = False
    children: list[Part] = field(default_factory=list)


def _payload_size(part: email.message.Message) -> int | None:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        return None
    return len(payload) if isinstance(payload, bytes) else None


def outline(part: email.message.Message) -> Part:
    """The MIME tree of `part` (a whole message or one of its parts)."""
    details = []
    charset = part.get_param("charset")
    if isinstance(charset, str):
        details.append(f"charset={charset}")
    cte = part.get("Content-Transfer-Encoding")
    if cte:
        details.append(f"{str(cte).strip().lower()}")
    try:
        filename = part.get_filename()
    except Exception:
        filename = None
    disposition = part.get_content_disposition()
    if disposition:
        details.append(disposition)
    node = Part(content_type=part.get_content_type(), details=", ".join(details), filename=filename,
                is_attachment=disposition == "attachment" or (filename is not None and not part.is_multipart()))
    if part.is_multipart():
        payload = part.get_payload()
        for child in payload if isinstance(payload, list) else []:
            if isinstance(child, email.message.Message):
                node.children.append(outline(child))
    else:
        node.size = _payload_size(part)
    return node


def attachments(node: Part) -> list[Part]:
    found = [node] if node.is_attachment else []
    for child in node.children:
        found.extend(attachments(child))
    return found


def body_text(msg: email.message.EmailMessage) -> str | None:
    """The text a mail program would show (text/plain preferred), decoded; None if there is none."""
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except Exception:
        part = None
    if part is None:
        return None
    try:
        return part.get_content()
    except Exception:  # unknown charset or broken encoding: show what can be shown
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
