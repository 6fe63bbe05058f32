"""Each realistic mistake a student makes in a lesson gets the specific explanation, in batch mode
against the lesson's own lab: a wrong cause is never named, wrong work never passes a step, and a
valid move that is not what the step asks for is answered (a nudge, not a failed attempt)."""

from __future__ import annotations

import pytest

from tests.lessons.helpers import LESSONS, run_batch

BY_ID = {lesson.id: lesson for lesson in LESSONS}
HEAD = ["From: Student <student@lab.test>", "To: Teacher <teacher@lab.test>", "Subject: Test",
        "Date: Tue, 24 Nov 2026 19:01:02 +0000", "Message-ID: <fb-1@lab.test>"]
ENVELOPE = ["MAIL FROM:<student@lab.test>", "RCPT TO:<teacher@lab.test>", "DATA"]


def golden_until(lesson_id: str, step: int) -> list[str]:
    return [line for s in BY_ID[lesson_id].steps[:step - 1] for line in s.golden]


def feedback(lesson_id: str, lines: list[str], tmp_path, cert_dir, step: int, kind: str = "fail"):
    engine, screen = run_batch(BY_ID[lesson_id], lines, tmp_path, cert_dir)
    texts = [text for number, k, text in engine.log if number == step and k == kind]
    return engine, texts, screen


@pytest.mark.timeout(60)
def test_data_refused_in_the_rcpt_step_is_not_explained_as_rcpt_before_mail(tmp_path, cert_dir):
    lines = golden_until("first-message", 3) + ["RCPT TO:<nobody@lab.test>", "DATA"]
    _, texts, screen = feedback("first-message", lines, tmp_path, cert_dir, 3)
    [data_503] = [t for t in texts if "with 503" in t]
    assert "DATA" in data_503 and "at least one recipient" in data_503, screen
    assert "RCPT only makes sense after" not in data_503


@pytest.mark.timeout(60)
def test_mail_from_without_angle_brackets_does_not_pass(tmp_path, cert_dir):
    lines = golden_until("first-message", 2) + ["MAIL FROM: student@lab.test"]
    engine, texts, screen = feedback("first-message", lines, tmp_path, cert_dir, 2)
    assert engine.states[1] == "failed", screen
    assert any("angle brackets" in t and "RFC 5321" in t for t in texts), texts


@pytest.mark.timeout(60)
def test_a_bad_message_id_is_not_explained_as_a_bad_date(tmp_path, cert_dir):
    head = [h if not h.startswith("Message-ID") else "Message-ID: dates-1" for h in HEAD]
    lines = golden_until("dates-headers", 2) + head + ["", "Body.", "."]
    _, [text], screen = feedback("dates-headers", lines, tmp_path, cert_dir, 2)
    assert "Message-ID 'dates-1' is not of the form <unique-part@domain>" in text, screen
    assert "wrong time" not in text and "with a correct Date" not in text and "Date header is not" not in text


@pytest.mark.timeout(60)
def test_a_malformed_encoded_word_is_not_blamed_on_smtputf8(tmp_path, cert_dir):
    head = [h if not h.startswith("Subject") else "Subject: =?utf-8?R3LDvMOfZSBhdXMgZGVtIExhYm9y?=" for h in HEAD]
    lines = ["EHLO student.example", *ENVELOPE, *head, "", "Body.", "."]
    _, [text], screen = feedback("beyond-ascii", lines, tmp_path, cert_dir, 1)
    assert "not a valid encoded word" in text, screen
    assert "SMTPUTF8" not in text and "raw UTF-8" not in text


@pytest.mark.timeout(60)
def test_an_8bit_body_without_body_8bitmime_does_not_pass(tmp_path, cert_dir):
    mime = ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
    lines = golden_until("beyond-ascii", 2) + [*ENVELOPE, *HEAD, *mime, "", "Café, crème brûlée.", "."]
    engine, [text], screen = feedback("beyond-ascii", lines, tmp_path, cert_dir, 2)
    assert engine.states[1] == "failed", screen
    assert "BODY=8BITMIME" in text and "RFC 6152" in text


