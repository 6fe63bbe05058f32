"""The transcript file format, in one place: header, event kinds and the type of every field.

Why a module of its own: the recorder writes what this module says and the reader checks
exactly the same table, so the two can never drift apart (docs/transcripts.md describes it).

A transcript is JSON Lines (UTF-8, one JSON object per line). Line 1 is the header:

    {"format": "smtp-shell-transcript", "version": 1, "started": "2026-05-01T09:30:00.123Z",
     "timezone": "Europe/Paris", "target": "127.0.0.1:8025", "tool_version": "0.1.0", "lesson": null}

Every other line is one event: `t` (seconds since the start, monotonic clock), `k` (the kind)
and the fields of that kind, e.g. `{"t": 0.412, "k": "c", "text": "EHLO me", "as": "command",
"verb": "EHLO"}`. `version` is the major version: a reader rejects a version it does not know,
and skips event kinds it does not know (newer minor additions).
"""

from __future__ import annotations

import base64
import binascii
import json
import math

FORMAT = "smtp-shell-transcript"
VERSION = 1


class TranscriptError(Exception):
    """A transcript that cannot be used; the message is one sentence naming the file and line."""


_STR, _NUM, _INT, _BOOL = (str,), (int, float), (int,), (bool,)
_OPT_STR = (str, type(None))

# header field -> (allowed types, required)
HEADER_FIELDS: dict[str, tuple[tuple, bool]] = {
    "format": (_STR, True),
    "version": (_INT, True),
    "started": (_STR, True),
    "timezone": (_OPT_STR, False),
    "target": (_OPT_STR, False),
    "tool_version": (_OPT_STR, False),
    "lesson": (_OPT_STR, False),
}

_TEXT = {"text": (_STR, True)}
_TEXT_OR_BYTES = {"text": (_STR, False), "b64": (_STR, False)}

# event kind -> {field -> (allowed types, required)}; `t` and `k` are common to all.
EVENT_FIELDS: dict[str, dict[str, tuple[tuple, bool]]] = {
    "connect": {"target": (_STR, True), "tls": (_BOOL, False)},
    "c": {**_TEXT, "tls": (_BOOL, False), "as": (_STR, False), "verb": (_STR, False),
          "secret": (_STR, False), "user": (_STR, False)},
    "s": {**_TEXT_OR_BYTES, "tls": (_BOOL, False), "code": (_INT, False), "verb": (_OPT_STR, False),
          "reply": (_STR, False), "challenge": (_OPT_STR, False)},
    "note": dict(_TEXT),
    "warn": dict(_TEXT),
    "error": {**_TEXT, "hint": (_OPT_STR, False)},
    "raw": {**_TEXT_OR_BYTES, "label": (_STR, True)},
    "tls": {"text": (_STR, False), "info": ((dict,), True)},
    "marker": dict(_TEXT),
    "close": dict(_TEXT),
    "end": {"status": (_INT, False)},
}
KINDS = frozenset(EVENT_FIELDS)

# Fields of TLSInfo kept in a "tls" event (all strings except the two flags).
TLS_FIELDS = ("version", "cipher", "subject", "issuer", "not_before", "not_after", "verified",
              "fingerprint_sha256", "server_hostname", "self_signed")
_TLS_FLAGS = ("verified", "self_signed")


def _type_name(types: tuple) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
             dict: "an object", type(None): "null"}
    return " or ".join(dict.fromkeys(names[t] for t in types))


# Ranges: a transcript is a student's file, so every number is bounded and every string is
# real text. `t` is at most ten years of seconds; codes and statuses are small integers.
MAX_T = 10 * 366 * 24 * 3600.0
INT_RANGES = {"version": (0, 10**6), "code": (0, 999), "status": (-(2**31), 2**31)}
MAX_LINE_BYTES = 8 * 2**20  # one event line; longer is a damaged or hostile file


