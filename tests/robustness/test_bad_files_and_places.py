"""Broken files and places on our side: malformed and truncated transcripts (every line type),
lesson files with every field wrong, a lab mailbox that cannot be written, a port already in
use. Each is one sentence (the module's own error type, or `smtp-shell: ...` and exit 1),
never a traceback."""

from __future__ import annotations

import json
import socket
import tomllib

import pytest

from smtp_shell.status import ExitStatus
from tests.robustness.conftest import shell

pytestmark = pytest.mark.timeout(60)

HEADER = {"format": "smtp-shell-transcript", "version": 1, "started": "2026-05-01T09:30:00.123Z",
          "timezone": "UTC", "target": "127.0.0.1:8025", "tool_version": "0.1.0", "lesson": None}
TLS_INFO = {"version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384", "subject": "CN=x", "issuer": "CN=x",
            "not_before": "2026-01-01 00:00:00 UTC", "not_after": "2027-01-01 00:00:00 UTC", "verified": True,
            "fingerprint_sha256": "AB:CD", "server_hostname": "127.0.0.1", "self_signed": True}
# one event of every kind, with every field it may carry
EVENTS = [
    {"t": 0.1, "k": "note", "text": "connecting"},
    {"t": 0.2, "k": "connect", "target": "127.0.0.1:8025", "tls": False},
    {"t": 0.3, "k": "s", "text": "220 lab ESMTP\r\n", "tls": False, "code": 220, "verb": None, "reply": "greeting",
     "challenge": None},
    {"t": 0.4, "k": "c", "text": "EHLO me", "tls": False, "as": "command", "verb": "EHLO", "secret": "", "user": "x"},
    {"t": 0.5, "k": "warn", "text": "careful"},
    {"t": 0.6, "k": "error", "text": "it broke", "hint": "do this"},
    {"t": 0.7, "k": "raw", "b64": "AAEC", "label": "not SMTP"},
    {"t": 0.8, "k": "tls", "text": "TLS started", "info": TLS_INFO},
    {"t": 0.9, "k": "marker", "text": "step 1"},
    {"t": 1.0, "k": "close", "text": "server closed the connection"},
    {"t": 1.1, "k": "end", "status": 0},
]
WRONG_VALUES = [12345, "text", True, None, [1], {"a": 1}, 1.5]


def write(path, header, events, tail: bytes = b"") -> None:
    body = "".join(json.dumps(obj) + "\n" for obj in [header, *events]).encode() + tail
    path.write_bytes(body)


@pytest.fixture(scope="module")
def reader():
    from smtp_shell.transcript.format import TranscriptError
    from smtp_shell.transcript.reader import read_transcript
    return read_transcript, TranscriptError


def test_the_reference_transcript_reads(tmp_path, reader):
    read, _ = reader
    path = tmp_path / "all.jsonl"
    write(path, HEADER, EVENTS)
    t = read(path)
    assert t.complete and [e.kind for e in t.events] == [e["k"] for e in EVENTS]


@pytest.mark.parametrize("index", range(len(EVENTS)), ids=[e["k"] for e in EVENTS])
def test_every_line_type_truncated_anywhere(tmp_path, reader, index):
    """Cut the file inside event `index` (at every byte): the events before it survive, it is reported cut."""
    read, error = reader
    path = tmp_path / "cut.jsonl"
    line = json.dumps(EVENTS[index]).encode()
    for cut in range(1, len(line)):
        write(path, HEADER, EVENTS[:index], line[:cut])
        try:
            t = read(path)
        except error as exc:  # some prefixes are whole JSON of the wrong shape (e.g. a bare number)
            assert "\n" not in str(exc) and str(path) in str(exc)
            continue
        assert not t.complete and t.problem
        assert [e.kind for e in t.events[:index]] == [e["k"] for e in EVENTS[:index]]


