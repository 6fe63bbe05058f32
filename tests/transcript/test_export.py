"""Exports: every format, hostile server text escaped, and the HTML page in a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from smtp_shell.transcript.export import mermaid_escape, to_html, to_markdown, to_mermaid, to_svg
from smtp_shell.transcript.reader import read_transcript
from smtp_shell.transcript.recorder import Recorder
from tests.transcript.helpers import SHIPPED, Clock, cli, reply, small_transcript

HOSTILE = b'250-<script>alert("x")</script> & "><img src=x onerror=alert(1)>\r\n250 ok; #1: %% {x} ```\x1b[31m\xff\r\n'


def hostile_transcript(path):
    rec = Recorder(path, target="127.0.0.1:8025", clock=Clock())
    rec.connected("127.0.0.1:8025", False)
    rec.reply(reply(b"220 <b>hi</b> [bold]markup[/bold]\r\n"), False, None)
    rec.client("EHLO me", False)
    rec.reply(reply(HOSTILE), False, None)
    rec.client("STARTTLS", False)
    rec.reply(reply(b"220 go\r\n"), False, None)

    class Info:
        version, cipher, subject, issuer = "TLSv1.3", "TLS_AES_256_GCM_SHA384", "CN=<evil>", "CN=<evil>"
        not_before = not_after = "2026-01-01"
        verified, fingerprint_sha256, server_hostname, self_signed = True, "AA:BB", "127.0.0.1", True
    rec.tls_info(Info())
    rec.client("MAIL FROM:<a@lab.test>", True)
    rec.reply(reply(b"550 5.7.1 <a@lab.test>: denied; see http://evil.example/x.js\r\n"), True, None)
    rec.raw_server(b"\x16\x03\x01<html>", "not SMTP")
    rec.error("The server closed the connection.", None)
    rec.close(0)
    return read_transcript(path)


def test_text_is_the_plain_rendering(tmp_path):
    path = small_transcript(tmp_path / "s.jsonl")
    assert cli(["export", path, "--format", "text"], tmp_path).stdout == cli(["replay", path], tmp_path).stdout


def test_markdown(tmp_path):
    t = hostile_transcript(tmp_path / "h.jsonl")
    md = to_markdown(t)
    assert "````text\n" in md  # the body holds ``` so the fence is longer
    assert "## Summary" in md and "| 5xx replies | 1 |" in md and "| TLS | yes |" in md
    assert "\x1b" not in md and "\\x1b[31m" in md


def test_html_is_self_contained_and_escaped(tmp_path):
    page = to_html(hostile_transcript(tmp_path / "h.jsonl"))
    assert "<script>" not in page and "<img" not in page and "<b>hi" not in page
    assert "&lt;script&gt;" in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page)
    assert "\x1b" not in page and 'class="tls-band"' in page and 'class="error-reply"' in page
    assert '<svg xmlns="http://www.w3.org/2000/svg" id="sequence"' in page


def test_svg_and_mermaid(tmp_path):
    t = hostile_transcript(tmp_path / "h.jsonl")
    svg = to_svg(t)
    assert svg.lstrip().startswith("<svg") and "<script>" not in svg and "&lt;script&gt;" in svg
    mm = to_mermaid(t)
    assert mm.startswith("sequenceDiagram\n")
    messages = [line.split(":", 1)[1] for line in mm.splitlines()[1:] if ":" in line]
    assert len(messages) >= 8
    for text in messages:  # once the entity codes are taken out, no special character is left
        assert not set(re.sub(r"#\d+;", "", text)) & set(';#:<>%"{}'), text
    assert "S--xC: 550 5.7.1 #60;a@lab.test#62;#58; denied#59; see http#58;//evil.example/x.js" in mm
    assert "rect rgb(" in mm and mm.rstrip().endswith("end")
    assert mermaid_escape("a;b#c:d") == "a#59;b#35;c#58;d"


@pytest.mark.parametrize("fmt", ["text", "md", "html", "svg", "mermaid"])
def test_cli_export_to_a_file(tmp_path, fmt):
    out = tmp_path / f"out.{fmt}"
    result = cli(["export", SHIPPED[0], "--format", fmt, "-o", out], tmp_path)
    assert result.returncode == 0 and out.stat().st_size > 100


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.timeout(120)
@pytest.mark.skipif(_chromium() is None, reason="headless Chromium is not installed (.ci/run installs it: apt-get install chromium)")
def test_html_in_headless_chromium(tmp_path):
    source = next(p for p in SHIPPED if "starttls" in p.name)
    page = tmp_path / "page.html"
    assert cli(["export", source, "--format", "html", "-o", page], tmp_path).returncode == 0
    hostile = tmp_path / "hostile.html"
    hostile.write_text(to_html(hostile_transcript(tmp_path / "h.jsonl")), encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([_chromium(), *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=90).stdout
    assert '<svg xmlns="http://www.w3.org/2000/svg" id="sequence"' in dom
    assert dom.count('class="client"') >= 10 and 'class="tls-band"' in dom
    assert 'id="conversation"' in dom and "AUTH LOGIN" in dom and "STARTTLS" in dom
    assert 'id="summary"' in dom
    dom = subprocess.run([_chromium(), *flags, "--dump-dom", hostile.as_uri()], capture_output=True, text=True,
                         timeout=90).stdout
    assert "<script>alert" not in dom and "&lt;script&gt;alert" in dom and "<img" not in dom
    shot = tmp_path / "shot.png"
    subprocess.run([_chromium(), *flags, f"--screenshot={shot}", "--window-size=1000,1400", page.as_uri()],
                   capture_output=True, timeout=90)
    assert shot.stat().st_size > 20_000  # a blank page compresses to a few kB
