"""Send to printer: a sheet handed to CUPS (``lp``) at 100% scale, and nothing of it kept.

The PDF goes to ``lp`` on its standard input (never a file of ours), titled with the sheet's
name only, at actual size (``fit-to-page=false``, ``scaling=100``: the sheet's layout is
measured for its paper). By default CUPS keeps a printed job's document for a day
(``PreserveJobFiles``), and that document holds the patient's name; CUPS 2.4 refuses to
purge one completed job (``cancel -x`` answers "already completed"), so once the printer has
no job left to print, its finished jobs are purged (``cancel -a -x PRINTER``). A printer that
never falls idle keeps them until it does: set ``PreserveJobFiles No`` in cupsd.conf too.
"""
from __future__ import annotations

import logging
import re
import subprocess
import threading
import time

logger = logging.getLogger(__name__)

#: How long sending may take, and how long a job is watched for the end of its printing.
SEND_SECONDS = 20
WATCH_SECONDS = 15 * 60
#: Options for every job: actual size, no banner pages.
OPTIONS = ("fit-to-page=false", "scaling=100", "job-sheets=none,none")
#: The paper of the sheet, as CUPS names its media: the printer takes the paper it was laid out for.
MEDIA = {"letter": "Letter", "a4": "A4"}


class Printer:
    """A CUPS printer by name (``[server] printer`` in handouts.toml)."""

    def __init__(self, name: str):
        self.name = name

    def send(self, pdf: bytes, title: str, paper: str) -> str:
        """Queue the PDF; its CUPS job id ("office-42"). OSError when CUPS refuses it."""
        command = ["lp", "-d", self.name, "-t", title]
        for option in (*OPTIONS, f"media={MEDIA.get(paper, paper)}"):
            command += ["-o", option]
        try:
            done = subprocess.run(command, input=pdf, capture_output=True, timeout=SEND_SECONDS, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise OSError(f"lp did not run: {error}") from None
        answer = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
        job = re.search(r"request id is (\S+)", answer)
        if done.returncode or not job:
            raise OSError(f"lp said: {answer.strip() or f'exit status {done.returncode}'}")
        threading.Thread(target=purge_when_printed, args=(self.name, job[1]), daemon=True, name="handouts-purge").start()
        return job[1]


def purge_when_printed(printer: str, job: str, seconds: float = WATCH_SECONDS) -> None:
    """Once the printer has nothing left to print, purge its finished jobs' documents (ours
    among them) from CUPS's spool. A job waiting to print is never touched."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not waiting(printer):
            subprocess.run(["cancel", "-a", "-x", printer], capture_output=True, timeout=SEND_SECONDS,
                           check=False)
            return
        time.sleep(0.5)
    logger.warning("printer %s: still busy %d minutes after job %s; its document stays in CUPS's "
                   "spool until PreserveJobFiles (cupsd.conf) lets it go", printer, seconds // 60, job)


def waiting(printer: str) -> bool:
    """Whether the printer has a job still waiting or printing (or CUPS does not answer)."""
    done = subprocess.run(["lpstat", "-W", "not-completed", "-o", printer], capture_output=True,
                          timeout=SEND_SECONDS, check=False)
    return done.returncode != 0 or bool(done.stdout.strip())
