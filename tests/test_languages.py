"""Any language is a folder, a strings file and a code in handouts.toml: Vietnamese, Chinese and
Arabic print, in their own direction, pass PDF/UA-1, and check says their reading level is not
measured rather than failing."""
from __future__ import annotations

import io
import json

import page as page_validation
import pikepdf
import pypdf
import pytest

from conftest import copy_project, run
from handouts.config import load_project
from handouts.pipeline import render_sheet
from handouts.typography import direction

NEW_LANGUAGES = ("vi", "zh", "ar")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return load_project(copy_project(tmp_path_factory.mktemp("world") / "project", all_languages=True))


@pytest.fixture(scope="module")
def aftercare(world):
    """The aftercare sheet of each new language, standard edition, printed once for the module."""
    return {lang: render_sheet(world, "ketamine-aftercare", lang, strict=True).data for lang in NEW_LANGUAGES}


def test_the_direction_follows_the_language_code():
    assert [direction(lang) for lang in ("en", "es", "vi", "zh", "ar", "fa", "he", "ur")] == \
        ["ltr"] * 4 + ["rtl"] * 4


@pytest.mark.parametrize("lang", NEW_LANGUAGES)
def test_each_language_prints_with_its_lang_and_passes_pdf_ua_1(aftercare, tmp_path, lang):
    with pikepdf.open(io.BytesIO(aftercare[lang])) as pdf:
        assert str(pdf.Root.Lang) == lang
    path = tmp_path / f"{lang}.pdf"
    path.write_bytes(aftercare[lang])
    report = page_validation.validate_pdf(path, profile=page_validation.ValidationProfile.PDF_UA_1)
    assert report.is_compliant, [(f.rule_id, f.message) for f in report.failures]


@pytest.mark.parametrize("lang, words", [("vi", "Hãy gọi cho chúng tôi theo số"),
                                         ("zh", "请致电"), ("ar", "اتصل بنا على الرقم")])
def test_the_text_a_screen_reader_gets_is_what_was_written(aftercare, lang, words):
    """Noto Sans's "ccmp" and Noto Sans Arabic's dots-and-shapes letters read back wrong."""
    text = pypdf.PdfReader(io.BytesIO(aftercare[lang])).pages[0].extract_text()
    assert "".join(words.split()) in "".join(text.split()), text[:300]  # lines end in a space


def test_the_drafts_are_within_their_page_budgets(world, tmp_path):
    project = copy_project(tmp_path / "project", all_languages=True)
    result = run("-C", project, "build", "--lang", "vi", "--lang", "zh", "--lang", "ar",
                 "--edition", "standard", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    files = json.loads((tmp_path / "out/manifest.json").read_text())["files"]
    assert {entry["lang"] for entry in files} == set(NEW_LANGUAGES)
    assert all(entry["pages"] <= 2 for entry in files), files  # one sheet of paper, both sides


@pytest.mark.parametrize("lang", NEW_LANGUAGES)
def test_new_starts_a_translation_in_each_language(tmp_path, lang):
    project = copy_project(tmp_path / "project", all_languages=True)
    (project / f"content/{lang}/ketamine-aftercare.md").unlink()
    result = run("-C", project, "new", "ketamine-aftercare", "--lang", lang)
    assert result.exit_code == 0, result.output
    assert "status: draft" in (project / f"content/{lang}/ketamine-aftercare.md").read_text(encoding="utf-8")


def test_check_says_the_reading_level_is_not_measured_and_does_not_fail_on_it(tmp_path):
    project = copy_project(tmp_path / "project", all_languages=True)
    config = project / "handouts.toml"
    config.write_text(config.read_text().replace('editions = ["standard", "large-print"]', 'editions = ["standard"]'))
    result = run("-C", project, "check", "ketamine-aftercare", "--today", "2026-11-27")
    rows = [line for line in result.output.splitlines() if line.startswith("ketamine-aftercare ")]
    assert {row.split()[1] for row in rows if "not measured for this language" in row} == set(NEW_LANGUAGES)
    assert not [line for line in result.output.splitlines() if "/vi/" in line and ": error:" in line]
