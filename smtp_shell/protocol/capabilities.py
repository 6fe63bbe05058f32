"""What a server advertised in its EHLO reply, and what each extension means.

Why this exists: the 250 reply to EHLO is the server's menu (RFC 5321 §4.1.1.1): every line
after the first names one extension keyword and its parameters. The shell needs it to complete
AUTH mechanisms, to know about PIPELINING and SIZE, to answer `:caps`, and to show a student
what changed after STARTTLS (AUTH often appears only once the connection is encrypted). Server
text is untrusted, so parsing is tolerant and never raises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["Capabilities", "describe_change", "explain_capability", "human_size"]

_KEYWORD = re.compile(r"[A-Z0-9][A-Z0-9-]*")


@dataclass(frozen=True)
class Capabilities:
    """Keyword (upper-case) -> parameters, in the order the server listed them."""

    items: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not isinstance(self.items, MappingProxyType):
            frozen = {str(k).upper(): tuple(v) for k, v in dict(self.items).items()}
            object.__setattr__(self, "items", MappingProxyType(frozen))

    def __hash__(self) -> int:
        return hash(tuple(self.items.items()))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Capabilities):
            return NotImplemented
        return list(self.items.items()) == list(other.items.items())

    @classmethod
    def from_ehlo(cls, lines: Sequence[str]) -> Capabilities:
        """Parse the text of each line of a 250 EHLO reply (after "250-"/"250 ").

        The first line is the server's domain and greeting, not a capability. Empty lines and
        lines whose keyword is not letters/digits/hyphens are skipped; keywords are upper-cased;
        the old "AUTH=LOGIN PLAIN" form counts as "AUTH LOGIN PLAIN"; a keyword listed twice
        has its parameters merged.
        """
        items: dict[str, list[str]] = {}
        for line in list(lines)[1:]:
            if not isinstance(line, str):
                continue
            words = line.split()
            if not words:
                continue
            head, params = words[0], words[1:]
            if "=" in head:
                head, _, first = head.partition("=")
                params = ([first] if first else []) + params
            keyword = head.upper()
            if not _KEYWORD.fullmatch(keyword):
                continue
            merged = items.setdefault(keyword, [])
            for p in params:
                if p not in merged:
                    merged.append(p)
        return cls(MappingProxyType({k: tuple(v) for k, v in items.items()}))

    def has(self, keyword: str) -> bool:
        return keyword.strip().upper() in self.items

    def params(self, keyword: str) -> tuple[str, ...]:
        """The parameters of a keyword, () if absent."""
        return self.items.get(keyword.strip().upper(), ())

    @property
    def keywords(self) -> tuple[str, ...]:
        return tuple(self.items)

    @property
    def size(self) -> int | None:
        """The SIZE limit in octets; 0 means "no fixed limit"; None if absent or unstated."""
        params = self.items.get("SIZE")
        if not params or not params[0].isdigit():
            return None
        return int(params[0])

    @property
    def auth_mechanisms(self) -> tuple[str, ...]:
        seen: list[str] = []
        for mech in self.items.get("AUTH", ()):
            if mech.upper() not in seen:
                seen.append(mech.upper())
        return tuple(seen)


def human_size(n: int) -> str:
    """35882577 -> "34.2 MiB" (binary units, one decimal); small values in bytes. A figure never
    rounds to a round-looking number it is not: 2000 is "2000 bytes", never "2.0 KiB"."""
    n = int(n)
    if abs(n) < 1024 or (abs(n) < 10 * 1024 and n % 1024):
        return f"{n} byte" if abs(n) == 1 else f"{n} bytes"
    value, scale = float(n), 1
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024
        scale *= 1024
        if abs(value) < 1024 or unit == "PiB":
            shown = f"{value:.1f} {unit}"
            return f"{shown} ({n} bytes)" if shown.endswith(".0 " + unit) and n % scale else shown
    raise AssertionError("unreachable")


def _size(params: Sequence[str]) -> str:
    if not params:
        return "the server checks message sizes but does not say its limit (RFC 1870)"
    if not params[0].isdigit():
        return f"message size limit, but {params[0]!r} is not a number"
    n = int(params[0])
    if n == 0:
        return "no fixed limit on message size (SIZE 0)"
    return f"largest message accepted: {human_size(n)}"


def _auth(params: Sequence[str]) -> str:
    if not params:
        return "log in with AUTH (the server lists no mechanisms)"
    return "log in with AUTH; mechanisms: " + ", ".join(p.upper() for p in params)


_FIXED: dict[str, str] = {
    "PIPELINING": "you may send several commands without waiting for each reply (RFC 2920)",
    "STARTTLS": "you can switch this connection to TLS with STARTTLS, then EHLO again (RFC 3207)",
    "8BITMIME": "message bodies may contain 8-bit bytes, with MAIL FROM ... BODY=8BITMIME (RFC 6152)",
    "SMTPUTF8": "UTF-8 addresses and headers allowed, with MAIL FROM ... SMTPUTF8 (RFC 6531)",
    "ENHANCEDSTATUSCODES": "replies carry a detail code like 5.1.1 after the reply code (RFC 2034)",
    "CHUNKING": "the message may be sent in chunks with BDAT instead of DATA (RFC 3030)",
    "BINARYMIME": "binary message bodies allowed with BDAT and BODY=BINARYMIME (RFC 3030)",
    "DSN": "you can ask for delivery status notifications with NOTIFY= and RET= (RFC 3461)",
    "VRFY": "VRFY may tell whether an address exists (often disabled) (RFC 5321)",
    "EXPN": "EXPN may list the members of a mailing list (often disabled) (RFC 5321)",
    "ETRN": "a client may ask the server to flush its queue for a domain with ETRN (RFC 1985)",
    "HELP": "HELP shows help text from the server (RFC 5321)",
    "REQUIRETLS": "a message may demand TLS on every hop, with MAIL FROM ... REQUIRETLS (RFC 8689)",
    "MT-PRIORITY": "messages may carry a priority with MAIL FROM ... MT-PRIORITY= (RFC 6710)",
    "FUTURERELEASE": "delivery may be held until a later time with HOLDFOR=/HOLDUNTIL= (RFC 4865)",
    "BURL": "the message may be pulled from an IMAP server by URL (RFC 4468)",
    "ATRN": "authenticated TURN: the roles may be reversed to receive queued mail (RFC 2645)",
    "CHECKPOINT": "an interrupted transfer may be resumed (RFC 1845)",
    "NO-SOLICITING": "the server declares it does not want solicitations (RFC 3865)",
    "RRVS": "you can ask the server to check a recipient has not changed owner (RFC 7293)",
    "SEND": "obsolete: deliver to a terminal instead of a mailbox (removed in RFC 5321)",
    "SOML": "obsolete: send to terminal or mailbox (removed in RFC 5321)",
    "SAML": "obsolete: send to terminal and mailbox (removed in RFC 5321)",
    "TURN": "obsolete and insecure: swap client and server roles (removed in RFC 5321)",
    "XCLIENT": "a Postfix extension letting trusted proxies pass the real client's details",
    "XFORWARD": "a Postfix extension letting trusted filters pass the original client's details",
}


def explain_capability(keyword: str, params: Sequence[str]) -> str:
    """One line saying what an EHLO keyword means, e.g. "SIZE 35882577" ->
    "largest message accepted: 34.2 MiB"."""
    key = keyword.strip().upper()
    params = tuple(params)
    if key == "SIZE":
        return _size(params)
    if key == "AUTH":
        return _auth(params)
    if key == "DELIVERBY":
        if params and params[0].isdigit():
            return f"you may ask for delivery within a deadline; at least {params[0]} seconds (RFC 2852)"
        return "you may ask for delivery within a deadline with BY= (RFC 2852)"
    if key == "LIMITS":
        shown = " ".join(params) if params else "none stated"
        return f"the server states its limits up front: {shown} (RFC 9422)"
    if key in _FIXED:
        return _FIXED[key]
    if key.startswith("X"):
        return "a private, vendor-specific extension (keywords starting with X are not standard)"
    return "an extension smtp-shell does not describe (look up its keyword)"


def _param_text(keyword: str, params: tuple[str, ...]) -> str:
    if keyword == "SIZE" and params and params[0].isdigit() and int(params[0]) > 0:
        return human_size(int(params[0]))
    return " ".join(params)


def describe_change(before: Capabilities | None, after: Capabilities) -> list[str]:
    """What changed between two EHLO replies (typically before and after STARTTLS)."""
    if before is None:
        return []
    notes: list[str] = []
    for key, params in after.items.items():
        if key not in before.items:
            line = f"{key} appeared"
            if params:
                line += ": " + " ".join(params)
            if key == "AUTH":
                line += " (servers often offer it only under TLS)"
            notes.append(line)
        elif before.items[key] != params:
            old, new = _param_text(key, before.items[key]), _param_text(key, params)
            label = "AUTH mechanisms" if key == "AUTH" else key
            notes.append(f"{label} changed: {old or '(none)'} -> {new or '(none)'}")
    for key in before.items:
        if key not in after.items:
            line = f"{key} disappeared"
            if key == "STARTTLS":
                line += " (already under TLS)"
            notes.append(line)
    return notes