@pytest.mark.timeout(60)
def test_a_utf8_address_without_smtputf8_is_refused_and_explained(tmp_path, cert_dir):
    lines = golden_until("beyond-ascii", 3) + ["MAIL FROM:<élève@lab.test>"]
    engine, [text], screen = feedback("beyond-ascii", lines, tmp_path, cert_dir, 3)
    assert "553" in text and "SMTPUTF8" in text, screen
    assert engine.states[2] == "failed"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("body, fragment", [("Café au lait", "raw 8-bit bytes"), ("3=4", "not followed by two hex digits")])
def test_a_body_declared_quoted_printable_that_is_not_does_not_pass(body, fragment, tmp_path, cert_dir):
    mime = ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable"]
    lines = golden_until("mime", 3) + [*ENVELOPE, *HEAD, *mime, "", body, "."]
    engine, [text], screen = feedback("mime", lines, tmp_path, cert_dir, 3)
    assert engine.states[2] == "failed", screen
    assert "says quoted-printable but is not" in text and fragment in text


@pytest.mark.timeout(60)
def test_ehlo_where_helo_was_asked_gets_a_nudge_not_silence(tmp_path, cert_dir):
    engine, [text], screen = feedback("first-contact", ["EHLO student.example"], tmp_path, cert_dir, 1, "nudge")
    assert "EHLO worked (250), but this step asks for HELO" in text, screen
    assert engine.states[0] == "todo" and engine.attempts[0] == 0
    assert "↪ step 1: EHLO worked" in screen


@pytest.mark.timeout(60)
def test_an_auth_answer_refused_with_501_shows_no_raw_placeholder(tmp_path, cert_dir):
    lines = golden_until("auth", 4) + ["RSET", "AUTH LOGIN", "not base64!"]
    _, texts, screen = feedback("auth", lines, tmp_path, cert_dir, 4)
    assert texts, screen
    assert "<auth>" not in screen and "your answer to its AUTH question" in texts[0]


@pytest.mark.timeout(60)
def test_a_predict_step_asks_first_and_counts_right_and_wrong_predictions(tmp_path, cert_dir):
    lines = ["EHLO student.example", ":predict 250", "RCPT TO:<teacher@lab.test>",
             "MAIL FROM:<student@lab.test>", ":predict 5xx", "RCPT TO:<nobody@lab.test>"]
    engine, screen = run_batch(BY_ID["errors"], lines, tmp_path, cert_dir)
    assert "Predict first: which reply code do you expect? Type :predict CODE" in screen
    assert "✗ you predicted 250; the server said 503." in screen
    assert "✓ you predicted 5xx; the server said 550." in screen
    assert engine.predictions[:2] == [("250", 503), ("5xx", 550)]
    assert engine.states[:2] == ["passed", "passed"]


@pytest.mark.timeout(60)
def test_a_reply_the_step_asked_for_gets_the_steps_words_not_a_contradicting_generic_hint(tmp_path, cert_dir):
    engine, screen = run_batch(BY_ID["auth"], ["EHLO student.example", "AUTH LOGIN"], tmp_path, cert_dir)
    assert engine.states[0] == "passed", screen
    assert "538" in screen and "hint:" not in screen.split("538", 1)[1].split("step 1 passed", 1)[0]
    assert "send STARTTLS, then EHLO again, then try this again" not in screen


@pytest.mark.timeout(60)
def test_a_refusal_the_step_did_not_ask_for_still_gets_its_hint_after_the_feedback(tmp_path, cert_dir):
    _, texts, screen = feedback("first-message", golden_until("first-message", 3) + ["RCPT TO:<nobody@lab.test>"],
                                tmp_path, cert_dir, 3)
    assert texts and "hint: That mailbox is unknown here" in screen
    assert screen.index("✗ step 3, attempt 1") < screen.index("hint: That mailbox is unknown here")
