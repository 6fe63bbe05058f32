"""The grading outputs over the hostile-file corpus: the class page, `report --verify` and `diff`.

Why this exists: the class page, the verify column and `diff` show text from students' files
(names, lesson ids, commands, replies) and from the lab's own session logs. Like every other
output (test_hostile_files.py) they must hold no escape sequence, C1 or bidi control, no active
HTML, never raise, and say what is wrong with a bad file in one sentence while the rest of the
class still shows.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from smtp_shell.cli import main
from tests.security.corpus import PAYLOAD, bad_transcripts, hostile_transcript, write_transcripts
from tests.security.inert import assert_class_page_inert, assert_html_inert, assert_terminal_safe

pytestmark = pytest.mark.timeout(120)

BAD = sorted(bad_transcripts())
UNREADABLE = len(BAD) - 1  # all but the header-only file
SESSION = "s000001-deadbeef"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_transcripts(tmp_path_factory.mktemp("grading") / "class")


def run(capsys, *argv) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


def test_the_class_page_of_a_hostile_class(corpus, capsys, tmp_path):
    out = tmp_path / "page" / "class.html"
    status, _stdout, err = run(capsys, "report", corpus[0].parent, "--format", "html", "-o", out)
    assert status == 0, err
    assert_terminal_safe(err, "report stderr")
    page = out.read_text(encoding="utf-8")
    assert_class_page_inert(page, "class-transcripts")
    assert "&lt;script&gt;" in page                               # the hostile name, shown as text
    assert page.count("<li>") == UNREADABLE                        # one sentence per bad file
    exports = sorted((out.parent / "class-transcripts").glob("*.html"))
    assert len(exports) == 3                                       # the two hostile files and the header-only one
    for export in exports:
        assert_html_inert(export.read_text(encoding="utf-8"), export.name)


def _lab_log(labdir) -> None:
    """A lab session log (as lab/sessionlog.py writes it) whose lines carry the payload too."""
    logs = labdir / "_logs"
    logs.mkdir(parents=True)
    (logs / "session.log").write_text(
        f"# smtp-shell lab session 1 from 127.0.0.1 id {SESSION}\n"
        f"2026-05-01T09:30:00Z S: 220 lab [lab session {SESSION}] {PAYLOAD}\n"
        f"2026-05-01T09:30:00Z C: EHLO other {PAYLOAD}\n"
        f"2026-05-01T09:30:00Z S: 250 {PAYLOAD}\n", encoding="utf-8")


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "html"])
def test_verify_against_a_hostile_lab_log(corpus, capsys, tmp_path, fmt):
    """The verify column quotes the first difference: from the student's file and the lab's log."""
    folder = tmp_path / "class"
    folder.mkdir()
    path = hostile_transcript(folder / "claims-a-session.jsonl")
    text = path.read_text(encoding="utf-8").replace('"220 ', f'"220 [lab session {SESSION}] ', 1)
    path.write_text(text, encoding="utf-8")
    for bad in corpus[2:5]:
        (folder / bad.name).write_bytes(bad.read_bytes())
    labdir = tmp_path / "lab"
    _lab_log(labdir)
    out = tmp_path / "class.html"
    argv = ["report", folder, "--verify", labdir, "--format", fmt] + (["-o", out] if fmt == "html" else [])
    status, stdout, err = run(capsys, *argv)
    assert status == 0, err
    assert_terminal_safe(err, "report stderr")
    if fmt == "html":
        page = out.read_text(encoding="utf-8")
        assert_class_page_inert(page, "class-transcripts")
        assert "differs" in page
        return
    assert_terminal_safe(stdout, f"report --verify {fmt}")
    if fmt == "json":
        report = json.loads(stdout)
        (row,) = report["rows"]
        assert row["verified"] == "differs" and "PWNED-TITLE" in row["verified_detail"]
        assert sum(f["status"] == "unreadable" for f in report["files"]) == 3
    elif fmt == "csv":
        (header, student) = list(csv.reader(io.StringIO(stdout)))
        assert header[-1] == "not_verified" and student[-1]
    else:
        assert "differs" in stdout and stdout.count("unreadable: ") == 3


@pytest.mark.parametrize("fmt", ["text", "html"])
@pytest.mark.parametrize("index", range(2 + len(BAD)))
def test_diff_every_file_against_a_hostile_model(corpus, capsys, index, fmt):
    status, out, err = run(capsys, "diff", corpus[0], corpus[index], "--format", fmt)
    assert_terminal_safe(err, "diff stderr")
    if index >= 2 and corpus[index].name != "header-only-esc.jsonl":
        assert status == 1 and out == ""
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("smtp-shell: "), err
        return
    assert status in (0, 1), err
    if fmt == "html":
        assert_html_inert(out, "diff")
        assert "&lt;script&gt;" in out
    else:
        assert_terminal_safe(out, "diff")
        assert "\\x1b]0;PWNED-TITLE" in out
    if index == 1:  # the same hostile content under another name: every step the same
        assert status == 0
