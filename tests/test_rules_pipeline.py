"""The render gate's rules that need no printing, each at its boundary: which sheets,
languages, editions and papers exist, what staff may type in for a patient, the page budget
of each edition, the template strings that carry the clinic's numbers, and when a PDF is up
to date. One case prints a real sheet in-process, to see the gate refuse what it must."""
from __future__ import annotations

import shutil
from datetime import date

import pypdfium2
import pytest

from handouts import output, pipeline
from handouts.config import load_project
from handouts.content import Handout
from handouts.errors import BuildError, ConfigError
from handouts.pipeline import Job, PersonalFieldError, UnknownSheet
from handouts.render import Personal

from conftest import english_project, run

AFTERCARE = "content/en/ketamine-aftercare.md"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return load_project(english_project(tmp_path_factory.mktemp("gate") / "project"))


def handout(max_pages=2, max_pages_large=None, lang="en", status="approved") -> Handout:
    return Handout(slug="a-sheet", lang=lang, path=pipeline.Path(f"content/{lang}/a-sheet.md"), title="A",
                   version="1.0", updated=date(2026, 1, 1), status=status, body="", body_line=7,
                   max_pages=max_pages, max_pages_large=max_pages_large,
                   key_lines={"max_pages": 5, "max_pages_large": 6, "status": 4})


@pytest.mark.parametrize("args, message", [
    (("ketamine-aftercare", "fr"), "unknown language 'fr'; expected one of: en"),
    (("ketamine-aftercare", "en", "poster"), "unknown edition 'poster'; expected one of: standard, large-print"),
    (("ketamine-aftercare", "en", "standard", "a5"), "unknown paper 'a5'; expected one of: letter, a4"),
    (("ketamine-aftercar", "en"), "unknown en handout 'ketamine-aftercar'; expected one of: ketamine-aftercare, "
                                  "ketamine-treatment (did you mean 'ketamine-aftercare'?)"),
    (("ketamine-aftercare", "x" * 41), f"unknown language '{'x' * 37}...'; expected one of: en"),
    (("k" * 41, "en"), f"unknown en handout '{'k' * 37}...'; expected one of: ketamine-aftercare, "
                       f"ketamine-treatment"),
    (("../en/ketamine-aftercare", "en"), "unknown en handout '../en/ketamine-aftercare'; expected one of: "
                                         "ketamine-aftercare, ketamine-treatment"),
])
def test_the_gate_names_what_the_project_does_not_have(project, args, message):
    with pytest.raises(UnknownSheet) as raised:
        pipeline.render_sheet(project, *args)
    assert raised.value.format_message().startswith(message) and raised.value.exit_code == 2


def test_an_unknown_sheet_on_the_command_line_is_exit_2(project):
    result = run("-C", project.root, "build", "ketamine-aftercar")
    assert result.exit_code == 2 and "unknown handout 'ketamine-aftercar'" in result.stderr


@pytest.mark.parametrize("name, limit", sorted(pipeline.PERSONAL_LIMITS.items()))
def test_each_personal_field_may_have_its_limit_and_not_one_character_more(name, limit):
    pipeline.check_personal(Personal(**{name: "x" * limit}))
    with pytest.raises(PersonalFieldError) as raised:
        pipeline.check_personal(Personal(**{name: "x" * (limit + 1)}))
    assert raised.value.format_message() == f"{name}: expected at most {limit} characters, found {limit + 1}"


@pytest.mark.parametrize("char", ["\x00", "\x1f", "\t", "\r", "\x7f", "\x80", "\x9f"])
@pytest.mark.parametrize("name", ["patient", "note"])
def test_control_characters_are_refused_in_every_field(name, char):
    with pytest.raises(PersonalFieldError) as raised:
        pipeline.check_personal(Personal(**{name: f"a{char}b"}))
    assert raised.value.format_message() == f"{name}: expected plain text, found a control character"


def test_only_the_note_may_break_lines():
    pipeline.check_personal(Personal(note="first line\nsecond line", patient="Ana\xa0López ~"))
    with pytest.raises(PersonalFieldError, match="^patient: expected plain text"):
        pipeline.check_personal(Personal(patient="Ana\nLópez"))


def test_a_letter_may_carry_three_accent_marks_and_not_four():
    pipeline.check_personal(Personal(patient="Nguye\u0302\u0303\u0301n a\u0301 x\u0302\u0303\u0301"))
    with pytest.raises(PersonalFieldError) as raised:
        pipeline.check_personal(Personal(patient="x\u0302\u0303\u0301\u0300"))
    assert raised.value.format_message() == ("patient: expected at most 3 accent marks on one letter, found "
                                             "more (they would be drawn over other lines)")
    with pytest.raises(PersonalFieldError):
        pipeline.check_personal(Personal(note="a\u20dd\u20dd\u20dd\u20dd"))  # enclosing marks count too


