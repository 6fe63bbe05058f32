"""`export FILE --format cast`: a transcript as an asciinema v2 recording (`.cast`).

Why this exists: instructors put sessions on course pages, and asciinema-player plays a
`.cast` file in any browser with the real timing. The recording is made by drawing each event
through the same `Renderer` the live shell and `replay` use, on a colour terminal console, so
the player shows exactly replay's colours and prefixes; each event becomes one output event at
its recorded time. Server text went through the renderer's `visible()`, so no escape sequence
from a transcript reaches the player's terminal: only the renderer's own colour codes do.

Format (asciicast v2): a JSON header line `{"version": 2, "width", "height", "timestamp",
"title", "env"}`, then one `[seconds, "o", text]` line per event, with CRLF line ends as a
terminal would receive them.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import io
import json
import re

from rich.console import Console

from smtp_shell.render import Renderer, plain_visible
from smtp_shell.transcript.reader import Transcript
from smtp_shell.transcript.replay import render_event, screen_events

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
    return calendar.timegm(when.utctimetuple())


def to_cast(transcript: Transcript, gloss: bool = False) -> str:
    buf = io.StringIO()
    renderer = Renderer(colour_console(buf), gloss=gloss)
    chunks: list[tuple[float, str]] = []
    position = 0
    for event in screen_events(transcript.events):
        render_event(renderer, event)
        text = buf.getvalue()[position:]
        position += len(text)
        if text:
            chunks.append((max(0.0, event.t), text.replace("\r\n", "\n").replace("\n", "\r\n")))
    longest = max((len(line) for _, text in chunks for line in _ANSI.sub("", text).split("\r\n")), default=80)
    header = {"version": 2, "width": max(80, min(longest, 200)), "height": HEIGHT,
              "timestamp": _timestamp(transcript.started),
              "title": plain_visible(f"smtp-shell: {transcript.target}"),
              "env": {"TERM": "xterm-256color", "SHELL": "smtp-shell"}}
    lines = [json.dumps(header, ensure_ascii=False)]
    previous = 0.0
    for t, text in chunks:
        previous = max(previous, round(t, 6))  # never backwards
        lines.append(json.dumps([previous, "o", text], ensure_ascii=False))
    return "\n".join(lines) + "\n"
