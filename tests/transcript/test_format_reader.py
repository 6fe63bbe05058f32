"""The file format and the reader: round trips, torn files, unknown kinds and versions, and
one-sentence errors for damaged files (never a traceback)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtp_shell.transcript.format import FORMAT, VERSION, TranscriptError
from smtp_shell.transcript.reader import read_transcript
from smtp_shell.transcript.recorder import Recorder
from smtp_shell.transcript.replay import reply_of
from tests.transcript.helpers import Clock, cli, lines, reply, small_transcript


def test_header_and_events(tmp_path):
    path = small_transcript(tmp_path / "s.jsonl")
    header, *events = lines(path)
    assert header["format"] == FORMAT and header["version"] == VERSION == 1
    assert header["started"].endswith("Z") and header["target"] == "127.0.0.1:8025"
    assert "timezone" in header and header["tool_version"]
    assert [e["k"] for e in events] == ["note", "connect", "s", "c", "s", "marker", "c", "s", "error", "end"]
    times = [e["t"] for e in events]
    assert times == sorted(times) and all(isinstance(t, float) for t in times)
    t = read_transcript(path)
    assert t.complete and t.problem is None and len(t.events) == 10
    assert t.events[4].get("code") == 250 and reply_of(t.events[4]).lines == ("lab", "PIPELINING")


def test_refuses_to_overwrite(tmp_path):
    path = small_transcript(tmp_path / "s.jsonl")
    with pytest.raises(TranscriptError, match=r"already exists.*--force"):
        Recorder(path)
    Recorder(path, force=True).close()
    assert len(lines(path)) == 2


def test_every_cut_point_reads_back_all_whole_events(tmp_path):
    """A file cut anywhere (a killed recorder) loses at most the line being written."""
    full = small_transcript(tmp_path / "s.jsonl").read_bytes()
    header_end = full.index(b"\n") + 1
    for cut in range(header_end, len(full)):
        part = tmp_path / "cut.jsonl"
        part.write_bytes(full[:cut])
        t = read_transcript(part)
        whole_lines = full[:cut].count(b"\n") - 1
        assert len(t.events) in (whole_lines, whole_lines + 1)
        assert t.complete == (cut == len(full) - 1), cut  # complete only once the end event is whole
        torn = not full[:cut].endswith(b"\n")
        if not t.complete:
            assert ("cut off" in t.problem) == (torn and len(t.events) == whole_lines)


def test_no_end_event_is_incomplete(tmp_path):
    path = tmp_path / "s.jsonl"
    rec = Recorder(path, target="x", clock=Clock())
    rec.note("hello")
    t = read_transcript(path)
    assert not t.complete and "no end event" in t.problem and t.events[0].text == "hello"


def test_unknown_kinds_are_skipped_unknown_versions_rejected(tmp_path):
    path = small_transcript(tmp_path / "s.jsonl")
    rows = path.read_text().splitlines()
    rows.insert(3, json.dumps({"t": 0.3, "k": "sparkle", "whatever": [1, 2]}))
    path.write_text("\n".join(rows) + "\n")
    t = read_transcript(path)
    assert t.complete and t.skipped == 1 and len(t.events) == 10
    header = json.loads(rows[0])
    header["version"] = 2
    path.write_text("\n".join([json.dumps(header)] + rows[1:]) + "\n")
    with pytest.raises(TranscriptError, match=r"format version 2, which smtp-shell .* cannot read"):
        read_transcript(path)


@pytest.mark.parametrize("damage, message", [
    (lambda rows: ["not json at all"] + rows[1:], "is not an smtp-shell transcript"),
    (lambda rows: [json.dumps({"format": "something-else", "version": 1})] + rows[1:], "is not an smtp-shell transcript"),
    (lambda rows: [rows[0].replace('"version": 1', '"version": "1"')] + rows[1:], "line 1: the field 'version' should be an integer"),
    (lambda rows: rows[:2] + ["{broken"] + rows[2:], "line 3 is not valid JSON"),
    (lambda rows: rows[:2] + ['{"t": "soon", "k": "note", "text": "x"}'] + rows[2:], "line 3: the field 't'"),
    (lambda rows: rows[:2] + ['{"t": 1, "k": "note", "text": 5}'] + rows[2:], "line 3: the field 'text' should be a string"),
    (lambda rows: rows[:2] + ['{"t": 1, "k": "c", "text": "x", "tls": "yes"}'] + rows[2:],
     "line 3: the field 'tls' should be true or false"),
    (lambda rows: rows[:2] + ['{"t": 1, "k": "s", "b64": "***"}'] + rows[2:], "line 3: the field 'b64' is not valid base64"),
    (lambda rows: rows[:2] + ['[1, 2]'] + rows[2:], "line 3 is not a JSON object"),
])
def test_damaged_files_get_one_sentence(tmp_path, damage, message):
    path = small_transcript(tmp_path / "s.jsonl")
    path.write_text("\n".join(damage(path.read_text().splitlines())) + "\n")
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    text = str(info.value)
    assert message in text and str(path) in text and "\n" not in text


def test_cli_reports_damage_without_traceback(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "smtp-shell-transcript", "version": 1, "started": "x"}\n{oops\n')
    for args in (["replay", bad], ["export", bad, "--format", "html"], ["export", tmp_path / "missing.jsonl"]):
        result = cli(args, tmp_path)
        assert result.returncode == 1
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_empty_and_half_header(tmp_path):
    for content in (b"", b'{"format": "smtp-she'):
        path = tmp_path / "e.jsonl"
        path.write_bytes(content)
        with pytest.raises(TranscriptError, match="holds no session"):
            read_transcript(path)


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=0, max_size=60), st.text(max_size=40))
def test_server_bytes_and_text_survive_losslessly(tmp_path_factory, data, text):
    """Replies that are not UTF-8 are kept as base64; any note text round-trips."""
    path = tmp_path_factory.mktemp("h") / "t.jsonl"
    raw = b"250 " + data.replace(b"\r", b"").replace(b"\n", b"") + b"\r\n"
    rec = Recorder(path, target="x", clock=Clock())
    original = reply(raw)
    rec.reply(original, True, None)
    rec.note(text)
    rec.raw_server(data, "not SMTP")
    rec.close()
    t = read_transcript(path)
    again = reply_of(t.events[0])
    assert (again.code, again.lines, again.raw, again.notes) == (original.code, original.lines, original.raw, original.notes)
    assert t.events[1].text == text
    from smtp_shell.transcript.format import event_bytes
    assert event_bytes(t.events[2].fields) == data
