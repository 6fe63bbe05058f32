"""The whole CLI in-process: `main(argv, env=Environment(...))` with StringIO streams, the way
HTTPie's tests run it. No subprocess, and what a user would see on stdout and stderr."""

from __future__ import annotations

import io
import sys

import pytest

from smtp_shell.cli import build_parser, main
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


COMMAND_LINES = [
    [], ["--tls", "--timeout", "3"], ["connect", "127.0.0.1:25", "--batch", "--no-color"], ["connect", "lab"],
    ["lab", "--listen", "127.0.0.1:0", "--web", "127.0.0.1:0"], ["mailbox", "show", "x"], ["explain", "550"],
    ["replay", "f.jsonl", "--no-timing"], ["export", "f.jsonl", "--format", "html"], ["report", "dir"],
    ["diff", "a", "b"], ["lesson", "2"], ["check-client", "--json"], ["connect"], ["lab", "--bogus"], ["nope"],
]


def test_the_parser_declares_only_the_named_command_and_parses_the_same(capsys):
    """`build_parser(argv)` skips declaring the other sub-commands' arguments (start-up time):
    every command line parses to the same result, and every --help and usage error reads the same."""
    def outcome(parser, argv):
        try:
            return ("ok", vars(parser.parse_args(argv)))
        except SystemExit as exc:
            out = capsys.readouterr()
            return ("exit", exc.code, out.out, out.err)

    names = ["connect", "lab", "mailbox", "explain", "replay", "export", "report", "diff", "lesson", "check-client"]
    for argv in [*COMMAND_LINES, ["--help"], *([name, "--help"] for name in names)]:
        assert outcome(build_parser(argv), argv) == outcome(build_parser(), argv), argv
    with pytest.raises(SystemExit):
        build_parser(["--help"]).parse_args(["--help"])
    assert "check-client" in capsys.readouterr().out
