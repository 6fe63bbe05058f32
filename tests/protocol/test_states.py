"""The one state table: transitions and the verbs that make sense."""

from smtp_shell.protocol.states import TRANSITIONS, State, expected, next_state, sensible_verbs


def test_happy_path():
    s = State.CONNECTED
    for verb, klass, want in [("<greeting>", 2, State.GREETED), ("EHLO", 2, State.READY), ("MAIL", 2, State.MAIL),
                              ("RCPT", 2, State.RCPT), ("RCPT", 2, State.RCPT), ("DATA", 3, State.DATA),
                              ("<dot>", 2, State.READY), ("QUIT", 2, State.CLOSED)]:
        s = next_state(s, verb, klass)
        assert s is want, verb


def test_errors_do_not_move():
    assert next_state(State.READY, "RCPT", 5) is State.READY
    assert next_state(State.READY, "MAIL", 5) is State.READY
    assert next_state(State.RCPT, "DATA", 5) is State.RCPT


def test_rejected_message_still_ends_data():
    assert next_state(State.DATA, "<dot>", 5) is State.READY


def test_sensible_verbs():
    assert "MAIL" not in sensible_verbs(State.GREETED)
    assert sensible_verbs(State.GREETED)[:2] == ["EHLO", "HELO"]
    assert "MAIL" in sensible_verbs(State.READY) and "DATA" not in sensible_verbs(State.READY)
    assert "DATA" in sensible_verbs(State.RCPT)
    assert expected(State.READY, "STARTTLS") and not expected(State.CONNECTED, "EHLO")


def test_every_row_names_real_states():
    for froms, _verb, classes, _to in TRANSITIONS:
        assert froms and all(isinstance(f, State) for f in froms)
        assert set(classes) <= {2, 3, 4, 5}


def test_docs_diagram_is_generated_from_the_table():
    from pathlib import Path

    from smtp_shell.protocol.states import mermaid

    doc = (Path(__file__).parents[2] / "docs" / "states.md").read_text(encoding="utf-8")
    assert mermaid() in doc, "docs/states.md is stale: regenerate it with python -m smtp_shell.protocol.states"
