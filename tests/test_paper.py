"""The paper check: hostile stylesheets, strings, settings and typed fields against what a
patient sees on the printed page (rendered by PDFium), in both editions."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import english_project, run
from handouts.config import load_project
from handouts.errors import InputError
from handouts.pipeline import PERSONAL_LIMITS, PersonalFieldError, render_sheet
from handouts.render import Personal


@pytest.fixture(scope="module")
def english(tmp_path_factory) -> Path:
    """The project in English only, both editions: a clean copy each test changes a file of."""
    project = english_project(tmp_path_factory.mktemp("paper") / "project")
    return project


@pytest.fixture
def sheet(english, tmp_path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(english, target)
    return target


def add_css(project: Path, css: str) -> int:
    """Append a rule to styles/print.css; return its line."""
    path = project / "styles/print.css"
    text = path.read_text()
    path.write_text(text + "\n" + css + "\n")
    return text.count("\n") + 2


def refusal(project: Path, edition: str = "standard", slug: str = "ketamine-aftercare") -> InputError:
    with pytest.raises(InputError) as caught:
        render_sheet(load_project(project), slug, "en", edition)
    return caught.value


HIDING_THE_EMERGENCY_BOX = [
    # (the rule a designer adds, the rule text the message names, words the message holds)
    (".emergency { opacity: 0 }", ".emergency { opacity: 0 }", "faded out (opacity)"),
    (".emergency { transform: scale(0.2) }", ".emergency { transform: scale(0.2) }", "under a transform"),
    (".emergency { position: relative } .emergency::after { content: ''; position: absolute; "
     "top: 0; left: 0; right: 0; bottom: 0; background: var(--alert-tint) }",
     ".emergency::after { background: var(--alert-tint) }", "a box is drawn over it"),
    (".emergency p { color: var(--alert-tint) }", ".emergency p { color: var(--alert-tint) }",
     "the colour of what is under it"),
    (".emergency { position: relative; left: 20in }", ".emergency { left: 20in }", "drawn off the paper"),
    (".emergency p { text-indent: -30in }", ".emergency p { text-indent: -30in }", "drawn off the paper"),
    (".emergency p { font-size: 1px }", ".emergency p { font-size: 1px }", "printed at 0.8 pt"),
    (".emergency { height: 0; overflow: hidden; padding: 0; border: 0 }",
     ".emergency { overflow: hidden }", "clipped by a box too small for it"),
    (".emergency { visibility: hidden }", ".emergency { visibility: hidden }", "is hidden (visibility)"),
    (".contact { display: none }", ".contact { display: none }", "page 1 must show"),
]


@pytest.mark.parametrize("css, rule, words", HIDING_THE_EMERGENCY_BOX,
                         ids=[case[2].split()[0] + "-" + case[0].split("{")[1].split(":")[0].strip()
                              for case in HIDING_THE_EMERGENCY_BOX])
def test_a_stylesheet_cannot_hide_the_emergency_box(sheet, css, rule, words):
    line = add_css(sheet, css)
    error = refusal(sheet)
    assert error.path == sheet / "styles/print.css" and error.line == line, error.message
    assert "paper check:" in error.message and words in error.message
    assert f"(the rule {rule})" in error.message


@pytest.mark.parametrize("css, words", [
    (".emergency { opacity: 0 }", "faded out (opacity)"),
    (".emergency p { color: var(--alert-tint) }", "the colour of what is under it"),
    (".emergency { position: relative; left: 20in }", "drawn off the paper"),
])
def test_large_print_is_checked_too(sheet, css, words):
    add_css(sheet, css)
    assert words in refusal(sheet, "large-print").message


def test_the_real_sheets_pass_in_both_editions(english):
    project = load_project(english)
    for slug in ("ketamine-aftercare", "ketamine-treatment"):
        for edition in ("standard", "large-print"):
            assert render_sheet(project, slug, "en", edition).pages


def test_other_text_over_the_sheet_is_refused(sheet):
    add_css(sheet, ".questions h2 { position: absolute; top: 300pt; left: 60pt; }")
    error = refusal(sheet)
    assert re.search(r'"Questions\?" is drawn over "[^"]+" on page 1', error.message), error.message
    assert "(the rule .questions h2 { left: 60pt })" in error.message


def test_a_fixed_block_over_the_masthead_is_refused(sheet):
    add_css(sheet, '.masthead::after { content: ""; position: fixed; top: 0; left: 0; width: 100%; height: 100%; '
                   "background: white }")
    assert "cannot be seen: a box is drawn over it" in refusal(sheet).message


def test_a_rule_that_hides_content_loses_words_and_is_named(sheet):
    line = add_css(sheet, "main > p { display: none }")
    error = refusal(sheet)
    assert error.line == line
    assert 'the words "After treatment, your body needs time' in error.message
    assert "are not on the paper" in error.message and "(the rule main > p { display: none })" in error.message


def test_ink_must_stay_a_quarter_inch_from_the_edge(sheet):
    line = add_css(sheet, "@page { margin: 10pt }")
    error = refusal(sheet)
    assert "too close to the edge of the paper" in error.message and error.line == line
    assert "(the rule @page { margin: 10pt })" in error.message


def test_a_page_size_other_than_the_paper_is_refused(sheet):
    line = add_css(sheet, "@page { size: 200in 200in !important }")
    error = refusal(sheet)
    assert "page 1 is 200.00 x 200.00 in; expected the paper being built, 8.50 x 11.00 in" in error.message
    assert error.line == line


# --- the numbers' own boundaries ------------------------------------------------------------

@pytest.mark.parametrize("colour, passes", [("#6d6d6d", True), ("#6f6f6f", False)])
def test_the_numbers_need_a_contrast_of_4_5(sheet, colour, passes):
    """#6d6d6d on the emergency box's tint is 4.51:1, #6f6f6f 4.38:1: measured on the pixels."""
    add_css(sheet, f".emergency p {{ color: {colour} }}")
    if passes:
        render_sheet(load_project(sheet), "ketamine-aftercare", "en")
    else:
        assert "the emergency line 911 on page 1 has a contrast of 4.4:1" in refusal(sheet).message


