"""Every bundled lesson, in batch mode: at each step a wrong attempt is answered with the step's
explanation (or the catalogue's) and does not advance; then the golden lines pass the step."""

from __future__ import annotations

import pytest

from tests.lessons.helpers import LESSONS, run_batch


@pytest.mark.timeout(90)
@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.id for lesson in LESSONS])
def test_wrong_then_right_at_every_step(lesson, tmp_path, cert_dir):
    lines = []
    for step in lesson.steps:
        assert step.wrong and step.golden, f"step {step.number} of {lesson.id} needs golden and wrong lines"
        lines += [*step.wrong, *step.golden]
    engine, screen = run_batch(lesson, lines, tmp_path, cert_dir)
    assert engine.complete, screen
    assert engine.states == ["passed"] * len(lesson.steps), screen
    for step in lesson.steps:
        events = [(kind, text) for number, kind, text in engine.log if number == step.number]
        kinds = [kind for kind, _ in events]
        assert "fail" in kinds and kinds.index("fail") < kinds.index("pass"), (step.number, events, screen)
        feedback = next(text for kind, text in events if kind == "fail")
        assert feedback.strip(), (step.number, screen)
        assert f"✗ step {step.number}, attempt 1: not yet" in screen
        assert screen.index(f"✗ step {step.number}, attempt 1") < screen.index(f"step {step.number} passed")


@pytest.mark.timeout(90)
@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.id for lesson in LESSONS])
def test_golden_alone_never_counts_a_failed_attempt(lesson, tmp_path, cert_dir):
    from tests.lessons.helpers import golden_lines

    engine, screen = run_batch(lesson, golden_lines(lesson), tmp_path, cert_dir)
    assert engine.complete, screen
    assert [entry for entry in engine.log if entry[1] == "fail"] == [], screen
