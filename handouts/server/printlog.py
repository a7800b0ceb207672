"""The print log: which sheet versions went out, when, and how many. Nothing about the patient.

One row per print in an SQLite file (the standard library's sqlite3); its path is
``[server] print_log`` in handouts.toml, relative to the project. The table has no column a
patient's details could go in: only whether the sheet was personalised.
"""
from __future__ import annotations

import csv
import io
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

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


class PrintLog:
    """An SQLite print log shared by the server's threads (one writer at a time)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute(SCHEMA)
        except (OSError, sqlite3.Error) as error:  # a file of something else, a folder, no room
            raise PrintLogError(f"cannot keep the print log in {self.path}: {error}; expected an "
                                f"SQLite file of Handouts' print log, or no file (set print_log in "
                                f"the [server] table of handouts.toml)") from None

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def record(self, sheet: str, lang: str, edition: str, paper: str, version: str, status: str,
               personalised: bool, now: datetime | None = None) -> None:
        when = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")
        with self.lock, self._connect() as db:
            db.execute(f"INSERT INTO prints ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (when, sheet, lang, edition, paper, version, status, int(personalised)))

    def recent(self, limit: int = 200) -> list[Print]:
        with self._connect() as db:
            rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM prints ORDER BY id DESC LIMIT ?",
                              (limit,)).fetchall()
        return [Print(*row[:-1], bool(row[-1])) for row in rows]

    def counts(self) -> list[dict]:
        """Prints per sheet, language and version: how many, first and last, how many personalised."""
        with self._connect() as db:
            rows = db.execute("""
                SELECT sheet, lang, version, COUNT(*), SUM(personalised), MIN(printed_at), MAX(printed_at)
                FROM prints GROUP BY sheet, lang, version ORDER BY sheet, lang, version""").fetchall()
        return [dict(zip(("sheet", "lang", "version", "prints", "personalised", "first", "last"), row))
                for row in rows]

    def total(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM prints").fetchone()[0]

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        with self._connect() as db:
            for row in db.execute(f"SELECT {', '.join(COLUMNS)} FROM prints ORDER BY id"):
                writer.writerow(row)
        return out.getvalue()
