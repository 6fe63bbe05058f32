"""SASL helpers for AUTH PLAIN and AUTH LOGIN (RFC 4954, RFC 4616), without I/O.

Why this exists: AUTH is where students most often get stuck -- the 334 challenges are base64,
answers must be base64 too, AUTH PLAIN needs NUL separators, and `echo` adds a newline that
breaks the password. These helpers do the encoding for the `:b64`/`:unb64`/`:auth` commands,
let the session recognise a password prompt (so input can be masked), detect plain text typed
where base64 was expected, and mask secrets before anything reaches the screen or a transcript.
"""

from __future__ import annotations

import base64
import binascii
import re

__all__ = [
    "REDACTED",
    "SaslError",
    "b64decode_text",
    "b64encode_text",
    "decode_challenge",
    "decodes_to_printable",
    "diagnose_response",
    "is_password_prompt",
    "looks_like_base64",
    "mask_auth_command",
    "plain_initial_response",
]

REDACTED = "********"

_B64_STRICT = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_B64_CHARS = re.compile(r"[A-Za-z0-9+/]*={0,2}")


class SaslError(ValueError):
    """Bad SASL data; the message is one sentence saying what is wrong."""


def b64encode_text(text: str) -> str:
    """UTF-8 text -> base64, no newline: "student" -> "c3R1ZGVudA=="."""
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _b64decode_bytes(b64: str) -> bytes:
    data = b64.strip()
    if data in ("", "="):  # "=" is the RFC 4954 spelling of an empty response
        return b""
    if not _B64_CHARS.fullmatch(data):
        bad = next((c for c in data if not (c.isascii() and (c.isalnum() or c in "+/="))), None)
        if bad is not None:
            raise SaslError(f"{b64!r} is not base64: the character {bad!r} cannot appear in base64.")
        raise SaslError(f"{b64!r} is not base64: '=' padding may only appear at the end.")
    core = data.rstrip("=")
    if len(core) % 4 == 1:
        raise SaslError(f"{b64!r} is not base64: its length is wrong (a character is missing or extra).")
    padded = core + "=" * (-len(core) % 4)  # tolerate missing padding
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - guarded above
        raise SaslError(f"{b64!r} is not valid base64 ({exc}).") from None


def b64decode_text(b64: str) -> str:
    """base64 -> text. Bytes that are not UTF-8 are shown as escapes like \\xff.

    Raises SaslError with one sentence when the input is not base64. Missing '=' padding is
    tolerated.
    """
    return _b64decode_bytes(b64).decode("utf-8", errors="backslashreplace")


def looks_like_base64(text: str) -> bool:
    """Strict check: only A-Z a-z 0-9 + / with correct '=' padding, length a multiple of 4.

    Note that plain words like "user" pass (they are valid base64 characters); combine with
    `decodes_to_printable` to warn a student who typed plain text where base64 was expected.
    """
    t = text.strip()
    return bool(t) and len(t) % 4 == 0 and bool(_B64_STRICT.fullmatch(t))


def decodes_to_printable(b64: str) -> bool:
    """True if the base64 decodes to UTF-8 text with no control characters (tab allowed).

    "dXNlcg==" (user) -> True; "user" (decodes to bytes b'\\xba\\xc7\\xab') -> False. NUL
    counts as a control character, so an AUTH PLAIN response gives False.
    """
    try:
        raw = _b64decode_bytes(b64)
        text = raw.decode("utf-8")
    except (SaslError, UnicodeDecodeError):
        return False
    return all(c == "\t" or (c.isprintable()) for c in text)


def plain_initial_response(user: str, password: str, authzid: str = "") -> str:
    """The AUTH PLAIN response: base64 of authzid NUL user NUL password (RFC 4616)."""
    return b64encode_text(f"{authzid}\0{user}\0{password}")


def decode_challenge(b64: str) -> str:
    """The text of a 334 challenge: "VXNlcm5hbWU6" -> "Username:"; "" for an empty challenge.

    Raises SaslError when the challenge is not base64.
    """
    if b64 is None or not b64.strip():
        return ""
    return b64decode_text(b64)


def _prompt_word(decoded_challenge: str) -> str:
    """"User Name\\0", " Username: " -> "username" (NULs, spaces, colons dropped; aiosmtpd ends with NUL)."""
    return "".join(ch for ch in decoded_challenge.lower() if ch.isalnum())


def is_password_prompt(decoded_challenge: str) -> bool:
    """True for "Password:" (any case, colon optional, spaces and NULs ignored)."""
    return _prompt_word(decoded_challenge) in ("password", "passwd", "pass")


def is_username_prompt(decoded_challenge: str) -> bool:
    """True for "Username:" / "User Name" (any case, spaces, colons and NULs ignored)."""
    return _prompt_word(decoded_challenge) in ("username", "user", "login", "loginname")


_AUTH_WITH_RESPONSE = re.compile(r"(\s*AUTH[ \t]+\S+[ \t]+)(\S.*?)([ \t]*)", re.I | re.S)


def mask_auth_command(line: str) -> tuple[str, bool]:
    """Mask the initial response of an AUTH command (it contains the password, or the user).

    "AUTH PLAIN dGVzdAB0ZXN0AHBhc3M=" -> ("AUTH PLAIN ********", True); "AUTH LOGIN" and any
    non-AUTH line come back unchanged with False. A trailing CR/LF is kept.
    """
    body = line.rstrip("\r\n")
    ending = line[len(body):]
    m = _AUTH_WITH_RESPONSE.fullmatch(body)
    if not m:
        return line, False
    return m.group(1) + REDACTED + m.group(3) + ending, True


def diagnose_response(b64: str, mechanism: str = "LOGIN") -> str | None:
    """What is wrong with an AUTH answer, named without repeating it (it may hold a password):
    not base64, a trailing newline inside the base64 (`echo` without -n), or, for PLAIN, the
    missing NUL separators of RFC 4616 §2 (authzid NUL user NUL password). None if it looks right.
    """
    text = b64.strip()
    if text in ("", "*", "="):
        return None
    try:
        raw = _b64decode_bytes(text)
    except SaslError:
        return "it is not base64 at all (encode the text with :b64, or let :auth do it)"
    if not looks_like_base64(text):
        return "its base64 padding is wrong: the length must be a multiple of 4, padded with '='"
    if raw.endswith((b"\n", b"\r")):
        return ("it is valid base64, but of a text that ends with a newline (echo adds one; use echo -n, "
                "or :b64, which adds none)")
    if mechanism.upper() == "PLAIN" and raw.count(b"\0") != 2:
        found = raw.count(b"\0")
        return (f"it is valid base64, but the decoded text has {found or 'no'} NUL byte{'' if found == 1 else 's'} "
                "where AUTH PLAIN needs two: authzid NUL user NUL password (RFC 4616 §2); "
                ":auth plain builds it for you")
    return None
