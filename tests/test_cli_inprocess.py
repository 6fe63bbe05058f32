"""The whole CLI in-process: `main(argv, env=Environment(...))` with StringIO streams, the way
HTTPie's tests run it. No subprocess, and what a user would see on stdout and stderr."""

from __future__ import annotations

import io
import sys

from smtp_shell.cli import main
from smtp_shell.environment import Environment


def _env(stdin: str = "") -> Environment:
    return Environment(stdin=io.StringIO(stdin), stdout=io.StringIO(), stderr=io.StringIO(), environ={"NO_COLOR": "1"})


def test_explain_prints_to_the_environment_stdout():
    env = _env()
    assert main(["explain", "550"], env) == 0
    assert "550" in env.stdout.getvalue() and env.stderr.getvalue() == ""


def test_a_bad_address_is_one_sentence_on_stderr():
    env = _env()
    assert main(["connect", ":8025"], env) == 1
    assert env.stderr.getvalue() == "smtp-shell: ':8025' has no host; write HOST:PORT, e.g. 127.0.0.1:8025\n"


def test_usage_errors_and_version_return_instead_of_exiting():
    env = _env()
    assert main(["--version"], env) == 0 and "smtp-shell" in env.stdout.getvalue()
    assert main(["no-such-command"], env) == 2 and "invalid choice" in env.stderr.getvalue()


def test_batch_session_in_process(aiosmtpd_server):
    env = _env("EHLO me\r\nQUIT\r\n")
    streams = sys.stdin, sys.stdout, sys.stderr
    assert main(["connect", aiosmtpd_server.target, "--timeout", "5"], env) == 0  # stdin is no terminal: batch
    out = env.stdout.getvalue()
    assert " -> EHLO me" in out and "<-  221" in out
    assert (sys.stdin, sys.stdout, sys.stderr) == streams  # the process's own streams are back


def test_environment_facts():
    env = _env()
    assert not env.stdin_isatty and not env.colors
    env.log_error("one sentence")
    assert env.stderr.getvalue() == "smtp-shell: one sentence\n"
