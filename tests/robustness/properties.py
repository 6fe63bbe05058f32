"""Property checks shared by the bounded suite (tests/robustness/test_properties.py) and the long
fuzz run (tests/fuzz/): each entry is a name, the hypothesis strategies of its arguments and a
plain function that raises AssertionError when the property fails.

The properties: the reply parser, the session core, the command classifier, the transcript
reader and the lesson loader never raise anything but their own error type, whatever the input;
and what they render they parse back unchanged (parse(render(x)) == x). tests/protocol already
checks the parser's chunking independence and a single reply's round trip; these add sequences,
garbage between replies, the whole session core, and the file readers.
"""

from __future__ import annotations

import collections
import importlib
import json
import tempfile
from pathlib import Path

from hypothesis import strategies as st

from smtp_shell.protocol.commands import MAX_COMMAND_LINE, classify
from smtp_shell.protocol.errors import LocalProtocolError, RemoteProtocolError
from smtp_shell.protocol.replies import Reply, ReplyParser
from smtp_shell.protocol.session import ClientSession
from smtp_shell.protocol.states import State

# ---- strategies -------------------------------------------------------------------------------

CODES = st.integers(200, 559).filter(lambda c: (c // 10) % 10 <= 5)
LINE_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=40)


@st.composite
def replies(draw) -> Reply:
    code = draw(CODES)
    lines = draw(st.lists(LINE_TEXT, min_size=1, max_size=4))
    last = lines[-1].lstrip(" ") or "x"  # "250" alone parses as ("",); a leading space is the separator's
    return Reply(code, tuple(lines[:-1]) + (last,))


GARBAGE_LINE = st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"") + b"\r\n").filter(
    lambda b: not b[:3].isdigit())
SERVER_BYTES = st.one_of(
    st.binary(max_size=300),
    st.lists(st.one_of(replies().map(Reply.to_bytes), GARBAGE_LINE, st.binary(max_size=20)), max_size=8)
    .map(b"".join),
)
TYPED = st.text(max_size=80) | st.sampled_from(
    ["EHLO a", "MAIL FROM:<a@b>", "RCPT TO:<c@d>", "DATA", ".", "STARTTLS", "AUTH LOGIN", "AUTH PLAIN AGFAYg==",
     "*", "QUIT", "RSET", "NOOP", "", "   ", "..x", "mail from:<x>", "x" * 600])
SCRIPTS = st.lists(st.one_of(TYPED.map(lambda t: ("type", t)), SERVER_BYTES.map(lambda b: ("server", b)),
                             st.just(("tls", b""))), max_size=20)


# ---- properties ---------------------------------------------------------------------------------

def replies_round_trip_in_sequence(items: list) -> None:
    """Any sequence of replies, rendered and fed in any chunking, parses back to the same replies."""
    data = b"".join(r.to_bytes() for r in items)
    parsed = ReplyParser().feed(data)
    assert [(r.code, r.lines) for r in parsed] == [(r.code, r.lines) for r in items]
    assert b"".join(r.to_bytes() for r in parsed) == data


def parser_recovers_after_garbage(items: list, garbage: list, chunk: int) -> None:
    """Garbage lines between replies are reported (never raised); every real reply still comes through."""
    data = b""
    for i, reply in enumerate(items):
        data += garbage[i % len(garbage)] if garbage else b""
        data += reply.to_bytes()
    parser = ReplyParser()
    events = []
    for i in range(0, len(data), chunk):
        events += parser.feed(data[i:i + chunk])
    got = [e for e in events if isinstance(e, Reply)]
    assert all(isinstance(e, (Reply, RemoteProtocolError)) for e in events)
    assert [(r.code, r.lines) for r in got] == [(r.code, r.lines) for r in items]


def session_core_never_raises(script: list) -> None:
    """The sans-IO core, driven by any mix of typed lines, server bytes and TLS upgrades: only
    LocalProtocolError for the student's lines, never an exception for the server's bytes."""
    core = ClientSession()
    core.connected()
    for action, value in script:
        if action == "type":
            try:
                out = core.send_line(value)
            except LocalProtocolError as exc:
                assert exc.message and "\n" not in exc.message
                continue
            assert out.data.endswith(b"\r\n") and out.data.count(b"\n") == 1
        elif action == "server":
            for event in core.receive_data(value):
                assert not isinstance(event, Exception) or isinstance(event, RemoteProtocolError)
        elif core.state is State.TLS_PENDING:
            core.tls_started()
        assert isinstance(core.state, State) and core.mode in ("command", "data", "auth")


def classify_describes_without_changing(text: str) -> None:
    """classify() raises only LocalProtocolError; otherwise the wire bytes are the text as typed + CRLF."""
    try:
        command = classify(text)
    except LocalProtocolError as exc:
        assert "\r" in text or "\n" in text or "\x00" in text
        assert exc.message and exc.hint
        return
    assert command.text == text and command.wire() == text.encode("utf-8") + b"\r\n"
    assert command.verb == command.verb.upper() and " " not in command.verb
    assert (command.length_warning() is not None) == (len(command.wire()) > MAX_COMMAND_LINE)


