"""Who is at the keyboard: the student name that lessons and recordings carry.

Why this exists: an instructor grading forty transcripts needs to know whose each one is, and
a file name is not proof of anything. The name comes from `--student NAME`, else the
`SMTP_SHELL_STUDENT` environment variable, else the user config (`config.json` in the data
folder), else it is asked once at the first lesson on a terminal and kept in that config.
Never asked when stdin is not a terminal (scripts, CI). Names are cleaned: no control
characters, at most 80 characters.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from smtp_shell import paths

ENV_VAR = "SMTP_SHELL_STUDENT"
MAX_NAME = 80
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def config_path() -> Path:
    return paths.data_dir() / "config.json"


def clean_name(text: str | None) -> str | None:
    """A name fit for a header, a file name part and a table cell; None when nothing is left."""
    if text is None:
        return None
    name = " ".join(_CONTROL.sub(" ", text).split())[:MAX_NAME]
    return name or None


def slug(name: str | None) -> str:
    """`Ada Lovelace` -> `ada-lovelace`: the name part of a transcript file name."""
    text = re.sub(r"[^0-9A-Za-z]+", "-", (name or "").lower()).strip("-")[:32]
    return text or "anonymous"


def _read_config() -> dict:
    try:
        data = json.loads(config_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def saved_name() -> str | None:
    value = _read_config().get("student")
    return clean_name(value) if isinstance(value, str) else None


def save_name(name: str) -> None:
    """Keep the name in the user config (atomically). Never raises: it is a courtesy."""
    data = _read_config()
    data["student"] = name
    try:
        path = config_path()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except OSError:
        pass


def student_name(given: str | None, *, interactive: bool, ask: Callable[[str], str] | None = None) -> str | None:
    """The student's name: `--student`, then the environment, then the config, then one question."""
    for candidate in (given, os.environ.get(ENV_VAR), saved_name()):
        name = clean_name(candidate)
        if name:
            return name
    if not interactive or ask is None:
        return None
    try:
        answer = ask("Your name, for your lesson transcripts (asked once; kept in "
                     f"{config_path()}; Enter to skip): ")
    except (EOFError, KeyboardInterrupt, OSError):
        return None
    name = clean_name(answer)
    if name:
        save_name(name)
    return name
