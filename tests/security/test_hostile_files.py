"""An instructor opens whatever a student hands in: the hostile-file corpus (corpus.py) through
replay, report (every format), export (every format), lesson listing and `mailbox show`.

Each command runs in-process through `cli.main` (one subprocess run per command proves the
same on a real UTF-8 stdout). For every file: nothing raises, a file that cannot be used is
one sentence naming it, and no escape sequence, C1 or bidi control, lone surrogate, active
HTML or Markdown reaches any output.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from smtp_shell.cli import main
from tests.security.corpus import bad_transcripts, write_lessons, write_mailbox, write_transcripts
from tests.security.inert import assert_html_inert, assert_markdown_inert, assert_terminal_safe
from tests.transcript.helpers import cli

pytestmark = pytest.mark.timeout(120)

BAD = sorted(bad_transcripts())
READABLE_BAD = {"header-only-esc.jsonl"}  # a header and nothing else: read as incomplete, not refused


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    return write_transcripts(root / "class")


def run(capsys, *argv) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


def _one_sentence(err: str, name_hint: str | None = None) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("smtp-shell: "), err
    assert_terminal_safe(err, "stderr")


def _id(path) -> str:
    return path.name.encode("unicode_escape").decode("ascii")


def test_the_corpus_is_what_it_claims(corpus):
    assert len(corpus) == 2 + len(BAD)


@pytest.mark.parametrize("index", range(2 + len(BAD)))
def test_replay_every_file(corpus, capsys, index):
    path = corpus[index]
    status, out, err = run(capsys, "replay", path, "--no-timing")
    assert_terminal_safe(out, "replay")
    assert_terminal_safe(err, "replay stderr")
    if path.name in READABLE_BAD:
        assert status == 0 and "incomplete" in err
    elif index < 2:  # the well-formed hostile transcripts: shown, escaped, markup as plain text
        assert status == 0, err
        assert "\\x1b]52;c;" in out and "\\u202e" in out and "\\x9b31m" in out
        assert "[bold red]RICH[/bold red]" in out and "PWNED-TITLE" in out
    else:
        assert status == 1, out
        _one_sentence(err)


@pytest.mark.parametrize("fmt", ["text", "md", "html", "svg", "mermaid"])
@pytest.mark.parametrize("index", range(2 + len(BAD)))
def test_export_every_file_every_format(corpus, capsys, index, fmt):
    path = corpus[index]
    status, out, err = run(capsys, "export", path, "--format", fmt)
    assert_terminal_safe(err, "export stderr")
    if path.name in READABLE_BAD:
        assert status == 0 and "incomplete" in err
    elif index >= 2:
        assert status == 1 and out == "", out
        _one_sentence(err)
        return
    assert status == 0, err
    {"md": assert_markdown_inert, "html": assert_html_inert, "svg": assert_html_inert}.get(
        fmt, assert_terminal_safe)(out)
    if fmt in ("html", "svg") and path.name not in READABLE_BAD:
        assert "&lt;script&gt;" in out or "&lt;script" in out  # shown as text, not dropped


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_report_over_the_whole_class(corpus, capsys, fmt):
    folder = corpus[0].parent
    status, out, err = run(capsys, "report", folder, "--format", fmt)
    assert status == 0, err
    assert_terminal_safe(out, f"report {fmt}")
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert len(rows) == len(corpus)
        for row in rows:
            for value in row.values():
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), row
        readable = [r for r in rows if r["status"] != "unreadable"]
        assert len(readable) == 2 + len(READABLE_BAD)
        assert sum(1 for r in rows if r["status"] == "unreadable") == len(BAD) - len(READABLE_BAD)
    elif fmt == "json":
        rows = json.loads(out)
        assert len(rows) == len(corpus)
        hostile = next(r for r in rows if r["file"] == "hostile-fields.jsonl")
        assert "\x1b]52;c;" in hostile["target"]  # exact value kept for programs, escaped on the wire
        assert "\\u001b" in out and "\\u202e" in out and "\\u009b" in out
    else:
        for name in ("hostile-fields.jsonl", "nan-t.jsonl", "brackets.jsonl", "int-5000-digits-t.jsonl"):
            assert name in out


def test_report_json_and_csv_on_a_real_stdout(corpus, tmp_path):
    """The same through a real process: its stdout is UTF-8, so a lone surrogate would crash it."""
    for fmt in ("json", "csv", "table"):
        result = cli(["report", corpus[0].parent, "--format", fmt], tmp_path)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
        assert_terminal_safe(result.stdout, fmt)
    result = cli(["replay", corpus[0], "--no-timing"], tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert_terminal_safe(result.stdout, "replay")


def test_csv_formula_guard_covers_tab_and_cr():
    from smtp_shell.transcript.escape import csv_cell

    for value in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1+1", "\r=1+1", "\x1b=1"):
        cell = csv_cell(value)
        assert cell.startswith("'") or cell.startswith("\\"), (value, cell)
    assert csv_cell("alice") == "alice" and csv_cell(3) == 3


def test_lesson_listing_of_a_hostile_folder(tmp_path, capsys):
    folder = tmp_path / "lessons"
    write_lessons(folder)
    status, out, err = run(capsys, "lesson", "--lessons-dir", folder)
    assert status == 1  # some files are broken: said, and the exit status says so
    assert_terminal_safe(out, "lesson list")
    assert_terminal_safe(err, "lesson errors")
    assert "Good lesson" in out and "first" in out.lower()  # the instructor's good lesson and the bundled ones
    assert "[bold red]RICH" in out  # markup (no control character) is listed, as plain text
    errors = [line for line in err.splitlines() if line.strip()]
    assert len(errors) == 7 and all(line.startswith("smtp-shell: ") for line in errors), err
    assert sum("control character" in line for line in errors) == 5, err


def test_mailbox_list_and_show_of_a_hostile_message(tmp_path, capsys):
    eml = write_mailbox(tmp_path / "mbox")
    status, out, err = run(capsys, "mailbox", tmp_path / "mbox")
    assert status == 0, err
    assert_terminal_safe(out, "mailbox list")
    for show in (["mailbox", tmp_path / "mbox", "show", eml], ["mailbox", "--mailbox", tmp_path / "mbox", "show", "1"]):
        status, out, err = run(capsys, *show)
        assert status == 0, err
        assert_terminal_safe(out, "mailbox show")
        assert "charset=utf-8\\x1b]52;c;" in out and "8bit\\x1b]52" in out
    status, out, err = run(capsys, "mailbox", tmp_path / "mbox", "show", "2")  # nested past the parser's depth
    assert status == 1 and "too deeply" in err
    _one_sentence(err)