@pytest.mark.parametrize("index", range(len(EVENTS)), ids=[e["k"] for e in EVENTS])
def test_every_line_type_with_every_field_wrong(tmp_path, reader, index):
    """Each field of each kind given each wrong type, or removed: a Transcript or one TranscriptError sentence."""
    read, error = reader
    path = tmp_path / "bad.jsonl"
    event = EVENTS[index]
    refused = 0
    for name in event:
        variants = [{k: v for k, v in event.items() if k != name}]
        variants += [{**event, name: wrong} for wrong in WRONG_VALUES if wrong != event[name]]
        for bad in variants:
            write(path, HEADER, [*EVENTS[:index], bad, *EVENTS[index + 1:]])
            try:
                read(path)
            except error as exc:
                refused += 1
                text = str(exc)
                assert "\n" not in text and str(path) in text and f"line {index + 2}" in text, text
    assert refused  # at least the wrong types of `t` and `k` are refused


@pytest.mark.parametrize("name", sorted(HEADER))
def test_header_with_every_field_wrong(tmp_path, reader, name):
    read, error = reader
    path = tmp_path / "bad-header.jsonl"
    for wrong in [*WRONG_VALUES, "<missing>"]:
        header = {k: v for k, v in HEADER.items() if k != name} if wrong == "<missing>" else {**HEADER, name: wrong}
        write(path, header, EVENTS)
        try:
            read(path)
        except error as exc:
            assert "\n" not in str(exc) and str(path) in str(exc)


@pytest.mark.parametrize("damage", ["not-json", "torn-middle", "binary", "empty", "only-header", "crlf"])
def test_damaged_transcript_through_the_cli(tmp_path, reader, damage):
    path = tmp_path / f"{damage}.jsonl"
    write(path, HEADER, EVENTS)
    data = path.read_bytes()
    lines = data.split(b"\n")
    path.write_bytes({
        "not-json": b"\n".join(lines[:3] + [b"{oops"] + lines[3:]),
        "torn-middle": b"\n".join(lines[:3] + [lines[3][:10]] + lines[4:]),
        "binary": b"\n".join(lines[:3] + [b"\xff\xfe\x00\x1b[31m"] + lines[3:]),
        "empty": b"",
        "only-header": lines[0] + b"\n",
        "crlf": data.replace(b"\n", b"\r\n"),
    }[damage])
    result = shell(["replay", path, "--no-timing"], "", tmp_path)
    assert "Traceback" not in result.stdout + result.stderr
    assert "\x1b[31m" not in result.stdout + result.stderr
    if result.returncode != ExitStatus.OK:
        assert result.returncode == ExitStatus.ERROR
        assert len(result.stderr.strip().splitlines()) == 1 and str(path) in result.stderr, result.stderr


# ---- lesson files -----------------------------------------------------------------------------

def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def to_toml(data: dict) -> str:
    """A tiny TOML writer (top-level keys, inline tables and arrays) for mutated lessons."""
    return "".join(f"{json.dumps(k)} = {_toml_value(v)}\n" for k, v in data.items())