def _describe(value) -> str:
    """A short, ASCII-only, never-failing description of a JSON value for an error message."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**12:
        return f"a {len(str(abs(value))) if abs(value) < 10**4000 else 'several-thousand'}-digit number"
    try:
        return json.dumps(value, ensure_ascii=True)[:40]
    except (ValueError, RecursionError):
        return "an unreadable value"


def _lone_surrogate(text: str) -> bool:
    """A surrogate that is not a byte recorded as not-UTF-8 (U+DC80..U+DCFF, surrogateescape)."""
    try:
        text.encode("utf-8", "surrogateescape")  # fails exactly on the other surrogates
    except UnicodeEncodeError:
        return True
    return False


def check_value(name: str, value) -> str | None:
    """Range and text checks for one field value (types are checked by the tables)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"the field {name!r} is {value}, which is not a usable number"
    if isinstance(value, int) and not isinstance(value, bool):
        low, high = INT_RANGES.get(name, (-(2**53), 2**53))
        if not low <= value <= high:
            return f"the field {name!r} is {_describe(value)}, outside {low}..{high}"
    if isinstance(value, str) and _lone_surrogate(value):
        return f"the field {name!r} holds a lone surrogate (half of a UTF-16 pair), which is not text"
    return None


def check_fields(obj: dict, table: dict[str, tuple[tuple, bool]]) -> str | None:
    """The first problem with `obj` against `table`, as a phrase, or None. Unknown fields are allowed."""
    for name, (types, required) in table.items():
        if name not in obj:
            if required:
                return f"the field {name!r} is missing"
            continue
        value = obj[name]
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if not ok:
            return f"the field {name!r} should be {_type_name(types)}, not {_describe(value)}"
        problem = check_value(name, value)
        if problem:
            return problem
    return None


def check_event(obj: dict) -> str | None:
    """The first problem with one event line (already JSON-decoded), or None."""
    t = obj.get("t")
    if not isinstance(t, (int, float)) or isinstance(t, bool):
        return "the field 't' (seconds since the start) should be a number"
    if not (isinstance(t, int) or math.isfinite(t)) or not 0 <= t <= MAX_T:
        return f"the field 't' is {_describe(t)} seconds; it must be from 0 to {MAX_T:.0f}"
    if not isinstance(obj.get("k"), str):
        return "the field 'k' (the event kind) should be a string"
    table = EVENT_FIELDS.get(obj["k"])
    if table is None:
        return None  # unknown kind of the same major version: the reader skips it
    problem = check_fields(obj, table)
    if problem:
        return problem
    if obj["k"] in ("s", "raw") and not ("text" in obj or "b64" in obj):
        return "a server event needs 'text' or 'b64'"
    if "b64" in obj:
        if not isinstance(obj["b64"], str):
            return "the field 'b64' should be a string of base64"
        try:
            base64.b64decode(obj["b64"], validate=True)
        except (binascii.Error, ValueError):
            return "the field 'b64' is not valid base64"
    if obj["k"] == "tls":
        info = obj["info"]
        for name in TLS_FIELDS:
            want = bool if name in _TLS_FLAGS else str
            if name in info and not isinstance(info[name], want):
                return f"the TLS field {name!r} should be {_type_name((want,))}"
            if name in info and check_value(name, info[name]):
                return check_value(name, info[name])
    return None


def bytes_field(data: bytes) -> dict:
    """Server bytes as `text` when they are valid UTF-8, else losslessly as `b64`."""
    try:
        return {"text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(data).decode("ascii")}


def event_bytes(obj: dict) -> bytes:
    """The bytes of a server event (`text` or `b64`)."""
    if "b64" in obj:
        return base64.b64decode(obj["b64"])
    return obj.get("text", "").encode("utf-8", "surrogateescape")


def dump_line(obj: dict) -> str:
    """One JSON line; readable UTF-8, falling back to \\u escapes for undecodable characters."""
    line = json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (a byte that was not UTF-8): keep it escaped
        line = json.dumps(obj, ensure_ascii=True, separators=(", ", ": "))
    return line + "\n"
