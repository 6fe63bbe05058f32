"""The web view in a real browser (Playwright driving Debian's chromium).

One test opens the class board, runs three clients and watches the rows and a live session
change without a reload; one opens a message whose HTML part carries script (inline, in an
event handler, and loading from a server the test runs) and proves none of it ran.
"""

from __future__ import annotations

import base64
import http.server
import smtplib
import socket
import ssl
import threading
from typing import ClassVar

import pytest

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser():
    import os

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt install chromium)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


class Raw:
    """A client that holds its connection open between steps (to be watched live)."""

    def __init__(self, server):
        self.sock = socket.create_connection((server.host, server.port), timeout=10)
        self.buffer = b""
        self.cafile = str(server.cert_path)
        self.reply()

    def reply(self) -> bytes:
        while True:
            while b"\r\n" not in self.buffer:
                self.buffer += self.sock.recv(4096)
            line, _, self.buffer = self.buffer.partition(b"\r\n")
            if line[3:4] != b"-":
                return line

    def cmd(self, line: str) -> bytes:
        self.sock.sendall(line.encode() + b"\r\n")
        return self.reply()

    def starttls(self) -> None:
        assert self.cmd("STARTTLS").startswith(b"220")
        self.sock = ssl.create_default_context(cafile=self.cafile).wrap_socket(self.sock, server_hostname="localhost")


def test_class_board_and_live_session_update_without_reload(web_lab, browser):
    server, view = web_lab()
    page = browser.new_page()
    page.goto(view.url)
    page.wait_for_selector("#status:has-text('live')")
    page.evaluate("window.__same_page = 'yes'")

    # client 1: alice sends a whole message with smtplib
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        smtp.ehlo("alice.example")
        smtp.starttls(context=ssl.create_default_context(cafile=str(server.cert_path)))
        smtp.ehlo("alice.example")
        smtp.login("alice", "alice-pw")
        smtp.sendmail("alice@lab.test", ["teacher@lab.test"], b"Subject: hi\r\n\r\nhello\r\n")
    page.wait_for_selector('tr[data-name="alice"] td.progress[data-progress="accepted"]')

    # client 2: bob logs in and stays connected; his row says so
    bob = Raw(server)
    bob.cmd("EHLO bob.example")
    bob.starttls()
    bob.cmd("EHLO bob.example")
    bob.cmd("AUTH LOGIN")
    bob.cmd(base64.b64encode(b"bob").decode())
    assert bob.cmd(base64.b64encode(b"bob-pw").decode()).startswith(b"235")
    page.wait_for_selector('tr.connected[data-name="bob"] td.progress[data-progress="AUTH"]')

    # client 3: someone who never logs in and keeps getting 5xx stands out, keyed by address
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.recv(4096)
        for _ in range(3):
            sock.sendall(b"MAIL FROM:<x@lab.test>\r\n")  # 503: no EHLO first
            sock.recv(4096)
        sock.sendall(b"QUIT\r\n")
        sock.recv(4096)
    page.wait_for_selector('tr.stuck[data-name="127.0.0.1"]')
    assert page.locator("#board tbody tr").count() == 3

    # bob's session, live: the page follows his next commands
    href = page.get_attribute('tr[data-name="bob"] td.name a', "href")
    live = browser.new_page()
    live.goto(view.url.rstrip("/") + href)
    live.wait_for_selector("#lines span.line.client:has-text('AUTH LOGIN')")
    live.evaluate("window.__same_page = 'yes'")
    bob.cmd("MAIL FROM:<bob@lab.test>")
    bob.cmd("RCPT TO:<teacher@lab.test>")
    live.wait_for_selector("#lines span.line.client.tls:has-text(' ~> RCPT TO:<teacher@lab.test>')")
    live.wait_for_selector("#lines span.line.server.c2xx:has-text('<~  250 2.1.5')")
    page.wait_for_selector('tr[data-name="bob"] td.progress[data-progress="RCPT"]')
    text = live.inner_text("#lines")
    assert "Ym9iLXB3" not in text and "bob-pw" not in text and " ~> ***" in text
    assert "=== TLS started" in text
    bob.cmd("QUIT")
    bob.sock.close()
    live.wait_for_selector("#status:has-text('closed')")
    live.wait_for_selector('#findings li:has-text("no findings so far")')
    assert page.evaluate("window.__same_page") == "yes" and live.evaluate("window.__same_page") == "yes"
    listing = browser.new_page()
    listing.goto(view.url.rstrip("/") + "/sessions")
    listing.wait_for_selector("#sessions tbody tr[data-session] >> nth=2")
    assert "bob" in listing.inner_text("#sessions") and "(closed)" in listing.inner_text("#sessions")


class _Trap(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self):
        _Trap.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_script_in_an_html_part_does_not_run(web_lab, browser):
    trap = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trap)
    threading.Thread(target=trap.serve_forever, daemon=True).start()
    remote = f"http://127.0.0.1:{trap.server_address[1]}"
    server, view = web_lab()
    html = (f'<p id="shown">rendered part</p>'
            f'<script>document.body.dataset.ran = "inline"; parent.document.title = "pwned";'
            f' new Image().src = "{remote}/inline";</script>'
            f'<img src="{remote}/remote-image" onerror="document.body.dataset.ran = \'handler\'">'
            f'<script src="{remote}/remote-script.js"></script>')
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "s@lab.test", "teacher@lab.test", "html with script"
    msg.set_content("text part\n")
    msg.add_alternative(html, subtype="html")
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        smtp.send_message(msg)
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(view.url + "inbox")
    page.click("text=html with script")
    frame_element = page.wait_for_selector("iframe.html-part")
    frame = frame_element.content_frame()
    frame.wait_for_selector("#shown")
    assert frame.inner_text("#shown") == "rendered part"  # the part was shown ...
    page.wait_for_load_state("networkidle")
    assert frame.evaluate("document.body.dataset.ran") is None  # ... and nothing in it ran
    assert page.title() != "pwned" and "html with script" in page.title()
    assert _Trap.hits == []  # no script, image or beacon reached the network
    trap.shutdown()
