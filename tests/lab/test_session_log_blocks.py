"""The session log writes plain message text one block at a time (sessionlog.py's fast path);
the file an instructor reads must be exactly what the line-by-line path writes, however the
client's bytes were split and whatever a line gets wrong (bare LF, bare CR, 8-bit, over 1000
octets, control characters, dot-stuffed lines, more than MAX_DATA_LINES lines)."""

from __future__ import annotations

import random

from smtp_shell.lab import sessionlog

PIECES = [b"hello", b".", b"..dot", b"", b"a" * 997, b"a" * 998, b"a" * 999, b"x\ry", b"x\ty",
          b"caf\xc3\xa9", b"\x1b[31m", b"line", b"Subject: hi"]


def _log(tmp_path, name: str, chunks: list[bytes], line_by_line: bool) -> str:
    log = sessionlog.SessionLog(tmp_path / name, 1, ("127.0.0.1", 2525))
    if line_by_line:
        log._data_block = lambda buffer, start: (start, False)  # type: ignore[method-assign]
    log.client_bytes(b"EHLO x\r\n")
    log.server_line("250 ok")
    log.client_bytes(b"DATA\r\n")
    log.server_line("354 go")
    for chunk in chunks:
        log.client_bytes(chunk)
    log.server_line("250 queued")
    log.close()
    assert log.path is not None
    return log.path.read_text(encoding="utf-8")


def test_block_writes_give_the_same_log_as_line_by_line(tmp_path, monkeypatch):
    monkeypatch.setattr(sessionlog, "_now", lambda: "T")
    rnd = random.Random(17)
    for i in range(400):
        lines = [rnd.choice(PIECES) for _ in range(rnd.randint(0, 130))]
        message = b"".join(line + rnd.choice([b"\r\n"] * 8 + [b"\n"]) for line in lines) + b".\r\nQUIT\r\n"
        cuts = sorted(rnd.sample(range(len(message) + 1), min(len(message) + 1, rnd.randint(0, 6))))
        chunks = [message[a:b] for a, b in zip([0, *cuts], [*cuts, len(message)]) if message[a:b]]
        fast = _log(tmp_path, f"fast{i}", chunks, line_by_line=False)
        assert fast == _log(tmp_path, f"slow{i}", chunks, line_by_line=True), chunks
        assert "C: QUIT\n" in fast


def test_plain_message_in_one_block_is_logged_line_by_line(tmp_path, monkeypatch):
    monkeypatch.setattr(sessionlog, "_now", lambda: "T")
    body = b"".join(b"line %d\r\n" % n for n in range(150))
    text = _log(tmp_path, "one", [body + b".\r\n"], line_by_line=False)
    assert "T C: line 0\nT C: line 1\n" in text
    assert "T C: line 99\n" in text and "line 100" not in text
    assert "(50 more message lines not logged; the message itself is in the mailbox)" in text
    assert text.count("T C: .\n") == 1


def test_the_writer_thread_writes_the_same_file_as_writing_at_once(tmp_path, monkeypatch):
    """In the lab's event loop every file operation goes to one writer thread (created on the
    first client line, written in bursts, closed at the end); the file must be the same as the
    one written at once outside a loop, including lines that arrive after a burst was handed over."""
    import asyncio

    monkeypatch.setattr(sessionlog, "_now", lambda: "T")
    monkeypatch.setattr(sessionlog, "FLUSH_DELAY", 0.01)
    body = [b"line %d\r\n" % n for n in range(120)]

    def session(log: sessionlog.SessionLog) -> list:
        log.server_line("220 hello")
        return [lambda: log.client_bytes(b"EHLO x\r\n"), lambda: log.server_line("250 ok"),
                lambda: log.client_bytes(b"DATA\r\n"), lambda: log.server_line("354 go"),
                *[lambda chunk=chunk: log.client_bytes(chunk) for chunk in body],
                lambda: log.client_bytes(b".\r\n"), lambda: log.server_line("250 queued"), log.close]

    at_once = sessionlog.SessionLog(tmp_path / "once", 1, ("127.0.0.1", 2525))
    for step in session(at_once):
        step()

    async def in_loop() -> sessionlog.SessionLog:
        log = sessionlog.SessionLog(tmp_path / "loop", 1, ("127.0.0.1", 2525))
        for n, step in enumerate(session(log)):
            step()
            if n % 40 == 0:
                await asyncio.sleep(0.02)  # let a burst go to the writer in the middle
        return log

    threaded = asyncio.run(in_loop())
    sessionlog.drain()
    assert threaded.path is not None and at_once.path is not None
    assert threaded.path.read_text(encoding="utf-8") == at_once.path.read_text(encoding="utf-8")
    assert "T C: line 99\n" in at_once.path.read_text(encoding="utf-8")
