"""The web app through Starlette's TestClient: every route, every bad input, and patient data
that never reaches the disk. One app over one copy of the project serves the whole module, so
only a few sheets are ever printed."""
from __future__ import annotations

import concurrent.futures
import csv
import io
import json
import os
import re
import socket
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from conftest import copy_project, run
from handouts.errors import HandoutsError
from handouts.pdf import pdf_text
from handouts.pipeline import PERSONAL_LIMITS
from handouts.server import preview, security, serving
from handouts.server.app import create_app

SHEET = "/print/en/ketamine-aftercare"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("served") / "project")


@pytest.fixture(scope="module")
def client(project):
    with TestClient(create_app(project), base_url="http://127.0.0.1:8000") as client:
        yield client


def printed(response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return pdf_text(response.content)


def last_print(client):
    return client.app.state.log.between(datetime(2000, 1, 1, tzinfo=timezone.utc),
                                        datetime.now(timezone.utc) + timedelta(days=1), 1)[0]


def squeezed(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# --- the catalogue ----------------------------------------------------------------------------

def test_catalogue_lists_every_sheet_with_its_languages_and_choices(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    assert "After your ketamine treatment" in html and "What to expect from ketamine treatment" in html
    assert html.count('formaction="/print/es/ketamine-aftercare"') == 1
    assert 'formaction="/personalise/en/ketamine-treatment"' in html
    assert 'href="/preview/es/ketamine-treatment"' in html
    assert '<option value="large-print">Large print</option>' in html
    assert '<option value="a4">A4</option>' in html
    assert "Spanish (español)" in html and "Draft: not yet reviewed" in html
    assert "2 of 2 sheets" in html


def test_catalogue_filter_works_without_javascript(client):
    html = client.get("/", params={"q": "AFTERCARE"}).text
    assert "1 of 2 sheets" in html
    hidden = re.findall(r'<li class="sheet" data-search="([^"]*)"( hidden)?>', html)
    assert [(("aftercare" in search), bool(flag)) for search, flag in hidden] == [(True, False), (False, True)]


@pytest.mark.parametrize("query, shown", [("spanish", 2), ("español", 2), ("espanol", 2), ("LARGE print", 2),
                                          ("despues", 1), ("después de", 1), ("antes de su", 1),
                                          ("after spanish", 1), ("french", 0)])
def test_the_search_knows_languages_print_sizes_and_ignores_accents(client, query, shown):
    assert f"{shown} of 2 sheets" in client.get("/", params={"q": query}).text


def test_thumbnail_is_the_first_page_as_png(client):
    response = client.get("/thumb/en/ketamine-aftercare.png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")


def test_personalise_form_shows_each_limit_and_cuts_nothing(client):
    html = client.get("/personalise/es/ketamine-aftercare", params={"edition": "large-print"}).text
    for name in ("patient", "clinician", "note"):
        limit = PERSONAL_LIMITS[name]
        assert re.search(rf'id="{name}" name="{name}"[^>]* data-limit="{limit}" '
                         rf'aria-describedby="{name}-hint {name}-count"', html)
        assert f'id="{name}-count">{limit} characters left</p>' in html
        assert f'<p class="visually-hidden" id="{name}-count-said" aria-live="polite">' in html
    assert "maxlength" not in html  # a pasted text is never cut short without a word
    assert 'name="treatment_date" type="date"' in html and 'name="next_visit" type="datetime-local"' in html
    assert 'action="/print/es/ketamine-aftercare"' in html and 'autocomplete="off"' in html
    assert 'target="_blank"' not in html
    assert '<option value="large-print" selected>' in html


# --- printing ---------------------------------------------------------------------------------

def test_plain_print_has_write_in_lines_and_is_logged(client):
    before = client.app.state.log.total()
    response = client.post(SHEET, data={})
    text = squeezed(printed(response))
    assert "Prepared for" in text and "Next visit" in text and "Your doctor or nurse" in text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"] == 'inline; filename="ketamine-aftercare-en.pdf"'
    assert client.app.state.log.total() == before + 1
    assert last_print(client).personalised is False


def test_personalised_print_shows_text_never_markup_and_leaves_no_trace(client, project):
    started = time.time() - 1
    name = f"Zephyrine <b>Quillfeather</b> {uuid.uuid4().hex[:8]}"
    response = client.post("/print/es/ketamine-aftercare", data={
        "patient": name, "treatment_date": "2026-11-27", "next_visit": "2030-12-10T10:30",
        "clinician": "Dr. Okafor", "note": "Traiga su lista\r\nde medicinas.", "edition": "large-print",
        "paper": "a4"})
    text = squeezed(printed(response))
    assert name in text  # the tags print as typed
    assert "Dr. Okafor" in text and "Traiga su lista de medicinas." in text
    assert "27 de noviembre de 2026" in text and "viernes" not in text and "martes, 10 de diciembre de 2030, 10:30" in text
    assert response.headers["cache-control"] == "no-store"
    row = last_print(client)
    assert (row.sheet, row.lang, row.edition, row.paper, row.version, row.status, row.personalised) == (
        "ketamine-aftercare", "es", "large-print", "a4", "1.3", "draft", True)
    secret = name.split()[-1].encode()
    folders = [project, Path(tempfile.gettempdir())]
    leaks = [path for folder in folders for path in files_written_since(folder, started)
             if secret in path.read_bytes()]
    assert leaks == []
    assert list((project / ".handouts").iterdir())  # the print log is there, and was searched


def files_written_since(folder: Path, since: float):
    for directory, _, names in os.walk(folder):
        for name in names:
            path = Path(directory, name)
            try:
                if path.is_file() and path.stat().st_mtime >= since and path.stat().st_size < 50_000_000:
                    yield path
            except OSError:
                continue


def test_concurrent_prints_each_hold_only_their_own_name(client):
    names = [f"Patient {letter} {uuid.uuid4().hex[:6]}" for letter in "ABCD"]

    def print_for(name):
        return name, pdf_text(client.post(SHEET, data={"patient": name}).content)

    with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
        results = list(pool.map(print_for, names))
    for name, text in results:
        assert [other for other in names if other in squeezed(text)] == [name]


def test_request_log_shows_the_path_only(client, caplog):
    caplog.set_level("INFO", logger="handouts.server.requests")
    client.post(SHEET, data={"patient": "Orsolya Vantablack"}, params={"edition": "standard"})
    lines = [record.getMessage() for record in caplog.records if record.name == "handouts.server.requests"]
    assert any(line.startswith("POST /print/en/ketamine-aftercare 200") for line in lines)
    assert not any("Orsolya" in line or "edition" in line for line in lines)


# --- the print log ----------------------------------------------------------------------------

def test_log_page_counts_prints_per_sheet_version_by_title(client):
    client.post("/print/en/ketamine-treatment", data={"paper": "a4"})
    html = client.get("/log").text
    assert "Prints per version, language, print size and paper" in html
    start, end = datetime.now(timezone.utc) - timedelta(days=1), datetime.now(timezone.utc) + timedelta(days=1)
    counts = {(row["sheet"], row["version"], row["lang"], row["edition"], row["paper"]): row["prints"]
              for row in client.app.state.log.counts(start, end)}
    row = re.search(r"<tr><td>What to expect from ketamine treatment</td><td>1.2</td><td>English</td>\s*"
                    r'<td>Standard</td><td>A4</td>\s*<td class="number">(\d+)</td>', html)
    assert row and int(row[1]) == counts[("ketamine-treatment", "1.2", "en", "standard", "a4")] >= 1
    assert "ketamine-treatment<" not in html  # titles, not file names
    assert "Times are the clinic's (America/Phoenix)" in html


def test_log_exports_csv_for_a_spreadsheet(client):
    response = client.get("/log.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())  # UTF-8 with a BOM: Excel reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0]) == ["Printed at (America/Phoenix)", "Sheet", "Version", "Draft", "Language",
                             "Print size", "Paper", "Personalised"]
    assert len(rows) == client.app.state.log.total()
    assert {row["Personalised"] for row in rows} == {"Yes", "No"}
    assert "Después de su tratamiento con ketamina" not in {row["Sheet"] for row in rows}
    assert "After your ketamine treatment" in {row["Sheet"] for row in rows}
    assert "Spanish (español)" in {row["Language"] for row in rows}


# --- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("method, url, data", [
    ("post", "/print/en/no-such-sheet", {}),
    ("post", "/print/fr/ketamine-aftercare", {}),
    ("post", SHEET, {"edition": "huge-print"}),
    ("post", SHEET, {"paper": "legal"}),
    ("get", "/personalise/en/no-such-sheet", None),
    ("get", "/personalise/en/ketamine-aftercare?paper=legal", None),
    ("get", "/preview/en/no-such-sheet", None),
    ("get", "/preview/xx/ketamine-aftercare", None),
    ("get", "/preview/en/ketamine-aftercare?edition=tiny", None),
    ("get", "/thumb/en/no-such-sheet.png", None),
    ("get", "/no/such/page", None),
])
def test_unknown_names_are_404_with_a_way_back(client, method, url, data):
    response = client.post(url, data=data) if method == "post" else client.get(url)
    assert response.status_code == 404
    assert "That sheet is not here" in response.text and 'href="/"' in response.text


@pytest.mark.parametrize("url", [
    "/preview/en/..%2f..%2fetc%2fpasswd/page-1.png",
    "/preview/en/..%2F..%2Fhandouts.toml",
    "/preview/..%2f..%2fetc/ketamine-aftercare",
    "/thumb/en/%2e%2e%2fketamine-aftercare.png",
    "/preview/en/%2e%2e/page-1.png",
    "/static/..%2f..%2fhandouts.toml",
    "/static/fonts/..%2f..%2fhandouts.toml",
    "/personalise/en/ketamine-aftercare%00",
])
def test_path_traversal_is_404(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "[clinic]" not in response.text and "root:" not in response.text


def test_body_over_16_kib_is_413(client):
    response = client.post(SHEET, data={"note": "x" * (16 * 1024)})
    assert response.status_code == 413
    assert "at most 16 KiB" in response.text


@pytest.mark.parametrize("name", ["patient", "clinician", "note"])
def test_each_field_takes_its_limit_and_refuses_one_more_on_the_same_form(client, name):
    limit = PERSONAL_LIMITS[name]
    refused = client.post(SHEET, data={name: "y" * (limit + 1), "clinician" if name != "clinician" else "patient": "Dr. Kept"})
    assert refused.status_code == 400
    html = refused.text
    assert f"This has {limit + 1} characters: 1 too many. Shorten it to {limit} or fewer." in html
    assert re.search(rf'id="{name}"[^>]* aria-describedby="{name}-hint {name}-error {name}-count"[^>]* '
                     rf'aria-invalid="true" autofocus', html)
    assert "Dr. Kept" in html and "y" * (limit + 1) in html  # every value is kept
    assert '<p class="count over" id="' + name + '-count">1 character too many</p>' in html
    # The limit itself prints (in large print, which has the room for a 500-character note).
    exact = client.post(SHEET, data={name: ("Ann Lee " * 100)[:limit], "edition": "large-print"})
    assert exact.status_code == 200 and exact.headers["content-type"] == "application/pdf"


def test_control_characters_are_400(client):
    response = client.post(SHEET, data={"patient": "Ann\x1b[31m"})
    assert response.status_code == 400
    assert "Patient&#39;s name: This holds a control character" in response.text


def test_a_character_the_font_lacks_is_400_naming_the_field(client):
    response = client.post(SHEET, data={"patient": "Ann \ue000"})  # private use: no font has it
    assert response.status_code == 400
    assert ("No font of this sheet can print a character of this (U+E000), such as an emoji. Use plain "
            "letters, or write it in by hand on the printed sheet." in response.text)
    assert 'id="patient-error"' in response.text


def test_a_note_at_its_limit_prints_on_every_sheet(client):
    # The "Prepared for" box has room for every field at its limit (tests/test_personal_room.py).
    note = ("Please bring your list of medicines. " * 5)[:PERSONAL_LIMITS["note"]]
    response = client.post(SHEET, data={"note": note})
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")


def test_a_form_not_url_encoded_is_refused(client):
    response = client.post(SHEET, files={"patient": ("a.txt", b"Ann")})
    assert response.status_code == 415


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:8001"])
def test_a_form_from_another_site_is_refused(client, origin):
    """``null`` is what a sandboxed frame on any web page sends."""
    response = client.post(SHEET, data={}, headers={"Origin": origin})
    assert response.status_code == 403


def test_a_form_from_the_apps_own_page_prints(client):
    response = client.post(SHEET, data={}, headers={"Origin": "http://127.0.0.1:8000"})
    assert response.status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "rebound.example:8000", "192.0.2.10:8000"])