def _paths(value, prefix=()):
    """Every key path inside a lesson document (tables and arrays of tables)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield prefix + (key,)
            yield from _paths(inner, prefix + (key,))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            if isinstance(inner, dict):
                yield from _paths(inner, prefix + (i,))


def _replace(doc, path, new):
    import copy
    doc = copy.deepcopy(doc)
    target = doc
    for key in path[:-1]:
        target = target[key]
    if new is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = new
    return doc


_DELETE = object()
LESSON_WRONG = [7, "", "x", True, [], [1, "a"], {}, {"nonsense": 1}, 3.5, -1, 10**9]


@pytest.fixture(scope="module")
def lessons():
    from smtp_shell.lessons import loader
    from smtp_shell.lessons.model import LessonError
    return loader, LessonError


def test_lesson_files_with_every_field_wrong(lessons):
    loader, lesson_error = lessons
    files = loader.bundled_files()
    assert files, "no bundled lessons to mutate"
    tried = refused = 0
    for path in files[:3]:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        assert loader.parse_lesson(to_toml(doc), path.name).steps  # the writer itself round-trips
        for key_path in _paths(doc):
            for wrong in [*LESSON_WRONG, _DELETE]:
                tried += 1
                text = to_toml(_replace(doc, key_path, wrong))
                try:
                    loader.parse_lesson(text, path.name)
                except lesson_error as exc:
                    refused += 1
                    message = str(exc)
                    assert "\n" not in message.strip() and message.startswith(path.name), message
                # anything else (TypeError, KeyError, ...) fails the test with its traceback
    assert refused > tried // 2, (refused, tried)


def test_lesson_file_truncated_anywhere(lessons, tmp_path):
    loader, lesson_error = lessons
    text = loader.bundled_files()[0].read_text(encoding="utf-8")
    for cut in range(0, len(text), max(1, len(text) // 150)):
        try:
            loader.parse_lesson(text[:cut], "cut.toml")
        except lesson_error as exc:
            assert str(exc).startswith("cut.toml")
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe\x00title = 1")
    with pytest.raises(lesson_error):
        loader.load_lesson(path)


# ---- the lab server's places --------------------------------------------------------------------

def test_lab_mailbox_that_cannot_be_written(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    mailbox = blocker / "mailbox"  # under a regular file: unwritable even for root
    result = shell(["lab", "--listen", "127.0.0.1:0", "--mailbox", mailbox], "", tmp_path, timeout=20)
    assert result.returncode == ExitStatus.ERROR
    assert result.stderr.strip() == (f"smtp-shell: the mailbox folder {mailbox} is not writable (Not a directory); "
                                     f"choose another with --mailbox DIR")
    assert "Traceback" not in result.stdout + result.stderr


def test_lab_port_already_in_use(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = shell(["lab", "--listen", f"127.0.0.1:{port}", "--mailbox", tmp_path / "mb"], "", tmp_path,
                       timeout=20)
    assert result.returncode == ExitStatus.ERROR
    assert result.stderr.strip() == (f"smtp-shell: port {port} on 127.0.0.1 is already in use; stop the other "
                                     f"server or choose another with --listen 127.0.0.1:{port + 1}")
    assert "Traceback" not in result.stdout + result.stderr


def test_lab_tls_port_already_in_use(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = shell(["lab", "--listen", "127.0.0.1:0", "--tls-port", str(port), "--mailbox", tmp_path / "mb"],
                       "", tmp_path, timeout=20)
    assert result.returncode == ExitStatus.ERROR
    assert result.stderr.strip() == (f"smtp-shell: port {port} on 127.0.0.1 is already in use; stop the other "
                                     f"server or choose another with --tls-port 127.0.0.1:{port + 1}")


def test_shell_default_with_an_unwritable_data_folder(tmp_path):
    """`smtp-shell` (embedded lab) when its data folder is under a regular file."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    env_home = blocker / "home"
    import subprocess
    import sys

    from tests.shell.helpers import env
    e = env(env_home)
    result = subprocess.run([sys.executable, "-m", "smtp_shell", "--batch"], input="QUIT\n", capture_output=True,
                            text=True, timeout=20, env=e)
    sentence = (f"the smtp-shell data folder {env_home} cannot be created (Not a directory); "
                f"set SMTP_SHELL_HOME to a writable folder")
    assert result.returncode == ExitStatus.ERROR, result.stdout + result.stderr
    assert result.stderr.strip() == f"smtp-shell: could not start the lab server: {sentence}"
    for args in (["lab", "--listen", "127.0.0.1:0"], ["lab", "--listen", "127.0.0.1:0", "--mailbox", tmp_path / "m"]):
        result = subprocess.run([sys.executable, "-m", "smtp_shell", *map(str, args)], capture_output=True, text=True,
                                timeout=20, env=e, stdin=subprocess.DEVNULL)
        assert result.returncode == ExitStatus.ERROR
        assert result.stderr.strip() == f"smtp-shell: {sentence}"


# Found by the fuzz run (tests/fuzz/README.md) and fixed in transcript/format.py.
@pytest.mark.parametrize("value", [None, 5, [1]])
def test_non_string_b64_on_any_kind_is_one_sentence(tmp_path, reader, value):
    read, error = reader
    path = tmp_path / "b64.jsonl"
    write(path, HEADER, [*EVENTS[:-1], {"t": 1.2, "k": "end", "status": 0, "b64": value}])
    with pytest.raises(error):
        read(path)
