"""End to end in a real headless Chromium (Debian's, driven by Playwright): the catalogue and
its filter, the personalise form (its counters, dates, errors on the same page, keyboard use),
the live preview following a stylesheet edit, and axe-core on every page. One browser and one
server for the whole module.

Screenshots of every page land in $HANDOUTS_SCREENSHOTS (default: a temporary folder)."""
from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT, copy_project
from handouts.pdf import pdf_text
from handouts.pipeline import PERSONAL_LIMITS

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists() or not AXE.exists(),
                                reason="needs /usr/bin/chromium and node_modules/axe-core (make test installs both)")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project with its standard sheets built, as `make` leaves it before
    `make serve`: the catalogue and plain prints are the PDFs of dist/."""
    from handouts import pipeline
    from handouts.config import load_project

    project = copy_project(tmp_path_factory.mktemp("browsed") / "project")
    pipeline.build(load_project(project), out=project / "dist", editions=["standard"])
    return project


def serving(app):
    """The app under uvicorn on a free loopback port, in a thread, until the block ends."""
    import uvicorn

    from handouts.server.serving import bind, server_config

    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(server_config(app))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def server(project):
    from handouts.server.app import create_app

    yield from serving(create_app(project))


@pytest.fixture(scope="module")
def guarded_server(project):
    """The same project served with an access code."""
    from handouts.server.app import create_app

    yield from serving(create_app(project, access_code="bluebird-42-sunrise", watch=False))


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1180, "height": 820}, accept_downloads=True)
    context.set_default_timeout(10000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("HANDOUTS_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def wait_until(page, expression: str, seconds: float = 10) -> None:
    """Poll from here: Playwright's own wait_for_function evaluates strings in the page, which
    the app's Content-Security-Policy forbids."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(30)


def serious_violations(page) -> list[str]:
    """Every violation axe-core finds, whatever its impact."""
    page.evaluate(AXE.read_text() + "\n;0")  # through the DevTools protocol: the CSP allows no inline script
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])}x)" for v in result["violations"]]


def keep_responses(page, pattern: str) -> list:
    """The server's answers to the browser's own requests to ``pattern``, seen on the way back."""
    received = []

    def keep(route):
        response = route.fetch()
        received.append((response.status, response.headers, response.body()))
        route.fulfill(response=response)

    page.context.route(pattern, keep)
    return received


def wait_for_response(page, received: list, seconds: float = 20) -> tuple:
    deadline = time.monotonic() + seconds
    while not received and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert received, "no answer"
    return received[0]


