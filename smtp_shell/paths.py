"""Where smtp-shell keeps the user's data, and the one way it writes a file safely.

One function decides the folder so every part agrees. `SMTP_SHELL_HOME` overrides it (tests
and classrooms use that); otherwise platformdirs names the platform's usual per-user data
folder (`~/.local/share/smtp-shell` or `$XDG_DATA_HOME/smtp-shell`, `~/Library/Application
Support/smtp-shell`, `%LOCALAPPDATA%\\smtp-shell`).

`atomic_write` replaces a file in one step: a reader (or a crash) sees the old file or the new
one, never half of it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    """The per-user data folder, created if missing."""
    override = os.environ.get("SMTP_SHELL_HOME")
    base = Path(override) if override else Path(platformdirs.user_data_dir("smtp-shell", appauthor=False))
    base.mkdir(parents=True, exist_ok=True)
    return base


def atomic_write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write `data` to `path` through a temporary file in the same folder, synced, then renamed
    over it; `private` makes the file readable by its owner only (a key). Raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if private:
            os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def history_file() -> Path:
    return data_dir() / "history"


def lab_dir() -> Path:
    """Certificate, key and default mailbox of the lab server live here."""
    path = data_dir() / "lab"
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_mailbox() -> Path:
    return lab_dir() / "mailbox"
