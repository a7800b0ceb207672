"""The "Prepared for" box has room, by design, for every field at its limit: any values within
PERSONAL_LIMITS print through the render gate (page budget, paper check, the clinic's numbers on
page 1) on every sheet, edition and paper."""
from __future__ import annotations

import io

import pdfplumber
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handouts import content
from handouts.config import load_project
from handouts.pipeline import PERSONAL_EXTRA_PAGES, PERSONAL_LIMITS, Job, PageBudgetError, PersonalFieldError, print_sheet
from handouts.render import Personal

from conftest import ROOT, copy_project

REAL = load_project(ROOT)

SHEETS = [(lang, slug) for lang in ("en", "es") for slug in ("ketamine-aftercare", "ketamine-treatment")]
#: The widest letter of the font: a value of these at its limit takes the most room there is.
WIDEST = "W"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return load_project(copy_project(tmp_path_factory.mktemp("personal") / "project"))


def print_personal(project, lang, slug, edition, paper, personal):
    handout = content.load_handout(project.root / f"content/{lang}/{slug}.md", lang)
    return print_sheet(project, Job(handout, edition, paper), personal=personal)


def page_1_text(sheet) -> str:
    with pdfplumber.open(io.BytesIO(sheet.data)) as pdf:
        return " ".join(pdf.pages[0].extract_text().split())


def test_the_limits_leave_room_for_a_note_of_two_short_sentences():
    assert PERSONAL_LIMITS["note"] >= 150
    assert PERSONAL_LIMITS["treatment_date"] >= len("Wednesday, September 30, 2026, 10:30 AM")
    assert min(PERSONAL_LIMITS[name] for name in ("patient", "clinician", "next_visit")) >= 60


@pytest.mark.parametrize("edition", ["standard", "large-print"])
@pytest.mark.parametrize("lang, slug, paper", [(lang, slug, {"en": "letter", "es": "a4"}[lang])
                                               for lang, slug in SHEETS])
def test_every_field_at_its_limit_in_the_widest_letters_prints(project, lang, slug, edition, paper):
    # Through the gate: within the sheet's page budget, every letter on the paper, the numbers
    # on page 1. English on Letter, Spanish on A4 (the narrower paper, for the longer words).
    widest = Personal(**{name: WIDEST * limit for name, limit in PERSONAL_LIMITS.items()})
    sheet = print_personal(project, lang, slug, edition, paper, widest)
    assert all(number in page_1_text(sheet) for number in ("(480) 555-0142", "911", "988"))


@pytest.mark.parametrize("lang", REAL.config.languages)
@pytest.mark.parametrize("slug", ["ketamine-aftercare", "ketamine-treatment"])
def test_every_field_at_its_limit_prints_in_large_print_in_every_language(lang, slug):
    """In large print a filled-in box is taller than the blank one the budget was measured with:
    it may take the one page more that PERSONAL_EXTRA_PAGES allows, never more."""
    widest = Personal(**{name: WIDEST * limit for name, limit in PERSONAL_LIMITS.items()})
    sheet = print_personal(REAL, lang, slug, "large-print", "letter", widest)
    assert sheet.pages <= sheet.job.page_budget + PERSONAL_EXTRA_PAGES["large-print"] == sheet.job.page_budget + 1


@pytest.mark.parametrize("budget, prints", [(4, True), (3, False)])
def test_a_filled_in_large_print_sheet_may_take_one_page_more_than_its_budget(tmp_path, budget, prints):
    """Spanish aftercare in large print takes 4 pages blank and 5 with every field at its limit."""
    project = copy_project(tmp_path / "project")
    sheet = project / "content/es/ketamine-aftercare.md"
    sheet.write_text(sheet.read_text(encoding="utf-8").replace("max_pages_large: 4", f"max_pages_large: {budget}"),
                     encoding="utf-8")
    widest = Personal(**{name: WIDEST * limit for name, limit in PERSONAL_LIMITS.items()})
    if prints:
        assert print_personal(load_project(project), "es", "ketamine-aftercare", "large-print", "letter",
                              widest).pages == budget + 1
    else:
        with pytest.raises(PageBudgetError, match=r"has 5 pages; its budget is 3 and 1 more for what was typed in"):
            print_personal(load_project(project), "es", "ketamine-aftercare", "large-print", "letter", widest)
    with pytest.raises(PageBudgetError, match=rf"has 4 pages; its budget is {budget - 1} \(shorten"):  # blank: no more
        blank_budget = sheet.read_text(encoding="utf-8").replace(f"max_pages_large: {budget}",
                                                                 f"max_pages_large: {budget - 1}")
        sheet.write_text(blank_budget, encoding="utf-8")
        print_personal(load_project(project), "es", "ketamine-aftercare", "large-print", "letter", Personal())


def test_one_character_over_a_limit_is_refused_by_name(project):
    for name, limit in PERSONAL_LIMITS.items():  # refused before anything is printed
        with pytest.raises(PersonalFieldError, match=f"^{name}: expected at most {limit} characters"):
            print_personal(project, "en", "ketamine-aftercare", "standard", "letter",
                           Personal(**{name: WIDEST * (limit + 1)}))


# Letters and spaces of English and Spanish (the project's font covers Latin-1).
TEXT = st.text(st.characters(whitelist_categories=("Lu", "Ll"), max_codepoint=0xFF) | st.just(" "))


@settings(max_examples=3, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.fixed_dictionaries({name: TEXT.filter(str.strip).map(lambda text, limit=limit: text[:limit])
                              for name, limit in PERSONAL_LIMITS.items()}))
def test_any_values_within_the_limits_print_on_the_sheet_with_the_least_room(project, values):
    # Spanish large print is the longest sheet in the largest type.
    sheet = print_personal(project, "es", "ketamine-treatment", "large-print", "a4", Personal(**values))
    assert all(number in page_1_text(sheet) for number in ("(480) 555-0142", "911", "988"))
