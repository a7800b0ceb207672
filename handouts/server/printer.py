"""Send to printer: a sheet handed to CUPS (``lp``) at 100% scale, and nothing of it kept.

The PDF goes to ``lp`` on its standard input (never a file of ours), titled with the sheet's
name only, at actual size (``fit-to-page=false``, ``scaling=100``: the sheet's layout is
measured for its paper). Once CUPS has printed it, the job is purged (``cancel -x``): by
default CUPS keeps a printed job's document for a day (``PreserveJobFiles``), and that
document holds the patient's name.
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
#: Options for every job: actual size, and no job history beyond the printing itself.
OPTIONS = ("fit-to-page=false", "scaling=100", "job-sheets=none,none")


class Printer:
    """A CUPS printer by name (``[server] printer`` in handouts.toml)."""

    def __init__(self, name: str):
        self.name = name

    def send(self, pdf: bytes, title: str) -> str:
        """Queue the PDF; its CUPS job id ("office-42"). OSError when CUPS refuses it."""
        command = ["lp", "-d", self.name, "-t", title]
        for option in OPTIONS:
            command += ["-o", option]
        try:
            done = subprocess.run(command, input=pdf, capture_output=True, timeout=SEND_SECONDS, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise OSError(f"lp did not run: {error}") from None
        answer = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
        job = re.search(r"request id is (\S+)", answer)
        if done.returncode or not job:
            raise OSError(f"lp said: {answer.strip() or f'exit status {done.returncode}'}")
        threading.Thread(target=purge_when_printed, args=(job[1],), daemon=True, name="handouts-purge").start()
        return job[1]


def purge_when_printed(job: str, seconds: float = WATCH_SECONDS) -> None:
    """Wait until CUPS no longer has the job queued, then purge its document from the spool."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and queued(job):
        time.sleep(0.5)
    done = subprocess.run(["cancel", "-x", job], capture_output=True, timeout=SEND_SECONDS, check=False)
    if done.returncode and queued(job):
        logger.warning("printer: job %s is still queued after %d minutes; it stays in CUPS's spool "
                       "until it prints", job, seconds // 60)


def queued(job: str) -> bool:
    """Whether the job is still waiting or printing."""
    done = subprocess.run(["lpstat", "-W", "not-completed", "-o"], capture_output=True, timeout=SEND_SECONDS,
                          check=False)
    return any(line.split()[:1] == [job] for line in done.stdout.decode(errors="replace").splitlines())
