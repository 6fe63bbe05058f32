"""How the lab answers: its own words (`lab`), a real Postfix's wording (`postfix`), a server
that refuses what RFC 5321 forbids even where servers usually let it pass (`strict`), or a server
with no ESMTP at all (`minimal`, RFC 821 HELO only).

Why this exists: a student who learnt on the lab must recognise the same situations on a real
server, whose texts and sometimes codes differ (Postfix says `503 5.5.1 Error: authentication
not enabled` where the lab says `538`, greylisting is `450` there and `451` here). The profile
rewrites the lab's reply lines on their way out (`rewrite`) and switches a few behaviours
(`Profile.esmtp`, `Profile.strict`); the protocol machinery stays aiosmtpd's. The Postfix texts
are those of Postfix 3.7's smtpd (with postgrey for greylisting).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NAMES = ("lab", "postfix", "strict", "minimal")


@dataclass(frozen=True)
class Profile:
    """How the lab answers: its own words, Postfix's, strict RFC 5321, or no ESMTP."""

    name: str = "lab"
    esmtp: bool = True        # False: EHLO is not understood (a server from before 1995)
    strict: bool = False      # refuse bare addresses and undeclared 8-bit bodies
    postfix: bool = False     # Postfix's reply texts

    @classmethod
    def named(cls, name: str) -> Profile:
        if name not in NAMES:
            raise ValueError(f"unknown lab profile {name!r}; the profiles are {', '.join(NAMES)}")
        return cls(name, esmtp=name != "minimal", strict=name == "strict", postfix=name == "postfix")

    def rewrite(self, status: str, hostname: str) -> str:
        """One reply line as this profile says it (the lab's own line when nothing applies)."""
        if not self.postfix:
            return status
        for pattern, replacement in _POSTFIX:
            match = pattern.match(status)
            if match:
                return match.expand(replacement.replace("{host}", hostname))
        return status


# (the lab's reply line, Postfix's) - first match wins; \1 keeps a part of the lab's line.
_POSTFIX = [(re.compile(p), r) for p, r in (
    (r"^220 (\S+) ESMTP .*$", r"220 \1 ESMTP Postfix"),
    (r"^220 Ready to start TLS$", "220 2.0.0 Ready to start TLS"),
    (r"^250 2\.1\.0 Sender OK$", "250 2.1.0 Ok"),
    (r"^250 2\.1\.5 Recipient OK$", "250 2.1.5 Ok"),
    (r"^250 2\.6\.0 Message saved as (\S+).*$", r"250 2.0.0 Ok: queued as \1"),
    (r"^250 (2\.0\.0 )?OK$", "250 2.0.0 Ok"),
    (r"^354 .*$", "354 End data with <CR><LF>.<CR><LF>"),
    (r"^221 .*$", "221 2.0.0 Bye"),
    (r"^538 .*$", "503 5.5.1 Error: authentication not enabled"),
    (r"^535 .*$", "535 5.7.8 Error: authentication failed: authentication failure"),
    (r"^500 5\.5\.2 Error: command \"[^\"]*\" not recognized$", "502 5.5.2 Error: command not recognized"),
    (r"^503 5\.5\.1 Error: send HELO first$", "503 5.5.1 Error: send HELO/EHLO first"),
    (r"^503 5\.5\.1 TLS is already active.*$", "554 5.5.1 Error: TLS already active"),
    (r"^550 5\.1\.1 No such user here$", "550 5.1.1 Recipient address rejected: User unknown in virtual mailbox table"),
    (r"^451 4\.7\.1 Greylisted.*$",
     "450 4.2.0 Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/lab.test.html"),
    (r"^552 5\.3\.4 .*$", "552 5.3.4 Message size exceeds fixed limit"),
    (r"^554 5\.7\.1 (<[^>]*>): Relay access denied.*$", r"554 5.7.1 \1: Relay access denied"),
    (r"^421 4\.7\.0 Service not available.*$", "421 4.7.0 {host} Error: too many errors"),
)]
