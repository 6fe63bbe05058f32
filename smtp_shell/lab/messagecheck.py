"""Judge one message as a client sent it: headers, Date, Message-ID, encodings, MIME structure.

Part of the session analyser (pure, no I/O): it gets the message bytes exactly as received
(dot-unstuffed), the MAIL parameters and the Message-IDs the class has already used, and
returns findings with the header line or MIME fact that shows the problem. The course lab
requires From, To, Subject and Date, recommends a Message-ID, and gives extra credit for UTF-8
done right; those are the checks here.
"""

from __future__ import annotations

import base64
import binascii
import email.errors
import email.header
import email.parser
import email.policy
import email.utils
import re
from dataclasses import dataclass, field

from smtp_shell.lab.findings import Finding, visible_bytes
from smtp_shell.lab.safetext import visible
from smtp_shell.protocol.dates import check_date_header

_HEADER_NAME = re.compile(rb"^[\x21-\x39\x3b-\x7e]+$")
_MSG_ID = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_B64_BODY = re.compile(rb"^[A-Za-z0-9+/=\s]*$")


@dataclass
class MessageFacts:
    headers: dict[str, str] = field(default_factory=dict)  # lower-case name -> first value (visible)
    message_id: str | None = None
    subject: str = ""
    non_ascii: bool = False  # the message carries text beyond ASCII (raw, encoded words, charset)
    accepted: bool = False


def _headers(head: bytes) -> tuple[list[tuple[bytes, bytes]], list[Finding]]:
    """(name, raw value) pairs, unfolded, and findings for lines that are not headers."""
    pairs: list[tuple[bytes, bytes]] = []
    found: list[Finding] = []
    for raw in re.split(rb"\r\n|\n", head):
        if not raw:
            continue
        if raw[:1] in (b" ", b"\t") and pairs:
            name, value = pairs[-1]
            pairs[-1] = (name, value + b" " + raw.strip())
            continue
        name, sep, value = raw.partition(b":")
        if not sep or not _HEADER_NAME.match(name):
            hint = ("; it looks like text: is the empty line between the headers and the text missing?"
                    if not sep else "")
            found.append(Finding("header-syntax", f"H: {visible_bytes(raw)}", f"not Name: value{hint}"))
            continue
        pairs.append((name, value.strip()))
    return pairs, found


def _addresses(value: str) -> list[str]:
    return [addr for _, addr in email.utils.getaddresses([value]) if "@" in addr]


def check_message(content: bytes, mail_params: set[str] | frozenset[str] = frozenset(),
                  seen_message_ids: set[str] | frozenset[str] = frozenset()) -> tuple[list[Finding], MessageFacts]:
    """Findings about one message (the bytes between DATA and the final dot, dot-unstuffed)."""
    facts = MessageFacts()
    found: list[Finding] = []
    match = re.search(rb"\r\n\r\n|\n\n", content)
    head = content[:match.start()] if match else content
    body = content[match.end():] if match else b""
    pairs, bad = _headers(head)
    found += bad
    smtputf8 = "SMTPUTF8" in mail_params
    eight_bit_ok = smtputf8 or "BODY=8BITMIME" in mail_params
    by_name: dict[str, list[str]] = {}
    for name, raw_value in pairs:
        value = raw_value.decode("utf-8", "surrogateescape")
        key = name.decode("ascii").lower()
        by_name.setdefault(key, []).append(value)
        facts.headers.setdefault(key, visible(value))
        shown = f"H: {visible_bytes(name)}: {visible(value)}"
        if not raw_value.isascii():
            facts.non_ascii = True
            if not smtputf8:
                found.append(Finding("header-8bit", shown, f"{name.decode('ascii')} holds raw non-ASCII bytes"))
        if _ENCODED_WORD.search(value):
            facts.non_ascii = True
            try:
                email.header.decode_header(value)
                for word in _ENCODED_WORD.findall(value):
                    charset, kind, text = word[2:-2].split("?")
                    raw = (base64.b64decode(text + "=" * (-len(text) % 4), validate=True) if kind in "bB"
                           else text.replace("_", " ").encode("ascii"))
                    raw.decode(charset.split("*")[0])
            except (binascii.Error, ValueError, LookupError, email.errors.HeaderParseError):
                found.append(Finding("header-encoding-bad", shown))

    def first(name: str) -> str | None:
        values = by_name.get(name)
        return values[0] if values else None

    sender = first("from")
    if sender is None:
        found.append(Finding("from-missing", "(headers: " + ", ".join(visible(n) for n in by_name) + ")"))
    elif not _addresses(sender):
        found.append(Finding("from-invalid", f"H: From: {visible(sender)}"))
    recipients = [v for n in ("to", "cc") for v in by_name.get(n, [])]
    if not recipients:
        found.append(Finding("to-missing", "(headers: " + ", ".join(visible(n) for n in by_name) + ")"))
    elif not any(_addresses(v) for v in recipients):
        found.append(Finding("to-invalid", f"H: To: {visible(recipients[0])}"))
    subject = first("subject")
    if subject is None:
        found.append(Finding("subject-missing", "(no Subject header)"))
    else:
        facts.subject = visible(subject)
    date = first("date")
    if date is None:
        found.append(Finding("date-missing", "(no Date header)"))
    else:
        problem = check_date_header(date)
        if problem is not None:
            found.append(Finding("date-invalid", f"H: Date: {visible(date)}", problem))
    msg_id = first("message-id")
    if msg_id is None:
        found.append(Finding("message-id-missing", "(no Message-ID header)"))
    else:
        facts.message_id = msg_id.strip()
        if not _MSG_ID.match(facts.message_id):
            found.append(Finding("message-id-syntax", f"H: Message-ID: {visible(msg_id)}"))
        elif facts.message_id in seen_message_ids:
            found.append(Finding("message-id-duplicate", f"H: Message-ID: {visible(msg_id)}",
                                 "another message in this lab already had it"))
    found += _check_mime(content, by_name, body, eight_bit_ok, facts)
    return found, facts


