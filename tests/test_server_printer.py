"""Send to printer, against a real CUPS: a cupsd of the test's own (its own folders and socket)
with a cups-pdf printer. Skipped, saying why, where CUPS is not installed or cannot start
(`make test` installs it when run as root)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pypdfium2
import pytest
from starlette.testclient import TestClient

from conftest import one_sheet_project
from handouts.server.app import create_app

CUPSD = Path("/usr/sbin/cupsd")
CUPS_PDF = Path("/usr/lib/cups/backend/cups-pdf")
PPD = Path("/usr/share/ppd/cups-pdf/CUPS-PDF_noopt.ppd")
PRINTER = "handouts-test"

pytestmark = pytest.mark.skipif(
    not (CUPSD.exists() and CUPS_PDF.exists() and PPD.exists() and shutil.which("lp")),
    reason="needs CUPS and its cups-pdf printer: apt-get install cups cups-client printer-driver-cups-pdf")


@pytest.fixture(scope="module")
def cups():
    """A cupsd on a socket of its own, with CUPS's default job retention, and its spool."""
    # CUPS's filters run as the user lp: its folders must be reachable by lp, as pytest's are not.
    folder = Path(tempfile.mkdtemp(prefix="handouts-cups-"))
    folder.chmod(0o755)
    for name in ("etc", "spool/tmp", "run", "cache", "log"):
        (folder / name).mkdir(parents=True)
    (folder / "cups-files.conf").write_text(
        f"ServerRoot {folder}/etc\nRequestRoot {folder}/spool\nTempDir {folder}/spool/tmp\n"
        f"StateDir {folder}/run\nCacheDir {folder}/cache\nAccessLog {folder}/log/access_log\n"
        f"ErrorLog {folder}/log/error_log\nPageLog {folder}/log/page_log\nSystemGroup root\n")
    (folder / "cupsd.conf").write_text(f"Listen {folder}/cups.sock\nWebInterface No\nBrowsing No\n"
                                       f"<Location />\n  Order allow,deny\n  Allow all\n</Location>\n")
    daemon = subprocess.Popen([CUPSD, "-f", "-c", folder / "cupsd.conf", "-s", folder / "cups-files.conf"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    environment = {**os.environ, "CUPS_SERVER": str(folder / "cups.sock")}
    try:
        deadline = time.monotonic() + 10
        while not (folder / "cups.sock").exists() and daemon.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        added = subprocess.run(["lpadmin", "-p", PRINTER, "-E", "-v", "cups-pdf:/", "-P", PPD],
                               env=environment, capture_output=True, text=True)
        if daemon.poll() is not None or added.returncode:
            pytest.skip(f"CUPS did not start here: {daemon.stderr.read1().decode() if daemon.poll() is not None else added.stderr}")
        yield folder
    finally:
        daemon.terminate()
        daemon.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def client(cups, tmp_path, monkeypatch):
    monkeypatch.setenv("CUPS_SERVER", str(cups / "cups.sock"))
    project = one_sheet_project(tmp_path)
    config = project / "handouts.toml"
    config.write_text(config.read_text().replace('printer = ""', f'printer = "{PRINTER}"'))
    with TestClient(create_app(project, watch=False), base_url="http://127.0.0.1:8000") as client:
        yield client


def printed_pdfs(since: float) -> list[Path]:
    """What cups-pdf wrote (into ~/PDF, as /etc/cups/cups-pdf.conf says) since then."""
    folder = Path.home() / "PDF"
    return [path for path in folder.glob("*.pdf") if path.stat().st_mtime >= since] if folder.is_dir() else []


def test_a_personalised_sheet_is_sent_and_nothing_of_it_stays_in_the_spool(client, cups):
    started = time.time() - 1
    form = client.get("/personalise/en/ketamine-aftercare").text
    assert 'formaction="/send/en/ketamine-aftercare">Send to printer</button>' in form
    response = client.post("/send/en/ketamine-aftercare", data={"patient": "Wilhelmina Spoolcheck"})
    assert response.status_code == 200, response.text
    job = re.search(rf"as job <strong>({PRINTER}-\d+)</strong>, at 100%", response.text)
    assert job, response.text
    spool = cups / "spool"
    deadline = time.monotonic() + 30
    while [path for path in spool.iterdir() if path.is_file()] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [path.name for path in spool.iterdir() if path.is_file()] == []  # no document, no job file
    # cups-pdf "printed" it: one US Letter page under the sheet's name (never the patient's).
    outputs = printed_pdfs(started)
    try:
        assert [path.name.split("__")[0] for path in outputs] == ["ketamine-aftercare-en"]
        document = pypdfium2.PdfDocument(outputs[0])
        assert len(document) == 2 and tuple(round(side) for side in document[0].get_size()) == (612, 792)
        document.close()
    finally:
        for path in outputs:
            path.unlink()


def test_a_printer_that_refuses_is_said_plainly(client, monkeypatch):
    client.app.state.printer.name = "no-such-printer"
    response = client.post("/send/en/ketamine-aftercare", data={})
    assert response.status_code == 502
    assert "The printer did not take the sheet" in response.text and "no-such-printer" in response.text


def test_the_sent_page_passes_axe(cups, tmp_path, monkeypatch):
    """In Chromium, from the form's own button, as staff use it."""
    from test_browser import ARGS, AXE, CHROMIUM, serious_violations, serving

    if not (CHROMIUM.exists() and AXE.exists()):
        pytest.skip("needs /usr/bin/chromium and node_modules/axe-core (make test installs both)")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("CUPS_SERVER", str(cups / "cups.sock"))
    project = one_sheet_project(tmp_path)
    config = project / "handouts.toml"
    config.write_text(config.read_text().replace('printer = ""', f'printer = "{PRINTER}"'))
    started = time.time() - 1
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        for url in serving(create_app(project, watch=False)):
            page = browser.new_page()
            page.set_default_timeout(30000)
            page.goto(url + "/personalise/en/ketamine-aftercare")
            with page.expect_navigation():
                page.get_by_role("button", name="Send to printer").click()
            assert page.get_by_role("heading", name="Sent to the printer").is_visible()
            if os.environ.get("HANDOUTS_SCREENSHOTS"):
                page.screenshot(path=Path(os.environ["HANDOUTS_SCREENSHOTS"]) / "sent.png", full_page=True)
            assert serious_violations(page) == []
        browser.close()
    deadline = time.monotonic() + 30
    while not printed_pdfs(started) and time.monotonic() < deadline:
        time.sleep(0.2)
    for path in printed_pdfs(started):
        path.unlink()
