"""`export FILE --format cast`: a transcript as an asciinema v2 recording (`.cast`).

Why this exists: instructors put sessions on course pages, and asciinema-player plays a
`.cast` file in any browser with the real timing. The recording is made by drawing each event
through the same `Renderer` the live shell and `replay` use, on a colour terminal console, so
the player shows exactly replay's colours and prefixes; each event becomes one output event at
its recorded time. Server text went through the renderer's `visible()`, so no escape sequence
from a transcript reaches the player's terminal: only the renderer's own colour codes do, and
each line is written by escape.py's `json_dumps` (C1, bidi and the like as `\\uXXXX`).

Streamed in two passes over the file (the header's width needs the longest line first), so a
huge transcript never has to fit in memory.

Format (asciicast v2): a JSON header line `{"version": 2, "width", "height", "timestamp",
"title", "env"}`, then one `[seconds, "o", text]` line per event, with CRLF line ends as a
terminal would receive them.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import io
import re
from collections.abc import Iterator
from typing import TextIO

from rich.console import Console

from smtp_shell.render import Renderer
from smtp_shell.transcript.escape import json_dumps, terminal
from smtp_shell.transcript.reader import Transcript, TranscriptFile
from smtp_shell.transcript.replay import SCREEN_KINDS, render_event

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
HEIGHT = 30


def colour_console(file, width: int = 200) -> Console:
    """The console a colour terminal gives `replay`: truecolor, no wrapping by rich."""
    return Console(file=file, force_terminal=True, color_system="truecolor", no_color=False, width=width,
                   highlight=False, markup=False, emoji=False, soft_wrap=True, legacy_windows=False)


def _timestamp(started: str) -> int:
    try:
        when = _dt.datetime.fromisoformat(started.replace("Z", "+00:00"))
    except ValueError:
        return 0
    try:
        return calendar.timegm(when.utctimetuple())
    except (OverflowError, ValueError):
        return 0


def _chunks(transcript: Transcript | TranscriptFile, gloss: bool) -> Iterator[tuple[float, str]]:
    """(time, what the terminal receives) per drawn event, one event in memory at a time."""
    buf = io.StringIO()
    renderer = Renderer(colour_console(buf), gloss=gloss)
    for event in transcript.events:
        if event.kind not in SCREEN_KINDS:
            continue
        render_event(renderer, event)
        text = buf.getvalue()
        buf.seek(0)
        buf.truncate()
        if text:
            yield max(0.0, event.t), text.replace("\r\n", "\n").replace("\n", "\r\n")


def write_cast(transcript: Transcript | TranscriptFile, out: TextIO, gloss: bool = False) -> None:
    longest = max((len(line) for _, text in _chunks(transcript, gloss) for line in _ANSI.sub("", text).split("\r\n")),
                  default=80)
    header = {"version": 2, "width": max(80, min(longest, 200)), "height": HEIGHT,
              "timestamp": _timestamp(transcript.started),
              "title": terminal(f"smtp-shell: {transcript.target}"),
              "env": {"TERM": "xterm-256color", "SHELL": "smtp-shell"}}
    out.write(json_dumps(header, indent=None) + "\n")
    previous = 0.0
    for t, text in _chunks(transcript, gloss):
        previous = max(previous, round(t, 6))  # never backwards
        out.write(json_dumps([previous, "o", text], indent=None) + "\n")


def to_cast(transcript: Transcript | TranscriptFile, gloss: bool = False) -> str:
    buf = io.StringIO()
    write_cast(transcript, buf, gloss)
    return buf.getvalue()
