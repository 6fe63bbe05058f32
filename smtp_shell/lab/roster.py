"""A class roster: one lab account and one mailbox per student, from a CSV file.

`smtp-shell lab --roster class.csv` reads one student per line, `name[,password]` (a header
line `name,password`, blank lines and `#` comments are skipped). A student without a password
gets a generated one; generated passwords are written once, to `class.passwords.csv` beside
the roster (readable by its owner only), and read back on the next start so nobody's
password changes between lab sessions. Each student's mailbox is `NAME@lab.test`.
"""

from __future__ import annotations

import csv
import io
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

MAIL_DOMAIN = "lab.test"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class RosterError(ValueError):
    """A roster that cannot be used (the message is one sentence naming the line)."""


@dataclass(frozen=True)
class Roster:
    users: dict[str, str]        # name -> password
    generated: list[str]         # the names whose password was generated (now or before)
    passwords_file: Path | None  # where generated passwords are kept, if any

    def mailbox_of(self, name: str) -> str:
        return f"{name}@{MAIL_DOMAIN}"


def _rows(text: str, path: Path) -> list[tuple[int, list[str]]]:
    rows = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), 1):
        cells = [c.strip() for c in row]
        if not cells or not any(cells) or cells[0].startswith("#"):
            continue
        if number == 1 and cells[0].lower() == "name":
            continue
        if len(cells) > 2 and any(cells[2:]):
            raise RosterError(f"the roster {path}, line {number}: write name or name,password (found {len(cells)} fields)")
        rows.append((number, cells))
    return rows


def passwords_file_for(path: Path) -> Path:
    return path.with_name(path.stem + ".passwords.csv")


def load_roster(path: Path) -> Roster:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RosterError(f"the roster {path} does not exist; check the path given to --roster") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"the roster {path} cannot be read ({exc}); save it as UTF-8 CSV") from None
    users: dict[str, str] = {}
    missing: list[str] = []
    for number, cells in _rows(text, path):
        name = cells[0]
        if not _NAME.match(name):
            raise RosterError(f"the roster {path}, line {number}: {name!r} is not a user name "
                              f"(letters, digits, '.', '_' and '-', no spaces)")
        if name in users or name in missing:
            raise RosterError(f"the roster {path}, line {number}: {name!r} is listed twice")
        password = cells[1] if len(cells) > 1 else ""
        if password:
            users[name] = password
        else:
            missing.append(name)
    if not users and not missing:
        raise RosterError(f"the roster {path} lists nobody; write one student per line: name[,password]")
    pw_file = passwords_file_for(path) if missing else None
    generated = _generated_passwords(pw_file, missing) if pw_file else {}
    users.update(generated)
    return Roster(users, list(generated), pw_file)


def _generated_passwords(pw_file: Path, names: list[str]) -> dict[str, str]:
    known: dict[str, str] = {}
    if pw_file.exists():
        for row in csv.reader(io.StringIO(pw_file.read_text(encoding="utf-8"))):
            if len(row) == 2 and row[0] != "name":
                known[row[0]] = row[1]
    fresh = {name: secrets.token_urlsafe(9) for name in names if name not in known}
    if fresh:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["name", "password"])
        for name, password in {**known, **fresh}.items():
            writer.writerow([name, password])
        try:
            fd = os.open(pw_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(out.getvalue())
        except OSError as exc:
            raise RosterError(f"cannot write the generated passwords to {pw_file} ({exc.strerror or exc}); "
                              f"put the roster in a writable folder") from None
    return {name: (known.get(name) or fresh[name]) for name in names}