def test_a_field_that_is_not_text_is_refused():
    with pytest.raises(PersonalFieldError, match="^clinician: expected text$"):
        pipeline.check_personal(Personal(clinician=3))


def test_no_personal_fields_pass():
    pipeline.check_personal(None)


@pytest.mark.parametrize("edition, max_pages, large, budget, key", [
    ("standard", 2, None, 2, "max_pages"), ("standard", 1, 5, 1, "max_pages"),
    ("large-print", 2, None, 4, "max_pages_large"), ("large-print", 2, 3, 3, "max_pages_large"),
    ("poster", 2, 3, 4, "max_pages")])
def test_each_edition_has_its_page_budget_and_not_one_page_more(edition, max_pages, large, budget, key):
    job = Job(handout(max_pages, large), edition, "letter")
    assert job.over_budget(budget) is None
    assert job.over_budget(budget + 1) == (f"has {budget + 1} pages; its budget is {budget} (shorten it, or "
                                           f"raise {key})")


def test_a_bilingual_sheet_has_both_sheets_pages_and_one_more_and_not_one_page_more():
    # 2 pages of English and 3 of Spanish: 6 pages, one for the boxes both languages share.
    job = Job(handout(2), pipeline.BILINGUAL, "letter", translation=handout(3, lang="es"))
    assert job.over_budget(6) is None
    assert job.over_budget(7) == "has 7 pages; its budget is 6 (shorten it, or raise max_pages_bilingual)"


@pytest.mark.parametrize("edition, path", [("standard", "en/a-sheet.pdf"),
                                           ("large-print", "en/a-sheet-large-print.pdf")])
def test_where_each_pdf_goes(edition, path):
    assert Job(handout(), edition, "a4").path == path


def test_the_plan_is_every_sheet_in_every_edition():
    one, two = handout(), handout(lang="es")
    assert [(job.handout.lang, job.edition, job.paper)
            for job in pipeline.plan([one, two], "a4", ("standard", "large-print"))] == [
        ("en", "standard", "a4"), ("en", "large-print", "a4"), ("es", "standard", "a4"), ("es", "large-print", "a4")]


def test_the_mandatory_lines_come_from_the_template_strings_and_handouts_toml(project):
    lines = pipeline.mandatory_lines(project, "en")
    assert [(line.name, line.number) for line in lines] == [
        ("the clinic's phone number", "(480) 555-0142"), ("the emergency line", "911"), ("the crisis line", "988")]
    assert all(line.number in line.sentence and "{" not in line.sentence for line in lines)