def test_catalogue_filters_as_you_type_and_passes_axe(page, server, shots):
    page.goto(server + "/")
    wait_until(page, "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    page.screenshot(path=shots / "catalogue.png", full_page=True)
    assert page.locator(".sheet:visible").count() == 2
    page.get_by_label("Find a sheet").fill("after")
    assert page.locator(".sheet:visible").count() == 1
    assert page.locator(".sheet:visible h2").inner_text() == "After your ketamine treatment"
    assert page.locator("#filter-count").inner_text() == "1 of 2 sheets"
    page.get_by_label("Find a sheet").fill("DESPUES español")  # accents and case aside
    assert page.locator("#filter-count").inner_text() == "1 of 2 sheets"
    page.get_by_label("Find a sheet").fill("large print")
    assert page.locator("#filter-count").inner_text() == "2 of 2 sheets"
    page.get_by_label("Find a sheet").fill("nothing like this")
    assert page.locator("#no-match").is_visible()
    # Keyboard: the skip link comes first, and focus is visible.
    page.reload()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the page"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.set_viewport_size({"width": 820, "height": 1180})  # a tablet, upright
    page.screenshot(path=shots / "catalogue-tablet.png", full_page=True)
    assert serious_violations(page) == []


def test_personalised_sheet_opens_in_the_same_tab_with_the_name_and_dates(page, server, shots):
    page.goto(server + "/")
    card = page.locator(".sheet", has_text="After your ketamine treatment")
    card.get_by_role("button", name=re.compile(r"^Personalise\W+After your ketamine treatment, English$")).click()
    page.wait_for_url(re.compile(r"/personalise/en/ketamine-aftercare\?edition=standard&paper=letter$"))
    assert serious_violations(page) == []
    page.get_by_label("Patient's name").fill("Philippa <i>Brightwater</i>")
    page.get_by_label("Treatment date").fill("2026-11-27")
    page.get_by_label("Next appointment").fill("2030-12-10T09:30")
    page.screenshot(path=shots / "personalise.png", full_page=True)
    received = keep_responses(page, "**/print/**")
    pages_before = len(page.context.pages)
    page.get_by_role("button", name="Make the sheet").click(no_wait_after=True)
    status, headers, body = wait_for_response(page, received)
    assert len(page.context.pages) == pages_before  # no new tab
    assert status == 200 and headers["cache-control"] == "no-store"
    assert headers["content-type"] == "application/pdf"
    text = re.sub(r"\s+", " ", pdf_text(body))
    assert "Philippa <i>Brightwater</i>" in text
    assert "November 27, 2026" in text and "Tuesday, December 10, 2030, 9:30 AM" in text


PATIENT, CLINICIAN = PERSONAL_LIMITS["patient"], PERSONAL_LIMITS["clinician"]


def test_the_form_counts_what_is_left_and_refuses_on_the_same_page(page, server, shots):
    page.goto(server + "/personalise/en/ketamine-aftercare")
    name = page.get_by_label("Patient's name")
    assert page.locator("#patient-count").inner_text() == f"{PATIENT} characters left"
    # Keyboard only: type, then Tab on to the dates, which take typed digits too.
    name.focus()
    page.keyboard.type("Ann Lee")
    assert page.locator("#patient-count").inner_text() == f"{PATIENT - 7} characters left"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "treatment_date"
    clinician = page.get_by_label("Clinician")
    clinician.fill("Dr. \U0001F600")  # counted as the server counts: one character, not two
    assert page.locator("#clinician-count").inner_text() == f"{CLINICIAN - 5} characters left"
    clinician.fill("Dr. " + "x" * (CLINICIAN - 3))  # as if pasted: nothing cuts it short
    assert clinician.input_value() == "Dr. " + "x" * (CLINICIAN - 3)
    assert page.locator("#clinician-count").inner_text() == "1 character too many"
    wait_until(page, "document.getElementById('clinician-count-said').textContent === '1 character too many'")
    received = keep_responses(page, "**/print/**")
    clinician.press("Enter")  # the keyboard submits the form
    status, _headers, _body = wait_for_response(page, received)
    assert status == 400
    page.wait_for_url(re.compile(r"/print/en/ketamine-aftercare$"))
    assert page.evaluate("document.activeElement.id") == "clinician"  # focus on the first error
    assert clinician.get_attribute("aria-invalid") == "true"
    assert "1 too many" in page.locator("#clinician-error").inner_text()
    assert name.input_value() == "Ann Lee" and clinician.input_value() == "Dr. " + "x" * (CLINICIAN - 3)
    page.screenshot(path=shots / "personalise-error.png", full_page=True)
    assert serious_violations(page) == []


def test_preview_follows_a_stylesheet_edit(page, server, project, shots):
    page.goto(server + "/preview/en/ketamine-aftercare")
    image = page.locator("#pages img").first
    wait_until(page, "document.querySelector('#pages img').complete")
    before = image.screenshot()
    src = image.get_attribute("src")
    page.screenshot(path=shots / "preview.png", full_page=True)
    assert serious_violations(page) == []
    tokens = project / "styles" / "tokens.css"
    original = tokens.read_text()
    tokens.write_text(original.replace("--brand-tint: #e7f1f2;", "--brand-tint: #f7d9a8;"))
    try:
        wait_until(page, f"document.querySelector('#pages img').getAttribute('src') !== {src!r}")
        wait_until(page, "document.querySelector('#pages img').complete")
        assert image.screenshot() != before
        (project / "templates" / "partials" / "contact.html").write_text("{{ broken ")
        page.locator("#build-error").wait_for(state="visible", timeout=10000)
        assert "templates/partials/contact.html:1:" in page.locator("#build-error-text").inner_text()
        page.screenshot(path=shots / "preview-error.png", full_page=True)
    finally:
        tokens.write_text(original)
        (project / "templates" / "partials" / "contact.html").write_text(
            (ROOT / "templates" / "partials" / "contact.html").read_text())
    page.locator("#build-error").wait_for(state="hidden", timeout=10000)
    assert page.locator("#pages img").count() == 2


def test_print_log_and_problem_pages_pass_axe(page, server, shots):
    page.goto(server + "/log")
    assert page.get_by_role("heading", name="Prints per sheet").is_visible()
    page.screenshot(path=shots / "log.png", full_page=True)
    assert serious_violations(page) == []
    page.goto(server + "/personalise/en/no-such-sheet")
    page.screenshot(path=shots / "problem.png", full_page=True)
    assert serious_violations(page) == []


def test_the_access_page_passes_axe_and_signs_in_by_keyboard(page, guarded_server, shots):
    page.goto(guarded_server + "/")
    assert page.get_by_role("heading", name="Enter the access code").is_visible()
    assert serious_violations(page) == []
    page.get_by_label("Access code").focus()
    page.keyboard.type("bluebird-42-sunrise")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.get_by_role("heading", name="Print a sheet for a patient").wait_for()
