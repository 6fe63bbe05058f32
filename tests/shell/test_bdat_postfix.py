"""CHUNKING (RFC 3030) against a server that really implements it: a throwaway Postfix smtpd on
127.0.0.1 (tests/support/postfix.py), checking the bytes it delivers to its maildir.

Typed by hand, `BDAT n [LAST]` makes the shell take exactly the next n octets from what is
typed (each line plus CRLF) and send them raw; the `bdat>` prompt counts the octets left.
`:bdat FILE --chunk SIZE` sends a file as chunks, the last with LAST. Before, the chunk went
out as commands and the session fell one reply behind for good."""

from __future__ import annotations

import io
import sys

import pexpect
import pytest

from smtp_shell.status import ExitStatus
from tests.shell.helpers import env, run_cli
from tests.support.postfix import PostfixServer

pytestmark = pytest.mark.timeout(120)

ENVELOPE = ["EHLO client.test", "MAIL FROM:<a@lab.test>", "RCPT TO:<b@lab.test>"]


@pytest.fixture(scope="module")
def postfix():
    server = PostfixServer().start()
    yield server
    server.stop()


def delivered_with(postfix, subject: bytes) -> bytes:
    """The delivered message with this Subject (Postfix prepends its trace headers; LF line ends)."""
    for _ in range(2):
        for message in postfix.delivered(count=1):
            if b"Subject: " + subject + b"\n" in message:
                return message
        postfix.delivered(count=len(postfix.delivered(count=0)) + 1, timeout=10)
    raise AssertionError(f"no delivered message with Subject {subject!r}:\n{postfix.log()[-3000:]}")


def octets(lines: list[str]) -> int:
    return sum(len(line.encode()) + 2 for line in lines)


def test_bdat_typed_in_batch_mode_sends_exactly_the_announced_octets(postfix, tmp_path):
    first = ["Subject: typed chunks", "From: a@lab.test", ""]
    second = ["first body line", ".a line that starts with a dot (no stuffing in BDAT)"]
    script = [*ENVELOPE, f"BDAT {octets(first)}", *first, f"BDAT {octets(second)} LAST", *second, "NOOP", "QUIT"]
    result = run_cli(["connect", postfix.target, "--batch"], "\n".join(script) + "\n", tmp_path)
    assert result.returncode == ExitStatus.OK, result.stdout + result.stderr
    assert "<-  250 2.0.0 Ok: " in result.stdout and "bytes queued" in result.stdout
    assert "<-  250 2.0.0 Ok" in result.stdout.split(" -> NOOP")[1]  # not one reply behind
    message = delivered_with(postfix, b"typed chunks")
    assert message.endswith(b"Subject: typed chunks\nFrom: a@lab.test\n\nfirst body line\n"
                            b".a line that starts with a dot (no stuffing in BDAT)\n")


def test_bdat_file_in_chunks_with_last(postfix, tmp_path):
    path = tmp_path / "note.eml"
    body = "".join(f"line {i}\n" for i in range(40))
    path.write_bytes(b"Subject: file chunks\nFrom: a@lab.test\n\n" + body.encode())
    script = [*ENVELOPE, f":bdat {path} --chunk 100", "QUIT"]
    result = run_cli(["connect", postfix.target, "--batch"], "\n".join(script) + "\n", tmp_path)
    assert result.returncode == ExitStatus.OK, result.stdout + result.stderr
    assert " -> BDAT 100\n" in result.stdout and " LAST\n" in result.stdout
    assert "line ends were turned into CRLF" in result.stdout
    message = delivered_with(postfix, b"file chunks")
    assert message.endswith(b"Subject: file chunks\nFrom: a@lab.test\n\n" + body.encode())


def test_bdat_typed_in_the_repl_counts_the_octets_left(postfix, tmp_path):
    lines = ["Subject: repl chunk", "", "typed by hand"]
    child = pexpect.spawn(sys.executable, ["-m", "smtp_shell", "connect", postfix.target], env=env(tmp_path),
                          encoding="utf-8", timeout=15, dimensions=(50, 200))
    child.logfile_read = io.StringIO()
    child.expect("220 ")
    for line in ENVELOPE:
        child.expect("smtp>")
        child.sendline(line)
        child.expect("250")
    child.expect("smtp>")
    child.sendline(f"BDAT {octets(lines)} LAST")
    left = octets(lines)
    for line in lines:
        child.expect_exact(f"bdat ({left} octets left)>")
        child.sendline(line)
        left -= len(line) + 2
    child.expect("250 2.0.0 Ok: ")
    child.expect("smtp>")
    child.sendline(":quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert delivered_with(postfix, b"repl chunk").endswith(b"Subject: repl chunk\n\ntyped by hand\n")
