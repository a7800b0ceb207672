"""The personalise form: its fields, and what staff typed turned into what the sheet prints.

Each refusal is said next to its field in plain words, and the form comes back with every
value kept; nothing of it is kept on the server. The limits are the render gate's own
(``pipeline.PERSONAL_LIMITS``): the form shows them, the gate enforces them.
"""
from __future__ import annotations

import re

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from .. import dates
from ..pipeline import PERSONAL_LIMITS, PageBudgetError, PersonalFieldError
from ..render import Personal


@dataclass(frozen=True)
class Field:
    label: str
    hint: str
    kind: str  # an <input> type, or "textarea"


FIELDS = {
    "patient": Field("Patient's name", "As the patient likes to be called.", "text"),
    "treatment_date": Field("Treatment date", "The day of the treatment.", "date"),
    "next_visit": Field("Next appointment", "Day and time of the next visit.", "datetime-local"),
    "clinician": Field("Clinician", "Who the patient can ask for.", "text"),
    "note": Field("Note for the patient", "A short note, printed as you type it.", "textarea"),
}
#: The key of a message about the form as a whole, not one field.
WHOLE_FORM = ""


@dataclass
class Filled:
    """A form as posted: the values to show again, a message per field that is refused, and
    the sheet's Personal when nothing is."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    personal: Personal | None = None


def read_personal(form: dict[str, str], lang: str, time_zone: ZoneInfo,
                  now: datetime | None = None) -> Filled:
    """The form's fields checked and written out as the sheet in ``lang`` prints them."""
    values = {name: clean(form.get(name, ""), name) for name in FIELDS}
    filled = Filled(values)
    printed = {}
    for name, value in values.items():
        try:
            printed[name] = written_out(name, value, lang, time_zone, now)
        except ValueError as problem:
            filled.errors[name] = str(problem)
    if not filled.errors:
        filled.personal = Personal(**printed)
    return filled


def written_out(name: str, value: str, lang: str, time_zone: ZoneInfo, now: datetime | None) -> str:
    """One field as it prints, or ValueError saying in plain words what to change."""
    kind = FIELDS[name].kind
    if not value:
        return value
    if kind == "date":
        try:
            return dates.long_date(dates.parse_date(value), lang)
        except ValueError:
            raise ValueError("This is not a date. Choose the day with the calendar.") from None
    if kind == "datetime-local":
        try:
            when = dates.parse_date_time(value)
        except ValueError:
            raise ValueError("This is not a date and time. Choose the day and time with the calendar.") from None
        clock = (now or datetime.now(time_zone)).astimezone(time_zone)
        if when.replace(tzinfo=time_zone) < clock.replace(second=0, microsecond=0):
            raise ValueError(f"This time has passed: it is now {dates.long_date_time(clock, 'en')} "
                             f"at the clinic. Choose a later day or time.")
        return dates.long_date_time(when, lang)
    limit = PERSONAL_LIMITS[name]
    if len(value) > limit:
        raise ValueError(f"This has {len(value)} characters: {len(value) - limit} too many. "
                         f"Shorten it to {limit} or fewer.")
    return value


def earliest_visit(time_zone: ZoneInfo, now: datetime | None = None) -> str:
    """The earliest next visit the form accepts, as a datetime-local value: now, to the minute."""
    return (now or datetime.now(time_zone)).astimezone(time_zone).strftime("%Y-%m-%dT%H:%M")


def clean(value: str, name: str) -> str:
    """What a browser sends, as the sheet should print it: a textarea's line breaks are CR LF."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return value if name == "note" else value.replace("\n", " ")


def gate_refusal(filled: Filled, error: PersonalFieldError | PageBudgetError) -> None:
    """The render gate's refusal, said next to the field it is about."""
    if isinstance(error, PageBudgetError):
        where = "note" if filled.values.get("note") else WHOLE_FORM
        filled.errors[where] = (f"With this, the sheet needs {error.pages} pages, more than it may have. "
                                f"Shorten what you typed (the note first), or choose large print, "
                                f"which has room for it.")
        return
    key, _, rest = error.format_message().partition(": ")
    where = key if key in FIELDS else WHOLE_FORM
    filled.errors[where] = plain(rest)


def plain(message: str) -> str:
    """The gate's 'expected X, found Y' as a request to staff."""
    if "no font this project ships has it" in message:
        code = re.search(r"U\+[0-9A-F]{4,6}", message)
        return (f"No font of this sheet can print a character of this ({code.group() if code else 'a sign'}), "
                f"such as an emoji. Use plain letters, or write it in by hand on the printed sheet.")
    if message.startswith("expected plain text"):
        return "This holds a control character (pasted from elsewhere?). Type it again."
    return message.replace("expected", "Use", 1) + "."

