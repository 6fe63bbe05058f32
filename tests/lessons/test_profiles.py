"""Lessons 4, 5 and 9 meet a real server's wording too: run against the lab with Postfix's
texts and codes (`--profile postfix`: 503 authentication not enabled, 450 greylisting), every
step's wrong attempt is explained and its golden lines pass."""

from __future__ import annotations

import pytest

from tests.lessons.helpers import LESSONS, run_batch

BY_ID = {lesson.id: lesson for lesson in LESSONS}


@pytest.mark.timeout(90)
@pytest.mark.parametrize("lesson_id", ["starttls", "auth", "errors"])
def test_wrong_then_right_with_postfix_wording(lesson_id, tmp_path, cert_dir):
    lesson = BY_ID[lesson_id]
    lines = [line for step in lesson.steps for line in (*step.wrong, *step.golden)]
    engine, screen = run_batch(lesson, lines, tmp_path, cert_dir, profile="postfix")
    assert engine.states == ["passed"] * len(lesson.steps), screen
    for step in lesson.steps:
        kinds = [kind for number, kind, _ in engine.log if number == step.number]
        assert "fail" in kinds and kinds.index("fail") < kinds.index("pass"), (step.number, screen)
    assert "ESMTP Postfix" in screen


@pytest.mark.timeout(60)
def test_auth_before_tls_with_postfix_is_explained_as_postfix_says_it(tmp_path, cert_dir):
    engine, screen = run_batch(BY_ID["auth"], ["EHLO student.example", "AUTH LOGIN"], tmp_path, cert_dir,
                               profile="postfix")
    assert "503 5.5.1 Error: authentication not enabled" in screen
    assert engine.states[0] == "passed", screen
    assert "Postfix says 503 authentication not enabled" in screen   # the step's own words, not a generic hint


@pytest.mark.timeout(60)
def test_greylisting_with_postfix_is_450_and_the_step_says_so(tmp_path, cert_dir):
    lesson = BY_ID["errors"]
    lines = [line for step in lesson.steps[:3] for line in step.golden]
    engine, screen = run_batch(lesson, lines, tmp_path, cert_dir, profile="postfix")
    assert engine.states[:3] == ["passed"] * 3, screen
    assert "450 4.2.0 Recipient address rejected: Greylisted" in screen
    assert "450 4.2.0 from postgrey on a real Postfix" in screen
