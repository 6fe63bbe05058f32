"""Replay: a transcript drawn through the same `Renderer` calls the live shell made.

Why this exists: a recording is only useful if it looks exactly like the session did, with the
same prefixes, colours and glosses. Every screen event in a transcript is the name and
arguments of one `Renderer` call, so replaying is calling them again, in order, with the
recorded pauses (scaled by `--speed`, capped by `--idle-limit`) or none at all.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from types import SimpleNamespace

from smtp_shell.protocol.replies import Reply, ReplyParser
from smtp_shell.transcript.format import TLS_FIELDS, event_bytes
from smtp_shell.transcript.reader import Event

SCREEN_KINDS = frozenset({"c", "s", "note", "warn", "error", "raw", "tls", "marker"})


def reply_of(event: Event) -> Reply:
    """The `Reply` a server event recorded, parsed again from its exact bytes."""
    raw = event_bytes(event.fields)
    replies = [item for item in ReplyParser().feed(raw if raw.endswith(b"\n") else raw + b"\r\n") if isinstance(item, Reply)]
    if replies:
        return replies[-1]
    code = event.get("code") if isinstance(event.get("code"), int) else 500
    return Reply(code, (raw.decode("utf-8", "surrogateescape").rstrip("\r\n"),), raw)


def tls_info_of(event: Event):
    info = dict(event.get("info") or {})
    values = {name: info.get(name, False if name in ("verified", "self_signed") else "?") for name in TLS_FIELDS}
    return SimpleNamespace(**values)


def render_event(renderer, event: Event) -> None:
    """Make the one `Renderer` call this event recorded (events that drew nothing draw nothing)."""
    kind = event.kind
    if kind == "c":
        renderer.client(event.text, event.tls)
    elif kind == "s":
        renderer.reply(reply_of(event), event.tls, event.get("challenge"))
    elif kind == "note":
        renderer.note(event.text)
    elif kind == "warn":
        renderer.warning(event.text)
    elif kind == "error":
        renderer.error(event.text, event.get("hint"))
    elif kind == "raw":
        renderer.raw_server(event_bytes(event.fields), event.get("label", "raw"))
    elif kind == "tls":
        renderer.tls_info(tls_info_of(event))
    elif kind == "marker":
        renderer.note(f"--- {event.text} ---")


def delays(events: list[Event], speed: float = 1.0, idle_limit: float | None = None) -> list[float]:
    """Seconds to wait before each event: the recorded gaps, divided by `speed`, capped at `idle_limit`."""
    out, previous = [], 0.0
    for event in events:
        gap = max(0.0, event.t - previous) / max(speed, 1e-9)
        if idle_limit is not None:
            gap = min(gap, idle_limit)
        out.append(gap)
        previous = event.t
    return out


def exchange_ends(events: list[Event]) -> list[int]:
    """Where each exchange ends (exclusive indexes): a client line and everything up to the next one
    after its reply (a DATA body with its final dot and reply is one exchange)."""
    ends, has_reply = [], False
    for i, event in enumerate(events):
        if event.kind == "c" and has_reply:
            ends.append(i)
            has_reply = False
        elif event.kind == "s":
            has_reply = True
    ends.append(len(events))
    return [e for e in ends if e > 0]


def screen_events(events: list[Event]) -> list[Event]:
    return [e for e in events if e.kind in SCREEN_KINDS]


def play(events: Iterable[Event], renderer, *, timing: bool = True, speed: float = 1.0,
         idle_limit: float | None = None, sleep=time.sleep) -> None:
    """Draw every event, waiting the recorded time between them unless `timing` is off.
    `events` may be a stream (a `TranscriptFile`'s): one event is held at a time."""
    previous = 0.0
    for event in events:
        if event.kind not in SCREEN_KINDS:
            continue
        if timing:
            wait = max(0.0, event.t - previous) / max(speed, 1e-9)
            wait = min(wait, idle_limit) if idle_limit is not None else wait
            if wait > 0:
                sleep(wait)
        previous = event.t
        render_event(renderer, event)