def transcript_reader_never_raises_other_errors(data: bytes) -> None:
    """Any bytes as a transcript file: a Transcript or one TranscriptError sentence."""
    reader = importlib.import_module("smtp_shell.transcript.reader")
    fmt = importlib.import_module("smtp_shell.transcript.format")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.jsonl"
        path.write_bytes(data)
        try:
            reader.read_transcript(path)
        except fmt.TranscriptError as exc:
            assert "\n" not in str(exc).strip()


# Known defects a property tolerates so the fuzzing keeps looking for new ones (none at present:
# the one found, a non-string 'b64' in a transcript, is fixed).
KNOWN_HITS: collections.Counter = collections.Counter()


HEADER = b'{"format": "smtp-shell-transcript", "version": 1, "started": "2026-01-01T00:00:00Z"}\n'
JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                       max_leaves=8)
EVENT_LINES = st.lists(
    st.one_of(
        st.fixed_dictionaries({"t": JSONISH, "k": st.sampled_from(["c", "s", "note", "warn", "error", "raw", "tls",
                                                                  "marker", "close", "end", "connect", "new"])},
                              optional={"text": JSONISH, "b64": JSONISH, "tls": JSONISH, "info": JSONISH,
                                        "label": JSONISH, "status": JSONISH, "target": JSONISH, "code": JSONISH})
        .map(lambda d: json.dumps(d).encode()),
        st.binary(max_size=30)),
    max_size=6).map(lambda rows: HEADER + b"\n".join(rows))


def transcript_events_round_trip(texts: list, data: bytes) -> None:
    """What the recorder writes (notes with any text, server bytes that are not UTF-8) reads back equal."""
    recorder = importlib.import_module("smtp_shell.transcript.recorder")
    reader = importlib.import_module("smtp_shell.transcript.reader")
    fmt = importlib.import_module("smtp_shell.transcript.format")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rt.jsonl"
        rec = recorder.Recorder(path, target="127.0.0.1:25")
        for text in texts:
            rec.note(text)
        rec.raw_server(data, "not SMTP")
        rec.close(0)
        t = reader.read_transcript(path)
        assert t.complete
        assert [e.text for e in t.events if e.kind == "note"] == texts
        assert [fmt.event_bytes(e.fields) for e in t.events if e.kind == "raw"] == [data]


def lesson_loader_never_raises_other_errors(text: str) -> None:
    """Any text as a lesson file: a Lesson or one LessonError sentence naming the file."""
    loader = importlib.import_module("smtp_shell.lessons.loader")
    from smtp_shell.lessons.model import LessonError
    try:
        loader.parse_lesson(text, "fuzz.toml")
    except LessonError as exc:
        assert str(exc).startswith("fuzz.toml")


TOML_SCALAR = st.one_of(st.integers(-5, 2000), st.booleans(), st.text(max_size=12).map(json.dumps),
                        st.sampled_from(['"reply"', '"EHLO"', '"250"', "[]", "{}", '["a"]', '{ kind = "reply" }',
                                         '{ kind = "reply", verb = "EHLO", class = 2 }', '{ kind = "nope" }',
                                         '{ kind = "reply", code = "x" }']))
LESSON_KEYS = st.sampled_from(["id", "title", "goal", "minutes", "intro", "lab", "steps", "bogus"])
STEP_KEYS = st.sampled_from(["title", "instruction", "check", "hints", "explain", "notice", "golden", "wrong", "x"])


@st.composite
def lesson_documents(draw) -> str:
    """TOML documents shaped like lessons, with plausible and wrong values mixed."""
    out = [f"{key} = {draw(TOML_SCALAR)}" for key in draw(st.lists(LESSON_KEYS, unique=True, max_size=6))
           if key != "steps"]
    for _ in range(draw(st.integers(0, 3))):
        out.append("[[steps]]")
        out += [f"{key} = {draw(TOML_SCALAR)}" for key in draw(st.lists(STEP_KEYS, unique=True, max_size=6))]
    return "\n".join(out) + "\n"


PROPERTIES = [
    ("replies_round_trip_in_sequence", (st.lists(replies(), max_size=6),), replies_round_trip_in_sequence),
    ("parser_recovers_after_garbage", (st.lists(replies(), max_size=5), st.lists(GARBAGE_LINE, max_size=3),
                                       st.integers(1, 64)), parser_recovers_after_garbage),
    ("session_core_never_raises", (SCRIPTS,), session_core_never_raises),
    ("classify_describes_without_changing", (st.text(max_size=600),), classify_describes_without_changing),
    ("transcript_reader_bytes", (st.binary(max_size=400),), transcript_reader_never_raises_other_errors),
    ("transcript_reader_events", (EVENT_LINES,), transcript_reader_never_raises_other_errors),
    ("transcript_events_round_trip", (st.lists(st.text(max_size=30), max_size=4), st.binary(max_size=40)),
     transcript_events_round_trip),
    ("lesson_loader_text", (st.text(max_size=300),), lesson_loader_never_raises_other_errors),
    ("lesson_loader_documents", (lesson_documents(),), lesson_loader_never_raises_other_errors),
]
