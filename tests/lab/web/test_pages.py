"""The web view over HTTP: security headers, escaping, the token, the inbox and message pages."""

from __future__ import annotations

import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request

HOSTILE = "<script>alert(1)</script>"


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def send(server, subject: str = "hello", html: str | None = None, user: str | None = None) -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "s@lab.test", "teacher@lab.test", subject
    msg.set_content("plain text part\n")
    if html is not None:
        msg.add_alternative(html, subtype="html")
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        smtp.send_message(msg)


def test_pages_carry_a_strict_csp_and_escape_what_clients_sent(web_lab):
    server, view = web_lab()
    send(server, subject=HOSTILE)
    status, headers, body = get(view.url + "inbox")
    assert status == 200
    assert "script-src 'self'" in headers["Content-Security-Policy"] and "default-src 'none'" in headers[
        "Content-Security-Policy"]
    assert HOSTILE.encode() not in body and b"&lt;script&gt;alert(1)&lt;/script&gt;" in body
    link = body.split(b'href="/message/')[1].split(b'"')[0].decode()
    status, _, page = get(view.url + "message/" + link)
    assert status == 200 and HOSTILE.encode() not in page and b"&lt;script&gt;" in page
    assert b"text/plain" in page and b"plain text part" in page


def test_html_parts_are_served_sandboxed_and_in_a_sandboxed_frame(web_lab):
    server, view = web_lab()
    send(server, html="<p>hi</p><script>x()</script>")
    _, _, body = get(view.url + "inbox")
    link = body.split(b'href="/message/')[1].split(b'"')[0].decode()
    _, _, page = get(view.url + "message/" + link)
    assert b'<iframe class=html-part sandbox=""' in page
    status, headers, part = get(view.url + f"message/{link}/part/2")
    assert status == 200 and part.startswith(b"<p>hi</p>")
    assert headers["Content-Security-Policy"].startswith("sandbox; default-src 'none'")
    assert get(view.url + f"message/{link}/part/1")[0] == 404  # the text part is not served as HTML


def test_raw_source_and_eml_download(web_lab):
    server, view = web_lab()
    send(server, subject="download me")
    _, _, body = get(view.url + "inbox")
    link = body.split(b'href="/message/')[1].split(b'"')[0].decode()
    status, headers, raw = get(view.url + f"message/{link}/raw")
    assert status == 200 and headers["Content-Type"].startswith("text/plain") and b"Subject: download me" in raw
    status, headers, eml = get(view.url + f"message/{link}/eml")
    assert headers["Content-Disposition"] == f'attachment; filename="{link.split("/")[1]}.eml"'
    assert eml == raw and headers["Content-Type"].startswith("message/rfc822")


def test_paths_outside_the_mailbox_are_not_served(web_lab):
    _, view = web_lab()
    for path in ("message/..%2F..%2Fetc/passwd", "message/_logs/20261124T190102Z-000001",
                 "message/x/20261124T190102Z-000001/raw", "static/../app.py"):
        assert get(view.url + path)[0] == 404


def test_inbox_newest_first_and_per_mailbox(web_lab):
    server, view = web_lab()
    send(server, subject="first")
    send(server, subject="second")
    _, _, body = get(view.url + "inbox?mailbox=teacher@lab.test")
    assert body.index(b"second") < body.index(b"first")
    _, _, other = get(view.url + "inbox?mailbox=nobody@lab.test")
    assert b"No messages yet" in other


def test_a_token_is_required_when_set(web_lab):
    _, view = web_lab(token="s3cret-token")
    base = view.url.split("?")[0]
    assert get(base)[0] == 401 and get(base + "api/board")[0] == 401
    status, headers, _ = get(base + "?token=s3cret-token")
    assert status == 200 and "smtp_shell_lab_token=s3cret-token" in headers["Set-Cookie"]
    assert get(base + "api/board", {"Cookie": "smtp_shell_lab_token=s3cret-token"})[0] == 200
    assert get(base + "?token=wrong")[0] == 401


def test_board_rows_per_account_and_per_address(web_lab):
    server, view = web_lab()
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        smtp.ehlo("me.example")
        smtp.starttls(context=ssl.create_default_context(cafile=str(server.cert_path)))
        smtp.ehlo("me.example")
        smtp.login("alice", "alice-pw")
        smtp.sendmail("alice@lab.test", ["teacher@lab.test"], b"Subject: x\r\n\r\nhi\r\n")
    send(server)
    deadline = time.monotonic() + 10
    while True:
        board = json.loads(get(view.url + "api/board")[2])
        if len(board["rows"]) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    rows = {r["name"]: r for r in board["rows"]}
    assert rows["alice"]["kind"] == "account" and rows["alice"]["progress"] == "accepted"
    assert rows["127.0.0.1"]["kind"] == "address"
    assert "date-missing" in rows["alice"]["findings"]
    session = json.loads(get(view.url + f"api/session/{rows['alice']['session']}")[2])
    texts = [line["text"] for line in session["lines"]]
    assert "alice-pw" not in json.dumps(session) and any(t.startswith("AUTH PLAIN ***") for t in texts)


def test_a_malformed_message_still_gets_a_page(web_lab):
    server, view = web_lab()
    junk = (b"From: \x1b[31m<a@lab.test>\r\nSubject: =?x-unknown?q?=FF?=\r\nContent-Type: multipart/mixed\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\nX-\xff: \xfe\r\n\r\n--nothing\r\n\x00\xff binary\r\n")
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        smtp.sendmail("a@lab.test", ["teacher@lab.test"], junk)
    _, _, body = get(view.url + "inbox")
    link = body.split(b'href="/message/')[1].split(b'"')[0].decode()
    status, _, page = get(view.url + "message/" + link)
    assert status == 200 and b"\x1b" not in page and b"\\x1b" in page
    assert get(view.url + f"message/{link}/raw")[0] == 200