@pytest.mark.parametrize("key, placeholder", [("call_us", "phone"), ("emergency", "number"), ("crisis", "number")])
def test_a_template_string_without_its_number_is_an_error_at_its_line(tmp_path, key, placeholder):
    root = english_project(tmp_path / "project")
    strings = root / "templates/strings/en.toml"
    text = strings.read_text(encoding="utf-8")
    lines = text.splitlines()
    number = next(n for n, line in enumerate(lines, 1) if line.startswith(f"{key} ="))
    sentence = "Call the crisis line, day or night, from any phone, and a counsellor answers you."
    strings.write_text(text.replace(f"{{{placeholder}}}", "555", 1) if key != "crisis"
                       else text.replace(lines[number - 1], f'{key} = "{sentence}"'), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        pipeline.mandatory_lines(load_project(root), "en")
    assert raised.value.line == number and raised.value.path == strings
    assert raised.value.detail.startswith(f"{key}: expected a sentence holding {{{placeholder}}}, where ")
    if key == "crisis":
        assert raised.value.detail.endswith(f"found {repr(sentence)[:57]}...")


def test_the_paper_check_expects_the_editions_sizes(project):
    standard = pipeline.expected_on_paper(project, Job(handout(), "standard", "a4"))
    large = pipeline.expected_on_paper(project, Job(handout(), "large-print", "letter"))
    assert (standard.paper_size, standard.min_text, standard.min_number) == ((595.276, 841.89), 9, 12)
    assert (large.paper_size, large.min_text, large.min_number) == ((612.0, 792.0), 14, 18)


@pytest.mark.parametrize("lang, reviewer", [("en", "a clinician"), ("es", "a qualified medical translator")])
def test_a_draft_in_a_release_names_its_reviewer(project, lang, reviewer):
    error = pipeline.draft_error(project, handout(status="draft", lang=lang))
    assert error.line == 4 and f"once {reviewer} has reviewed it" in error.detail


def test_selecting_a_sheet_keeps_only_its_own_errors(tmp_path):
    root = english_project(tmp_path / "project")
    (root / "content/en/broken.md").write_text("no front matter\n")
    project = load_project(root)
    handouts, errors = pipeline.load_selection(project, ["ketamine-aftercare"])
    assert {h.slug for h in handouts} == {"ketamine-aftercare"} and errors == []
    handouts, errors = pipeline.load_selection(project, ["broken"])
    assert handouts == [] and [e.path.name for e in errors] == ["broken.md"]
    with pytest.raises(UnknownSheet) as raised:
        pipeline.load_selection(project, ["n" * 41])
    assert raised.value.format_message().startswith(f"unknown handout '{'n' * 37}...'")


def test_a_pdf_is_up_to_date_only_while_every_input_is_unchanged(tmp_path):
    root = english_project(tmp_path / "project")
    project = load_project(root)
    [sheet] = [h for h in pipeline.load_selection(project, ["ketamine-aftercare"])[0]]
    job = Job(sheet, "standard", "letter")
    inputs = pipeline.Inputs(project)
    key = inputs.key(job, False)
    assert key != inputs.key(job, True) and key != inputs.key(Job(sheet, "standard", "a4"), False)
    assert inputs.source(sheet) == AFTERCARE
    with output.opened(tmp_path / "dist", "1") as folder:
        folder.entries[job.path] = {"path": job.path}
        folder.cache[job.path] = {"key": key, "used": {"styles/print.css": inputs.digest("styles/print.css")}}
        assert inputs.up_to_date(folder, job, key)
        assert not inputs.up_to_date(folder, job, "other key")
        folder.cache[job.path]["used"]["styles/print.css"] = "stale"
        assert not inputs.up_to_date(folder, job, key)
        folder.cache[job.path]["used"] = {}
        del folder.entries[job.path]
        assert not inputs.up_to_date(folder, job, key)
    (root / AFTERCARE).write_text((root / AFTERCARE).read_text() + "\nMore.\n")
    assert pipeline.Inputs(project).key(job, False) != key
    key = pipeline.Inputs(project).key(job, False)
    (root / "templates/strings/en.toml").write_text((root / "templates/strings/en.toml").read_text() + "\n")
    assert pipeline.Inputs(project).key(job, False) != key
    assert pipeline.Inputs(project).digest("styles/none.css") is None


def page_text(data: bytes) -> str:
    """Every page's text (the "Prepared for" box comes last)."""
    return "\f".join(page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(data))


def test_the_gate_prints_a_personalised_sheet_on_the_paper_asked_for(project):
    sheet = pipeline.render_sheet(project, "ketamine-aftercare", "en", "large-print", "a4", strict=True,
                                  personal=Personal(patient="Ana Lopez"))
    assert (sheet.job.handout.slug, sheet.job.edition, sheet.job.paper) == ("ketamine-aftercare", "large-print", "a4")
    assert "Ana Lopez" in page_text(sheet.data) and sheet.warnings == ()
    assert sheet.pages == len(pypdfium2.PdfDocument(sheet.data))
    assert pipeline.render_sheet(project, "ketamine-aftercare", "en").job.paper == "letter"


def test_the_gate_refuses_a_personal_field_before_it_prints(project):
    [sheet] = pipeline.load_selection(project, ["ketamine-aftercare"])[0]
    limit = pipeline.PERSONAL_LIMITS["note"]
    with pytest.raises(PersonalFieldError, match=f"^note: expected at most {limit} characters, found {limit + 1}"):
        pipeline.print_sheet(project, Job(sheet, "standard", "letter"), personal=Personal(note="x" * (limit + 1)))


def test_the_gate_prints_a_good_sheet_and_refuses_one_over_its_budget(tmp_path):
    """In-process, so that the mutation run sees which rules of the gate this test reaches."""
    root = english_project(tmp_path / "project")
    shutil.rmtree(root / "content/es", ignore_errors=True)
    project = load_project(root)
    [sheet] = pipeline.load_selection(project, ["ketamine-aftercare"])[0]
    job = Job(sheet, "standard", "letter")
    printed = pipeline.print_sheet(project, job, strict=True, personal=Personal(patient="Ana Lopez"))
    assert printed.data.startswith(b"%PDF-") and printed.pages == 2 and printed.warnings == ()
    assert printed.job is job and "Ana Lopez" in page_text(printed.data)
    assert printed.machine_notes == () and printed.document is not None
    assert any(path.startswith("styles/") for path, _digest in printed.used)
    assert "styles/print.css" in dict(printed.stylesheets)
    longer = (root / AFTERCARE).read_text() + "\n" + "\n\n".join(["Rest and drink water."] * 60) + "\n"
    (root / AFTERCARE).write_text(longer)
    [sheet] = pipeline.load_selection(project, ["ketamine-aftercare"])[0]
    with pytest.raises(pipeline.PageBudgetError) as raised:
        pipeline.print_sheet(project, Job(sheet, "standard", "letter"))
    pages = raised.value.pages
    assert pages > 2 and raised.value.detail.startswith(f"en/ketamine-aftercare.pdf has {pages} pages; its budget is 2")
    assert raised.value.line == sheet.key_lines["max_pages"]
    assert isinstance(raised.value, BuildError)
