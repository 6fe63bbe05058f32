"""Where smtp-shell keeps the user's data: history, the lab certificate, the default mailbox.

One function decides the folder so every part agrees. `SMTP_SHELL_HOME` overrides it (tests
and classrooms use that); otherwise the platform's usual per-user data folder is used, so the
same code works on Windows laptops, macOS and Linux.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def data_dir() -> Path:
    """The per-user data folder, created if missing."""
    override = os.environ.get("SMTP_SHELL_HOME")
    if override:
        base = Path(override)
    elif sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "smtp-shell"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support" / "smtp-shell"
    else:
        xdg = os.environ.get("XDG_DATA_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".local" / "share") / "smtp-shell"
    base.mkdir(parents=True, exist_ok=True)
    return base


def history_file() -> Path:
    return data_dir() / "history"


def lab_dir() -> Path:
    """Certificate, key and default mailbox of the lab server live here."""
    path = data_dir() / "lab"
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_mailbox() -> Path:
    return lab_dir() / "mailbox"
