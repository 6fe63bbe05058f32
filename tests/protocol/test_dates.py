"""RFC 5322 Date headers: formatting with pytz, explaining the parts, checking a header."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import pytz
from hypothesis import given, settings
from hypothesis import strategies as st

from smtp_shell.protocol import dates
from smtp_shell.protocol.dates import check_date_header, explain_date, rfc5322_date

ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu",
         "Australia/Adelaide", "Pacific/Chatham", "America/St_Johns", "Pacific/Kiritimati",
         "Pacific/Pago_Pago", "Europe/London", "Africa/Casablanca"]

MOMENT = datetime(2026, 11, 24, 18, 1, 2, 123456, tzinfo=UTC)


def test_rfc5322_date_in_a_zone():
    assert rfc5322_date(MOMENT, "Europe/Paris") == "Tue, 24 Nov 2026 19:01:02 +0100"
    assert rfc5322_date(MOMENT, "UTC") == "Tue, 24 Nov 2026 18:01:02 +0000"
    assert rfc5322_date(MOMENT, "America/New_York") == "Tue, 24 Nov 2026 13:01:02 -0500"
    assert rfc5322_date(MOMENT, "Asia/Kolkata") == "Tue, 24 Nov 2026 23:31:02 +0530"
    assert rfc5322_date(datetime(2026, 7, 4, 8, 5, 0, tzinfo=UTC), "Europe/Paris") \
        == "Sat, 04 Jul 2026 10:05:00 +0200"


def test_rfc5322_date_accepts_pytz_localized_input():
    moment = pytz.timezone("Europe/Paris").localize(datetime(2026, 3, 29, 3, 30))
    assert rfc5322_date(moment, "UTC") == "Sun, 29 Mar 2026 01:30:00 +0000"


def test_rfc5322_date_local_zone(monkeypatch):
    import tzlocal
    monkeypatch.setattr(tzlocal, "get_localzone_name", lambda: "Asia/Tokyo")
    assert rfc5322_date(MOMENT) == "Wed, 25 Nov 2026 03:01:02 +0900"
    monkeypatch.setattr(tzlocal, "get_localzone_name", lambda: None)
    assert rfc5322_date(MOMENT) == "Tue, 24 Nov 2026 18:01:02 +0000"

    def broken():
        raise LookupError("no zone")
    monkeypatch.setattr(tzlocal, "get_localzone_name", broken)
    assert rfc5322_date(MOMENT).endswith("+0000")


def test_rfc5322_date_is_english_whatever_the_locale(monkeypatch):
    import locale
    try:
        locale.setlocale(locale.LC_TIME, "fr_FR.UTF-8")
    except locale.Error:
        pass
    try:
        assert rfc5322_date(MOMENT, "UTC").startswith("Tue, 24 Nov")
    finally:
        locale.setlocale(locale.LC_TIME, "C")


def test_rfc5322_date_rejects_naive_and_unknown_zone():
    with pytest.raises(ValueError, match="timezone-aware"):
        rfc5322_date(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="Europe/Paris"):
        rfc5322_date(MOMENT, "Mars/Olympus")
    with pytest.raises(ValueError):
        rfc5322_date("2026-01-01")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(9998, 12, 31),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7)),
                                               timezone(timedelta(hours=5, minutes=45))])),
       st.sampled_from(ZONES))
def test_rfc5322_date_round_trips(moment, zone):
    text = rfc5322_date(moment, zone)
    parsed = email.utils.parsedate_to_datetime(text)
    assert parsed == moment.replace(microsecond=0)
    assert text == email.utils.format_datetime(moment.astimezone(pytz.timezone(zone)))
    assert check_date_header(text) is None
    assert explain_date(text)[-1][0] == text[-5:]


def test_explain_date():
    assert explain_date("Tue, 24 Nov 2026 19:01:02 +0100") == [
        ("Tue", "day of week (optional)"), ("24", "day of month"), ("Nov", "month"),
        ("2026", "year"), ("19:01:02", "time, 24-hour"), ("+0100", "offset from UTC: one hour ahead"),
    ]


def test_explain_date_variants():
    parts = explain_date("4 Jul 2026 10:05 -0530 (somewhere)")
    assert parts[0] == ("4", "day of month")
    assert parts[3] == ("10:05", "time, 24-hour (seconds left out)")
    assert parts[4] == ("-0530", "offset from UTC: five hours and 30 minutes behind")
    assert parts[5] == ("(somewhere)", "a comment, ignored by programs")
    assert explain_date("Tue, 24 Nov 2026 19:01:02 +0000")[-1][1] == "offset from UTC: none, the time is in UTC"
    assert "unknown" in explain_date("Tue, 24 Nov 2026 19:01:02 -0000")[-1][1]
    assert explain_date("tue, 24 nov 2026 19:01:02 +0200")[-1][1] == "offset from UTC: two hours ahead"


def test_explain_date_bad_input():
    with pytest.raises(ValueError) as info:
        explain_date("yesterday")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("value", [
    "Tue, 24 Nov 2026 19:01:02 +0100",
    "24 Nov 2026 19:01:02 +0100",
    "Tue, 4 Nov 2025 19:01 +0100",
    "Tue,24 Nov 2026 19:01:02 +0100",
    "Tue, 24 Nov 2026 19:01:02 +0100 (CET)",
    "Wed, 31 Dec 2025 23:59:60 -0000",
    "Tue, 29 Feb 2028 00:00:00 +1245",
])
def test_check_date_header_accepts(value):
    assert check_date_header(value) is None


@pytest.mark.parametrize("value, problem", [
    ("Tue, 24 November 2026 19:01:02 +0100",
     "the month 'November' must be a three-letter English abbreviation like 'Nov'"),
    ("Tue, 24 11 2026 19:01:02 +0100", "the month '11' must be a three-letter English abbreviation like 'Nov'"),
    ("Tue, 24 Nov 2026 19:01:02 CET", "'CET' is not a time zone RFC 5322 knows, not even among its obsolete names"),
    ("Tue, 24 Nov 2026 19:01:02 GMT", "the time zone 'GMT' is obsolete syntax"),
    ("Mon, 24 Nov 2026 19:01:02 +0100", "the day of week 'Mon' does not match the date (it was a Tuesday)"),
    ("Tuesday, 24 Nov 2026 19:01:02 +0100", "three-letter English abbreviation like 'Tue'"),
    ("Tue 24 Nov 2026 19:01:02 +0100", "followed by a comma"),
    ("Nov 24 2026 19:01:02 +0100", "must come before the month"),
    ("Tue, 24 Nov 26 19:01:02 +0100", "four digits"),
    ("Tue, 24 Nov 1850 19:01:02 +0100", "1900 or later"),
    ("Tue, 31 Nov 2026 19:01:02 +0100", "does not exist"),
    ("Tue, 24 Nov 2026 19:1:02 +0100", "HH:MM"),
    ("Tue, 24 Nov 2026 7pm +0100", "HH:MM"),
    ("Tue, 24 Nov 2026 25:01:02 +0100", "out of range"),
    ("Tue, 24 Nov 2026 19:01:02", "time zone is missing"),
    ("Tue, 24 Nov 2026", "time is missing"),
    ("Tue, 24 Nov 2026 19:01:02 +01:00", "without a colon"),
    ("Tue, 24 Nov 2026 19:01:02 +0175", "00 to 59"),
    ("Tue, 24 Nov 2026 19:01:02 +0100 extra", "unexpected text 'extra'"),
    ("2026-11-24T19:01:02+01:00", "ISO 8601"),
    ("", "empty"),
    ("Tue, 24", "incomplete"),
    ("Foo, 24 Nov 2026 19:01:02 +0100", "not a day of week"),
    ("yesterday", "must start with the day of month"),
])
def test_check_date_header_problems(value, problem):
    result = check_date_header(value)
    assert result is not None and problem in result
    assert "\n" not in result and not result.endswith(".")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_check_date_header_never_raises(text):
    result = check_date_header(text)
    assert result is None or isinstance(result, str)
    if result is None:
        assert explain_date(text)


def test_module_imports_nothing_forbidden():
    import smtp_shell.protocol.capabilities as caps
    import smtp_shell.protocol.catalogue as cat
    import smtp_shell.protocol.sasl as sasl
    for module in (dates, caps, cat, sasl):
        source = Path(module.__file__).read_text(encoding="utf-8")
        assert module.__doc__ and len(module.__doc__) > 80
        for name in ("socket", "ssl", "asyncio", "time", "rich", "prompt_toolkit"):
            assert f"import {name}\n" not in source and f"from {name} " not in source
