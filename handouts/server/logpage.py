"""The print log for a manager: how many of which sheet went out in a chosen period, and the
same as a spreadsheet (CSV).

Sheets are named by their titles, times are the clinic's (``[clinic] time_zone``), and the
period is a from and a to date of the clinic's calendar, both days included. The CSV opens
cleanly in a spreadsheet: UTF-8 with a byte-order mark, plain column names, and no cell that a
spreadsheet would run as a formula.
"""
from __future__ import annotations

import csv
import io
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from .. import dates
from .web import Problem, edition_name, language_name, page, paper_name

#: The period shown when none is chosen: the last 30 days, today included.
DEFAULT_DAYS = 30
#: How many single prints the page lists (the counts and the CSV cover the whole period).
LATEST = 200
#: A cell a spreadsheet reads as a formula starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # included
    zone: object

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), self.zone)


async def print_log(request: Request):
    period = chosen_period(request)
    log = request.app.state.log
    counts, latest = await read(lambda: (log.counts(period.start, period.end),
                                         log.between(period.start, period.end, LATEST)))
    titles = await run_in_threadpool(sheet_titles, request)
    per_sheet: dict[str, list[int]] = {}
    for row in counts:
        total = per_sheet.setdefault(row["sheet"], [0, 0])
        total[0] += row["prints"]
        total[1] += row["personalised"]
    return page(request, "log.html", period=period, counts=counts, latest=latest, per_sheet=per_sheet,
                total=sum(row["prints"] for row in counts), titles=titles, failure=log.failure,
                zone=period.zone.key, local=lambda stamp: local_time(stamp, period.zone), latest_limit=LATEST)


async def print_log_csv(request: Request):
    period = chosen_period(request)
    log = request.app.state.log
    rows = await read(lambda: log.between(period.start, period.end))
    titles = await run_in_threadpool(sheet_titles, request)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Printed at (" + period.zone.key + ")", "Sheet", "Version", "Draft", "Language",
                     "Print size", "Paper", "Personalised"])
    for row in reversed(rows):
        writer.writerow([safe_cell(value) for value in (
            local_time(row.printed_at, period.zone), titles.get(row.sheet, row.sheet), row.version,
            "Yes" if row.status == "draft" else "No", language_name(row.lang), edition_name(row.edition),
            paper_name(row.paper), "Yes" if row.personalised else "No")])
    name = f"print-log-{period.first.isoformat()}-to-{period.last.isoformat()}.csv"
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def read(query):
    """A query of the print log; a log that cannot be read now (another program holds it, its
    file is damaged) is said plainly, and printing goes on regardless."""
    try:
        return await run_in_threadpool(query)
    except (sqlite3.Error, OSError) as error:
        raise Problem(503, "The print log cannot be read right now",
                      "Printing still works. Try again in a moment; if this stays, tell whoever looks "
                      "after the handouts:", f"{error.__class__.__name__}: {error}") from None


def chosen_period(request: Request) -> Period:
    """The from and to dates asked for (the last DEFAULT_DAYS days when not), in the clinic's
    calendar; a clear 400 for a value that is not a date, or a from after the to."""
    zone = dates.zone(request.app.state.sheets.require_project().config.clinic.time_zone)
    today = datetime.now(zone).date()
    chosen = {}
    for name, default in (("from", today - timedelta(days=DEFAULT_DAYS - 1)), ("to", today)):
        value = request.query_params.get(name, "").strip()
        try:
            chosen[name] = dates.parse_date(value) if value else default
        except ValueError:
            raise Problem(400, "Please check the dates", f"The log's '{name}' date must be a date such as "
                                                         f"{today.isoformat()}.") from None
    if chosen["from"] > chosen["to"]:
        raise Problem(400, "Please check the dates", "The 'from' date comes after the 'to' date: "
                                                     "swap them.")
    return Period(chosen["from"], chosen["to"], zone)


def sheet_titles(request: Request) -> dict[str, str]:
    """slug -> the sheet's title in the original language (or in the first it has)."""
    cards, _ = request.app.state.sheets.catalogue()
    return {card["slug"]: card["versions"][0].title for card in cards}


def local_time(stamp: str, zone) -> str:
    """A stored UTC time as the clinic's clock showed it: 2026-12-10 09:30."""
    return datetime.fromisoformat(stamp).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def safe_cell(value: str) -> str:
    """A cell that starts like a formula gets a leading apostrophe, so it is shown, never run."""
    return f"'{value}" if str(value).startswith(FORMULA_STARTS) else value
