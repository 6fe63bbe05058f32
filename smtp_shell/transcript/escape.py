"""One escaping function per output kind, for text that came from a file or a peer.

Why this exists: transcripts, lesson folders and mailboxes are handed in by students and
opened by instructors, and server replies are written by whoever runs the server. Every such
string is escaped at the LAST step before it is written, by exactly one of these functions
(docs/security.md): the terminal, CSV, JSON, Markdown, HTML and SVG each have their own rules,
and a writer never mixes them or escapes the same text twice.

All of them start from the terminal rule (`terminal`): control and format characters (ESC,
C1, NUL, bidi overrides, zero-width characters, line separators, lone surrogates) are shown as
visible escapes such as `\\x1b` and `\\u202e`, never emitted. The others add what their format
needs on top, except `json_dumps`, which keeps the exact text (JSON can carry it losslessly)
but writes every dangerous character as a `\\uXXXX` escape.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata

from smtp_shell.address import escape

_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def terminal(text: str) -> str:
    """Plain text safe on a terminal: every control/format character shown as an escape.

    This is `address.escape`, the project's one terminal policy (the live renderer uses it too,
    so a replay shows exactly what the live session showed)."""
    return escape(str(text))


# CSV: a cell that starts with one of these runs as a formula in Excel, LibreOffice and Google
# Sheets (OWASP "CSV injection"); TAB and CR count too, since spreadsheets strip them first.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A CSV cell: text made terminal-safe (a CSV is often `cat`ed), and a leading formula
    character (= + - @ TAB CR) neutralised with a `'` in front. Numbers and flags pass as they are."""
    if not isinstance(value, str):
        return value
    guard = value.startswith(_FORMULA_START)
    shown = terminal(value)
    return "'" + shown if guard or shown.startswith(_FORMULA_START) else shown


def _json_escape(match: re.Match) -> str:
    return "".join(f"\\u{ord(ch):04x}" for ch in match.group(0))


def _json_unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in _UNSAFE_CATEGORIES


_JSON_UNSAFE = re.compile("[" + "".join(re.escape(chr(c)) for c in range(0x7F, 0xA0)) + "\u00ad\u061c\u180e"
                          "\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff"
                          "\U000e0000-\U000e007f]+")


def json_dumps(obj, indent: int | None = 2) -> str:
    """JSON text with the exact values, readable UTF-8, but C1, bidi, zero-width, separator
    and surrogate characters written as `\\uXXXX` escapes (json already escapes C0 and DEL is
    added here), so the output is safe to print and valid UTF-8 whatever the strings hold."""
    text = json.dumps(obj, indent=indent, ensure_ascii=False)
    text = _JSON_UNSAFE.sub(_json_escape, text)
    # Anything else unsafe that the character class above does not list (new Cf characters).
    if not all(ch.isprintable() or ch in "\n " for ch in text):
        text = "".join(f"\\u{ord(ch):04x}" if _json_unsafe(ch) and ch not in "\n" else ch for ch in text)
    return text


# Every ASCII punctuation character Markdown (CommonMark, GFM and common extensions) can give
# a meaning to; `:` and `@` break URL and e-mail autolinks, `www.` is broken below.
_MD_ACTIVE = set("\\`*_{}[]()#+!|~^$:@")
_MD_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def markdown_text(text: str) -> str:
    """Text for a Markdown heading, paragraph or table cell that renders as exactly that text:
    no raw HTML (`<` `>` `&` as entities), no emphasis, link, image, code span or table split
    (each active character backslash-escaped), no autolink (`:` `@` and the dot of `www.`
    escaped, so a URL or address stays plain text), on one line."""
    shown = terminal(text).replace("\n", " ")
    out = []
    for i, ch in enumerate(shown):
        if ch in _MD_ENTITIES:
            out.append(_MD_ENTITIES[ch])
        elif ch in _MD_ACTIVE or (ch == "." and shown[max(0, i - 3):i].lower() == "www"):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def html_text(text: str) -> str:
    """Text for HTML element content or a quoted attribute: terminal-safe, then `& < > " '` escaped."""
    return html.escape(terminal(text), quote=True)


def svg_text(text: str) -> str:
    """Text for SVG (XML) content or a quoted attribute: the same as HTML, which also makes it
    valid XML (no control characters, no lone surrogates)."""
    return html_text(text)
