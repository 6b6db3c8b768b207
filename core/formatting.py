"""Dates, times, months, weekdays and numbers in the reader's language: the one place that
formats them (Jinja filters in core.templating, views, messages and CSV files call these).

Babel's Finnish locales are used for every language: ``fi_FI`` (6.12.2026, 10.00, 7,2),
``sv_FI`` (Finland-Swedish: 6.12.2026, 10.00, 7,2; plain ``sv`` would give 2026-12-06 and
10:00) and ``en_FI`` (06/12/2026, a 24-hour 10.00, 7,2; plain ``en`` would give 12/6/26 and
10:00 AM). Nothing formats a date or a number by hand (strftime, "%.1f", isoformat shown to
a user): those would follow no language.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import lru_cache

from babel import dates as babel_dates, numbers as babel_numbers

from .timeutil import HELSINKI, to_local

FORMAT_LOCALES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_FI"}


def format_locale(language: str | None = None) -> str:
    """The Babel locale for a language code ("fi", "sv", "en"), or for the request's language."""
    if language is None:
        from flask_babel import get_locale

        locale = get_locale()
        language = locale.language if locale is not None else "fi"
    language = str(language)
    if language in FORMAT_LOCALES.values():
        return language
    return FORMAT_LOCALES.get(language.split("_")[0], "fi_FI")


# Pages format many dates (a list of 50 groups has 100), and Babel parses the pattern and looks
# up the locale on every call (~60 µs each). The result only depends on (locale, local value,
# pattern), so it is memoised; the values are dates and wall-clock times, which repeat.
@lru_cache(maxsize=16384)
def _format(kind: str, locale: str, value, fmt: str) -> str:
    if kind == "date":
        return babel_dates.format_date(value, fmt, locale=locale)
    if kind == "time":
        return babel_dates.format_time(value, fmt, tzinfo=HELSINKI if isinstance(value, datetime) else None,
                                       locale=locale)
    return babel_dates.format_datetime(value, fmt, tzinfo=HELSINKI, locale=locale)


def local_dt(value: datetime | None, fmt: str = "short", *, locale: str | None = None) -> str:
    """A stored (UTC) instant as Helsinki date and time: "6.12.2026 10.00"."""
    if value is None:
        return ""
    return _format("datetime", format_locale(locale), to_local(value), fmt)


def local_date(value: date | datetime | None, fmt: str = "short", *, locale: str | None = None) -> str:
    """A date (or an instant's Helsinki date): "6.12.2026", "06/12/2026" in English."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value).date()
    return _format("date", format_locale(locale), value, fmt)


def local_time(value: datetime | time | None, fmt: str = "short", *, locale: str | None = None) -> str:
    """An instant's Helsinki clock time, or a wall-clock time as it is: "10.00"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value).replace(tzinfo=None).time()
    return _format("time", format_locale(locale), value, fmt)


def time_range(start: datetime | time | None, end: datetime | time | None, *, locale: str | None = None) -> str:
    """ "10.00–11.30": two clock times with the same separator as every other time."""
    return f"{local_time(start, locale=locale)}–{local_time(end, locale=locale)}"


def weekday_date(value: datetime | date | None, *, long: bool = False, locale: str | None = None) -> str:
    """'su 6.12.2026' style: short weekday and the language's short date. ``long=True`` writes
    the weekday out for clients' texts (plain language has no abbreviations): 'sunnuntaina
    6.12.2026' (CLDR's Finnish format weekday is the essive), 'söndag 6.12.2026'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value).date()
    loc = format_locale(locale)
    return f"{_format('date', loc, value, 'EEEE' if long else 'EEE')} {_format('date', loc, value, 'short')}"


def month_year(value: date | datetime | None, *, start: bool = False, short: bool = False,
               locale: str | None = None) -> str:
    """ "joulukuu 2026": lowercase mid-sentence in Finnish and Swedish as Babel gives it;
    ``start=True`` capitalises it for the start of a heading or sentence; ``short=True`` gives
    the abbreviated month ("joulu 2026") for a chart's axis."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value).date()
    text = _format("date", format_locale(locale), value, "LLL yyyy" if short else "LLLL yyyy")
    return text[:1].upper() + text[1:] if start else text


def month_name(month: int, *, locale: str | None = None) -> str:
    """The month's stand-alone name ("joulukuu", "december", "December")."""
    return _format("date", format_locale(locale), date(2000, month, 1), "LLLL")


def number(value: float | int | None, digits: int = 1, *, locale: str | None = None) -> str:
    """A number with ``digits`` decimals and the language's decimal comma: "7,2"."""
    if value is None:
        return ""
    return _decimal(value, digits, format_locale(locale))


# A report page formats hundreds of counts, mostly the same small numbers, at ~50 µs each in
# Babel (the outreach report spent a third of its time here); memoised as the dates are. Equal
# values (1 and 1.0) share a key, and Babel writes them the same with a fixed pattern.
@lru_cache(maxsize=16384)
def _decimal(value: float | int, digits: int, locale: str) -> str:
    pattern = "0." + "0" * digits if digits else "0"
    return babel_numbers.format_decimal(value, format=pattern, locale=locale)


def percent(value: float | int | None, *, locale: str | None = None) -> str:
    """A whole percentage given as 0–100: "76 %"."""
    if value is None:
        return ""
    return babel_numbers.format_percent(value / 100, locale=format_locale(locale))


# Values kept as text in change histories are stored language-neutral (ISO: "2026-12-06 10:00–
# 11:30", "2026-12-06"; rows from before that carry "06.12.2026") and read in the reader's
# language when shown.
_RECORDED = re.compile(r"\b(?P<iso>\d{4}-\d{2}-\d{2})(?: (?P<t1>\d{2}:\d{2})(?:–(?P<t2>\d{2}:\d{2}))?)?\b"
                       r"|\b(?P<d>\d{2})\.(?P<m>\d{2})\.(?P<y>\d{4})\b")


def recorded(text: str | None, *, locale: str | None = None) -> str:
    """A stored change-history value with its dates and times in the reader's language."""
    if not text:
        return text or ""

    def one(match: re.Match) -> str:
        try:
            if match.group("iso"):
                day = date.fromisoformat(match.group("iso"))
            else:
                day = date(int(match.group("y")), int(match.group("m")), int(match.group("d")))
            out = local_date(day, locale=locale)
            if match.group("t1"):
                out += " " + local_time(time.fromisoformat(match.group("t1")), locale=locale)
                if match.group("t2"):
                    out += "–" + local_time(time.fromisoformat(match.group("t2")), locale=locale)
            return out
        except ValueError:  # not a real date: the text as it was
            return match.group(0)

    return _RECORDED.sub(one, text)
