"""Starting and stopping a recording: `--record FILE`, `:record [FILE]`, `:record stop`, the toolbar."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from smtp_shell.shell.recording import show_in_toolbar
from smtp_shell.transcript.reader import read_transcript
from smtp_shell.transcript.recorder import Recorder
from tests.transcript.helpers import cli


def test_record_refuses_to_overwrite(aiosmtpd_server, tmp_path):
    (tmp_path / "taken.jsonl").write_text("precious\n")
    result = cli(["connect", aiosmtpd_server.target, "--batch", "--record", "taken.jsonl"], tmp_path, "EHLO me\n")
    assert result.returncode == 1
    assert "taken.jsonl already exists; choose another file name, or add --force" in result.stderr
    assert (tmp_path / "taken.jsonl").read_text() == "precious\n"
    result = cli(["connect", aiosmtpd_server.target, "--batch", "--record", "taken.jsonl", "--force"], tmp_path, "EHLO me\n")
    assert result.returncode == 0 and read_transcript(tmp_path / "taken.jsonl").complete


def test_record_meta_command_in_a_session(aiosmtpd_server, tmp_path):
    (tmp_path / "part.jsonl").write_text("old\n")
    script = "EHLO me\n:record\nNOOP\n:record part.jsonl\n:record stop\n:record part.jsonl\n:record part.jsonl --force\nQUIT\n"
    result = cli(["connect", aiosmtpd_server.target, "--batch"], tmp_path, script)
    out = result.stdout
    assert "recording to " in out and "AUTH secrets are never recorded" in out
    assert "Already recording to transcripts/session-" in out
    assert "part.jsonl already exists" in out
    first = next((tmp_path / "transcripts").glob("session-*.jsonl"))
    t = read_transcript(first)
    assert t.complete and [e.text for e in t.events if e.kind == "c"] == ["NOOP"]
    second = read_transcript(tmp_path / "part.jsonl")
    assert [e.text for e in second.events if e.kind == "c"] == ["QUIT"]
    assert second.complete  # the end event is written at exit even without :record stop


def test_stop_without_recording(aiosmtpd_server, tmp_path):
    result = cli(["connect", aiosmtpd_server.target, "--batch"], tmp_path, ":record stop\n")
    assert "Nothing is being recorded; start with :record [FILE]" in result.stdout


def test_toolbar_label(tmp_path):
    rec = Recorder(tmp_path / "x.jsonl")
    shell = SimpleNamespace(recording=None)
    show_in_toolbar(rec)(shell)
    assert shell.recording == "● rec x.jsonl"
    rec.close()


@pytest.mark.timeout(60)
def test_toolbar_in_the_repl(aiosmtpd_server, tmp_path):
    """`--record` (cli's on_ready hook) and `:record` both show in the REPL's toolbar."""
    import asyncio
    import io

    from prompt_toolkit.history import InMemoryHistory
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from smtp_shell.render import make_console
    from smtp_shell.shell.options import SessionOptions
    from smtp_shell.shell.repl import _toolbar, repl_session

    options = SessionOptions(host="127.0.0.1", port=aiosmtpd_server.port, timeout=5)
    rec = Recorder(tmp_path / "cli.jsonl", target=options.target)
    buffer = io.StringIO()
    seen = {}

    def ready(shell):
        show_in_toolbar(rec)(shell)
        seen["shell"] = shell

    def toolbar() -> str:
        return "".join(text for _style, text in _toolbar(seen["shell"])())

    async def until(text):
        for _ in range(500):
            if text in buffer.getvalue():
                return
            await asyncio.sleep(0.02)
        raise AssertionError(buffer.getvalue())

    async def scenario():
        with create_pipe_input() as inp:
            task = asyncio.create_task(repl_session(options, input=inp, output=DummyOutput(),
                                                    console=make_console(file=buffer, width=200),
                                                    history=InMemoryHistory(), listeners=[rec], on_ready=ready))
            await until("<-  220 ")
            assert "● rec cli.jsonl" in toolbar()
            inp.send_text(":record stop\r")
            await until("recording stopped")
            assert "not recording" in toolbar()
            inp.send_text(f":record {tmp_path / 'again.jsonl'}\r")
            await until("recording to")
            assert "● rec again.jsonl" in toolbar()
            inp.send_text(":quit\r")
            return await asyncio.wait_for(task, 10)

    assert asyncio.run(asyncio.wait_for(scenario(), 40)) == 0
    assert read_transcript(tmp_path / "cli.jsonl").complete
