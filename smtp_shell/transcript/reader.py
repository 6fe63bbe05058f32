"""Reading a transcript back: checked line by line, never a traceback.

Why this exists: transcripts come from students' laptops, killed processes and hand edits.
A file whose last line was cut off, or that has no `end` event, is read as *incomplete*
(every whole event is kept); event kinds this version does not know are skipped; anything
else wrong (not JSON, wrong header, a field of the wrong type, a newer major version) raises
`TranscriptError` with one sentence naming the file and the line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from smtp_shell import __version__
from smtp_shell.transcript.format import FORMAT, HEADER_FIELDS, KINDS, VERSION, TranscriptError, check_event, check_fields


@dataclass(frozen=True)
class Event:
    t: float
    kind: str
    fields: dict
    line: int

    @property
    def text(self) -> str:
        return self.fields.get("text", "")

    @property
    def tls(self) -> bool:
        return bool(self.fields.get("tls", False))

    def get(self, name: str, default=None):
        return self.fields.get(name, default)


@dataclass
class Transcript:
    path: Path
    header: dict
    events: list[Event] = field(default_factory=list)
    complete: bool = True
    problem: str | None = None   # why it is incomplete
    skipped: int = 0             # events of kinds this version does not know

    @property
    def target(self) -> str:
        return self.header.get("target") or next((e.get("target") for e in self.events if e.kind == "connect"), "") or "?"

    @property
    def started(self) -> str:
        return self.header.get("started", "")

    @property
    def lesson(self) -> str | None:
        return self.header.get("lesson")

    @property
    def duration(self) -> float:
        return self.events[-1].t if self.events else 0.0


def _load(path: Path, number: int, raw: bytes):
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise TranscriptError(f"{path}, line {number} is not UTF-8 text; a transcript is JSON Lines in UTF-8, "
                              "so fix or delete that line") from None
    except json.JSONDecodeError:
        raise TranscriptError(f"{path}, line {number} is not valid JSON; the file was edited or damaged, "
                              "so fix or delete that line") from None


def _header(path: Path, raw: bytes) -> dict:
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise TranscriptError(f"{path} is not an smtp-shell transcript (line 1 is not its header); "
                              "record one with --record FILE")
    version = header.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version != VERSION:
        raise TranscriptError(f"{path} uses transcript format version {version}, which smtp-shell {__version__} "
                              f"cannot read (it reads version {VERSION}); use a matching smtp-shell to open it.")
    problem = check_fields(header, HEADER_FIELDS)
    if problem:
        raise TranscriptError(f"{path}, line 1: {problem}; the header was edited or damaged, so fix that line")
    return header


def read_transcript(path) -> Transcript:
    """Read and check one transcript file. Raises `TranscriptError` (one sentence) if unusable."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise TranscriptError(f"{path} does not exist; give the path of a transcript (.jsonl) file") from None
    except IsADirectoryError:
        raise TranscriptError(f"{path} is a folder; give one transcript file (smtp-shell report takes a folder)") from None
    except OSError as exc:
        raise TranscriptError(f"cannot read {path} ({exc.strerror or exc}); check the path and its permissions") from None
    if not data.strip():
        raise TranscriptError(f"{path} is empty, so it holds no session (the recording stopped before it began)")
    lines = data.split(b"\n")
    ends_cleanly = lines[-1] == b""
    if ends_cleanly:
        lines.pop()
    if len(lines) == 1 and not ends_cleanly:
        try:
            json.loads(lines[0].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise TranscriptError(f"{path} holds only part of its first line, so it holds no session "
                                  "(the recording was killed as it began)") from None
    transcript = Transcript(path, _header(path, lines[0]))
    last = len(lines)
    for number, raw in enumerate(lines[1:], start=2):
        if not raw.strip():
            continue
        if number == last and not ends_cleanly:
            try:
                obj = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                transcript.complete = False
                transcript.problem = f"line {number} was cut off (the recording was interrupted)"
                break
        else:
            obj = _load(path, number, raw)
        if not isinstance(obj, dict):
            raise TranscriptError(f"{path}, line {number} is not a JSON object; fix or delete that line")
        problem = check_event(obj)
        if problem:
            raise TranscriptError(f"{path}, line {number}: {problem}; fix or delete that line")
        if obj["k"] not in KINDS:
            transcript.skipped += 1
            continue
        transcript.events.append(Event(float(obj["t"]), obj["k"], obj, number))
    if transcript.complete and not any(e.kind == "end" for e in transcript.events):
        transcript.complete = False
        transcript.problem = "it has no end event (the recording was interrupted or is still going on)"
    return transcript
