"""Time zone rules: store UTC, show and export Europe/Helsinki, skip Finnish public holidays."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from core.db import utcnow

HELSINKI = ZoneInfo("Europe/Helsinki")


# The app's one clock is core.db.utcnow; this name stays for the modules that read it from here.
now_utc = utcnow


def local_to_utc(day: date, at: time) -> datetime:
    """Combine a local Helsinki date and wall-clock time into an aware UTC instant.

    ``fold=0`` picks the first of two instants on the autumn DST night; a wall time that does not
    exist in spring (03:00–03:59) is moved forward by zoneinfo's normal arithmetic.
    """
    local = datetime.combine(day, at).replace(tzinfo=HELSINKI)
    # Round-trip normalises a non-existent spring-forward wall time.
    return local.astimezone(UTC)


def to_local(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(HELSINKI)


def local_today() -> date:
    return datetime.now(HELSINKI).date()


@lru_cache(maxsize=64)
def _finnish_holidays(year: int) -> dict[date, str]:
    return dict(holidays.Finland(years=year, language="fi"))


def finnish_holiday(day: date) -> str | None:
    """Name of the Finnish public holiday on ``day`` (in Finnish), or None."""
    return _finnish_holidays(day.year).get(day)


def local_day_bounds_utc(day: date) -> tuple[datetime, datetime]:
    start = local_to_utc(day, time(0, 0))
    end = local_to_utc(day + timedelta(days=1), time(0, 0))
    return start, end


_HOLIDAY_LANGUAGES = {"sv": "sv_FI", "en": "en_US"}


@lru_cache(maxsize=32)
def _holidays_in(year: int, language: str) -> dict[date, str]:
    return dict(holidays.Finland(years=year, language=language))


def holiday_label(day: date) -> str | None:
    """The Finnish public holiday on ``day`` named in the user's language (Finnish outside requests)."""
    from flask import has_request_context
    from flask_babel import get_locale

    name = finnish_holiday(day)
    if name is None or not has_request_context():
        return name
    language = _HOLIDAY_LANGUAGES.get(str(get_locale() or "fi"))
    return _holidays_in(day.year, language).get(day, name) if language else name
