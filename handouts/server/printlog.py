"""The print log: which sheet versions went out, when, and how many. Nothing about the patient.

One row per print in an SQLite file (the standard library's sqlite3); its path is
``[server] print_log`` in handouts.toml, relative to the project. The table has no column a
patient's details could go in: only whether the sheet was personalised.

A log that cannot be written (locked by another program, a full disk, a read-only file) never
costs a patient's print: the print goes out, and the failure is kept here for the log page
and said in the server's messages. The wait for a lock is short, not sqlite3's 5 seconds.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

logger = logging.getLogger(__name__)

#: Seconds a print waits for another program's lock on the log before it goes out unlogged.
LOCK_WAIT = 0.5

SCHEMA = """
CREATE TABLE IF NOT EXISTS prints (
    id INTEGER PRIMARY KEY,
    printed_at TEXT NOT NULL,      -- UTC, ISO 8601, to the second
    sheet TEXT NOT NULL,           -- the handout's slug
    lang TEXT NOT NULL,
    edition TEXT NOT NULL,
    paper TEXT NOT NULL,
    version TEXT NOT NULL,         -- the handout's own version, from its front matter
    status TEXT NOT NULL,          -- approved or draft
    personalised INTEGER NOT NULL  -- 1 when staff wrote in a patient's details, else 0
)
"""
COLUMNS = ("printed_at", "sheet", "lang", "edition", "paper", "version", "status", "personalised")


#: What the log's summary counts prints by.
GROUPS = ("sheet", "version", "lang", "edition", "paper")


class PrintLogError(Exception):
    """The print log cannot be opened or created where handouts.toml says."""


@dataclass(frozen=True)
class Print:
    printed_at: str
    sheet: str
    lang: str
    edition: str
    paper: str
    version: str
    status: str
    personalised: bool


@dataclass(frozen=True)
class Failure:
    """Prints the log could not record: how many, and the last one's time and reason."""

    count: int
    last_at: datetime
    reason: str


class PrintLog:
    """An SQLite print log shared by the server's threads (one writer at a time)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.lock = threading.Lock()
        self.failure: Failure | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute(SCHEMA)
        except (OSError, sqlite3.Error) as error:  # a file of something else, a folder, no room
            raise PrintLogError(f"cannot keep the print log in {self.path}: {error}; expected an "
                                f"SQLite file of Handouts' print log, or no file (set print_log in "
                                f"the [server] table of handouts.toml)") from None

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=LOCK_WAIT)

    def record(self, sheet: str, lang: str, edition: str, paper: str, version: str, status: str,
               personalised: bool, now: datetime | None = None) -> bool:
        """Record one print; False (and the failure kept and logged) when the log cannot be written."""
        now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
        try:
            with self.lock, self._connect() as db:
                db.execute(f"INSERT INTO prints ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (now.isoformat(timespec="seconds"), sheet, lang, edition, paper, version,
                            status, int(personalised)))
            return True
        except (sqlite3.Error, OSError) as error:
            count = self.failure.count + 1 if self.failure else 1
            self.failure = Failure(count, now, f"{error.__class__.__name__}: {error}")
            logger.error("print log %s: could not record a print of %s (%s): %s", self.path, sheet,
                         lang, error)
            return False

    def between(self, start: datetime, end: datetime, limit: int | None = None) -> list[Print]:
        """The prints from ``start`` up to (not including) ``end``, newest first."""
        with self._connect() as db:
            rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM prints WHERE printed_at >= ? AND "
                              f"printed_at < ? ORDER BY id DESC LIMIT ?",
                              (_stamp(start), _stamp(end), -1 if limit is None else limit)).fetchall()
        return [Print(*row[:-1], bool(row[-1])) for row in rows]

    def counts(self, start: datetime, end: datetime) -> list[dict]:
        """Prints from ``start`` to ``end`` per sheet, version, language, print size and paper:
        how many, and how many personalised."""
        with self._connect() as db:
            rows = db.execute(f"""
                SELECT {', '.join(GROUPS)}, COUNT(*), SUM(personalised) FROM prints
                WHERE printed_at >= ? AND printed_at < ?
                GROUP BY {', '.join(GROUPS)} ORDER BY {', '.join(GROUPS)}""",
                              (_stamp(start), _stamp(end))).fetchall()
        return [dict(zip((*GROUPS, "prints", "personalised"), row)) for row in rows]

    def total(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM prints").fetchone()[0]


def _stamp(moment: datetime) -> str:
    """A moment as the table stores it (UTC ISO text, which sorts as time does)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")
