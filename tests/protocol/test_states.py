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

    from smtp_shell.protocol.states import page

    doc = (Path(__file__).parents[2] / "docs" / "states.md").read_text(encoding="utf-8")
    assert doc == page(), "docs/states.md is stale: python -m smtp_shell.protocol.states > docs/states.md"


def test_421_closes_from_any_talking_state_by_its_own_row():
    from smtp_shell.protocol.states import after_reply

    for state, verb in [(State.CONNECTED, "<greeting>"), (State.MAIL, "RCPT"), (State.DATA, "<dot>"), (State.READY, None)]:
        assert after_reply(state, verb, 421) is State.CLOSED, state
    assert after_reply(State.MAIL, "RCPT", 450) is State.MAIL
    assert any(verb == "<421>" for _f, verb, _c, _t in TRANSITIONS)


def test_connection_events_are_rows_too():
    assert next_state(State.DISCONNECTED, "<connect>", 2) is State.CONNECTED
    assert next_state(State.TLS_PENDING, "<tls>", 2) is State.GREETED
    assert all(next_state(s, "<lost>", 2) is State.DISCONNECTED for s in State)
