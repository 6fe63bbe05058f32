"""`smtp-shell diff MODEL STUDENT`: missing, extra and different steps, in text and HTML."""

from __future__ import annotations

from smtp_shell.transcript.recorder import Recorder
from tests.transcript.helpers import Clock, cli, reply


def session(path, lines: list[tuple[str, bytes]], markers=()):
    rec = Recorder(path, target="127.0.0.1:8025", clock=Clock())
    rec.connected("127.0.0.1:8025", False)
    rec.reply(reply(b"220 lab ESMTP\r\n"), False, None)
    for text, answer in lines:
        rec.client(text, False)
        rec.reply(reply(answer), False, None)
        if text in markers:
            rec.marker(f"step passed after {text}")
    rec.close(0)
    return path


MODEL = [("EHLO me", b"250 lab\r\n"), ("MAIL FROM:<a@lab.test>", b"250 OK\r\n"),
         ("RCPT TO:<b@lab.test>", b"250 OK\r\n"), ("QUIT", b"221 Bye\r\n")]
STUDENT = [("EHLO me", b"250 lab\r\n"), ("RCPT TO:<b@lab.test>", b"503 need MAIL\r\n"),
           ("NOOP", b"250 OK\r\n"), ("QUIT", b"221 Bye\r\n")]


def test_diff_text_and_html(tmp_path):
    model = session(tmp_path / "model.jsonl", MODEL, markers=("EHLO me",))
    student = session(tmp_path / "student<x>.jsonl", STUDENT, markers=("EHLO me",))
    result = cli(["diff", model, student], tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("- MAIL FROM:<a@lab.test> -> 250") for line in lines)
    assert any(line.startswith("~ RCPT TO:<b@lab.test> -> 250") and line.endswith("RCPT TO:<b@lab.test> -> 503")
               for line in lines)
    assert any(line.startswith("+ ") and line.endswith("NOOP -> 250") for line in lines)
    assert any(line.startswith("= step passed after EHLO me") for line in lines)
    assert "4 same, 1 different, 1 missing, 1 extra." in result.stdout
    same = cli(["diff", model, model], tmp_path)
    assert same.returncode == 0 and "0 different, 0 missing, 0 extra" in same.stdout
    page = cli(["diff", model, student, "--format", "html", "-o", tmp_path / "d.html"], tmp_path)
    text = (tmp_path / "d.html").read_text()
    assert page.returncode == 1 and '<tr class="missing">' in text and '<tr class="extra">' in text
    assert "student&lt;x&gt;.jsonl" in text and "<x>" not in text
