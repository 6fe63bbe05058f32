"""Criteria over a message the lab saved: headers, Date, MIME structure, encodings, UTF-8.

Why this exists: a lesson about headers or MIME is judged on what actually arrived, not on what
the student meant to type. Each criterion looks at the parsed `.eml` (standard `email` package)
and returns None when met, else one sentence saying what is missing.
"""

from __future__ import annotations

import email.message
import email.parser
import email.policy
import re
from pathlib import Path

from smtp_shell.lab.mailbox import split_trace
from smtp_shell.protocol.dates import check_date_header

_MSG_ID = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def parse(path: Path) -> tuple[email.message.EmailMessage, email.message.Message]:
    """(the message decoded with policy=default, the same with raw headers), trace headers removed."""
    _, body = split_trace(Path(path).read_bytes())
    decoded = email.parser.BytesParser(policy=email.policy.default).parsebytes(body)
    raw = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(body)
    return decoded, raw


def _raw_header(raw: email.message.Message, name: str) -> str | None:
    value = raw.get(name)
    return None if value is None else str(value)


def _parts(msg: email.message.Message):
    return list(msg.walk())


def _subject(msg, raw, want: str) -> str | None:
    value = " ".join(str(msg.get("Subject", "")).split())
    if value.casefold() != " ".join(want.split()).casefold():
        shown = f"'{value}'" if value else "no Subject"
        return f"the saved message has {shown}, and this step wants the Subject '{want}'"
    return None


def _headers_present(msg, raw, want) -> str | None:
    names = [want] if isinstance(want, str) else list(want)
    missing = [n for n in names if raw.get(n) is None]
    if missing:
        return f"the saved message has no {', '.join(missing)} header{'s' if len(missing) > 1 else ''}"
    return None


def _date_valid(msg, raw, want: bool) -> str | None:
    value = _raw_header(raw, "Date")
    if value is None:
        return "the saved message has no Date header" if want else None
    problem = check_date_header(value.strip())
    if want and problem:
        return f"its Date header is not an RFC 5322 date-time: {problem}"
    return None


def _date_local(msg, raw, want: bool) -> str | None:
    value = (_raw_header(raw, "Date") or "").split()
    zone = value[-1] if value else ""
    is_utc = zone in ("+0000", "-0000", "GMT", "UT", "UTC", "Z")
    if want and (not zone or is_utc):
        return f"its Date is in UTC ({zone or 'no zone'}); this step wants a local zone offset such as +0100 or -0500"
    return None


def _message_id_valid(msg, raw, want: bool) -> str | None:
    value = (_raw_header(raw, "Message-ID") or "").strip()
    if want and not _MSG_ID.match(value):
        return ("the saved message has no Message-ID header" if not value else
                f"its Message-ID {value!r} is not of the form <unique-part@domain>")
    return None


def _multipart(msg, raw, want) -> str | None:
    if want is True and not msg.is_multipart():
        return f"the saved message is {msg.get_content_type()}, not multipart"
    if isinstance(want, str) and msg.get_content_type() != f"multipart/{want.lower()}":
        return f"the saved message is {msg.get_content_type()}, and this step wants multipart/{want.lower()}"
    return None


def _attachment(msg, raw, want: bool) -> str | None:
    found = any(p.get_content_disposition() == "attachment" for p in _parts(msg))
    if want and not found:
        return "no part of the saved message has Content-Disposition: attachment"
    return None


def _html(msg, raw, want: bool) -> str | None:
    if want and not any(p.get_content_type() == "text/html" for p in _parts(msg)):
        return "the saved message has no text/html part"
    return None


_QP_LINE = re.compile(rb"(?:[\x21-\x3c\x3e-\x7e\t ]|=[0-9A-Fa-f]{2})*=?")
_B64_BODY = re.compile(rb"[A-Za-z0-9+/]*={0,2}")


def qp_problem(body: bytes) -> str | None:
    """Why a body is not quoted-printable (RFC 2045 §6.7), or None: every '=' is followed by two
    upper-case hex digits or ends the line (a soft break), and every byte is printable ASCII."""
    for number, line in enumerate(body.split(b"\n"), 1):
        line = line.rstrip(b"\r")
        if _QP_LINE.fullmatch(line):
            continue
        if any(b > 0x7E for b in line):
            return (f"line {number} of the quoted-printable part has raw 8-bit bytes; in quoted-printable "
                    "each of them is written =XX, like é as =C3=A9 (RFC 2045 §6.7)")
        return (f"line {number} of the quoted-printable part has an '=' that is not followed by two hex digits "
                "(a literal '=' is written =3D; RFC 2045 §6.7)")
    return None


def base64_problem(body: bytes) -> str | None:
    """Why a body is not base64 (RFC 2045 §6.8), or None."""
    text = b"".join(body.split())
    if not _B64_BODY.fullmatch(text) or b"=" in text.rstrip(b"="):
        return "the base64 part holds characters that are not base64 (only A-Z a-z 0-9 + / and '=' padding; RFC 2045 §6.8)"
    if len(text) % 4:
        return "the base64 part's length is not a multiple of 4: a character is missing or the '=' padding is wrong"
    return None


def _transfer_encoding(msg, raw, want: str) -> str | None:
    parts = [p for p in _parts(msg) if not p.is_multipart()]
    found = {str(p.get("Content-Transfer-Encoding", "7bit")).strip().lower() for p in parts}
    if want.lower() not in found:
        return f"no part of the saved message uses Content-Transfer-Encoding: {want.lower()} (found {', '.join(sorted(found))})"
    judge_body = {"quoted-printable": qp_problem, "base64": base64_problem}.get(want.lower())
    for part in parts:
        if judge_body and str(part.get("Content-Transfer-Encoding", "")).strip().lower() == want.lower():
            body = part.get_payload(decode=False)
            problem = judge_body(body.encode("utf-8", "surrogateescape") if isinstance(body, str) else bytes(body))
            if problem:
                return f"the part says {want.lower()} but is not: {problem}"
    return None


