"""The reply-code catalogue: every code the RFCs name resolves, with real content."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtp_shell.protocol.catalogue import Entry, all_codes, class_name, gloss, lookup

REPLY_CODES = [
    # RFC 5321 §4.2.2 / §4.2.3 / §4.3.2
    "211", "214", "220", "221", "250", "251", "252", "354", "421", "450", "451", "452", "455",
    "500", "501", "502", "503", "504", "550", "551", "552", "553", "554", "555",
    # RFC 4954 AUTH
    "235", "334", "432", "454", "530", "534", "535", "538",
    # RFC 7504
    "521", "556",
]

ENHANCED = (
    [f"{c}.0.0" for c in "245"]
    + [f"5.1.{d}" for d in range(0, 9)]
    + [f"5.2.{d}" for d in range(0, 5)]
    + [f"5.3.{d}" for d in range(0, 6)]
    + [f"4.4.{d}" for d in range(0, 8)]
    + [f"5.5.{d}" for d in range(0, 6)]
    + [f"5.6.{d}" for d in range(0, 6)]
    + [f"5.7.{d}" for d in range(0, 8)]
    + ["5.7.8", "5.7.9", "5.7.11", "4.7.12", "5.7.12", "5.7.13", "5.7.14", "5.6.7", "5.5.6",
       "5.7.23", "5.7.24", "5.7.25", "5.7.26", "5.7.27", "2.7.0", "4.7.0", "4.7.1", "2.1.5"]
)


def _complete(entry: Entry | None) -> None:
    assert entry is not None
    assert entry.summary.strip() and "\n" not in entry.summary
    assert entry.explanation.strip()
    assert entry.causes and all(c.strip() for c in entry.causes)
    assert entry.rfc.startswith("RFC")


@pytest.mark.parametrize("code", REPLY_CODES)
def test_every_reply_code_resolves(code):
    entry = lookup(code)
    _complete(entry)
    assert entry.code == code and entry.kind == "reply"


@pytest.mark.parametrize("code", ENHANCED)
def test_every_enhanced_code_resolves(code):
    entry = lookup(code)
    _complete(entry)
    assert entry.code == code and entry.kind == "enhanced"


def test_enhanced_codes_are_class_independent_with_class_prefix():
    four, five = lookup("4.7.0"), lookup("5.7.0")
    assert four.summary.startswith("Temporary failure")
    assert five.summary.startswith("Permanent failure")
    assert four.causes == five.causes
    assert lookup("2.0.0").summary.startswith("Success")


def test_all_codes_resolve_and_include_the_named_ones():
    codes = all_codes()
    assert len(codes) == len(set(codes))
    for code in codes:
        _complete(lookup(code))
    for code in REPLY_CODES:
        assert code in codes
    for code in ENHANCED:
        assert "X." + code.split(".", 1)[1] in codes


@pytest.mark.parametrize("text, code", [
    ("550", "550"), (" 550 ", "550"), ("550 5.1.1 no such user", "550"), ("550-5.1.1 no", "550"),
    ("5.7.8", "5.7.8"), (" 5.7.8 bad credentials", "5.7.8"), ("x.7.8", "X.7.8"),
])
def test_lookup_accepts_forms(text, code):
    assert lookup(text).code == code


def test_lookup_content_is_about_the_right_thing():
    assert "RCPT before MAIL" in " ".join(lookup("503").causes)
    assert "STARTTLS" in " ".join(lookup("503").causes)
    causes_535 = " ".join(lookup("535").causes + lookup("5.7.8").causes)
    assert "base64" in causes_535 and "newline" in causes_535
    assert "STARTTLS" in lookup("538").explanation
    assert "STARTTLS" in lookup("5.7.11").explanation
    assert "greylisting" in lookup("451").explanation.lower()
    assert "SIZE" in lookup("552").explanation
    assert any("recipients" in c for c in lookup("452").causes)
    assert "RFC 4954" in lookup("535").rfc
    assert "RFC 3207" in lookup("220").rfc


def test_unknown_specific_enhanced_code_is_synthesised():
    entry = lookup("5.7.99")
    _complete(entry)
    assert entry.summary == "5.7.x: Security or policy status"
    assert "permanent" in entry.explanation


def test_unknown_reply_code_in_range_is_synthesised():
    entry = lookup("259")
    _complete(entry)
    assert entry.code == "259" and entry.summary.startswith("25x")
    assert "mail system" in entry.explanation
    assert lookup("420").summary.startswith("42x: temporary failure")


@pytest.mark.parametrize("text", ["", "   ", "hello", "199", "600", "999", "5.7", "3.1.1",
                                  "55", "5500", "1.2.3", "5.7.8x"])
def test_lookup_rejects_non_codes(text):
    assert lookup(text) is None


def test_lookup_non_string():
    assert lookup(None) is None  # type: ignore[arg-type]
    assert lookup(550) is None   # type: ignore[arg-type]


def test_class_name():
    assert class_name(2) == "success"
    assert class_name(3) == "intermediate: send more"
    assert class_name(4) == "temporary failure: try again later"
    assert class_name(5) == "permanent failure"
    assert class_name(550) == "permanent failure"
    assert class_name(7) == "unknown class"


def test_gloss_prefers_specific_enhanced_code():
    assert gloss(535, "5.7.8") == lookup("5.7.8").summary
    assert gloss(550, "5.1.1") == lookup("5.1.1").summary


def test_gloss_falls_back_to_reply_code():
    assert gloss(250, "2.0.0") == lookup("250").summary     # X.y.0 is not specific
    assert gloss(250, "2.1.0") == lookup("250").summary
    assert gloss(550, "5.7.99") == lookup("550").summary    # unknown detail is not specific
    assert gloss(550) == lookup("550").summary
    assert gloss(354, None) == lookup("354").summary
    assert gloss(999) == "not a standard SMTP reply code"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_lookup_never_raises(text):
    entry = lookup(text)
    assert entry is None or isinstance(entry, Entry)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-10, max_value=2000), st.one_of(st.none(), st.text(max_size=12)))
def test_gloss_never_raises(code, enhanced):
    assert isinstance(gloss(code, enhanced), str)
