"""One escaping function per output kind, for the grading outputs (report, class page, diff, cast).

Why this exists: every field of a handed-in transcript is untrusted (a student can write
anything into a JSON line), and each output has its own way of making text inert. The
grading code calls only these functions, so one policy module can replace them in one place.
Each first makes control characters visible (`\\x1b`), then escapes for its format.
"""

from __future__ import annotations

import html
import json

from smtp_shell.render import plain_visible


def text(value) -> str:
    """For a terminal or a plain text file: control characters and escape sequences shown as escapes."""
    return plain_visible(str(value))


def csv_cell(value):
    """For a CSV cell: visible text; a leading = + - @ (a spreadsheet formula) is quoted with '."""
    if not isinstance(value, str):
        return value
    value = plain_visible(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def html_text(value) -> str:
    """For HTML text and attribute values (always quoted with ")."""
    return html.escape(plain_visible(str(value)), quote=True)


def json_text(value) -> str:
    """A JSON string literal safe inside an HTML <script> block as well as in a .json file."""
    return (json.dumps(str(value), ensure_ascii=True)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def url_part(value: str) -> str:
    """A relative link to a file name we wrote ourselves (letters, digits, - _ . / only)."""
    from urllib.parse import quote

    return quote(value, safe="/-_.")