def set_check(project: Path, line: str) -> None:
    config = project / "handouts.toml"
    config.write_text(config.read_text().replace("[check]\n", f"[check]\n{line}\n"))


@pytest.mark.parametrize("setting, passes, words", [
    # The contact box prints the numbers at 12 pt, the standard edition's body size...
    ("number_size = { standard = 12 }", True, ""),
    ("number_size = { standard = 12.5 }", False, "is printed at 12.0 pt; expected at least 12.5 pt"),
    # ...and the footer is 9 pt, the smallest text of the standard sheet.
    ("smallest_text = { standard = 9 }", True, ""),
    ("smallest_text = { standard = 9.5 }", False, "is printed at 9.0 pt; expected at least 9.5 pt in this edition"),
])
def test_the_editions_sizes_are_floors(sheet, setting, passes, words):
    set_check(sheet, setting)
    if passes:
        render_sheet(load_project(sheet), "ketamine-aftercare", "en")
    else:
        assert words in refusal(sheet).message


# --- strings and settings -------------------------------------------------------------------

def test_a_number_typed_into_the_strings_is_refused_at_its_line(sheet):
    strings = sheet / "templates/strings/en.toml"
    strings.write_text(strings.read_text().replace('call_us = "Call us at\\u00A0{phone}."',
                                                   'call_us = "Call us at (480) 555-0100."'))
    line = next(n for n, text in enumerate(strings.read_text().splitlines(), 1) if text.startswith("call_us"))
    error = refusal(sheet)
    assert error.path == strings and error.line == line
    assert "call_us: expected a sentence holding {phone}" in error.message


