"""Dates as people read them: ISO values in, the sheet's language out (Babel), in the clinic's
time zone (zoneinfo, from the pinned tzdata package, so the same on every machine, offline).

A date input posts ``2026-12-10`` and a datetime-local input ``2026-12-10T09:30``; the sheet
prints "Thursday, December 10, 2026, 9:30 AM" in English and "jueves, 10 de diciembre de
2026, 9:30" in Spanish; a treatment date, "December 10, 2026" (no weekday: it has passed).
"""
from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_time

#: What a browser's date and datetime-local inputs post (seconds are allowed, never shown).
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?")


def zone(name: str) -> ZoneInfo:
    """The time zone of that IANA name ("America/Phoenix"); ValueError when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"expected a time zone name such as \"America/Phoenix\", found {name!r}") from None


def parse_date(text: str) -> date:
    """A real date written YYYY-MM-DD; ValueError otherwise (2026-02-30 included)."""
    if not ISO_DATE.fullmatch(text):
        raise ValueError("expected a date")
    return date.fromisoformat(text)


def parse_date_time(text: str) -> datetime:
    """A real date and time written YYYY-MM-DDTHH:MM (no zone: the clinic's); ValueError otherwise."""
    if not ISO_DATE_TIME.fullmatch(text):
        raise ValueError("expected a date and time")
    return datetime.fromisoformat(text)


def long_date(value: date, lang: str) -> str:
    """The date in words, in the language: "December 10, 2026", "10 de diciembre de 2026"
    (a day that has passed needs no weekday, and the sheet's box for it is narrow)."""
    return _plain_spaces(format_date(value, "long", locale=_locale(lang)))


def long_date_time(value: datetime, lang: str) -> str:
    """The date in full and the time: "Thursday, December 10, 2026, 9:30 AM"."""
    locale = _locale(lang)
    return _plain_spaces(f"{format_date(value, 'full', locale=locale)}, "
                         f"{format_time(value, 'short', locale=locale)}")


def _locale(lang: str) -> Locale:
    return Locale.parse(lang, sep="-")


def _plain_spaces(text: str) -> str:
    # CLDR puts a narrow no-break space before AM/PM; the sheet's fonts need not have it.
    return text.replace("\u202f", " ")
