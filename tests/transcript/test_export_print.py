"""Exports on paper and as images: the HTML page prints without clipped lines and its diagram
comes in chunks that never break through an arrow; the SVG still wraps long lines and loads no
font from the network."""

from __future__ import annotations

import html
import os
import re

import pytest

from smtp_shell.transcript.recorder import Recorder
from tests.transcript.helpers import Clock, cli, reply

CHROMIUM = "/usr/bin/chromium"
LONG = "X" * 180 + "-END"


def long_session(path, exchanges: int = 40):
    rec = Recorder(path, target="127.0.0.1:8025", clock=Clock())
    rec.connected("127.0.0.1:8025", False)
    rec.reply(reply(b"220 lab ESMTP\r\n"), False, None)
    rec.client("EHLO " + LONG, False)
    rec.reply(reply(f"250 lab greets {LONG}\r\n".encode()), False, None)
    for _ in range(exchanges):
        rec.client("NOOP", False)
        rec.reply(reply(b"250 2.0.0 OK\r\n"), False, None)
    rec.close(0)
    return path


def svg_rows(svg: str) -> dict[str, str]:
    rows: dict[str, str] = {}
    for y, text in re.findall(r'<text class="[^"]*-r\d+" x="[\d.]+" y="([\d.]+)"[^>]*>([^<]*)</text>', svg):
        rows[y] = rows.get(y, "") + html.unescape(text).replace("\xa0", " ").rstrip("\n")
    return rows


def test_svg_wraps_long_lines_and_uses_local_fonts(tmp_path):
    path = long_session(tmp_path / "long.jsonl", exchanges=1)
    svg = cli(["export", path, "--format", "svg"], tmp_path).stdout
    rows = svg_rows(svg)
    assert max(len(text) for text in rows.values()) <= 100
    assert LONG in "".join(rows.values())           # wrapped onto the next row, nothing clipped
    assert "@font-face" not in svg and "url(http" not in svg and "cdnjs" not in svg
    assert "monospace" in svg


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
@pytest.mark.timeout(60)
def test_html_prints_without_clipping(tmp_path):
    from playwright.sync_api import sync_playwright

    path = long_session(tmp_path / "long.jsonl")
    cli(["export", path, "--format", "html", "-o", tmp_path / "s.html"], tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 800, "height": 1000})
            page.goto((tmp_path / "s.html").as_uri())
            page.emulate_media(media="print")
            pre = page.locator("pre.conversation")
            assert pre.evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"
            assert pre.evaluate("e => e.scrollWidth <= e.clientWidth")    # no line runs off the page
            charts = page.locator(".diagram svg")
            assert charts.count() >= 2                                  # 80+ rows: several chunks
            assert charts.first.evaluate("e => getComputedStyle(e).breakInside") == "avoid"
            assert charts.first.evaluate("e => e.getBoundingClientRect().width <= e.parentElement.clientWidth")
            pdf = page.pdf(format="A4")
            assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + \
                pdf.count(b"/Type/Page") >= 2
        finally:
            browser.close()
