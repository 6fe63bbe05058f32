"""`export --format cast`: a valid asciinema v2 file whose text and colours are exactly what
`replay --no-timing` draws on a colour terminal (replay run in a real pty)."""

from __future__ import annotations

import json
import re
import sys

import pexpect
import pytest

from tests.transcript.helpers import SHIPPED, cli, cli_env

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def parse_cast(text: str) -> tuple[dict, list[list]]:
    """Check the asciicast v2 rules and return (header, events)."""
    lines = text.splitlines()
    header = json.loads(lines[0])
    assert header["version"] == 2 and isinstance(header["width"], int) and isinstance(header["height"], int)
    assert isinstance(header.get("timestamp", 0), int) and isinstance(header["env"], dict)
    events = [json.loads(line) for line in lines[1:]]
    previous = 0.0
    for event in events:
        assert len(event) == 3 and isinstance(event[0], (int, float)) and event[1] == "o" and isinstance(event[2], str)
        assert event[0] >= previous
        previous = event[0]
    return header, events


def replay_in_a_pty(path, home, width: int) -> str:
    environment = cli_env(home)
    environment.pop("NO_COLOR", None)
    environment.update({"TERM": "xterm-256color", "COLORTERM": "truecolor"})
    child = pexpect.spawn(sys.executable, ["-m", "smtp_shell", "replay", str(path), "--no-timing"], env=environment,
                          encoding="utf-8", timeout=20, dimensions=(50, width), cwd=str(home))
    child.expect(pexpect.EOF)
    child.close()
    return child.before


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")
@pytest.mark.timeout(60)
@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_cast_is_asciicast_v2_and_matches_replay(path, tmp_path):
    result = cli(["export", path, "--format", "cast", "-o", tmp_path / "s.cast"], tmp_path)
    assert result.returncode == 0, result.stderr
    header, events = parse_cast((tmp_path / "s.cast").read_text(encoding="utf-8"))
    played = "".join(e[2] for e in events).replace("\r\n", "\n")
    assert "\x1b[" in played                                  # coloured, like replay on a terminal
    screen = replay_in_a_pty(path, tmp_path, 250).replace("\r\n", "\n")
    assert ANSI.sub("", played) == ANSI.sub("", screen)       # the same text
    assert played == screen                                   # and the same colours
    assert header["width"] >= max(len(line) for line in ANSI.sub("", played).splitlines())


def test_escape_sequences_from_the_file_never_reach_the_player(tmp_path):
    from smtp_shell.transcript.recorder import Recorder
    from tests.transcript.helpers import Clock, reply

    path = tmp_path / "hostile.jsonl"
    rec = Recorder(path, target="127.0.0.1:8025\x1b]0;title\x07", clock=Clock())
    rec.connected("127.0.0.1:8025", False)
    rec.reply(reply(b"220 lab \x1b[2J\x1b]0;pwned\x07 ESMTP\r\n"), False, None)
    rec.client("EHLO \x1b[31mred", False)
    rec.note("note \x9b31m")
    rec.close(0)
    cast = cli(["export", path, "--format", "cast"], tmp_path).stdout
    _, events = parse_cast(cast)
    played = "".join(e[2] for e in events)
    assert set(re.findall(r"\x1b.", played)) == {"\x1b["}
    assert not re.findall(r"\x1b\[[0-9;]*[^0-9;m]", played)   # colour codes only: no cursor moves, no clears
    assert "\x07" not in played and "\x9b" not in played and "\\x1b[2J" in ANSI.sub("", played)
    assert "\x1b" not in json.loads(cast.splitlines()[0])["title"]
