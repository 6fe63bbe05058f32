"""Reading a transcript back: checked line by line, never a traceback.

Why this exists: transcripts come from students' laptops, killed processes, hand edits and
students who want to see what an instructor's tools do with a crafted file. Every value is
checked for type and range (format.py) before anything uses it, and files are read line by
line (`TranscriptFile`) so a huge one never has to fit in memory.
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
from smtp_shell.transcript.format import FORMAT, HEADER_FIELDS, KINDS, MAX_LINE_BYTES, VERSION, TranscriptError, check_event, check_fields


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


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number a transcript may hold")


def _decode(raw: bytes):
    """One JSON line; ValueError (with a phrase) for anything that is not a usable JSON value."""
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise ValueError("is not UTF-8 text; a transcript is JSON Lines in UTF-8") from None
    except json.JSONDecodeError:
        raise ValueError("is not valid JSON; the file was edited or damaged") from None
    except RecursionError:
        raise ValueError("nests brackets too deeply to be a transcript event") from None
    except ValueError as exc:  # NaN, Infinity, an integer of thousands of digits
        reason = str(exc) if "not a number" in str(exc) else "holds a number too long to be a transcript value"
        raise ValueError(reason) from None


def _load(path: Path, number: int, raw: bytes):
    try:
        return _decode(raw)
    except ValueError as exc:
        raise TranscriptError(f"{path}, line {number} {exc}, so fix or delete that line") from None


def _header(path: Path, raw: bytes) -> dict:
    try:
        header = _decode(raw)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise TranscriptError(f"{path} is not an smtp-shell transcript (line 1 is not its header); "
                              "record one with --record FILE")
    version = header.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version != VERSION and 0 < version < 10**6:
        raise TranscriptError(f"{path} uses transcript format version {version}, which smtp-shell {__version__} "
                              f"cannot read (it reads version {VERSION}); use a matching smtp-shell to open it.")
    problem = check_fields(header, HEADER_FIELDS)
    if problem:
        raise TranscriptError(f"{path}, line 1: {problem}; the header was edited or damaged, so fix that line")
    if header["version"] != VERSION:
        raise TranscriptError(f"{path}, line 1: the version {header['version']} is not one smtp-shell writes; "
                              "the header was edited or damaged, so fix that line")
    return header


def _open(path: Path):
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise TranscriptError(f"{path} does not exist; give the path of a transcript (.jsonl) file") from None
    except IsADirectoryError:
        raise TranscriptError(f"{path} is a folder; give one transcript file (smtp-shell report takes a folder)") from None
    except OSError as exc:
        raise TranscriptError(f"cannot read {path} ({exc.strerror or exc}); check the path and its permissions") from None


def _lines(path: Path, fh):
    """(number, bytes without the newline, ended_with_newline) per line, each at most MAX_LINE_BYTES."""
    number = 0
    while True:
        try:
            raw = fh.readline(MAX_LINE_BYTES + 1)
        except OSError as exc:
            raise TranscriptError(f"cannot read {path} ({exc.strerror or exc}); check the file") from None
        if not raw:
            return
        number += 1
        ended = raw.endswith(b"\n")
        if not ended and len(raw) > MAX_LINE_BYTES:
            raise TranscriptError(f"{path}, line {number} is longer than {MAX_LINE_BYTES // 2**20} MiB, which no "
                                  "recorded event is; the file is damaged, so fix or delete that line")
        yield number, raw[:-1] if ended else raw, ended


class TranscriptFile:
    """A transcript read as a stream: the header at once, the events again from disk on every
    pass over `events`, so memory stays bounded whatever the file size (report, replay and
    export use this). After a full pass `complete`, `problem`, `skipped`, `duration` and
    `target` describe the whole file. Errors are `TranscriptError`, also in the middle of a pass."""

    def __init__(self, path) -> None:
        self.path = Path(path)
        with _open(self.path) as fh:
            first = fh.readline(MAX_LINE_BYTES + 1)
            if not first.strip():
                raise TranscriptError(f"{self.path} is empty, so it holds no session "
                                      "(the recording stopped before it began)")
            if not first.endswith(b"\n"):
                try:
                    _decode(first)
                except ValueError:
                    raise TranscriptError(f"{self.path} holds only part of its first line, so it holds no session "
                                          "(the recording was killed as it began)") from None
            self.header = _header(self.path, first.rstrip(b"\n"))
        self.complete = True
        self.problem: str | None = None
        self.skipped = 0
        self.duration = 0.0
        self._target: str | None = self.header.get("target")

    @property
    def events(self):
        return _Pass(self)

    @property
    def target(self) -> str:
        return self._target or "?"

    @property
    def started(self) -> str:
        return self.header.get("started", "")

    @property
    def lesson(self) -> str | None:
        return self.header.get("lesson")

    def _read(self):
        path = self.path
        complete, problem, skipped, seen_end, duration = True, None, 0, False, 0.0
        with _open(path) as fh:
            lines = _lines(path, fh)
            next(lines, None)  # the header
            for number, raw, ended in lines:
                if not raw.strip():
                    continue
                if not ended:  # the last line, cut off by a killed recorder?
                    try:
                        obj = _decode(raw)
                    except ValueError:
                        complete, problem = False, f"line {number} was cut off (the recording was interrupted)"
                        break
                else:
                    obj = _load(path, number, raw)
                if not isinstance(obj, dict):
                    raise TranscriptError(f"{path}, line {number} is not a JSON object; fix or delete that line")
                issue = check_event(obj)
                if issue:
                    raise TranscriptError(f"{path}, line {number}: {issue}; fix or delete that line")
                if obj["k"] not in KINDS:
                    skipped += 1
                    continue
                event = Event(float(obj["t"]), obj["k"], obj, number)
                duration = event.t
                seen_end = seen_end or event.kind == "end"
                if self._target is None and event.kind == "connect":
                    self._target = obj.get("target") or None
                yield event
        if complete and not seen_end:
            complete, problem = False, "it has no end event (the recording was interrupted or is still going on)"
        self.complete, self.problem, self.skipped, self.duration = complete, problem, skipped, duration


class _Pass:
    """`for event in transcript.events`: one fresh read of the file per iteration."""

    def __init__(self, owner: TranscriptFile) -> None:
        self.owner = owner

    def __iter__(self):
        return self.owner._read()


def open_transcript(path) -> TranscriptFile:
    """A transcript for streaming (header checked now, events read lazily). Raises `TranscriptError`."""
    return TranscriptFile(path)


def read_transcript(path) -> Transcript:
    """Read and check one whole transcript into memory (for the interactive player, `--against`
    and tests). Raises `TranscriptError` (one sentence) if unusable."""
    stream = TranscriptFile(path)
    events = list(stream.events)
    return Transcript(stream.path, stream.header, events, stream.complete, stream.problem, stream.skipped)
