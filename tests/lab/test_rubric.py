"""The rubric: how an analysis scores, and rubric files an instructor writes."""

from __future__ import annotations

import re

import pytest

from smtp_shell.lab.analyser import analyse
from smtp_shell.lab.rubric import DEFAULT_ITEMS, FAIL, NA, PASS, RubricError, grade, load_rubric
from tests.lab.analyser_streams import events, good, message, replace

G = good()


def statuses(steps) -> dict[str, str]:
    return {r.item.id: r.status for r in grade(analyse(events(steps))).results}


def test_a_correct_session_passes_every_item_but_the_extra_credit():
    result = grade(analyse(events(G)))
    assert result.passed and {r.item.id for r in result.results if r.status != PASS} == {"utf8"}
    assert result.score == result.out_of == sum(i.weight for i in DEFAULT_ITEMS if i.id != "utf8")


def test_a_session_that_stops_after_auth():
    got = statuses(G[:7] + ["CLOSE"])
    assert got["auth"] == PASS and got["envelope"] == FAIL and got["accepted"] == FAIL
    assert got["date"] == NA and got["from-to"] == NA  # no message: the header items do not apply
    assert got["quit"] == FAIL


def test_a_failed_item_says_why_when_no_finding_does():
    result = grade(analyse(events(G[:2] + G[7:])))  # STARTTLS answered, but the client never did TLS
    starttls = next(r for r in result.results if r.item.id == "starttls")
    assert starttls.status == FAIL and starttls.reason == "" and starttls.findings[0].rule == "starttls-injection"
    no_tls = grade(analyse(events(G[:1] + G[7:])))
    starttls = next(r for r in no_tls.results if r.item.id == "starttls")
    assert starttls.reason == "the client never started TLS (no STARTTLS and handshake)"


def test_utf8_applies_only_when_the_message_carries_it():
    steps = replace(G, 10, (message(subject="Grüße") + b".\r\n", ["250 2.6.0 X"]))
    assert statuses(steps)["utf8"] == FAIL and grade(analyse(events(steps))).passed  # extra credit is optional


def test_a_rubric_file_picks_orders_and_weights(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text('[items.date]\nweight = 4\ntitle = "Date with pytz"\n[items.utf8]\nrequired = true\n', "utf-8")
    items = load_rubric(path)
    assert [(i.id, i.weight, i.required, i.title) for i in items] == [
        ("date", 4, True, "Date with pytz"), ("utf8", 1, True, "UTF-8 sent by the standards (extra credit)")]


@pytest.mark.parametrize("text, message", [
    ("", "has no [items.NAME] tables"),
    ("[items.date]\nweight = -1\n", "items.date.weight must be a whole number from 0 to 100"),
    ("[items.date]\nweight = true\n", "items.date.weight must be a whole number"),
    ("[items.date]\nrequired = 'yes'\n", "items.date.required must be true or false"),
    ("[items.date]\ncolour = 1\n", "[items.date] may set required, weight and title only"),
    ("[items\n", "is not valid TOML"),
])
def test_bad_rubric_files_are_one_sentence(tmp_path, text, message):
    path = tmp_path / "r.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(RubricError, match=re.escape(message)):
        load_rubric(path)
    with pytest.raises(RubricError, match="does not exist"):
        load_rubric(tmp_path / "missing.toml")
