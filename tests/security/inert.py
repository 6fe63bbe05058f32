"""Checks that an output is inert: what "nothing hostile reaches any output" means in a test.

Why this exists: every hostile-file test asks the same questions of whatever smtp-shell
wrote (terminal text, CSV, JSON, Markdown, HTML, SVG), so they are answered in one place.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from markdown_it import MarkdownIt

BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # everything but TAB and LF
ACTIVE_TAGS = {"script", "img", "a", "iframe", "object", "embed", "foreignobject", "link", "image", "use",
               "form", "input", "svg:script", "audio", "video", "source", "base", "meta-refresh"}


def assert_terminal_safe(text: str, where: str = "output") -> None:
    """No escape sequence, C0/C1 control (but TAB and newline), bidi control or lone surrogate."""
    text.encode("utf-8")  # raises on a lone surrogate: it could not be written to a UTF-8 stream
    control = _CONTROL.search(text)
    if control is not None:
        around = text[max(0, control.start() - 60):control.start() + 40]
        raise AssertionError(f"{where} holds {control.group(0)!r} at {control.start()}: {around!r}")
    bidi = [ch for ch in text if ch in BIDI]
    assert not bidi, f"{where} holds bidi controls {bidi!r}"

URL_ATTRIBUTES = {"href", "src", "xlink:href", "action", "formaction", "srcset", "data", "poster", "background",
                  "ping", "cite"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag.lower(), attrs))

    handle_startendtag = handle_starttag


def assert_html_inert(markup: str, where: str = "HTML") -> None:
    """No active element, no event handler attribute, no link or resource from the payloads."""
    assert_terminal_safe(markup, where)
    parser = _Tags()
    parser.feed(markup)
    for tag, attrs in parser.found:
        assert tag not in ACTIVE_TAGS, f"{where} has an active <{tag}> element: {attrs}"
        for name, value in attrs:
            assert not name.lower().startswith("on"), f"{where}: <{tag} {name}={value!r}>"
            if name.lower() in URL_ATTRIBUTES:
                assert "evil.example" not in (value or "") and "tracker.example" not in (value or ""), \
                    f"{where}: <{tag} {name}={value!r}> points at the payload's site"
            if tag == "meta" and name.lower() == "http-equiv":
                assert (value or "").lower() != "refresh", f"{where}: a meta refresh"


_AUTOLINK = re.compile(r"(?i)(?<!\\)(?:https?:|www\.)|\b[\w.+-]+@[\w-]+\.")


def assert_markdown_inert(markdown: str) -> None:
    """Rendered as CommonMark with tables and raw HTML on (as GitHub and most LMSs do), nothing
    active appears; outside code blocks no URL or address is left for GFM to autolink."""
    assert_terminal_safe(markdown, "Markdown")
    rendered = MarkdownIt("commonmark").enable("table").render(markdown)
    assert_html_inert(rendered, "rendered Markdown")
    outside_code = re.sub(r"(?ms)^(`{3,})text\n.*?^\1$", "", markdown)
    found = _AUTOLINK.search(outside_code)
    assert found is None, f"GFM would autolink {outside_code[found.start():found.start() + 40]!r}"
