"""The recorder: a session listener that writes each event to a transcript as it happens.

Why this exists: instructors collect students' sessions, and a recording must survive the
student closing the laptop. Every event is one line, written and flushed at once (and
fsync'ed at markers and at the end), so a killed process loses at most the line being written.

It has the same method names as the shell's `Listener` (duck-typed: the transcript layer does
not import the shell). The screen-level calls (`client`, `reply`, `note`, ...) are what is
stored, so a replay through a `Renderer` looks like the live session; the protocol-level
calls (`sent`, `server_reply`) that follow them add metadata (the verb, the reply code).

AUTH secrets never reach the file. The driver already passes masked text; on top of that the
recorder masks every AUTH command with an initial response, every line sent while an AUTH
exchange is going on, and any later text that contains a secret it has seen. Each placeholder
carries a hint of WHICH secret it was (`login-username`, `login-password`, `plain-initial`,
`plain-response`) so `replay --against` can re-create it. The user name is kept in clear in a
`user` field (servers log it too; it is not a secret), never the password.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import os
import time
from pathlib import Path
from typing import Any

from smtp_shell import __version__
from smtp_shell.protocol.sasl import REDACTED, mask_auth_command
from smtp_shell.transcript.format import FORMAT, TLS_FIELDS, VERSION, TranscriptError, bytes_field, dump_line

_INITIAL_HINTS = {"PLAIN": "plain-initial", "LOGIN": "login-username-initial"}


def local_timezone() -> str | None:
    """The IANA name of the local time zone ("Europe/Paris"), or None if it cannot be told."""
    try:
        import tzlocal

        return tzlocal.get_localzone_name()
    except Exception:  # tzlocal missing or the system zone is not configured
        return None


def open_new(path: Path, force: bool = False):
    """Open `path` for writing a transcript: refuse an existing file unless `force`."""
    path = Path(path)
    if path.is_dir():
        raise TranscriptError(f"{path} is a folder; give a file name for the transcript, e.g. {path / 'session.jsonl'}")
    from smtp_shell.paths import open_private, private_dir

    try:
        private_dir(path.parent, ours=False)  # 0700 if made now; the file itself is always 0600
        return open_private(path, "w", exclusive=not force, encoding="utf-8", newline="\n", buffering=1)
    except FileExistsError:
        raise TranscriptError(f"{path} already exists; choose another file name, or add --force to overwrite it") from None
    except OSError as exc:
        raise TranscriptError(f"cannot write the transcript {path} ({exc.strerror or exc}); "
                              "choose a folder you can write to") from None


def _b64_text(b64: str) -> str | None:
    try:
        return base64.b64decode(b64.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


class Recorder:
    """Writes one session to `path` (JSON Lines, see `format.py`). Close it with `close()`."""

    def __init__(self, path: Path, *, target: str | None = None, lesson: str | None = None,
                 force: bool = False, clock=time.monotonic, wall_clock=None, fsync: bool = True) -> None:
        self.path = Path(path)
        self._clock = clock
        self._fsync = fsync
        self._file = open_new(self.path, force)
        self._t0 = clock()
        now = wall_clock() if wall_clock else _dt.datetime.now(_dt.UTC)
        self.is_closed = False
        self._pending: dict[str, Any] | None = None     # a screen event waiting for its protocol details
        self._auth_mech: str | None = None    # mechanism of the AUTH exchange going on
        self._auth_steps = 0
        self._auth_mode = False               # the last reply was a 334 to AUTH: lines are secrets
        self._challenge: str | None = None
        self._secrets: set[str] = set()       # seen secrets (in memory only): scrubbed from later text
        self._write({
            "format": FORMAT, "version": VERSION,
            "started": now.astimezone(_dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "timezone": local_timezone(), "target": target, "tool_version": __version__, "lesson": lesson,
        }, sync=True)

    # -- writing -----------------------------------------------------------------------
    def _write(self, obj: dict, sync: bool = False) -> None:
        if self.is_closed:
            return
        try:
            self._file.write(dump_line(obj))
            self._file.flush()
            if sync and self._fsync:
                os.fsync(self._file.fileno())
        except (OSError, ValueError):
            self.is_closed = True  # the disk is full or gone: the session itself goes on

    def _event(self, kind: str, sync: bool = False, **fields) -> None:
        self._flush_pending()
        self._write({"t": round(self._clock() - self._t0, 6), "k": kind, **fields}, sync)

    def _flush_pending(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._write(pending)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret and secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def _learn(self, secret: str | None) -> None:
        """Remember a secret (and its base64) so it is masked wherever it shows up later."""
        if secret and len(secret) >= 3:
            self._secrets.add(secret)
            self._secrets.add(base64.b64encode(secret.encode("utf-8")).decode("ascii"))

    # -- the screen (mirrors Renderer) ---------------------------------------------------
    def client(self, text: str, tls: bool = False, note: str | None = None) -> None:
        masked, secret = mask_auth_command(text)
        self._flush_pending()
        event = {"t": round(self._clock() - self._t0, 6), "k": "c"}
        if self._auth_mode:
            event["secret"] = self._secret_hint()
            if text.strip() != REDACTED:  # handed the real line: learn it, so it is masked everywhere
                self._absorb(text.strip(), event["secret"], event)
            text = REDACTED
        elif secret:
            words = text.split()
            if len(words) > 2 and words[2] != REDACTED:
                hint = _INITIAL_HINTS.get(words[1].upper(), "initial-response")
                self._absorb(words[2], hint, event)
            text = masked
        event["text"] = self._scrub(text)
        if tls:
            event["tls"] = True
        self._pending = event

    def reply(self, reply, tls: bool = False, challenge: str | None = None) -> None:
        self._flush_pending()
        raw = reply.raw or reply.to_bytes()
        event = {"t": round(self._clock() - self._t0, 6), "k": "s", **bytes_field(raw), "code": reply.code}
        if "text" in event:
            event["text"] = self._scrub(event["text"])
        if tls:
            event["tls"] = True
        if challenge is not None:
            event["challenge"] = challenge
        self._pending = event
        self._challenge = challenge
        self._auth_mode = reply.code == 334 and self._auth_mech is not None
        if reply.code != 334:
            self._auth_mech = None if reply.klass != 3 else self._auth_mech

    def note(self, text: str) -> None:
        self._event("note", text=self._scrub(text))

    def warning(self, text: str) -> None:
        self._event("warn", text=self._scrub(text))

    def error(self, text: str, hint: str | None = None) -> None:
        if hint:
            self._event("error", text=self._scrub(text), hint=self._scrub(hint))
        else:
            self._event("error", text=self._scrub(text))

    def raw_server(self, data: bytes, label: str) -> None:
        self._event("raw", label=label, **bytes_field(bytes(data)))

    def tls_info(self, info) -> None:
        fields = {name: getattr(info, name) for name in TLS_FIELDS if hasattr(info, name)}
        self._event("tls", text=f"{fields.get('version', '')} {fields.get('cipher', '')}".strip(), info=fields)

    # -- what happened ---------------------------------------------------------------------
    def sent(self, outgoing, *, tls: bool = False) -> None:
        event = self._pending if self._pending is not None and self._pending["k"] == "c" else None
        if event is None:  # a line sent without being shown: record it (masked) all the same
            self.client(outgoing.masked_text if outgoing.secret else outgoing.text, tls)
            event = self._pending
        assert event is not None  # client() has just made it
        event["as"] = outgoing.kind
        command = outgoing.command
        if command is not None:
            event["verb"] = command.verb
        if outgoing.kind == "auth" or outgoing.secret or self._auth_mode:
            self._mark_secret(event, outgoing)
        elif command is not None and command.verb == "AUTH":
            self._auth_mech, self._auth_steps = (command.args.split() or [""])[0].upper(), 0
        self._flush_pending()

    def _secret_hint(self) -> str:
        mech, challenge = self._auth_mech or "", (self._challenge or "").strip().lower()
        if mech == "PLAIN":
            return "plain-response"
        if mech == "LOGIN":
            if challenge.startswith("user") and self._auth_steps == 0:  # never after the user name was sent
                return "login-username"
            if challenge.startswith("pass"):
                return "login-password"
            return "login-username" if self._auth_steps == 0 else "login-password"
        return "response"

    def _mark_secret(self, event: dict, outgoing) -> None:
        """Fill in which secret this placeholder stands for; learn the user name and the secrets."""
        real = outgoing.text
        command = outgoing.command
        if command is not None and command.verb == "AUTH":  # AUTH MECH initial-response
            words = command.args.split()
            self._auth_mech, self._auth_steps = (words[0].upper() if words else ""), 0
            initial = words[1] if len(words) > 1 else ""
            self._auth_steps = 1 if initial else 0  # an initial response already named the user
            hint = getattr(outgoing, "secret_kind", "") or _INITIAL_HINTS.get(self._auth_mech or "", "initial-response")
            event["text"] = self._scrub(mask_auth_command(real)[0]) if real else event["text"]
        else:
            initial = real.strip()
            # The core names the secret from its session model; the recorder's own reading of the
            # exchange stays as a second line of defence for callers that hand it plain lines.
            hint = getattr(outgoing, "secret_kind", "") or self._secret_hint()
            if initial == "*":
                hint = "cancel"
            event["text"] = REDACTED
            self._auth_steps += 1
        event["secret"] = hint
        self._absorb(initial, hint, event)
        self._auth_mode = False

    def _absorb(self, initial: str, hint: str, event: dict) -> None:
        """Learn from a real AUTH response: the user name (kept) and the secrets (masked from now on)."""
        decoded = _b64_text(initial) if initial else None
        if hint.startswith("plain") and decoded is not None and decoded.count("\0") == 2:
            _, user, password = decoded.split("\0")
            event["user"] = user
            self._learn(password)
            self._secrets.add(initial)
        elif hint.startswith("login-username") and decoded is not None:
            event["user"] = decoded
        elif hint != "cancel":
            self._learn(decoded)
            if len(initial) >= 4:
                self._secrets.add(initial)

    def server_reply(self, event, *, tls: bool = False) -> None:
        pending = self._pending if self._pending is not None and self._pending["k"] == "s" else None
        if pending is not None:
            pending["verb"] = event.verb
            pending["reply"] = event.kind
        self._flush_pending()

    def connected(self, target: str, tls: bool = False) -> None:
        self._auth_mech, self._auth_mode = None, False
        self._event("connect", target=target, tls=bool(tls))

    def closed(self, reason: str) -> None:
        self._auth_mech, self._auth_mode = None, False
        self._event("close", text=reason)

    def marker(self, label: str) -> None:
        self._event("marker", sync=True, text=label)

    # -- the end ---------------------------------------------------------------------------
    def close(self, status: int | None = None) -> None:
        """Write the `end` event and close the file (safe to call twice)."""
        if self.is_closed:
            return
        fields = {} if status is None else {"status": int(status)}
        self._event("end", sync=True, **fields)
        self.is_closed = True
        try:
            self._file.close()
        except OSError:
            pass