def test_a_host_the_server_was_not_started_for_is_refused(client, host):
    """A page whose name is re-pointed at this computer (DNS rebinding) reads nothing."""
    for path in ("/", "/log.csv", "/preview/en/ketamine-aftercare"):
        assert client.get(path, headers={"Host": host}).status_code == 400


def test_the_hosts_of_a_server_on_every_address_are_this_computers():
    hosts = security.allowed_hosts("0.0.0.0")
    assert "127.0.0.1" in hosts and "localhost" in hosts and socket.gethostname() in hosts
    assert "evil.example" not in hosts


@pytest.mark.parametrize("number", [0, 3, 99])
def test_page_past_the_end_is_404(client, number):
    assert client.get(f"/preview/en/ketamine-aftercare/page-{number}.png").status_code == 404


def test_every_response_has_the_security_headers(client):
    for response in (client.get("/"), client.get("/nowhere"), client.get("/static/app.css"),
                     client.get("/preview/en/ketamine-aftercare/page-1.png"), client.post(SHEET, data={"x": "1"})):
        headers = response.headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
    for html in (client.get("/").text, client.get("/preview/en/ketamine-aftercare").text):
        assert not re.search(r"<script(?![^>]*\ssrc=)", html)  # no inline script for the CSP to allow
        assert not re.search(r"\son[a-z]+=", html) and 'style="' not in html


