"""Grading as an instructor does it: real lessons typed in a pty (wrong attempts, hints, a skip,
a restart), then `report` over the folder, `--verify` against the lab's own session logs, and a
hand-edited transcript caught by both the server's record and the hash chain."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sys

import pexpect
import pytest

from tests.lessons.test_golden_pty import type_line
from tests.transcript.helpers import cli, cli_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pty tests need a POSIX pty")


def run_lesson_in_pty(tmp_path, student: str, script: list[tuple[str, str]], lesson: str = "first-contact"):
    """Type `script` ((line, what to wait for after it)) into `smtp-shell lesson` in a pty."""
    child = pexpect.spawn(sys.executable, ["-m", "smtp_shell", "lesson", lesson, "--student", student,
                                           "--record-dir", str(tmp_path / "handin"),
                                           "--mailbox", str(tmp_path / "mailbox")],
                          env=cli_env(tmp_path / "home"), encoding="utf-8", timeout=20, dimensions=(50, 200),
                          cwd=tmp_path)
    child.logfile_read = io.StringIO()
    try:
        child.expect("Step 1/4")
        child.expect(r"smtp~?>")
        for line, wait in script:
            if line.startswith(":"):
                child.sendline(line)
            else:
                type_line(child, line)
            child.expect(wait)
        child.sendline(":quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    return child.logfile_read.getvalue()


ADA = [("HELO", r"step 1, attempt 1: not yet"), (":hint", r"hint 1/\d"), (":hint", r"hint 2/\d"),
       ("HELO student.example", "step 1 passed"), ("EHLO", r"step 2, attempt 1: not yet"),
       ("EHLO student.example", "step 2 passed"), (":skip", "step 3 skipped"), ("QUIT", "step 4 passed")]
BOB = [("HELO student.example", "step 1 passed"), ("EHLO student.example", "step 2 passed"),
       (":restart", "Starting First contact over"), ("HELO student.example", "step 1 passed")]


@pytest.fixture(scope="module")
def handin(tmp_path_factory):
    """Two students' real lesson runs, recorded by the lesson's own lab server."""
    tmp_path = tmp_path_factory.mktemp("class")
    screen = run_lesson_in_pty(tmp_path, "Ada Lovelace", ADA)
    assert "Recording this lesson to" in screen and "as Ada Lovelace" in screen
    run_lesson_in_pty(tmp_path, "Bob", BOB)
    return tmp_path


def report_json(tmp_path, *extra) -> dict:
    result = cli(["report", tmp_path / "handin", "--format", "json", *extra], tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.timeout(120)
def test_the_report_counts_what_the_students_did(handin):
    files = sorted((handin / "handin").glob("*.jsonl"))
    assert [f.name.split("-20")[0] for f in files] == ["first-contact-ada-lovelace", "first-contact-bob"]
    rows = {r["student"]: r for r in report_json(handin)["rows"]}
    ada = rows["Ada Lovelace"]
    assert (ada["steps_passed"], ada["steps_total"], ada["attempts"], ada["failed_attempts"], ada["hints"],
            ada["skips"], ada["completed"], ada["outcome"]) == (3, 4, 5, 2, 2, 1, True, "completed")
    bob = rows["Bob"]  # two steps, :restart, one step, :quit: only the last run's step counts
    assert (bob["steps_passed"], bob["steps_total"], bob["restarts"], bob["completed"], bob["outcome"]) == \
        (1, 4, 1, False, "abandoned")
    assert ada["verified"] == bob["verified"] == "unchecked"
    ada_file = next(f for f in report_json(handin)["files"] if f["student"] == "Ada Lovelace")
    assert ada_file["chain"] == "intact" and set(ada_file["step_seconds"]) == {"1", "2", "3", "4"}

    table = cli(["report", handin / "handin"], handin)
    lines = table.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, table.stdout
    ada_line = next(line for line in lines if line.startswith("Ada"))
    assert re.search(r"first-contact\s+3/4\s+yes\s+5\s+2\s+1\s", ada_line), table.stdout

    written = cli(["report", handin / "handin", "-o", handin / "table.txt"], handin)
    assert written.stdout == "" and (handin / "table.txt").read_text(encoding="utf-8") == table.stdout

    gradebook = list(csv.reader(io.StringIO(cli(["report", handin / "handin", "--format", "csv"], handin).stdout)))
    assert gradebook[0] == ["student", "first-contact (of 4)", "lessons_completed", "not_verified"]
    assert gradebook[1:] == [["Ada Lovelace", "3", "1", "first-contact"], ["Bob", "1", "0", "first-contact"]]


@pytest.mark.timeout(120)
def test_verify_against_the_lab_logs(handin):
    rows = {r["student"]: r for r in report_json(handin, "--verify", handin / "mailbox")["rows"]}
    assert rows["Ada Lovelace"]["verified"] == "verified", rows["Ada Lovelace"]
    assert rows["Bob"]["verified"] == "verified", rows["Bob"]
    elsewhere = handin / "other-lab"
    elsewhere.mkdir(exist_ok=True)
    rows = report_json(handin, "--verify", elsewhere)["rows"]
    assert {r["verified"] for r in rows} == {"no server record"}


def _edit(path, change) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(change(lines)), encoding="utf-8")


@pytest.mark.timeout(120)
def test_a_hand_edited_transcript_is_caught(handin, tmp_path):
    folder = tmp_path / "handin"
    shutil.copytree(handin / "handin", folder)
    bob = next(folder.glob("first-contact-bob-*.jsonl"))
    ada = next(folder.glob("first-contact-ada-*.jsonl"))

    def change_code(lines):  # Ada's 501 to a bare EHLO now reads 250
        i = next(i for i, line in enumerate(lines) if '"code": 501' in line and "EHLO" in line)
        lines[i] = lines[i].replace("501", "250")
        return lines

    def add_marker(lines):  # Bob claims step 2 of his last run as well
        event = json.loads(lines[-3])
        marker = {"t": event["t"], "k": "marker", "text": "step 2 passed: Say hello the extended way"}
        attempt = {"t": event["t"], "k": "attempt", "step": 2, "passed": True, "reason": ""}
        return lines[:-2] + [json.dumps(attempt) + "\n", json.dumps(marker) + "\n"] + lines[-2:]

    _edit(ada, change_code)
    _edit(bob, add_marker)
    report = report_json(tmp_path)  # the chain alone, without the server
    rows = {r["student"]: r for r in report["rows"]}
    assert rows["Ada Lovelace"]["verified"] == rows["Bob"]["verified"] == "edited"
    assert "hash chain breaks at line" in rows["Bob"]["verified_detail"]
    assert rows["Bob"]["steps_passed"] == 1            # the step added by hand does not count
    verified = {r["student"]: r for r in report_json(tmp_path, "--verify", handin / "mailbox")["rows"]}
    assert verified["Ada Lovelace"]["verified"] == "differs"
    assert "records reply code 250" in verified["Ada Lovelace"]["verified_detail"]
    assert verified["Bob"]["verified"] == "differs" and "hash chain" in verified["Bob"]["verified_detail"]
    table = cli(["report", folder, "--verify", handin / "mailbox"], tmp_path).stdout
    assert "Ada Lovelace, first-contact: differs" in " ".join(table.split())


def _recompute_chain(path) -> None:
    """What a determined forger does: recompute every hash after editing."""
    from smtp_shell.transcript.format import chain_start, chained_line

    header, *events = path.read_text(encoding="utf-8").splitlines()
    link = chain_start(header.encode("utf-8"))
    out = [header + "\n"]
    for line in events:
        text, link = chained_line(link, json.loads(line))
        out.append(text)
    path.write_text("".join(out), encoding="utf-8")


@pytest.mark.timeout(120)
def test_a_forged_step_with_a_recomputed_chain_is_caught_by_verify(handin, tmp_path):
    folder = tmp_path / "handin"
    shutil.copytree(handin / "handin", folder)
    bob = next(folder.glob("first-contact-bob-*.jsonl"))

    def add_step(lines):
        event = json.loads(lines[-3])
        attempt = {"t": event["t"], "k": "attempt", "step": 2, "passed": True, "reason": ""}
        return lines[:-2] + [json.dumps(attempt) + "\n"] + lines[-2:]

    _edit(bob, add_step)
    _recompute_chain(bob)
    rows = {r["student"]: r for r in report_json(tmp_path)["rows"]}
    assert rows["Bob"]["steps_passed"] == 2 and rows["Bob"]["verified"] == "unchecked"   # the chain alone is fooled
    rows = {r["student"]: r for r in report_json(tmp_path, "--verify", handin / "mailbox")["rows"]}
    assert rows["Bob"]["verified"] == "differs", rows["Bob"]
    assert "step 2 is recorded as passed, but the lesson's check does not pass" in rows["Bob"]["verified_detail"]
    assert rows["Ada Lovelace"]["verified"] == "verified"   # her mistakes, hints and skip re-judge the same


def test_two_lessons_started_in_the_same_second_get_two_files(tmp_path, monkeypatch):
    import datetime as real_dt

    from smtp_shell.lessons import run
    from tests.lessons.helpers import LESSONS

    class Frozen(real_dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2026, 12, 1, 9, 30, 0)

    monkeypatch.setattr(run._dt, "datetime", Frozen)
    tokens = iter(["aaaaaa", "aaaaaa", "bbbbbb"])  # the second run draws the same suffix first
    monkeypatch.setattr("secrets.token_hex", lambda n: next(tokens))

    class Args:
        record_dir = tmp_path / "rec"

    first, first_path = run._open_recording(LESSONS[0], Args, "127.0.0.1:25", "Ada")
    second, second_path = run._open_recording(LESSONS[0], Args, "127.0.0.1:25", "Ada")
    first.close(0)
    second.close(0)
    assert first_path != second_path
    assert sorted(p.name for p in (tmp_path / "rec").iterdir()) == [
        "first-contact-ada-20261201-093000-aaaaaa.jsonl", "first-contact-ada-20261201-093000-bbbbbb.jsonl"]


@pytest.mark.timeout(90)
def test_a_killed_lesson_is_interrupted_not_lost(tmp_path):
    import signal

    child = pexpect.spawn(sys.executable, ["-m", "smtp_shell", "lesson", "first-contact", "--student", "Cy",
                                           "--record-dir", str(tmp_path / "handin"),
                                           "--mailbox", str(tmp_path / "mailbox")],
                          env=cli_env(tmp_path / "home"), encoding="utf-8", timeout=20, dimensions=(50, 200),
                          cwd=tmp_path)
    try:
        child.expect(r"smtp~?>")
        type_line(child, "HELO student.example")
        child.expect("step 1 passed")
        child.expect("Step 2/4")
        child.kill(signal.SIGKILL)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    (row,) = report_json(tmp_path)["rows"]
    assert (row["student"], row["steps_passed"], row["steps_total"], row["completed"], row["outcome"]) == \
        ("Cy", 1, 4, False, "interrupted")
    table = cli(["report", tmp_path / "handin"], tmp_path).stdout
    assert re.search(r"Cy\s+first-contact\s+1/4\s+cut", table), table


def test_hostile_names_stay_text_in_every_format(tmp_path):
    from tests.transcript.helpers import lesson_transcript

    handin = tmp_path / "handin"
    lesson_transcript(handin / "a.jsonl", student='=HYPERLINK("http://x","y")', lesson="first-contact", passed=[1])
    lesson_transcript(handin / "b.jsonl", student="Eve\x1b[2J\x1b]0;x\x07", lesson="\x1b[31mred", passed=[1])
    gradebook = list(csv.reader(io.StringIO(cli(["report", handin, "--format", "csv"], tmp_path).stdout)))
    assert any(row[0].startswith("'=HYPERLINK") for row in gradebook)
    assert not any(cell.startswith(("=", "+", "@")) for row in gradebook for cell in row)
    for fmt in ("table", "csv", "json"):
        out = cli(["report", handin, "--format", fmt], tmp_path).stdout
        assert "\x1b" not in out and "\x07" not in out, fmt


def test_unknown_event_kinds_are_skipped_and_the_chain_still_holds(tmp_path):
    from smtp_shell.transcript.reader import read_transcript
    from smtp_shell.transcript.recorder import Recorder
    from tests.transcript.helpers import Clock, reply

    rec = Recorder(tmp_path / "future.jsonl", target="x", clock=Clock())
    rec.reply(reply(b"220 lab\r\n"), False, None)
    rec.lesson_event("a-kind-from-the-future", anything=[1, 2])
    rec.close(0)
    transcript = read_transcript(tmp_path / "future.jsonl")
    assert transcript.skipped == 1 and transcript.chain == "intact" and transcript.complete


@pytest.mark.timeout(120)
def test_every_lessons_golden_run_is_verified_by_its_lab(tmp_path):
    """STARTTLS, AUTH (masked on both sides), pipelining, message bodies, 421 hang-ups: the lab's log
    and the student's transcript agree for every bundled lesson's golden solution."""
    from tests.lessons.helpers import LESSONS, golden_lines, place_own_client

    place_own_client(tmp_path)  # lesson 11 runs the student's own program (`:run python3 own_client.py`)
    for lesson in LESSONS:
        run = cli(["lesson", lesson.id, "--batch", "--record-dir", tmp_path / "handin", "--mailbox", tmp_path / "lab",
                   "--student", "Golden"], tmp_path, "\n".join(golden_lines(lesson)) + "\n")
        assert run.returncode == 0, lesson.id + run.stdout[-1500:] + run.stderr
    rows = report_json(tmp_path, "--verify", tmp_path / "lab")["rows"]
    assert len(rows) == len(LESSONS)
    for row in rows:
        assert row["verified"] == "verified" and row["completed"], (row, row.get("verified_detail"))
        assert row["steps_passed"] == row["steps_total"] and row["failed_attempts"] == 0, row


def test_record_without_a_name_never_reuses_a_file_name_within_a_second():
    import datetime as dt

    from smtp_shell.shell.recording import default_path

    now = dt.datetime(2026, 12, 1, 9, 30, 0)
    names = {default_path(now).name for _ in range(20)}
    assert len(names) == 20 and all(n.startswith("session-20261201-093000-") for n in names)


def test_verify_needs_a_lab_folder(tmp_path):
    (tmp_path / "handin").mkdir()
    result = cli(["report", tmp_path / "handin", "--verify", tmp_path / "nowhere"], tmp_path)
    assert result.returncode == 1 and "is not a folder; give the lab's mailbox folder" in result.stderr
    result = cli(["report", tmp_path / "handin", "--format", "html"], tmp_path)
    assert result.returncode == 1 and "-o class.html" in result.stderr


def test_a_restarted_lesson_never_shows_more_steps_than_it_has(tmp_path):
    from smtp_shell.transcript.recorder import Recorder
    from tests.transcript.helpers import Clock

    rec = Recorder(tmp_path / "handin" / "r.jsonl", target="x", clock=Clock(), lesson="three", student="Dee")
    rec.lesson_event("lesson", id="three", title="Three steps", version="1", steps=3, student="Dee")
    for run in ([1], [1, 2, 3]):
        for step in run:
            rec.lesson_event("step", step=step, title=f"s{step}")
            rec.lesson_event("attempt", step=step, passed=True, reason="")
            rec.marker(f"step {step} passed: s{step}")
        if run == [1]:
            rec.lesson_event("restart", step=2)
    rec.lesson_event("outcome", outcome="completed", passed=3, total=3)
    rec.close(0)
    (row,) = report_json(tmp_path)["rows"]
    assert (row["steps_passed"], row["steps_total"], row["restarts"], row["attempts"]) == (3, 3, 1, 4)


def test_odd_grading_events_are_rows_not_tracebacks(tmp_path):
    from tests.transcript.helpers import lesson_transcript

    handin = tmp_path / "handin"
    base = lesson_transcript(handin / "base.jsonl", student="Odd", lesson="first-contact", passed=[1]).read_text()
    header, *events = base.splitlines(keepends=True)
    odd = {"wrong-type.jsonl": '{"t": 1, "k": "attempt", "step": "2", "passed": true}\n',
           "huge-step.jsonl": '{"t": 1, "k": "attempt", "step": 99999999999, "passed": true}\n',
           "odd-outcome.jsonl": '{"t": 1, "k": "outcome", "outcome": "\\u001b[2Jwon", "steps": "all"}\n'}
    for name, line in odd.items():
        (handin / name).write_text(header + "".join(events[:-1]) + line + events[-1])
    for fmt in ("table", "csv", "json"):
        result = cli(["report", handin, "--format", fmt], tmp_path)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    files = {f["file"]: f for f in report_json(tmp_path)["files"]}
    assert files["wrong-type.jsonl"]["status"] == "unreadable"
    assert files["huge-step.jsonl"]["steps_passed"] == 1 and files["huge-step.jsonl"]["verified"] == "edited"
    assert files["odd-outcome.jsonl"]["outcome"] == "abandoned"
