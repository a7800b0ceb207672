"""The web app's dates, plain prints from dist/, a print log that cannot be written, a sheet
that cannot print, and requests from other sites: through Starlette's TestClient, over one
English-only copy of the project for the module."""
from __future__ import annotations

import concurrent.futures
import csv
import io
import re
import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from conftest import english_project, run
from handouts import dates, pipeline
from handouts.config import load_project
from handouts.pdf import pdf_text
from handouts.server import form, logpage
from handouts.server.app import create_app

SHEET = "/print/en/ketamine-aftercare"
PHOENIX = dates.zone("America/Phoenix")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return english_project(tmp_path_factory.mktemp("served-v2") / "project")


@pytest.fixture(scope="module")
def client(project):
    with TestClient(create_app(project, watch=False), base_url="http://127.0.0.1:8000") as client:
        yield client


def form_errors(response) -> dict[str, str]:
    return dict(re.findall(r'<p class="field-error" id="([a-z_]+)-error"><span class="visually-hidden">'
                           r'Error:</span> ([^<]*)</p>', response.text))


# --- dates ------------------------------------------------------------------------------------

def test_dates_are_written_out_in_the_sheets_language():
    when = datetime(2026, 12, 10, 9, 30)
    assert dates.long_date_time(when, "es") == "jueves, 10 de diciembre de 2026, 9:30"
    assert dates.long_date_time(when, "en") == "Thursday, December 10, 2026, 9:30 AM"
    assert dates.long_date(when.date(), "en") == "December 10, 2026"
    assert dates.long_date(when.date(), "es") == "10 de diciembre de 2026"


@pytest.mark.parametrize("field, value", [
    ("treatment_date", "tomorrow"), ("treatment_date", "2026-02-30"), ("treatment_date", "10/12/2026"),
    ("next_visit", "2030-12-10"), ("next_visit", "2030-12-10T25:00"), ("next_visit", "Thu 9:30 am")])
def test_a_value_that_is_not_a_date_is_400_at_its_field(client, field, value):
    response = client.post(SHEET, data={field: value, "patient": "Kept Name"})
    assert response.status_code == 400
    assert form_errors(response)[field].startswith("This is not a date")
    assert f'value="{value}"' in response.text and 'value="Kept Name"' in response.text