# --- the live preview -------------------------------------------------------------------------

def test_preview_shows_the_pages_and_serves_each_as_png(client):
    html = client.get("/preview/en/ketamine-aftercare").text
    images = re.findall(r'<img src="(/preview/en/ketamine-aftercare/page-\d+\.png\?[^"]+)"', html)
    assert len(images) == 2
    response = client.get(images[0].replace("&amp;", "&"))
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
    assert 'data-events="/preview/en/ketamine-aftercare/events?' in html


def next_event(client, url: str, since: int) -> dict:
    with client.stream("GET", url, params={"since": since}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        body = "".join(response.iter_text())
    data = re.search(r"^data: (.*)$", body, re.M)
    assert data, body
    return json.loads(data[1])


def edit_and_wait(client, path: Path, text: str, url: str) -> dict:
    sheets = client.app.state.sheets
    since = sheets.generation
    result = {}
    waiter = threading.Thread(target=lambda: result.update(next_event(client, url, since)))
    waiter.start()
    time.sleep(0.1)
    path.write_text(text)
    waiter.join(timeout=20)
    assert result, "no event within 20 s"
    return result


def test_preview_follows_edits_and_shows_errors_at_their_line(client, project):
    url = "/preview/en/ketamine-treatment/events"
    first = client.get("/preview/en/ketamine-treatment/page-1.png").content
    styles = project / "styles" / "tokens.css"
    original = styles.read_text()
    state = edit_and_wait(client, styles, original.replace("#0e5a63", "#7a1f5c"), url)
    assert state["error"] is None and state["pages"] == 2
    changed = client.get(state["images"][0])
    assert changed.status_code == 200 and changed.content != first

    template = project / "templates" / "handout.html"
    good = template.read_text()
    state = edit_and_wait(client, template, good.replace("{% endblock %}", "{% endblok %}"), url)
    assert re.match(r".*templates/handout\.html:\d+: ", state["error"])
    assert state["images"] == []
    page = client.get("/preview/en/ketamine-treatment")
    assert page.status_code == 200 and "This sheet does not print" in page.text
    assert "templates/handout.html:" in page.text
    assert client.get("/preview/en/ketamine-treatment/page-1.png").status_code == 404

    template.write_text(good)
    state = edit_and_wait(client, styles, original, url)
    assert state["error"] is None and state["pages"] == 2
    assert client.get(state["images"][0]).content == first


def test_event_stream_ends_quietly_when_nothing_changes(client, monkeypatch):
    monkeypatch.setattr(preview, "EVENT_WAIT_SECONDS", 0.2)
    generation = client.app.state.sheets.generation
    with client.stream("GET", "/preview/en/ketamine-aftercare/events",
                       headers={"Last-Event-ID": str(generation)}) as response:
        body = "".join(response.iter_text())
    assert body == "retry: 250\n\n: nothing changed\n\n"


# --- the access code --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def guarded(project):
    with TestClient(create_app(project, access_code="bluebird-42-sunrise", watch=False,
                               hosts=security.allowed_hosts("192.0.2.10")),
                    base_url="http://192.0.2.10:8000") as client:
        yield client


def test_without_the_code_every_path_gets_the_same_401(guarded, monkeypatch):
    monkeypatch.setattr(security, "TRY_INTERVAL", 0)
    pages = [guarded.get(url) for url in ("/", "/log.csv", "/preview/en/ketamine-aftercare",
                                          "/preview/en/no-such-sheet", "/nowhere")]
    assert {page.status_code for page in pages} == {401}
    assert len({page.text for page in pages}) == 1
    assert "Enter the access code" in pages[0].text and "ketamine" not in pages[0].text
    assert guarded.post(SHEET, data={"patient": "x"}).status_code == 401
    wrong = guarded.post("/access", data={"code": "bluebird-41-sunrise"}, follow_redirects=False)
    assert wrong.status_code == 401 and "That code is not right" in wrong.text
    guarded.cookies.set("handouts_access", "forged.cookie.value")
    assert guarded.get("/").status_code == 401


def test_the_right_code_signs_the_browser_in(guarded, monkeypatch):
    monkeypatch.setattr(security, "TRY_INTERVAL", 0)
    guarded.cookies.clear()
    response = guarded.post("/access", data={"code": "bluebird-42-sunrise"}, follow_redirects=False)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    # A random token, not derived from the code: nothing in it leads back to the code.
    token = guarded.cookies.get(security.COOKIE)
    assert len(token) >= 40 and "bluebird" not in token
    assert guarded.get("/").status_code == 200
    guarded.cookies.clear()


def guarded_app(project, code="bluebird-42-sunrise"):
    return TestClient(create_app(project, access_code=code, watch=False,
                                 hosts=security.allowed_hosts("192.0.2.10")),
                      base_url="http://192.0.2.10:8000")


def test_tries_are_limited_for_every_browser_together(project):
    """A burst of guesses from many browsers is answered one per second, not checked."""
    with guarded_app(project) as client:
        answers = [client.post("/access", data={"code": f"guess-number-{n:04}"}) for n in range(20)]
    assert answers[0].status_code == 401
    assert [answer.status_code for answer in answers[1:]].count(429) >= 18
    assert "Please wait a moment" in answers[1].text


def test_ten_wrong_codes_lock_the_sign_in_and_say_so(project, monkeypatch, caplog):
    monkeypatch.setattr(security, "TRY_INTERVAL", 0)
    with guarded_app(project) as client, caplog.at_level("WARNING", logger="handouts.server.requests"):
        for n in range(security.LOCKOUT_AFTER - 1):
            assert client.post("/access", data={"code": f"guess-number-{n:04}"}).status_code == 401
        assert client.post("/access", data={"code": "guess-number-last"}).status_code == 401
        locked = client.post("/access", data={"code": "bluebird-42-sunrise"}, follow_redirects=False)
    assert locked.status_code == 429 and "signing in is paused for 15 minutes" in locked.text
    assert "10 wrong tries in a row; sign-in is locked for 15 minutes" in caplog.text


@pytest.mark.parametrize("code, ok", [("a" * 11, False), (" " * 12, False), ("a" * 12, True)])
def test_an_access_code_has_at_least_12_characters(project, code, ok):
    if ok:
        assert create_app(project, access_code=code, watch=False)
    else:
        with pytest.raises(HandoutsError, match="the access code must be at least 12 characters"):
            create_app(project, access_code=code, watch=False)


# --- serve and watch from the command line ----------------------------------------------------

def test_serve_refuses_another_host_without_a_code(project, monkeypatch):
    monkeypatch.delenv("HANDOUTS_ACCESS_CODE", raising=False)
    result = run("-C", project, "serve", "--host", "0.0.0.0", "--port", "1")
    assert result.exit_code == 1
    assert "needs an access code; expected HANDOUTS_ACCESS_CODE" in result.output


def test_a_taken_port_is_said_plainly():
    taken = serving.bind("127.0.0.1", 0)
    port = taken.getsockname()[1]
    try:
        with pytest.raises(HandoutsError, match=f"port {port} on 127.0.0.1 is taken"):
            serving.bind("127.0.0.1", port)
    finally:
        taken.close()


def test_server_table_in_handouts_toml_is_checked(project, tmp_path):
    broken = copy_project(tmp_path / "broken")
    config = broken / "handouts.toml"
    config.write_text(config.read_text().replace("print_log =", "print_logs ="))
    result = run("-C", broken, "serve")
    assert result.exit_code == 1
    assert re.search(r"handouts\.toml:\d+: unknown key in \[server\] 'print_logs'", result.output)


def test_watch_rebuilds_what_changed_one_line_each(tmp_path):
    project = copy_project(tmp_path / "project")
    config = project / "handouts.toml"
    config.write_text(config.read_text().replace('languages = ["en", "es"]', 'languages = ["en"]')
                      .replace('editions = ["standard", "large-print"]', 'editions = ["standard"]'))
    lines, stop = [], threading.Event()
    watcher = threading.Thread(target=serving.watch, args=(project, project / "dist", False, lines.append, stop))
    watcher.start()
    try:
        wait_for(lambda: sum("rebuilt" in line for line in lines) == 2)
        sheet = project / "content/en/ketamine-aftercare.md"
        sheet.write_text(sheet.read_text().replace("Rest gives your body", "Resting gives your body"))
        wait_for(lambda: sum("rebuilt" in line for line in lines) == 3)
    finally:
        stop.set()
        watcher.join(timeout=5)
    assert re.search(r"rebuilt  en/ketamine-aftercare\.pdf \(2 pages, [\d.]+ s\)$", lines[-1])
    assert "Resting gives your body" in squeezed(pdf_text((project / "dist/en/ketamine-aftercare.pdf").read_bytes()))


def test_an_edit_saved_during_the_first_build_is_rebuilt(tmp_path):
    # The edit lands while the first build is still printing (as its first PDF is reported):
    # the files are watched from before that build, so the edit gets a build of its own.
    project = copy_project(tmp_path / "project")
    config = project / "handouts.toml"
    config.write_text(config.read_text().replace('languages = ["en", "es"]', 'languages = ["en"]')
                      .replace('editions = ["standard", "large-print"]', 'editions = ["standard"]'))
    sheet = project / "content/en/ketamine-aftercare.md"
    lines, stop = [], threading.Event()

    def say(line: str) -> None:
        lines.append(line)
        if sum("rebuilt" in line for line in lines) == 1 and "Resting" not in sheet.read_text():
            sheet.write_text(sheet.read_text().replace("Rest gives your body", "Resting gives your body"))

    watcher = threading.Thread(target=serving.watch, args=(project, project / "dist", False, say, stop))
    watcher.start()
    try:
        # The aftercare sheet prints first (the build's order): it is printed again for the edit.
        wait_for(lambda: sum("rebuilt  en/ketamine-aftercare.pdf" in line for line in lines) == 2, 30)
    finally:
        stop.set()
        watcher.join(timeout=5)
    assert "Resting gives your body" in squeezed(pdf_text((project / "dist/en/ketamine-aftercare.pdf").read_bytes()))


def wait_for(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("since", ["²", "9" * 5000, "-3", "1e9", " 1"])
def test_odd_preview_generations_are_answered_never_a_500(client, since):
    """A value that is not a plain number means "send the current state", at once."""
    ways = [({}, {"since": since})] + ([({"Last-Event-ID": since}, {})] if since.isascii() else [])
    for headers, params in ways:
        response = client.get("/preview/en/ketamine-aftercare/events", headers=headers, params=params)
        assert response.status_code == 200 and response.text.startswith(("id:", "retry:", "event:", "data:"))


def test_reopening_a_prints_address_leads_back_to_its_form(client):
    response = client.get(SHEET + "?edition=large-print&paper=a4", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/personalise/en/ketamine-aftercare?edition=large-print&paper=a4"
    form = client.get(response.headers["location"])
    assert form.status_code == 200 and "Method Not Allowed" not in form.text


@pytest.mark.parametrize("make", ["text", "folder"])
def test_a_print_log_that_is_not_one_is_a_clear_error_at_start(tmp_path, make):
    project = copy_project(tmp_path / "project")
    target = project / "notes.txt"
    if make == "text":
        target.write_text("a shopping list, not a database\n" * 100)
    else:
        target.mkdir()
    config = project / "handouts.toml"
    text = config.read_text().replace('print_log = ".handouts/print-log.sqlite3"', 'print_log = "notes.txt"')
    config.write_text(text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("print_log"))
    with pytest.raises(HandoutsError) as caught:
        create_app(project, watch=False)
    assert f"handouts.toml:{line}: print_log: cannot keep the print log in" in caught.value.message
    assert "expected an SQLite file of Handouts' print log" in caught.value.message
