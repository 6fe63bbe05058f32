"""The HTML class page in headless Chromium (Playwright): one row per student, a cell per lesson,
sortable by clicking a heading, a click on a cell opens that student's transcript page, and a
hostile student name stays text (no script runs, the CSP allows only the page's own script)."""

from __future__ import annotations

import os

import pytest

from tests.transcript.helpers import cli, lesson_transcript

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")


@pytest.fixture
def class_page(tmp_path):
    handin = tmp_path / "handin"
    lesson_transcript(handin / "a.jsonl", student="Zoe", lesson="first-contact", passed=[1, 2, 3, 4], complete=True)
    lesson_transcript(handin / "b.jsonl", student="Al", lesson="first-contact", passed=[1])
    lesson_transcript(handin / "c.jsonl", student="Al", lesson="first-message", passed=[1, 2], total=6)
    lesson_transcript(handin / "d.jsonl", student='<img src=x onerror="window.pwned=1">', lesson="first-contact",
                      passed=[1, 2])
    (handin / "junk.jsonl").write_text("not a transcript\n")
    result = cli(["report", handin, "--format", "html", "-o", tmp_path / "out" / "class.html"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "4 transcript pages" in result.stderr
    return tmp_path / "out" / "class.html"


@pytest.mark.timeout(60)
def test_class_page_in_chromium(class_page):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("dialog", lambda dialog: errors.append("dialog: " + dialog.message))
            page.goto(class_page.as_uri())
            students = lambda: page.locator("#grid tbody th").all_inner_texts()  # noqa: E731
            assert students() == ['<img src=x onerror="window.pwned=1">', "Al", "Zoe"]
            assert page.evaluate("window.pwned") is None
            assert page.locator("#grid thead th").all_inner_texts()[1:3] == ["first-contact (4 steps)",
                                                                               "first-message (6 steps)"]
            assert page.locator("#grid tbody tr").nth(2).locator("td").first.inner_text() == "4/4 ✓"
            page.locator("#grid thead th", has_text="first-contact").locator("button").click()
            assert students()[0] == "Al"          # ascending by steps passed: 1, 2, 4
            page.locator("#grid thead th", has_text="first-contact").locator("button").click()
            assert students()[0] == "Zoe"         # descending
            assert "junk.jsonl" in page.locator("#unreadable").inner_text()
            assert errors == []
            page.locator("#grid tbody tr", has_text="Zoe").locator("a").first.click()
            page.wait_for_selector("#conversation")
            assert page.title().startswith("SMTP session with")
        finally:
            browser.close()
