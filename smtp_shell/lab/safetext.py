"""The lab's name for the one escaping policy (`smtp_shell.address.escape`).

Everything a student's client sends ends up in a session log, a mailbox table or a terminal;
control characters and escape sequences there could rewrite an instructor's screen, so the lab
shows them as visible escapes. The policy (what is escaped, how CR, LF and TAB are shown) lives
in `smtp_shell.address`; `visible` is the same function, kept so lab modules read naturally.
"""

from __future__ import annotations

from smtp_shell.address import escape as visible

__all__ = ["visible"]