def test_a_number_run_into_other_digits_is_not_the_number(sheet):
    strings = sheet / "templates/strings/en.toml"
    strings.write_text(strings.read_text().replace("call\\u00A0{number}.", "call\\u00A0{number}1."))
    assert "the emergency line 911 on page 1 runs into other digits" in refusal(sheet).message


@pytest.mark.parametrize("key, value", [("emergency", ""), ("crisis", " "), ("phone", "call us"),
                                        ("emergency", "91")])
def test_a_blank_or_wordy_number_in_the_settings_is_refused_at_its_line(sheet, key, value):
    config = sheet / "handouts.toml"
    text = config.read_text()
    text = re.sub(rf'^{key} = "[^"]*"', f'{key} = "{value}"', text, count=1, flags=re.M)
    config.write_text(text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith(f"{key} ="))
    result = run("-C", sheet, "build")
    assert result.exit_code == 1
    assert f"handouts.toml:{line}: [" in result.stderr and f"{key}: expected a phone number" in result.stderr


# --- what is typed in at the front desk -----------------------------------------------------

def test_a_personal_note_past_its_limit_is_refused_by_name(project):
    # The box is designed for every field at its limit (tests/test_personal_room.py); past it,
    # the field is named, never its value.
    personal = Personal(note="W" * (PERSONAL_LIMITS["note"] + 1))
    with pytest.raises(PersonalFieldError, match=f"note: expected at most {PERSONAL_LIMITS['note']} characters"):
        render_sheet(load_project(project), "ketamine-aftercare", "es", "large-print", personal=personal)


@pytest.mark.parametrize("marks, passes", [(3, True), (4, False)])
def test_stacked_accent_marks_are_refused_past_three(english, marks, passes):
    personal = Personal(patient="Ana" + "\u0327" * marks)
    if passes:
        render_sheet(load_project(english), "ketamine-aftercare", "en", personal=personal)
    else:
        with pytest.raises(PersonalFieldError, match="patient: expected at most 3 accent marks on one letter"):
            render_sheet(load_project(english), "ketamine-aftercare", "en", personal=personal)


# --- stylesheets checked like code ----------------------------------------------------------

def test_a_missing_semicolon_in_the_tokens_fails_the_default_build_at_its_line(sheet):
    tokens = sheet / "styles/tokens.css"
    text = tokens.read_text()
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "--brand: #0e5a63;" in row)
    tokens.write_text(text.replace("--brand: #0e5a63;", "--brand: #0e5a63"))
    result = run("-C", sheet, "build", "ketamine-aftercare")
    assert result.exit_code == 1
    assert f"styles/tokens.css:{line + 1}: expected ';' before '--brand-dark:'" in result.stderr


def test_a_brace_too_many_names_where_the_rule_ended(sheet):
    tokens = sheet / "styles/tokens.css"
    text = tokens.read_text()
    early = next(n for n, row in enumerate(text.splitlines(), 1) if "--brand-tint:" in row)
    tokens.write_text(text.replace("--brand-tint: #e7f1f2;", "--brand-tint: #e7f1f2; }"))
    extra = text.rstrip().count("\n") + 1  # the brace that closed :root is now one too many
    result = run("-C", sheet, "build", "ketamine-aftercare")
    assert result.exit_code == 1
    assert (f"styles/tokens.css:{extra}: found '}}' with no '{{' before it; expected the braces of each "
            f"rule to match (did the '}}' on line {early} end its rule too soon?)") in result.stderr


def test_a_rule_never_closed_is_named_at_its_brace(sheet):
    line = add_css(sheet, ".my-note { color: red")
    result = run("-C", sheet, "build", "ketamine-aftercare")
    assert result.exit_code == 1
    assert f"styles/print.css:{line}: this '{{' is never closed" in result.stderr


def test_check_reports_the_same_paper_fault(sheet):
    line = add_css(sheet, ".emergency { opacity: 0 }")
    result = run("-C", sheet, "check", "ketamine-aftercare")
    assert result.exit_code == 1
    assert f"styles/print.css:{line}: error: paper check:" in result.output
