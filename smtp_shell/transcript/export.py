"""Export: a transcript as plain text, Markdown, one HTML page, an SVG still, or Mermaid.

Why this exists: instructors hand sessions out, put them on slides and paste them into
course notes. Every conversation is drawn by the live shell's `Renderer`, so an export looks
exactly like the screen did. Server text is hostile: it goes through the renderer's
`visible()` (control characters shown as escapes) and is escaped for HTML, SVG, Markdown and
Mermaid; the HTML page loads nothing from the network (a Content-Security-Policy says so).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from typing import TextIO

from rich.console import Console

from smtp_shell.render import Renderer
from smtp_shell.transcript.escape import html_text, markdown_text, svg_text
from smtp_shell.transcript.escape import terminal as plain_visible
from smtp_shell.transcript.reader import Event, Transcript
from smtp_shell.transcript.replay import SCREEN_KINDS, play, render_event, reply_of
from smtp_shell.transcript.summary import Summary, summarize

FORMATS = ("text", "md", "html", "svg", "mermaid")


def _render(events: Iterable[Event], console: Console, gloss: bool) -> None:
    play(events, Renderer(console, gloss=gloss), timing=False)


def _plain_console(file) -> Console:
    return Console(file=file, no_color=True, color_system=None, force_terminal=False, highlight=False,
                   markup=False, emoji=False, soft_wrap=True, width=200)


def _to_string(write, *args, **kwargs) -> str:
    buf = io.StringIO()
    write(*args, out=buf, **kwargs)
    return buf.getvalue()


def write_text(transcript: Transcript, out: TextIO, gloss: bool = False) -> None:
    """Exactly the plain rendering: what the live shell printed without colour (streamed)."""
    _render(transcript.events, _plain_console(out), gloss)


def to_text(transcript: Transcript, gloss: bool = False) -> str:
    return _to_string(write_text, transcript, gloss=gloss)


def _capped(events: Iterable[Event], limit: int, skipped: list[int]) -> Iterator[Event]:
    """The first `limit` events; counts the rest in `skipped[0]` (an image of a million lines helps nobody)."""
    for i, event in enumerate(events):
        if i < limit:
            yield event
        else:
            skipped[0] += 1


class _FenceMeter:
    """A write-only file that remembers the longest run of backticks or tildes written to it."""

    def __init__(self) -> None:
        self.longest = 0
        self._run, self._char = 0, ""

    def write(self, text: str) -> int:
        for m in re.finditer(r"`+|~+|[^`~]+", text):
            chunk = m.group(0)
            if chunk[0] in "`~":
                self._run = self._run + len(chunk) if chunk[0] == self._char else len(chunk)
                self._char = chunk[0]
                self.longest = max(self.longest, self._run)
            else:
                self._run, self._char = 0, ""
        return len(text)

    def flush(self) -> None:
        pass


class _Discard(io.StringIO):
    """Where a recording console's own output goes: nowhere (only the record is used), so the
    console does not keep a second copy of everything drawn."""

    def write(self, text: str) -> int:
        return len(text)


def _colour_console(width: int = 110) -> Console:
    return Console(file=_Discard(), record=True, no_color=False, color_system="truecolor", force_terminal=True,
                   highlight=False, markup=False, emoji=False, soft_wrap=True, width=width)


def _facts(transcript: Transcript, s: Summary) -> list[tuple[str, str]]:
    h = transcript.header
    status = "complete" if s.complete else f"incomplete: {s.problem}"
    return [
        ("server", s.target), ("started (UTC)", s.started), ("time zone", h.get("timezone") or "unknown"),
        ("duration", f"{s.duration:.1f} s"), ("recording", status), ("TLS", "yes" if s.tls else "no"),
        ("logged in", (s.user or "yes") if s.authenticated else "no"), ("messages accepted", str(s.accepted)),
        ("4xx replies", str(s.replies_4xx)), ("5xx replies", str(s.replies_5xx)),
        ("lesson", s.lesson or "none"), ("steps passed", ", ".join(s.steps) or "none"),
        ("recorded with", f"smtp-shell {h.get('tool_version') or '?'}"),
    ]


# ---- Markdown ------------------------------------------------------------------------------

def write_markdown(transcript: Transcript, out: TextIO, gloss: bool = False) -> None:
    """Streamed in three passes over the file: the summary, the fence length, the body."""
    s = summarize(transcript)
    meter = _FenceMeter()
    _render(transcript.events, _plain_console(meter), gloss)
    fence = "`" * max(3, meter.longest + 1)
    out.write(f"# SMTP session with {markdown_text(s.target)}\n\n"
              f"Recorded {markdown_text(s.started)} with smtp-shell; ` -> ` the client, `<-  ` the server, "
              f"`~` under TLS, `*` an error reply, `===` the tool's notes.\n\n{fence}text\n")
    write_text(transcript, out, gloss)
    rows = "\n".join(f"| {k} | {markdown_text(v)} |" for k, v in _facts(transcript, s))
    out.write(f"{fence}\n\n## Summary\n\n| | |\n|---|---|\n{rows}\n")


def to_markdown(transcript: Transcript, gloss: bool = False) -> str:
    return _to_string(write_markdown, transcript, gloss=gloss)


# ---- sequence diagram (SVG for the HTML page) ---------------------------------------------------

def _clip(text: str, n: int = 64) -> str:
    text = plain_visible(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def diagram_rows(events: Iterable[Event]) -> Iterator[tuple[str, str, bool, bool]]:
    """(kind, label, under_tls, is_error) per diagram row; DATA body lines are folded into one row."""
    rows: list[tuple[str, str, bool, bool]] = []
    body = 0
    tls = False

    def flush_body() -> None:
        nonlocal body
        if body:
            rows.append(("c", f"message body ({body} line{'s' if body != 1 else ''})", tls, False))
            body = 0

    for e in events:
        yield from rows
        rows.clear()
        if e.kind == "c" and e.get("as") == "data":
            body += 1
            continue
        flush_body()
        if e.kind == "connect":
            tls = bool(e.get("tls"))
            rows.append(("connect", f"connect to {e.get('target', '')}", tls, False))
        elif e.kind == "c":
            rows.append(("c", e.text, e.tls, False))
        elif e.kind == "s":
            reply = reply_of(e)
            extra = f" (+{len(reply.lines) - 1} lines)" if len(reply.lines) > 1 else ""
            rows.append(("s", f"{reply.wire_lines()[0]}{extra}", e.tls, reply.klass in (4, 5)))
        elif e.kind == "tls":
            tls = True
            rows.append(("tls", f"TLS started: {e.text}", True, False))
        elif e.kind == "error":
            rows.append(("error", e.text, tls, True))
        elif e.kind == "raw":
            rows.append(("error", f"{e.get('label', '')}: bytes that are not SMTP", tls, True))
        elif e.kind == "marker":
            rows.append(("marker", e.text, tls, False))
        elif e.kind == "close":
            rows.append(("close", e.text, tls, False))
            tls = False
    flush_body()
    yield from rows


MAX_DIAGRAM_ROWS = 2000   # rows of the sequence diagram in an HTML page
MAX_SVG_EVENTS = 2000     # events in an SVG still


def sequence_svg(transcript: Transcript) -> str:
    rows: list[tuple[str, str, bool, bool]] = []
    more = 0
    for row in diagram_rows(transcript.events):
        if len(rows) < MAX_DIAGRAM_ROWS:
            rows.append(row)
        else:
            more += 1
    if more:
        rows.append(("note", f"... and {more} more rows (export --format text shows everything)", False, False))
    esc = svg_text
    width, left, right, top, step = 820, 110, 710, 64, 26
    height = top + step * len(rows) + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" id="sequence" role="img" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="12">',
           f"<title>{esc('SMTP sequence diagram: client and ' + transcript.target)}</title>",
           '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto">'
           '<path d="M0,0 L8,4 L0,8 z" fill="context-stroke"/></marker></defs>']
    # TLS shading: one band per run of rows under TLS
    start = None
    for i, row in enumerate(rows + [("end", "", False, False)]):
        if row[2] and start is None:
            start = i
        elif not row[2] and start is not None:
            y0, y1 = top + step * start - step // 2, top + step * i - step // 2
            out.append(f'<rect class="tls-band" x="{left - 60}" y="{y0}" width="{right - left + 120}" height="{y1 - y0}" '
                       'fill="#f1e6ff" stroke="#b48ee0" stroke-dasharray="4 3"><title>under TLS</title></rect>')
            out.append(f'<text x="{right + 64}" y="{y0 + 14}" text-anchor="end" fill="#7d4fb3">TLS</text>')
            start = None
    for x, name in ((left, "client"), (right, "server " + _clip(transcript.target, 30))):
        out.append(f'<rect x="{x - 75}" y="10" width="150" height="26" rx="4" fill="#eef2f7" stroke="#555"/>')
        out.append(f'<text x="{x}" y="28" text-anchor="middle" font-weight="bold">{esc(name)}</text>')
        out.append(f'<line x1="{x}" y1="36" x2="{x}" y2="{height - 10}" stroke="#888" stroke-dasharray="2 3"/>')
    for i, (kind, label, _tls, error) in enumerate(rows):
        y = top + step * i
        colour = "#c62828" if error else ("#1d4fa8" if kind == "c" else "#2e7d32")
        text = esc(_clip(label))
        if kind in ("c", "s"):
            x1, x2 = (left, right) if kind == "c" else (right, left)
            cls = "client" if kind == "c" else ("error-reply" if error else "reply")
            out.append(f'<g class="{cls}"><line x1="{x1}" y1="{y + 4}" x2="{x2}" y2="{y + 4}" stroke="{colour}" '
                       f'stroke-width="1.5" marker-end="url(#arrow)"/>'
                       f'<text x="{(left + right) // 2}" y="{y}" text-anchor="middle" fill="{colour}">'
                       f'{"✗ " if error else ""}{text}</text></g>')
        else:
            fill = {"error": "#c62828", "marker": "#6a1b9a", "tls": "#7d4fb3"}.get(kind, "#555")
            prefix = {"error": "✗ ", "marker": "✔ "}.get(kind, "")
            out.append(f'<text class="{kind}" x="{(left + right) // 2}" y="{y + 4}" text-anchor="middle" '
                       f'fill="{fill}" font-style="italic">{prefix}{text}</text>')
    out.append("</svg>")
    return "\n".join(out)


# ---- HTML ------------------------------------------------------------------------------------

_CSS = """body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:64rem;color:#222}
pre.conversation{background:#f8f8f6;color:#222;border:1px solid #ddd;padding:1rem;overflow-x:auto;border-radius:6px;line-height:1.35}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
.diagram{overflow-x:auto}"""


CHUNK_EVENTS = 500  # events rendered per HTML chunk (the page is written as it is drawn)


def write_html(transcript: Transcript, out: TextIO, gloss: bool = False) -> None:
    """One self-contained page, streamed: the conversation is drawn and written in chunks."""
    s = summarize(transcript)
    esc = html_text
    title = esc(f"SMTP session with {s.target}")
    out.write(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="smtp-shell {esc(str(transcript.header.get('tool_version') or ''))}">
<title>{title}</title><style>{_CSS}</style></head>
<body>
<h1>{title}</h1>
<p>Recorded {esc(s.started)}. <code>-&gt;</code> the client, <code>&lt;-</code> the server, <code>~</code> under TLS,
<code>*</code> an error reply, <code>===</code> smtp-shell's own notes.</p>
<h2>Conversation</h2>
<pre class="conversation" id="conversation">""")
    console = _colour_console()
    renderer = Renderer(console, gloss=gloss)
    pending = 0
    for event in transcript.events:
        if event.kind in SCREEN_KINDS:
            render_event(renderer, event)
            pending += 1
        if pending >= CHUNK_EVENTS:
            out.write(console.export_html(inline_styles=True, code_format="{code}", clear=True))
            pending = 0
    out.write(console.export_html(inline_styles=True, code_format="{code}", clear=True))
    rows = "\n".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in _facts(transcript, s))
    out.write(f"""</pre>
<h2>Sequence diagram</h2>
<div class="diagram">{sequence_svg(transcript)}</div>
<h2>Summary</h2>
<table id="summary">{rows}</table>
</body></html>
""")


