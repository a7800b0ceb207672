"""Bad input: a clear `path:line: message`, exit 1, no traceback, and nothing good is lost.

Each case breaks the aftercare sheet of a project that was already built, with one tiny
fixture named after the case, and checks that the treatment sheet still builds and that the
aftercare sheet's earlier PDF and manifest entry are untouched.
"""
from __future__ import annotations

import json
import shutil

import pikepdf
import pytest

from conftest import FIXTURES, run

AFTERCARE = "content/en/ketamine-aftercare.md"

CONTENT_CASES = [
    # fixture, line, words the message must hold
    ("yaml-syntax-error", 6, ["YAML syntax error", "mapping values are not allowed"]),
    ("missing-required-key", 1, ["missing required key updated"]),
    ("unknown-key", 2, ["unknown key 'titel'", "did you mean 'title'"]),
    ("wrong-type", 4, ["updated: expected a date as YYYY-MM-DD, found 'soon'"]),
    ("wrong-status", 5, ["status: expected approved or draft, found 'final'"]),
    ("no-front-matter", 1, ["expected front matter starting with '---'", "found '# A sheet"]),
    ("empty-file", 1, ["expected front matter", "found an empty file"]),
    ("not-utf8", 3, ["expected UTF-8 text, found byte 0xe9"]),
    ("image-missing-file", 10, ["'assets/missing-diagram.png' does not exist"]),
    ("image-outside-project", 10, ["'../../etc/passwd' is outside the project"]),
    ("image-file-url", 8, ["'file:///etc/hostname' is outside the project"]),
    ("image-http", 8, ["'https://example.org/logo.png' is outside the project"]),
    ("link-file-url", 8, ["'file:///etc/hostname' is outside the project"]),
    ("glyph-outside-font", 8, ["\U00010000 (U+10000 LINEAR B SYLLABLE B008 A): no font this project "
                               "ships has it: add a font to styles/fonts.css, or write it in by hand"]),
    ("emoji-outside-font", 8, ["😀 (U+1F600 GRINNING FACE): no font this project ships has it"]),
    ("impossible-date", 4, ["updated: expected a real date as YYYY-MM-DD, found '2026-02-30'"]),
    ("max-pages-zero", 6, ["max_pages: expected a whole number of pages, 1 or more, found 0"]),
    ("control-character-bel", 2, ["expected text, found the control character U+0007 (BEL)"]),
    ("control-character-nul", 8, ["expected text, found the control character U+0000 (NUL)"]),
    ("yaml-alias-bomb", 6, ["expected plain values, found a YAML anchor or alias"]),
    ("yaml-deep-nesting", 6, ["expected 'key: value' lines, found values nested more than 4 deep"]),
    ("yaml-duplicate-key", 6, ["'title' is given twice (first on line 2)"]),
    ("list-nested-too-deep", 14, ["a list nested too deep; expected at most 6 levels"]),
    ("quote-nested-too-deep", 8, ["a quote nested too deep; expected at most 6 levels"]),
    ("raw-html-style", 10, ["expected Markdown, found the HTML tag <style>"]),
    ("raw-html-image", 8, ["expected Markdown, found the HTML tag <img>"]),
    ("style-attribute", 9, ["expected no style attribute in content"]),
]


def break_aftercare(project, fixture: str) -> None:
    shutil.copyfile(FIXTURES / "content" / f"{fixture}.md", project / AFTERCARE)


def assert_reported(result, location: str, words) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert location in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def assert_failed_cleanly(result, location: str, words, project, before: dict) -> None:
    assert_reported(result, location, words)
    # The earlier aftercare PDF is untouched, the treatment sheet still built.
    assert (project / "dist/en/ketamine-aftercare.pdf").read_bytes() == before["aftercare"]
    assert "ok          en/ketamine-treatment.pdf" in result.stdout
    entries = {e["path"]: e for e in json.loads((project / "dist/manifest.json").read_text())["files"]}
    assert entries["en/ketamine-aftercare.pdf"] == before["entry"]


@pytest.fixture
def before(rebuildable):
    entries = json.loads((rebuildable / "dist/manifest.json").read_text())["files"]
    return {"aftercare": (rebuildable / "dist/en/ketamine-aftercare.pdf").read_bytes(),
            "entry": next(e for e in entries if e["path"] == "en/ketamine-aftercare.pdf")}


@pytest.mark.parametrize("fixture, line, words", CONTENT_CASES, ids=[c[0] for c in CONTENT_CASES])
def test_bad_content(rebuildable, before, fixture, line, words):
    break_aftercare(rebuildable, fixture)
    result = run("-C", rebuildable, "build")
    assert_failed_cleanly(result, f"{AFTERCARE}:{line}: ", words, rebuildable, before)


def test_a_web_link_builds_as_a_link_and_is_never_fetched(rebuildable):
    break_aftercare(rebuildable, "link-http")
    result = run("-C", rebuildable, "build", "ketamine-aftercare", "--lang", "en", "--strict")
    assert result.exit_code == 0, result.output
    with pikepdf.open(rebuildable / "dist/en/ketamine-aftercare.pdf") as pdf:
        uris = {str(a.A.URI) for a in pdf.pages[0].get("/Annots", []) if "/A" in a}
    assert uris == {"http://example.org/ketamine"}


def test_a_list_marker_outside_the_fonts_is_named(rebuildable):
    """A character the content never wrote (a stylesheet's list marker) is named, with its code
    point and what to do."""
    css = rebuildable / "styles/print.css"
    css.write_text(css.read_text() + '\nul ul { list-style-type: "\\1F9FF  "; }\n')
    (rebuildable / AFTERCARE).write_text((rebuildable / AFTERCARE).read_text()
                                         + "\n- Rest\n  - Sleep early\n")
    result = run("-C", rebuildable, "build", "ketamine-aftercare", "--lang", "en")
    assert_reported(result, f"{AFTERCARE}: ", ["(U+1F9FF NAZAR AMULET): no font this project ships has it"])