def _encoded_subject(msg, raw, want: bool) -> str | None:
    value = _raw_header(raw, "Subject") or ""
    if not want or _ENCODED_WORD.search(value):
        return None
    if "=?" in value:
        word = value[value.index("=?"):].split()[0]
        return (f"the Subject holds {word!r}, which is not a valid encoded word: RFC 2047 §2 wants "
                "=?charset?encoding?text?= with the encoding B or Q between '?' marks, as in =?utf-8?b?R3LDvMOfZQ==?=")
    if not value.isascii():
        return ("the Subject was sent as raw UTF-8; without SMTPUTF8 a header must be ASCII, so write it as an "
                "RFC 2047 encoded word (=?utf-8?b?...?=)")
    return "the Subject was sent without an RFC 2047 encoded word (=?utf-8?b?...?=)"


def envelope_problem(path: Path, mail_params: frozenset[str]) -> str | None:
    """What the envelope should have announced for this message and did not: BODY=8BITMIME for
    8-bit bytes in the body (RFC 6152 §3), SMTPUTF8 for UTF-8 in the headers (RFC 6531 §3.1)."""
    try:
        _, message = split_trace(Path(path).read_bytes())
    except OSError:
        return None
    head, _, body = message.partition(b"\r\n\r\n")
    if not head.isascii() and "SMTPUTF8" not in mail_params:
        return ("the headers hold raw UTF-8, which a server may accept only after MAIL FROM:<...> SMTPUTF8 "
                "(RFC 6531); without it, encode them as =?utf-8?b?...?= (RFC 2047)")
    if not body.isascii() and not {"BODY=8BITMIME", "BODY=BINARYMIME"} & mail_params:
        return ("the body has 8-bit bytes but MAIL FROM did not announce them with BODY=8BITMIME "
                "(RFC 6152 §3): send MAIL FROM:<...> BODY=8BITMIME, or encode the body as quoted-printable")
    return None


def _utf8_body(msg, raw, want: bool) -> str | None:
    if not want:
        return None
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except Exception:
        part = None
    if part is None:
        return "the saved message has no text body"
    charset = str(part.get_param("charset") or "").lower()
    if charset not in ("utf-8", "utf8"):
        return f"its text part declares charset={charset or 'nothing (us-ascii)'}, not utf-8"
    try:
        text = part.get_content()
    except Exception:
        return "its text part cannot be decoded as UTF-8"
    if text.isascii():
        return "its body is plain ASCII; write a few non-ASCII characters such as é or ü"
    return None


CRITERIA = {  # name -> (allowed parameter types, function)
    "subject": ((str,), _subject),
    "header_present": ((str, list), _headers_present),
    "date_valid": ((bool,), _date_valid),
    "date_local": ((bool,), _date_local),
    "message_id_valid": ((bool,), _message_id_valid),
    "multipart": ((bool, str), _multipart),
    "attachment": ((bool,), _attachment),
    "html": ((bool,), _html),
    "transfer_encoding": ((str,), _transfer_encoding),
    "encoded_subject": ((bool,), _encoded_subject),
    "utf8_body": ((bool,), _utf8_body),
}


def judge(path: Path, criteria: dict) -> str | None:
    """None if the message at `path` meets every criterion, else the first problem."""
    try:
        msg, raw = parse(path)
    except OSError as exc:
        return f"the saved message {path} cannot be read ({exc.strerror or exc})"
    for name, want in criteria.items():
        try:
            problem = CRITERIA[name][1](msg, raw, want)
        except Exception as exc:  # a malformed message must not break the lesson
            problem = f"the saved message could not be checked for {name} ({exc.__class__.__name__})"
        if problem:
            return problem
    return None


def log_dir(mailbox: Path) -> Path:
    """Where the lab writes one log per session (see lab/sessionlog.py)."""
    return Path(mailbox) / "_logs"


def client_report(logs: list[Path], saved: list[Path]) -> tuple[list[Path], list[str]]:
    """Among the session logs `logs`, those of the sessions that saved `saved` (or, when nothing
    was saved, all of them), and what the lab marked in them: each marked client line with its
    marks, e.g. "C: EHLO me -> bare LF (no CR before it); ...". Read-only; unreadable files skipped."""
    stems = [p.stem for p in saved]
    chosen, marks = [], []
    for log in sorted(logs):
        try:
            text = log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if stems and not any(f"saved as {stem}" in text for stem in stems):
            continue
        chosen.append(log)
        last = ""
        for line in text.splitlines():
            body = line.split(" ", 1)[1] if " " in line else line
            if body.startswith("C: "):
                last = body[3:]
            elif body.startswith("-- the line above: "):
                marks += [(mark, last) for mark in body[len("-- the line above: "):].split("; ")]
    return chosen, _summary(marks)


def _summary(marks: list[tuple[str, str]]) -> list[str]:
    """("bare LF (...)", "EHLO me") pairs -> one sentence per kind of mark, with a count and the first line."""
    grouped: dict[str, list[str]] = {}
    for mark, line in marks:
        grouped.setdefault(mark, []).append(line)
    return [f"{mark} on {len(lines)} line{'s' if len(lines) > 1 else ''} (first: {lines[0][:50]!r})" if len(lines) > 1
            else f"{mark} ({lines[0][:50]!r})" for mark, lines in grouped.items()]
