"""The one input-mode table: every mode is a row, `docs/input.md` is generated from it, and
routing a typed line (command, text, refused) asks it. Plus the sans-IO side of BDAT: the core
owes exactly n octets, completion offers BDAT only with CHUNKING, and the advisor knows BDAT
and DATA never mix in one transaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from smtp_shell.protocol import advisor
from smtp_shell.protocol.errors import LocalProtocolError
from smtp_shell.protocol.session import ClientSession
from smtp_shell.protocol.states import State
from smtp_shell.shell import meta
from smtp_shell.shell.modes import MODES, markdown
from tests.shell.test_completion import complete


def test_every_mode_is_one_row_and_the_doc_is_generated_from_the_table():
    assert set(MODES) == {"command", "data", "auth", "password", "secret", "confirm", "bdat", "pipeline"}
    for mode in MODES.values():
        assert mode.enter and mode.ctrl_c and mode.ctrl_d and mode.recorded
    doc = (Path(__file__).parents[2] / "docs" / "input.md").read_text(encoding="utf-8")
    assert doc == markdown(), "docs/input.md is stale: python -m smtp_shell.shell.modes > docs/input.md"


@pytest.mark.parametrize("mode", ["data", "auth", "password", "pipeline"])
@pytest.mark.parametrize("name", ["hint", "lesson", "date", "b64", "unb64", "explain", "caps", "help", "quit"])
def test_teaching_commands_work_in_every_mode_where_they_make_sense(mode, name):
    assert meta.route(f":{name} x", mode).action == "run"


def test_in_data_mode_a_double_colon_sends_one_colon_and_says_so():
    route = meta.route("::quit now", "data")
    assert (route.action, route.text) == ("send", ":quit now")
    assert "'::'" in route.note


def test_in_data_mode_an_unknown_colon_word_is_text_with_a_note():
    route = meta.route(":-) see you", "data")
    assert (route.action, route.text) == ("send", ":-) see you") and "not a shell command" in route.note
    assert meta.route(":nosuch", "data").action == "send"
    assert meta.route(":nosuch", "command").action == "run"  # refused in one sentence by dispatch


def test_a_command_that_only_works_at_the_smtp_prompt_is_refused_in_words_elsewhere():
    route = meta.route(":auth login student", "data")
    assert route.action == "refuse" and "::" in route.note
    assert meta.route(":auth login student", "auth").action == "refuse"


@pytest.mark.parametrize("mode", ["secret", "confirm", "bdat"])
def test_modes_that_take_the_line_as_typed_never_run_a_command(mode):
    assert meta.route(":quit", mode).action == "send"


def ready_for_data(chunking: bool) -> ClientSession:
    core = ClientSession()
    core.connected()
    core.receive_data(b"220 lab ESMTP\r\n")
    core.send_line("EHLO me")
    core.receive_data(b"250-lab\r\n250 CHUNKING\r\n" if chunking else b"250-lab\r\n250 PIPELINING\r\n")
    core.send_line("MAIL FROM:<a@lab.test>")
    core.receive_data(b"250 ok\r\n")
    core.send_line("RCPT TO:<b@lab.test>")
    core.receive_data(b"250 ok\r\n")
    return core


def test_tab_offers_bdat_only_when_chunking_is_advertised():
    assert "BDAT" in complete(ready_for_data(True), "")
    assert "BDAT" not in complete(ready_for_data(False), "")


def test_the_core_owes_exactly_the_announced_octets_then_waits_for_the_reply():
    core = ready_for_data(True)
    out = core.send_line("BDAT 9 LAST")
    assert out.data == b"BDAT 9 LAST\r\n" and not out.wait_for_reply and core.mode == "bdat"
    with pytest.raises(LocalProtocolError):
        core.send_line("NOOP")  # would be read by the server as chunk octets
    assert core.send_chunk(b"Hi\r\n").data == b"Hi\r\n" and core.chunk_remaining == 5
    with pytest.raises(LocalProtocolError):
        core.send_chunk(b"too long\r\n")
    core.send_chunk(b"Bye\r\n")
    assert core.mode == "command"
    [event] = core.receive_data(b"250 2.0.0 Ok: 9 bytes queued\r\n")
    assert event.verb == "<bdat-last>" and core.state is State.READY


def rules(core, text):
    return {a.rule for a in advisor.check_before(core, text)}


def test_the_advisor_knows_bdat_and_data_never_mix():
    core = ready_for_data(True)
    core.send_line("BDAT 4")
    core.send_chunk(b"a\r\nb")
    core.receive_data(b"250 2.0.0 Ok: 4 bytes\r\n")
    assert core.state is State.RCPT
    assert "bdat-then-data" in rules(core, "DATA")
    assert "DATA" not in complete(core, "")
    plain = ready_for_data(False)
    assert "bdat-not-offered" in rules(plain, "BDAT 3 LAST")
    assert "bdat-size" in rules(ready_for_data(True), "BDAT LAST")
    plain.send_line("DATA")
    plain.receive_data(b"354 go\r\n")
    assert "bdat-in-data" in rules(plain, "BDAT 10 LAST")