def to_html(transcript: Transcript, gloss: bool = False) -> str:
    return _to_string(write_html, transcript, gloss=gloss)


# ---- SVG still, Mermaid ------------------------------------------------------------------------

def to_svg(transcript: Transcript, gloss: bool = False) -> str:
    """A still image of the first MAX_SVG_EVENTS events (a note says how many more there were)."""
    console = _colour_console(100)
    more = [0]
    _render(_capped(transcript.events, MAX_SVG_EVENTS, more), console, gloss)
    if more[0]:
        Renderer(console).note(f"... and {more[0]} more events (export --format text shows everything)")
    return console.export_svg(title=f"smtp-shell: {plain_visible(transcript.target)}")


def write_svg(transcript: Transcript, out: TextIO, gloss: bool = False) -> None:
    out.write(to_svg(transcript, gloss))


_MERMAID_SPECIAL = set(';#:<>%&"{}[]()|`\\')


def mermaid_escape(text: str) -> str:
    """Text safe inside a Mermaid message: special characters as `#NN;` entity codes."""
    return "".join(f"#{ord(ch)};" if ch in _MERMAID_SPECIAL else ch for ch in plain_visible(text))


def write_mermaid(transcript: Transcript, out: TextIO, gloss: bool = False) -> None:
    """A Mermaid sequenceDiagram, written row by row."""
    # The participant line needs the target, which a header may leave to the first connect event.
    target = transcript.target
    if target == "?":
        target = next((e.get("target", "?") for e in transcript.events if e.kind == "connect"), "?")
    head = ("sequenceDiagram\n    participant C as client\n"
            f"    participant S as server {mermaid_escape(target)}\n")
    in_rect = False
    for kind, label, tls, error in diagram_rows(transcript.events):
        if head:  # written with the first row: a file that is bad from its first event writes nothing
            out.write(head)
            head = ""
        if tls and not in_rect:
            out.write("    rect rgb(241, 230, 255)\n")
            in_rect = True
        elif not tls and in_rect:
            out.write("    end\n")
            in_rect = False
        text = mermaid_escape(label)
        if kind == "c":
            out.write(f"    C->>S: {text}\n")
        elif kind == "s":
            out.write(f"    S-{'-x' if error else '->>'}C: {text}\n")
        elif kind == "error":
            out.write(f"    Note over C,S: error#58; {text}\n")
        elif kind == "marker":
            out.write(f"    Note over C,S: step passed#58; {text}\n")
        else:
            out.write(f"    Note over C,S: {text}\n")
    out.write(head)
    if in_rect:
        out.write("    end\n")


def to_mermaid(transcript: Transcript) -> str:
    return _to_string(write_mermaid, transcript)


WRITERS = {"text": write_text, "md": write_markdown, "html": write_html, "svg": write_svg, "mermaid": write_mermaid}


def write_export(transcript: Transcript, fmt: str, out: TextIO, gloss: bool = False) -> None:
    """Write `transcript` as `fmt` to `out` as it is drawn (a `TranscriptFile` is never held whole)."""
    writer = WRITERS.get(fmt)
    if writer is None:
        raise ValueError(f"{fmt!r} is not an export format; choose one of {', '.join(FORMATS)}")
    writer(transcript, out, gloss=gloss)


def export(transcript: Transcript, fmt: str, gloss: bool = False) -> str:
    buf = io.StringIO()
    write_export(transcript, fmt, buf, gloss)
    return buf.getvalue()
