"""Server-rendered pages of the web view: the frame, the inbox and one message.

Everything that came from a client — addresses, subjects, header values, file names, message
text — goes through `esc()` (HTML escaping after making control characters visible); the HTML
part of a message is never put into these pages: it is served on its own URL with a sandbox
CSP and shown in a sandboxed iframe (see app.py).
"""

from __future__ import annotations

import email.message
import html

from smtp_shell.lab.mailbox import StoredMessage
from smtp_shell.lab.messages import header_text, summarize
from smtp_shell.lab.safetext import visible


def esc(text: object) -> str:
    return html.escape(visible(str(text), keep_newlines=True), quote=True)


NAV = (("/", "Class board"), ("/sessions", "Sessions"), ("/inbox", "Inbox"))


def frame(title: str, body: str, script: str | None = None, active: str = "") -> str:
    links = " ".join(f'<a href="{href}"{" class=active" if href == active else ""}>{esc(label)}</a>'
                     for href, label in NAV)
    tag = f'<script src="/static/{script}" defer></script>' if script else ""
    return ("<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
            f"<title>{esc(title)} · smtp-shell lab</title>"
            '<link rel=stylesheet href="/static/style.css">' + tag +
            f"</head><body><header><strong>smtp-shell lab</strong> <nav>{links}</nav></header>"
            f"<main>{body}</main></body></html>")


def message_key(message: StoredMessage) -> str:
    return f"{message.path.parent.name}/{message.id}"


def inbox(messages: list[StoredMessage], mailbox: str | None, folders: list[str]) -> str:
    options = "".join(f'<a href="/inbox?mailbox={html.escape(f, quote=True)}"'
                      f'{" class=active" if f == mailbox else ""}>{esc(f)}</a> ' for f in folders)
    rows = []
    for message in messages:
        try:
            s = summarize(message)
        except OSError:
            continue
        key = html.escape(message_key(message), quote=True)
        rows.append(f'<tr><td>{esc(s.received)}</td><td>{esc(message.path.parent.name)}</td>'
                    f'<td>{esc(s.sender)}</td><td><a href="/message/{key}">{esc(s.subject or "(no subject)")}</a></td>'
                    f'<td class=num>{s.size}</td><td>{esc(s.tls)}</td><td>{esc(s.user)}</td></tr>')
    table = ("<table class=inbox><thead><tr><th>received</th><th>mailbox</th><th>from</th><th>subject</th>"
             "<th>size</th><th>TLS</th><th>user</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
             if rows else "<p class=empty>No messages yet.</p>")
    title = f"Inbox of {esc(mailbox)}" if mailbox else "Inbox (every mailbox)"
    return frame("Inbox", f'<h1>{title}</h1><p class=folders><a href="/inbox">all</a> {options}</p>{table}',
                 active="/inbox")


def _tree(part: email.message.Message, counter: list[int], parts: list) -> str:
    ctype = part.get_content_type()
    details = []
    cte = part.get("Content-Transfer-Encoding")
    if cte:
        details.append(str(cte).strip().lower())
    charset = part.get_param("charset")
    if isinstance(charset, str):
        details.append(f"charset={charset}")
    try:
        filename = part.get_filename()
    except Exception:
        filename = None
    label = f"<code>{esc(ctype)}</code> {esc(', '.join(details))}" + (f" <em>{esc(filename)}</em>" if filename else "")
    if part.is_multipart():
        payload = part.get_payload()
        children = "".join(_tree(child, counter, parts) for child in payload if isinstance(child, email.message.Message)) \
            if isinstance(payload, list) else ""
        return f"<li>{label}<ul>{children}</ul></li>"
    counter[0] += 1
    parts.append((counter[0], part))
    return f'<li>{label} <a href="#part-{counter[0]}">part {counter[0]}</a></li>'


def message_page(message: StoredMessage, msg: email.message.Message) -> str:
    key = html.escape(message_key(message), quote=True)
    heads = "".join(f"<tr><th>{esc(name)}</th><td>{esc(header_text(msg, name))}</td></tr>"
                    for name in dict.fromkeys(msg.keys()))
    parts: list = []
    tree = _tree(msg, [0], parts)
    shown = []
    for number, part in parts:
        ctype = part.get_content_type()
        anchor = f'<h3 id="part-{number}">part {number}: <code>{esc(ctype)}</code></h3>'
        if ctype == "text/html":
            shown.append(anchor + f'<iframe class=html-part sandbox="" referrerpolicy="no-referrer" '
                         f'src="/message/{key}/part/{number}" title="HTML part {number}"></iframe>')
        elif part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True) or b""
            charset = part.get_content_charset() or "utf-8"
            try:
                text = payload.decode(charset, "replace")
            except LookupError:
                text = payload.decode("utf-8", "replace")
            shown.append(anchor + f"<pre class=text-part>{esc(text)}</pre>")
        else:
            size = len(part.get_payload(decode=True) or b"")
            shown.append(anchor + f"<p>{size} bytes (not shown)</p>")
    subject = header_text(msg, "Subject") or "(no subject)"
    body = (f"<h1>{esc(subject)}</h1>"
            f'<p class=actions><a href="/message/{key}/raw">raw source</a> · '
            f'<a href="/message/{key}/eml" download>download .eml</a></p>'
            f"<h2>Headers</h2><table class=headers>{heads}</table>"
            f"<h2>MIME structure</h2><ul class=mime>{tree}</ul>"
            f"<h2>Parts</h2>{''.join(shown)}")
    return frame(subject, body, active="/inbox")


def board_page(token_note: str = "") -> str:
    return frame("Class board", '<h1>Class board</h1><p id=status class=status>connecting…</p>'
                 '<table id=board class=board><thead><tr><th>student / address</th><th>now</th><th>progress</th>'
                 '<th>messages</th><th>errors</th><th>findings</th><th>last activity</th></tr></thead>'
                 '<tbody></tbody></table>' + token_note, script="board.js", active="/")


def sessions_page() -> str:
    return frame("Sessions", '<h1>Sessions</h1><p id=status class=status>connecting…</p>'
                 '<table id=sessions class=sessions><thead><tr><th>#</th><th>from</th><th>user</th><th>progress</th>'
                 '<th>findings</th></tr></thead><tbody></tbody></table>', script="sessions.js", active="/sessions")


def session_page(number: int) -> str:
    return frame(f"Session {number}", f'<h1>Session {number}</h1><p id=status class=status>connecting…</p>'
                 f'<div class=split data-session="{number}"><pre id=lines class=wire></pre>'
                 '<aside><h2>Findings</h2><ul id=findings class=findings></ul></aside></div>',
                 script="session.js", active="/sessions")
