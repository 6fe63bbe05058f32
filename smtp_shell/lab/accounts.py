"""Lab accounts: who may log in with AUTH PLAIN or LOGIN, and how a login is checked.

The lab is a teaching server, so the accounts are simple name/password pairs given on the
command line (`--user NAME:PASSWORD`, or `--user NAME` with the password in an environment
variable, or `--user-file FILE` so no password shows in `ps`), with one documented default account so that
`smtp-shell lab` works with zero configuration. Passwords are compared in constant time.
"""

from __future__ import annotations

import hmac

DEFAULT_USER = "student"
DEFAULT_PASSWORD = "lab-password"


class AccountError(ValueError):
    """A `--user` value that is not NAME:PASSWORD (the message is one sentence)."""


PASSWORD_ENV = "SMTP_SHELL_LAB_PASSWORD"


def parse_user(text: str, environ=None) -> tuple[str, str]:
    """`NAME:PASSWORD` -> (name, password); the password may itself contain colons.

    `NAME` alone takes the password from the environment variable SMTP_SHELL_LAB_PASSWORD,
    so it never shows in `ps` (a command line is readable by every user of the machine)."""
    import os

    environ = os.environ if environ is None else environ
    name, sep, password = text.partition(":")
    if not sep and environ.get(PASSWORD_ENV):
        password = environ[PASSWORD_ENV]
    elif not sep or not password:
        raise AccountError(f"--user {text!r} has no password; write NAME:PASSWORD, give NAME alone with the "
                           f"password in the environment variable {PASSWORD_ENV}, or use --user-file FILE")
    if not name or any(c.isspace() for c in name):
        raise AccountError(f"--user {text!r} needs a user name without spaces before the colon, e.g. --user alice:secret")
    return name, password


def read_user_file(path) -> dict[str, str]:
    """Accounts from a file of `NAME:PASSWORD` lines (blank lines and `#` comments skipped)."""
    from pathlib import Path

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AccountError(f"cannot read the user file {path} ({getattr(exc, 'strerror', None) or exc.__class__.__name__}); "
                           "give a UTF-8 file of NAME:PASSWORD lines") from None
    users = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, password = line.partition(":")
        if not sep or not password or not name or any(c.isspace() for c in name):
            raise AccountError(f"{path}, line {number} is not NAME:PASSWORD; write one account per line, "
                               "e.g. alice:secret")
        users[name] = password
    return users


class Accounts:
    """The lab's accounts; the default student account when none are configured."""

    def __init__(self, users: dict[str, str] | None = None):
        self.is_default = not users
        self._users = dict(users) if users else {DEFAULT_USER: DEFAULT_PASSWORD}

    @property
    def names(self) -> list[str]:
        return list(self._users)

    def check(self, login: bytes, password: bytes) -> str | None:
        """The user name if `login`/`password` match an account, else None."""
        name = login.decode("utf-8", "replace")
        expected = self._users.get(name)
        if expected is None:
            hmac.compare_digest(password, b"x" * len(password))  # same work for unknown names
            return None
        return name if hmac.compare_digest(password, expected.encode("utf-8")) else None

    def hint(self) -> str:
        """What to tell a student: the default account with its password, else just names."""
        if self.is_default:
            return f"{DEFAULT_USER} / {DEFAULT_PASSWORD}"
        names = self.names
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        return f"{listed} (with the password given to --user)"