def test_sandbox_error_leaves_no_temporary_file(rebuildable, before):
    break_aftercare(rebuildable, "image-outside-project")
    result = run("-C", rebuildable, "build", "--force")
    assert_failed_cleanly(result, f"{AFTERCARE}:10: ", ["outside the project"], rebuildable, before)
    assert sorted(p.name for p in (rebuildable / "dist/en").iterdir()) == [
        "ketamine-aftercare-large-print.pdf", "ketamine-aftercare.pdf",
        "ketamine-treatment-large-print.pdf", "ketamine-treatment.pdf"]


def test_sheet_longer_than_its_budget(rebuildable, before):
    break_aftercare(rebuildable, "too-long")
    result = run("-C", rebuildable, "build")
    assert_failed_cleanly(result, f"{AFTERCARE}:6: ", ["en/ketamine-aftercare.pdf has", "pages; its budget is 1"],
                          rebuildable, before)


def test_stylesheet_url_outside_the_sandbox(rebuildable, before):
    css = rebuildable / "styles/print.css"
    css.write_text(css.read_text() + "\nbody { background: url(https://example.org/paper.png); }\n")
    result = run("-C", rebuildable, "build")
    assert result.exit_code == 1
    assert "sandbox: 'https://example.org/paper.png' is outside the project" in result.stderr
    assert (rebuildable / "dist/en/ketamine-aftercare.pdf").read_bytes() == before["aftercare"]


def test_a_stylesheet_linked_out_of_the_project_is_named_not_the_crash_it_causes(rebuildable, before, tmp_path):
    # Without the tokens, WeasyPrint fails on a calc() of an undefined custom property: the
    # refusal that caused it is the error to report.
    tokens = rebuildable / "styles/tokens.css"
    outside = tmp_path / "tokens.css"
    outside.write_bytes(tokens.read_bytes())
    tokens.unlink()
    tokens.symlink_to(outside)
    result = run("-C", rebuildable, "build")
    assert result.exit_code == 1
    assert "sandbox: 'file:///handouts-project/styles/tokens.css'" in result.stderr
    assert "AssertionError" not in result.stderr and "could not print" not in result.stderr
    assert (rebuildable / "dist/en/ketamine-aftercare.pdf").read_bytes() == before["aftercare"]


def test_a_css_error_fails_the_build_blamed_on_its_line_once(rebuildable, before):
    css = rebuildable / "styles/print.css"
    css.write_text(css.read_text() + "\nh2 { colour: red; }\n")
    result = run("-C", rebuildable, "build")
    assert result.exit_code == 1
    # Blamed on the stylesheet and its line, not on the content, and said once for all sheets.
    line = css.read_text().count("\n")
    assert result.stderr.count(f"styles/print.css:{line}: Ignored `colour: red`") == 1
    assert result.stdout.count("FAILED") == 8  # every sheet, both languages and editions
    assert (rebuildable / "dist/en/ketamine-aftercare.pdf").read_bytes() == before["aftercare"]


PROJECT_CASES = [
    # fixture, the file it replaces, line, words the message must hold
    ("config/toml-syntax-error.toml", "handouts.toml", 2, ["TOML syntax error"]),
    ("config/unknown-key.toml", "handouts.toml", 7, ["unknown key in [clinic] 'phon'",
                                                      "did you mean 'phone'"]),
    ("config/unknown-paper.toml", "handouts.toml", 18, ["unknown paper 'legal'", "letter, a4"]),
    ("config/language-not-a-code.toml", "handouts.toml", 20, ["expected a language code", "'../etc'"]),
    ("config/language-babel-does-not-know.toml", "handouts.toml", 20,
     ["found 'qx' (no locale of that name is known)"]),
    ("config/logo-outside-project.toml", "handouts.toml", 10, ["logo: expected an image file in assets/",
                                                               "'../../etc/hostname' is outside the project"]),
    ("config/logo-missing.toml", "handouts.toml", 10, ["'assets/no-such-logo.svg' does not exist"]),
    ("config/threshold-true.toml", "handouts.toml", 27, ["[check] grade_fail: expected a number, found True"]),
    ("templates/undefined-variable.html", "templates/handout.html", 3, ["template error", "titel"]),
    ("templates/syntax-error.html", "templates/handout.html", 4, ["Expected an expression"]),
]


@pytest.mark.parametrize("fixture, target, line, words", PROJECT_CASES,
                         ids=[c[0] for c in PROJECT_CASES])
def test_broken_config_or_template(rebuildable, before, fixture, target, line, words):
    shutil.copyfile(FIXTURES / fixture, rebuildable / target)
    result = run("-C", rebuildable, "build")
    assert_reported(result, f"{target}:{line}: ", words)
    assert (rebuildable / "dist/en/ketamine-aftercare.pdf").read_bytes() == before["aftercare"]


def test_unknown_paper_on_the_command_line(rebuildable):
    result = run("-C", rebuildable, "build", "--paper", "legal")
    assert result.exit_code == 1
    assert "--paper: unknown paper 'legal'; expected one of: letter, a4" in result.stderr


def test_unknown_handout_is_a_usage_error(rebuildable):
    result = run("-C", rebuildable, "build", "ketamine-aftercar")
    assert result.exit_code == 2
    assert "unknown handout 'ketamine-aftercar'" in result.stderr
    assert "did you mean 'ketamine-aftercare'" in result.stderr
