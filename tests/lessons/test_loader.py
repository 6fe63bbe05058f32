"""Lesson files: the bundled ones load; broken ones are refused with one sentence naming the
file, the step and the problem; and no input makes the loader raise anything but LessonError."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtp_shell.lessons.checks import KINDS
from smtp_shell.lessons.loader import bundled_files, discover, load_lesson, parse_lesson, resolve
from smtp_shell.lessons.model import LessonError

GOOD = '''
title = "T"
goal = "G"
minutes = 5
intro = "I"

[[steps]]
instruction = "Say EHLO."
check = { kind = "reply", verb = "EHLO", class = 2 }
hints = ["Type EHLO x"]
'''


def test_eleven_bundled_lessons_in_order():
    lessons, errors = discover()
    assert errors == []
    assert [lesson.order for lesson in lessons] == list(range(1, 12))
    assert len(bundled_files()) == 11
    assert resolve("2", lessons).id == "first-message"
    assert resolve("first-m", lessons).id == "first-message"
    assert resolve("nope", lessons) is None


def test_a_minimal_lesson(tmp_path):
    path = tmp_path / "05-my-lesson.toml"
    path.write_text(GOOD, encoding="utf-8")
    lesson = load_lesson(path)
    assert (lesson.id, lesson.order, lesson.steps[0].title) == ("my-lesson", 5, "Say EHLO")


@pytest.mark.parametrize("change, words", [
    (lambda t: t.replace('kind = "reply"', 'kind = "replyy"'), ["step 1", "'replyy' is unknown", "reply"]),
    (lambda t: t.replace('instruction = "Say EHLO."\n', ""), ["step 1", "has no instruction"]),
    (lambda t: t.replace('minutes = 5', 'minutes = "five"'), ["minutes must be a whole number"]),
    (lambda t: t.replace('class = 2', 'class = "2"'), ["step 1", "class", "must be a whole number"]),
    (lambda t: t.replace('class = 2', 'class = 7'), ["step 1", "must be 2, 3, 4 or 5"]),
    (lambda t: t.replace('{ kind = "reply", verb = "EHLO", class = 2 }', '{ kind = "state" }'),
     ["step 1", "the state check needs the parameter state"]),
    (lambda t: t.replace('{ kind = "reply", verb = "EHLO", class = 2 }', '{ kind = "mailbox", colour = "red" }'),
     ["step 1", "no parameter 'colour'"]),
    (lambda t: t.replace('{ kind = "reply", verb = "EHLO", class = 2 }',
                         '{ kind = "all", checks = [{ kind = "tls" }, { kind = "nope" }] }'),
     ["step 1", "check 2", "'nope' is unknown"]),
    (lambda t: t.replace('hints = ["Type EHLO x"]', 'hints = []'), ["step 1", "at least one entry in hints"]),
    (lambda t: t + '\n[steps.explain]\nfoo = "x"\n', ["step 1", "explain key 'foo'"]),
    (lambda t: t.replace('title = "T"', 'title = "T"\ncolour = 3'), ["'colour' is not a known key"]),
    (lambda t: t + '\n[lab.faults]\ngreylist = "yes"\n', ["lab: faults", "greylist must be true or false"]),
    (lambda t: t.replace('[[steps]]', '[[steps]]\nbogus = 1'), ["step 1", "'bogus' is not a known key"]),
    (lambda t: t.replace('goal = "G"', 'goal = "G'), ["not valid TOML"]),
])
def test_broken_lessons_name_file_step_and_problem(tmp_path, change, words):
    path = tmp_path / "broken.toml"
    path.write_text(change(GOOD), encoding="utf-8")
    with pytest.raises(LessonError) as info:
        load_lesson(path)
    message = str(info.value)
    assert message.startswith(str(path) + ":")
    for word in words:
        assert word in message, message
    assert "\n" not in message


def test_every_kind_is_documented():
    docs = (Path(__file__).parents[2] / "docs" / "lessons.md").read_text(encoding="utf-8")
    for name in KINDS:
        assert f"`{name}`" in docs


_toml_atoms = st.one_of(st.integers(-3, 700), st.booleans(), st.text(string.printable, max_size=12).map(repr),
                        st.sampled_from(['"reply"', '"EHLO"', '"<dot>"', '"mailbox"', '"all"', '[]', '{}', '"READY"']))
_keys = st.sampled_from(["title", "goal", "minutes", "intro", "id", "kind", "verb", "code", "class", "check",
                         "instruction", "hints", "steps", "lab", "faults", "checks", "explain", "550", "x"])


@st.composite
def tomlish(draw):
    lines = []
    for _ in range(draw(st.integers(0, 14))):
        choice = draw(st.integers(0, 5))
        if choice == 0:
            lines.append(draw(st.sampled_from(["[[steps]]", "[lab]", "[lab.faults]", "[steps.explain]", "[steps.check]"])))
        elif choice == 1:
            lines.append(f"{draw(_keys)} = [{draw(_toml_atoms)}, {draw(_toml_atoms)}]")
        elif choice == 2:
            lines.append(f"{draw(_keys)} = {{ {draw(_keys)} = {draw(_toml_atoms)} }}")
        elif choice == 3:
            lines.append(draw(st.text(max_size=30)))
        else:
            lines.append(f"{draw(_keys)} = {draw(_toml_atoms)}")
    if draw(st.booleans()):
        lines.insert(0, GOOD)
    return "\n".join(lines)


@settings(max_examples=200, deadline=None)
@given(tomlish())
def test_the_loader_raises_only_lesson_errors(text):
    try:
        lesson = parse_lesson(text, "fuzz.toml")
    except LessonError as exc:
        assert str(exc).startswith("fuzz.toml: ")
    else:
        assert lesson.steps
