"""Where smtp-shell keeps the user's data, and the one way it writes a file safely.

Everything here is private to its owner on POSIX (files 0600, folders 0700): the history, the
lab's key and session logs hold what students typed and sent. One function decides the folder
so every part agrees. `SMTP_SHELL_HOME` overrides it (tests and classrooms use that); otherwise
platformdirs names the platform's usual per-user data folder (`~/.local/share/smtp-shell` or
`$XDG_DATA_HOME/smtp-shell`, `~/Library/Application Support/smtp-shell`, `%LOCALAPPDATA%\\smtp-shell`).

`atomic_write` replaces a file in one step: a reader (or a crash) sees the old file or the new
one, never half of it.
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """The per-user data folder, created if missing."""
    override = os.environ.get("SMTP_SHELL_HOME")
    if override:
        base = Path(override)
    else:
        import platformdirs  # only when no SMTP_SHELL_HOME names the folder

        base = Path(platformdirs.user_data_dir("smtp-shell", appauthor=False))
    return private_dir(base)


PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


def private_dir(path: Path, *, ours: bool = True) -> Path:
    """Create `path` (and its parents) readable by the owner only. A folder that is `ours`
    (smtp-shell's own) is made 0700 even if it existed; one the user named keeps its mode
    unless smtp-shell creates it now."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    if ours and os.name == "posix":
        try:
            os.chmod(path, PRIVATE_DIR)
        except OSError:
            pass  # not our folder to change: what is written inside is still 0600
    return path


def private_file(path: Path) -> Path:
    """Make sure `path` exists and is readable by the owner only (0600 on POSIX)."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
    os.close(fd)
    if os.name == "posix":
        os.chmod(path, PRIVATE_FILE)
    return path


def open_private(path: Path, mode: str = "a", *, exclusive: bool = False, **kwargs):
    """`open(path, mode)` for a text file that is created 0600 (never readable by others, even
    for the instant between creating and chmod)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else 0)
    flags |= os.O_APPEND if mode.startswith("a") else (0 if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, PRIVATE_FILE)
    try:
        if os.name == "posix":
            os.fchmod(fd, PRIVATE_FILE)
        return os.fdopen(fd, mode if not exclusive else "w", **kwargs)
    except BaseException:
        os.close(fd)
        raise


def atomic_write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write `data` to `path` through a temporary file in the same folder, synced, then renamed
    over it; `private` makes the file readable by its owner only (a key). Raises OSError."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)  # a folder made now is private
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
    return private_dir(data_dir() / "lab")


def default_mailbox() -> Path:
    return lab_dir() / "mailbox"


def write_crash_report(exc: BaseException, context: str) -> Path | None:
    """Keep an unexpected error's full traceback in a private file in the data folder, for a bug
    report (the screen gets one sentence naming the file). None if it cannot be written."""
    import datetime as _dt
    import traceback

    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%d-%H%M%S")
    text = f"smtp-shell crash report ({context})\n\n" + "".join(traceback.format_exception(exc))
    try:
        folder = private_dir(data_dir() / "crashes")
        for n in range(100):
            path = folder / f"crash-{stamp}-{n}.txt"
            try:
                with open_private(path, "w", exclusive=True, encoding="utf-8") as fh:
                    fh.write(text)
            except FileExistsError:
                continue
            return path
    except OSError:
        pass
    return None