def test_the_next_visit_may_be_now_but_not_a_minute_ago(client):
    now = datetime.now(PHOENIX)
    if now.second > 50:  # the minute must not turn between here and the server's check
        time.sleep(61 - now.second)
        now = datetime.now(PHOENIX)
    this_minute = now.strftime("%Y-%m-%dT%H:%M")
    refused = client.post(SHEET, data={"next_visit": (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")})
    assert refused.status_code == 400
    assert form_errors(refused)["next_visit"].startswith("This time has passed: it is now ")
    printed = client.post(SHEET, data={"next_visit": this_minute, "edition": "large-print"})
    assert printed.status_code == 200
    assert dates.long_date_time(datetime.fromisoformat(this_minute), "en") in re.sub(r"\s+", " ", pdf_text(printed.content))


def test_the_clinics_time_zone_is_checked_at_its_line(tmp_path):
    project = english_project(tmp_path / "project")
    config = project / "handouts.toml"
    text = config.read_text().replace('time_zone = "America/Phoenix"', 'time_zone = "Mars/Olympus_Mons"')
    config.write_text(text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("time_zone"))
    result = run("-C", project, "list")
    assert result.exit_code == 1
    assert (f"handouts.toml:{line}: [clinic] time_zone: expected a time zone name such as "
            f"\"America/Phoenix\", found 'Mars/Olympus_Mons'") in result.output


@pytest.mark.parametrize("note, where", [("Bring your list.", "note"), ("", form.WHOLE_FORM)])
def test_a_sheet_too_long_is_said_at_the_note_or_for_the_whole_form(note, where):
    filled = form.Filled({"note": note})
    form.gate_refusal(filled, pipeline.PageBudgetError(Path("x.md"), "too long", None, 2))
    assert list(filled.errors) == [where]
    assert filled.errors[where].startswith("With this, the sheet needs 2 pages, more than it may have.")


# --- plain prints -------------------------------------------------------------------------------

def test_a_plain_print_is_dists_pdf_and_never_waits_for_personalised_ones(client, project):
    pipeline.build(load_project(project), ["ketamine-aftercare"], out=project / "dist", editions=["standard"])
    built = (project / "dist/en/ketamine-aftercare.pdf").read_bytes()
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        burst = [pool.submit(client.post, SHEET, data={"patient": f"Patient {n}"}) for n in range(6)]
        time.sleep(0.3)  # the personalised prints have started and fill every worker
        started = time.perf_counter()
        plain = client.post(SHEET, data={})
        seconds = time.perf_counter() - started
        busy = sum(not future.done() for future in burst)
        assert all(future.result().status_code == 200 for future in burst)
    assert plain.status_code == 200 and plain.content == built
    assert busy >= 3, "the burst was over before the plain print: it proves nothing"
    assert seconds < 0.5, f"a plain print took {seconds:.2f} s during a burst of personalised ones"


# --- the print log ------------------------------------------------------------------------------

def test_a_locked_print_log_never_costs_the_print(client, caplog):
    log = client.app.state.log
    assert client.post(SHEET, data={}).status_code == 200  # the plain sheet is ready: only the log is timed
    holder = sqlite3.connect(log.path)
    holder.execute("BEGIN EXCLUSIVE")  # another program holds the log
    try:
        with caplog.at_level("ERROR", logger="handouts.server.printlog"):
            started = time.perf_counter()
            response = client.post(SHEET, data={})
            seconds = time.perf_counter() - started
        unreadable = client.get("/log")
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert seconds < 2
    assert "could not record a print of ketamine-aftercare" in caplog.text
    assert unreadable.status_code == 503 and "The print log cannot be read right now" in unreadable.text
    page = client.get("/log").text
    assert "The log could not be written" in page and "database is locked" in page
    log.failure = None


def test_the_log_shows_a_chosen_period_in_the_clinics_time(client):
    log = client.app.state.log
    log.record("ketamine-treatment", "en", "large-print", "a4", "0.9", "approved", True,
               now=datetime(2021, 3, 1, 6, 30, tzinfo=dates.zone("UTC")))  # 23:30 on Feb 28 in Phoenix
    page = client.get("/log", params={"from": "2021-02-28", "to": "2021-02-28"}).text
    assert "1 print from 2021-02-28 to 2021-02-28." in page
    assert '<time datetime="2021-03-01T06:30:00+00:00">2021-02-28 23:30</time>' in page
    assert "0 prints from 2021-03-01" in client.get("/log", params={"from": "2021-03-01", "to": "2021-03-01"}).text
    response = client.get("/log.csv", params={"from": "2021-02-28", "to": "2021-02-28"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1] == ["2021-02-28 23:30", "What to expect from ketamine treatment", "0.9", "No", "English",
                       "Large print", "A4", "Yes"]


@pytest.mark.parametrize("params", [{"from": "yesterday"}, {"to": "2021-02-30"}, {"from": "2021-03-02", "to": "2021-03-01"}])
def test_a_period_that_is_not_one_is_400(client, params):
    response = client.get("/log", params=params)
    assert response.status_code == 400 and "Please check the dates" in response.text


@pytest.mark.parametrize("cell, safe", [("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+1", "'+1"), ("-1", "'-1"),
                                        ("@SUM(A1)", "'@SUM(A1)"), ("1.0", "1.0"), ("Ann", "Ann")])
def test_csv_cells_never_run_as_formulas(cell, safe):
    assert logpage.safe_cell(cell) == safe


# --- a sheet that cannot print ------------------------------------------------------------------

def test_a_sheet_that_cannot_print_says_why_in_the_catalogue(tmp_path):
    project = english_project(tmp_path / "project")
    sheet = project / "content/en/ketamine-treatment.md"
    sheet.write_text(sheet.read_text().replace("max_pages: 2", "max_pages: 1", 1))
    with TestClient(create_app(project, watch=False), base_url="http://127.0.0.1:8000") as client:
        html = client.get("/").text
    card = html[html.index("What to expect from ketamine treatment"):]
    assert "Cannot be printed" in html and '/thumb/en/ketamine-treatment.png' not in html
    assert re.search(r"cannot be printed until its file is fixed:\s*<code>content/en/ketamine-treatment\.md:\d+: "
                     r"en/ketamine-treatment\.pdf has 2 pages; its budget is 1", card)
    assert 'formaction="/print/en/ketamine-treatment"' not in html
    assert 'formaction="/print/en/ketamine-aftercare"' in html


# --- requests from other sites ------------------------------------------------------------------

@pytest.mark.parametrize("path", [SHEET, "/access", "/send/en/ketamine-aftercare", "/log", "/nowhere"])
@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Origin": "null"},
                                     {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                                     {"Origin": "http://["}])
def test_every_post_from_another_site_is_refused(client, path, headers):
    response = client.post(path, data={}, headers=headers)
    assert response.status_code == 403 and "Please use this app" in response.text


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://127.0.0.1:8000"}, {}])
def test_a_post_from_the_apps_own_page_or_no_browser_prints(client, headers):
    assert client.post(SHEET, data={}, headers=headers).status_code == 200


def test_without_a_printer_there_is_no_send_to_printer(client):
    assert "Send to printer" not in client.get("/").text
    assert "Send to printer" not in client.get("/personalise/en/ketamine-aftercare").text
    assert client.post("/send/en/ketamine-aftercare", data={}).status_code == 404


@pytest.mark.parametrize("name, ok", [("front-desk", True), ("HP_LaserJet@office", True), ("-o", False),
                                      ("two words", False), ("a/b", False), ("x" * 128, False)])
def test_the_printers_name_is_checked(tmp_path, name, ok):
    project = english_project(tmp_path / "project")
    config = project / "handouts.toml"
    config.write_text(config.read_text().replace('printer = ""', f'printer = "{name}"'))
    result = run("-C", project, "list")
    assert (result.exit_code == 0) == ok, result.output
    if not ok:
        assert re.search(r"handouts\.toml:\d+: \[server\] printer: expected", result.output)