def _check_mime(content: bytes, by_name: dict[str, list[str]], body: bytes, eight_bit_ok: bool,
                facts: MessageFacts) -> list[Finding]:
    found: list[Finding] = []
    mime_headers = [n for n in ("content-type", "content-transfer-encoding") if n in by_name]
    if mime_headers and "mime-version" not in by_name:
        found.append(Finding("mime-version-missing", f"H: {mime_headers[0]}: {visible(by_name[mime_headers[0]][0])}"))
    try:
        msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(content)
    except Exception:
        return found + [Finding("mime-boundary", "(the MIME structure cannot be parsed)")]
    if not body.isascii():
        facts.non_ascii = True
        if not eight_bit_ok:
            line = next(x for x in body.split(b"\n") if not x.isascii()).rstrip(b"\r")
            found.append(Finding("body-8bit-undeclared", f"T: {visible_bytes(line)}",
                                 "MAIL FROM had neither BODY=8BITMIME nor SMTPUTF8"))
    for part in msg.walk():
        ctype = part.get("Content-Type", "")
        label = f"H: Content-Type: {visible(' '.join(str(ctype).split()))}" if ctype else "(no Content-Type)"
        if part.get_content_maintype() == "multipart":
            found += _multipart(part, label)
            continue
        charset = part.get_param("charset")
        payload = part.get_payload(decode=False)
        if not isinstance(payload, str):
            continue
        raw = payload.encode("utf-8", "surrogateescape")
        cte = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
        if cte in ("base64", "quoted-printable") and part.get_content_maintype() == "text":
            decoded = part.get_payload(decode=True)
            facts.non_ascii = facts.non_ascii or (isinstance(decoded, bytes) and not decoded.isascii())
        shown = f"H: Content-Transfer-Encoding: {visible(cte)}"
        if not raw.isascii():
            if cte in ("7bit", "quoted-printable", "base64"):
                found.append(Finding("cte-mismatch", shown, f"the content holds 8-bit bytes but is declared {cte}"))
            if part.get_content_maintype() == "text" and charset is None:
                found.append(Finding("charset-missing", label))
        elif cte == "base64":
            if not _B64_BODY.match(raw):
                found.append(Finding("cte-mismatch", shown, "the content is not base64"))
            else:
                try:
                    base64.b64decode(re.sub(rb"\s+", b"", raw), validate=True)
                except (binascii.Error, ValueError):
                    found.append(Finding("cte-mismatch", shown, "the base64 content does not decode"))
    return found


def _multipart(part, label: str) -> list[Finding]:
    defects = {type(d).__name__ for d in part.defects}
    if "NoBoundaryInMultipartDefect" in defects or part.get_boundary() is None:
        return [Finding("mime-boundary", label, "a multipart type needs boundary=\"...\"")]
    boundary = visible(part.get_boundary())
    if "StartBoundaryNotFoundDefect" in defects or "MultipartInvariantViolationDefect" in defects:
        return [Finding("mime-boundary", label, f"no line --{boundary} starts a part")]
    if "CloseBoundaryNotFoundDefect" in defects:
        return [Finding("mime-boundary", label, f"no line --{boundary}-- closes the parts")]
    return []
