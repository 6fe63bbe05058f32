"""`smtp-shell lesson` as a user runs it: the list, broken instructor files, a scripted run with
its transcript and exit status, progress remembered between runs, and the lesson commands."""

from __future__ import annotations

import json

import pytest

from tests.lessons.helpers import LESSONS, golden_lines, run_batch
from tests.shell.helpers import run_cli


def test_the_list_shows_all_ten(tmp_path):
    result = run_cli(["lesson"], "", tmp_path)
    assert result.returncode == 0, result.stderr
    for lesson in LESSONS:
        assert lesson.id in result.stdout and lesson.title in result.stdout


def test_a_broken_file_in_lessons_dir_is_named_and_the_rest_still_listed(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    (course / "01-good.toml").write_text((LESSONS[0].path).read_text(encoding="utf-8").replace(
        'title = "First contact"', 'title = "My own first contact"', 1), encoding="utf-8")
    (course / "02-bad.toml").write_text('title = "x"\ngoal = "g"\nminutes = 3\nintro = "i"\n[[steps]]\n'
                                        'instruction = "Do it."\nhints = ["h"]\ncheck = { kind = "magic" }\n',
                                        encoding="utf-8")
    (course / "03-toml.toml").write_text("title = \n", encoding="utf-8")
    result = run_cli(["lesson", "--lessons-dir", str(course)], "", tmp_path)
    assert result.returncode == 1
    assert "My own first contact" in result.stdout
    assert "02-bad.toml: step 1: the check kind 'magic' is unknown" in result.stderr
    assert "03-toml.toml: not valid TOML" in result.stderr
    result = run_cli(["lesson", "02-bad", "--lessons-dir", str(course)], "", tmp_path)
    assert result.returncode == 1 and "02-bad.toml: step 1" in result.stderr
    result = run_cli(["lesson", "no-such-lesson"], "", tmp_path)
    assert result.returncode == 1 and "there is no lesson 'no-such-lesson'" in result.stderr


@pytest.mark.timeout(60)
def test_scripted_run_records_markers_and_remembers_progress(tmp_path):
    lesson = LESSONS[0]
    script = "\n".join(golden_lines(lesson)[:2]) + "\n"   # steps 1 and 2 only, then leave
    args = ["lesson", "1", "--batch", "--record-dir", str(tmp_path / "rec"), "--mailbox", str(tmp_path / "mb")]
    first = run_cli(args, script, tmp_path)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "lesson not finished" in first.stdout
    (transcript,) = (tmp_path / "rec").glob("first-contact-*.jsonl")
    markers = [json.loads(line).get("text") for line in transcript.read_text().splitlines()
               if json.loads(line).get("k") == "marker"]
    assert markers == ["step 1 passed: Say hello the old way", "step 2 passed: Say hello the extended way"]
    assert "the transcript is in" in first.stderr

    second = run_cli(args, "\n".join(golden_lines(lesson)) + "\n", tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Last time you passed steps 1, 2 of 4" in " ".join(second.stdout.split())
    assert "lesson complete" in second.stdout and "4 of 4 steps passed" in second.stdout


@pytest.mark.timeout(60)
def test_hint_skip_lesson_and_restart(tmp_path, cert_dir):
    lesson = LESSONS[0]
    lines = [":hint", ":hint", ":hint", ":lesson", ":skip", "EHLO student.example", ":restart",
             "helo student.example", "ehlo student.example", "NOOP", "QUIT"]
    engine, screen = run_batch(lesson, lines, tmp_path, cert_dir)
    assert "hint 1/2 for step 1: HELO needs one word" in screen
    assert "hint 2/2 for step 1: Type exactly: HELO student.example  (that was the last hint" in screen
    assert screen.count("Step 1/4: Say hello the old way") == 3   # at the start, :lesson, after :restart
    assert "step 1 skipped" in screen and "step 2 passed" in screen
    assert "Starting First contact over from step 1" in screen
    assert engine.complete and engine.states == ["passed"] * 4   # lower-case verbs pass alike
    assert engine.hints_used == [0, 0, 0, 0]                     # counters start over too


def test_lesson_commands_without_a_lesson_say_so():
    import asyncio
    import io

    from smtp_shell.render import Renderer, make_console
    from smtp_shell.shell import meta
    from smtp_shell.shell.context import ShellContext
    from smtp_shell.shell.driver import SessionDriver
    from smtp_shell.shell.options import SessionOptions

    buffer = io.StringIO()
    driver = SessionDriver(SessionOptions(host="127.0.0.1", port=1), Renderer(make_console(file=buffer, width=200)))
    for command in (":hint", ":skip", ":lesson", ":restart"):
        asyncio.run(meta.dispatch(ShellContext(driver, interactive=False), command))
    assert buffer.getvalue().count("No lesson is running; start one with smtp-shell lesson NAME") == 4
