"""RFC 5322 Date headers: produce one, explain one, and say what is wrong with one.

Why this exists: every message needs a Date header (RFC 5322 §3.6.1), and getting it right is
a classic exercise of the course this tool grew from -- the date in the sender's own zone
(pytz/tzlocal), English day and month names whatever the machine's locale, and a numeric UTC
offset. Students' hand-written headers go wrong in predictable ways ("November", "CET", a
weekday that does not match); `check_date_header` names the problem in one sentence for the
advisor and for lessons, and `explain_date` labels each part for teaching. No clock is read
here: the moment to format is always passed in.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime
from typing import Any

# pytz is imported where a zone is looked up: the shell imports this module for its Date
# checks at start-up, and only :date and :compose need a zone.

__all__ = ["check_date_header", "explain_date", "rfc5322_date"]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")
_EXAMPLE = "'Tue, 24 Nov 2026 19:01:02 +0100'"
_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                 "nine", "ten", "eleven", "twelve", "thirteen", "fourteen")


# --------------------------------------------------------------------------------------------
# Producing a Date header

def _local_zone() -> Any:
    import pytz

    try:
        import tzlocal
        name = tzlocal.get_localzone_name()
    except Exception:  # no zone configured, unreadable /etc/localtime, ...
        name = None
    try:
        return pytz.timezone(name or "UTC")
    except pytz.UnknownTimeZoneError:
        return pytz.utc


def _zone(zone: str | None) -> Any:
    if zone is None:
        return _local_zone()
    import pytz

    try:
        return pytz.timezone(zone)
    except (pytz.UnknownTimeZoneError, AttributeError, TypeError, ValueError):
        raise ValueError(
            f"Unknown time zone {zone!r}: use an IANA name like 'Europe/Paris' or 'UTC'."
        ) from None


def rfc5322_date(moment: datetime, zone: str | None = None) -> str:
    """Format an aware datetime as an RFC 5322 date-time in `zone` (default: the local zone).

    >>> rfc5322_date(datetime(2026, 11, 24, 18, 1, 2, tzinfo=pytz.utc), "Europe/Paris")
    'Tue, 24 Nov 2026 19:01:02 +0100'

    Day and month names are always English and the zone is always a numeric offset: this is
    email.utils.format_datetime of the moment converted to `zone`.
    """
    if not isinstance(moment, datetime):
        raise ValueError("The moment to format must be a datetime object.")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            "The moment must be timezone-aware (a naive datetime could be any time): "
            "attach a zone first, e.g. with datetime.now(pytz.utc)."
        )
    from email.utils import format_datetime  # the email package: only to format a date, not to check one

    return format_datetime(moment.astimezone(_zone(zone)))


# --------------------------------------------------------------------------------------------
# Reading one

class _Problem(Exception):
    pass


def _index(token: str, names: tuple[str, ...]) -> int | None:
    low = token.lower()
    for i, name in enumerate(names):
        if name.lower() == low:
            return i
    return None


def _offset_meaning(zone: str) -> str:
    if zone == "-0000":
        return "offset from UTC: -0000 means the time is in UTC but the sender's zone is unknown"
    hours, minutes = int(zone[1:3]), int(zone[3:5])
    if hours == minutes == 0:
        return "offset from UTC: none, the time is in UTC"
    parts = []
    if hours:
        word = _NUMBER_WORDS[hours] if hours < len(_NUMBER_WORDS) else str(hours)
        parts.append(f"{word} hour" + ("" if hours == 1 else "s"))
    if minutes:
        parts.append(f"{minutes} minute" + ("" if minutes == 1 else "s"))
    direction = "ahead" if zone[0] == "+" else "behind"
    return f"offset from UTC: {' and '.join(parts)} {direction}"


_COMMENT_AT_END = re.compile(r"\s*(\([^()]*\))\s*$")
_TIME = re.compile(r"(\d{2}):(\d{2})(?::(\d{2}))?")


def _parse(value: str) -> list[tuple[str, str]]:
    """The labelled parts of a date-time, or _Problem(one sentence)."""
    if not isinstance(value, str):
        raise _Problem("the Date value must be text.")
    text = value.strip()
    if not text:
        raise _Problem(f"the Date header is empty: it needs a date and time like {_EXAMPLE}.")
    comments: list[str] = []
    while (m := _COMMENT_AT_END.search(text)) and m.start() > 0:
        comments.insert(0, m.group(1))
        text = text[:m.start()].rstrip()
    if re.match(r"\d{4}-\d{1,2}-\d{1,2}", text):
        raise _Problem(f"{text!r} looks like an ISO 8601 date; e-mail needs the RFC 5322 form, like {_EXAMPLE}.")

    parts: list[tuple[str, str]] = []
    dow: int | None = None
    dow_token = ""
    m = re.match(r"([A-Za-z]+)\s*,\s*", text)
    if m:
        dow_token = m.group(1)
        dow = _index(dow_token, _DAYS)
        if dow is None:
            full = _index(dow_token, _DAY_NAMES)
            if full is not None:
                raise _Problem(f"the day of week {dow_token!r} must be a three-letter English "
                               f"abbreviation like {_DAY_NAMES[full][:3]!r}.")
            raise _Problem(f"{dow_token!r} is not a day of week: use Mon, Tue, Wed, Thu, Fri, Sat or Sun "
                           "(or leave it out).")
        parts.append((dow_token, "day of week (optional)"))
        text = text[m.end():]
    elif re.match(r"[A-Za-z]", text):
        first = text.split()[0]
        if _index(first, _DAYS) is not None or _index(first, _DAY_NAMES) is not None:
            raise _Problem(f"the day of week must be followed by a comma, as in {_EXAMPLE}.")
        if _index(first, _MONTHS) is not None or _index(first, _MONTH_NAMES) is not None:
            raise _Problem("the day of month must come before the month, as in '24 Nov 2026'.")
        raise _Problem(f"a date must start with the day of month (or a day of week and a comma), "
                       f"as in {_EXAMPLE}.")

    tokens = text.split()
    if len(tokens) < 3:
        raise _Problem(f"the date is incomplete: it needs day, month, year, time and zone, as in {_EXAMPLE}.")
    day_t, month_t, year_t = tokens[:3]

    if not re.fullmatch(r"\d{1,2}", day_t):
        if _index(day_t, _MONTHS) is not None or _index(day_t, _MONTH_NAMES) is not None:
            raise _Problem("the day of month must come before the month, as in '24 Nov 2026'.")
        raise _Problem(f"the day of month {day_t!r} must be a number of one or two digits, like 24.")
    month = _index(month_t, _MONTHS)
    if month is None:
        full = _index(month_t, _MONTH_NAMES)
        if full is not None:
            like = _MONTH_NAMES[full][:3]
        elif month_t.isdigit() and 1 <= int(month_t) <= 12:
            like = _MONTHS[int(month_t) - 1]
        else:
            like = "Nov"
        raise _Problem(f"the month {month_t!r} must be a three-letter English abbreviation like {like!r}.")
    if not year_t.isdigit():
        raise _Problem(f"the year {year_t!r} must be a number with four digits, like 2026.")
    if len(year_t) < 4:
        raise _Problem(f"the year {year_t!r} must have four digits, like 2026 (shorter years are obsolete).")
    year = int(year_t)
    if year < 1900:
        raise _Problem(f"the year {year_t!r} is too early: RFC 5322 years are 1900 or later.")
    day = int(day_t)
    last = calendar.monthrange(year, month + 1)[1] if year <= 9999 else 31
    if not 1 <= day <= last:
        raise _Problem(f"{day_t} {_MONTHS[month]} {year_t} does not exist: that month has days 1 to {last}.")
    parts += [(day_t, "day of month"), (month_t, "month"), (year_t, "year")]

    if len(tokens) < 4:
        raise _Problem("the time is missing: add it after the year, like 19:01:02.")
    time_t = tokens[3]
    tm = _TIME.fullmatch(time_t)
    if not tm:
        raise _Problem(f"the time {time_t!r} must be HH:MM:SS (or HH:MM: missing seconds are allowed) "
                       "with two digits each, like 19:01:02.")
    hh, mm, ss = int(tm.group(1)), int(tm.group(2)), int(tm.group(3) or 0)
    if hh > 23 or mm > 59 or ss > 60:
        raise _Problem(f"the time {time_t!r} is out of range: hours go up to 23, minutes and seconds up to 59.")
    parts.append((time_t, "time, 24-hour" + ("" if tm.group(3) else " (seconds left out)")))

    if len(tokens) < 5:
        raise _Problem("the time zone is missing: add a numeric offset like +0100 after the time.")
    zone_t = tokens[4]
    if re.fullmatch(r"[+-]\d{4}", zone_t):
        if int(zone_t[3:]) > 59:
            raise _Problem(f"the time zone {zone_t!r} is invalid: its last two digits are minutes, 00 to 59.")
    elif re.fullmatch(r"[+-]\d{1,2}:\d{2}", zone_t):
        raise _Problem(f"the time zone offset {zone_t!r} must be four digits without a colon, like +0100.")
    elif re.fullmatch(r"[A-Za-z]+", zone_t):
        raise _Problem(_zone_name_problem(zone_t))
    else:
        raise _Problem(f"the time zone {zone_t!r} must be a numeric offset like +0100 or -0500.")
    parts.append((zone_t, _offset_meaning(zone_t)))

    if len(tokens) > 5:
        raise _Problem(f"unexpected text {' '.join(tokens[5:])!r} after the time zone.")
    for comment in comments:
        parts.append((comment, "a comment, ignored by programs"))

    if dow is not None and year <= 9999:
        actual = calendar.weekday(year, month + 1, day)
        if actual != dow:
            raise _Problem(f"the day of week {dow_token!r} does not match the date "
                           f"(it was a {_DAY_NAMES[actual]}).")
    return parts


# RFC 5322 §4.3 obs-zone: the only names that were ever valid (military one-letter zones aside).
OBSOLETE_ZONES = {"UT": "+0000", "GMT": "+0000", "EST": "-0500", "EDT": "-0400", "CST": "-0600", "CDT": "-0500",
                  "MST": "-0700", "MDT": "-0600", "PST": "-0800", "PDT": "-0700"}


def _zone_name_problem(zone: str) -> str:
    """A zone written as a name: obsolete syntax (RFC 5322 §4.3) or never valid at all ('CET')."""
    upper = zone.upper()
    if upper in OBSOLETE_ZONES:
        return (f"the time zone {zone!r} is obsolete syntax (RFC 5322 §4.3: readers accept it, writers must not); "
                f"write the numeric offset {OBSOLETE_ZONES[upper]}.")
    if len(upper) == 1 and upper != "J":
        return (f"the one-letter military zone {zone!r} is obsolete syntax whose meaning was never reliable "
                "(RFC 5322 §4.3); write a numeric offset like +0100.")
    return (f"{zone!r} is not a time zone RFC 5322 knows, not even among its obsolete names (§4.3 lists only UT, "
            "GMT and the US zones); write the numeric offset, like +0100 for Central European Time.")


def explain_date(date_text: str) -> list[tuple[str, str]]:
    """Each part of a date-time with its meaning, e.g.
    [("Tue", "day of week (optional)"), ("24", "day of month"), ("Nov", "month"),
     ("2026", "year"), ("19:01:02", "time, 24-hour"), ("+0100", "offset from UTC: one hour ahead")].

    Raises ValueError (one sentence) when the text is not a valid RFC 5322 date-time.
    """
    try:
        return _parse(date_text)
    except _Problem as exc:
        raise ValueError(f"Not a valid RFC 5322 date: {str(exc).rstrip('.')}.") from None


def check_date_header(value: str) -> str | None:
    """None if `value` is a valid RFC 5322 date-time, else one sentence naming the problem,
    lower-case and without a final period so it can follow "Date: " in a hint, e.g.
    "the month 'November' must be a three-letter English abbreviation like 'Nov'"."""
    try:
        _parse(value)
    except _Problem as exc:
        return str(exc).rstrip(".")
    return None
