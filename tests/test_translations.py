"""Spanish sheets: every word of the page from the language's catalogue, drafts marked on
every page, and releases that refuse drafts."""
from __future__ import annotations

import json
import tomllib

import pdfplumber
import pytest
from pypdf import PdfReader

from conftest import ROOT, run

STRINGS = ROOT / "templates" / "strings"
ES = ["es/ketamine-aftercare.pdf", "es/ketamine-aftercare-large-print.pdf",
      "es/ketamine-treatment.pdf", "es/ketamine-treatment-large-print.pdf"]
DRAFT_MARK = {"en": "DRAFT - not reviewed for patient use",
              "es": "BORRADOR: sin revisar para uso con pacientes"}


def page_texts(path) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(path).pages]


def test_every_language_has_the_same_strings():
    keys = {path.stem: set(tomllib.loads(path.read_text(encoding="utf-8")))
            for path in STRINGS.glob("*.toml")}
    assert set(keys) == {"en", "es", "vi", "zh", "ar"}
    assert all(keys[lang] == keys["en"] for lang in keys)


@pytest.mark.parametrize("name", ES)
def test_spanish_sheets_speak_spanish_throughout(built, name):
    texts = page_texts(built / name)
    for number, text in enumerate(texts, start=1):
        assert f"Página {number} de {len(texts)}" in text
    whole = " ".join(texts)
    for words in ("¿Tiene preguntas?", "Llámenos al (480) 555-0142.", "Busque ayuda de inmediato",
                  "llame al 911", "Versión 1.", "Actualizado el 3 de diciembre de 2026",
                  "Información para pacientes".upper() if "large-print" not in name
                  else "Información para pacientes"):
        assert words in whole, words
    for english in ("Questions?", "Page ", "Updated", "Version", "emergency", "Patient information"):
        assert english not in whole, english
    assert PdfReader(built / name).trailer["/Root"]["/Lang"] == "es"


def test_spanish_carries_the_key_facts(built):
    text = " ".join(page_texts(built / "es/ketamine-aftercare.pdf"))
    for fact in ("24 horas", "alcohol", "sedantes", "agua", "deshidratación"):
        assert fact in text, fact
    text = " ".join(page_texts(built / "es/ketamine-treatment.pdf"))
    for fact in ("historial médico", "examen físico", "Depresión resistente al tratamiento",
                 "Trastorno bipolar", "TEPT", "SDRC", "Migrañas"):
        assert fact in text, fact


@pytest.mark.parametrize("name", ES)
def test_a_draft_is_marked_on_every_page_in_its_language(built, name):
    for number, text in enumerate(page_texts(built / name), start=1):
        assert DRAFT_MARK["es"] in text, f"page {number}"
    with pdfplumber.open(built / name) as pdf:
        mark = [c for c in pdf.pages[0].chars if tuple(c["non_stroking_color"] or ()) in ((1,), (1, 1, 1))]
        assert mark and min(round(c["size"], 1) for c in mark) >= 11  # visible, not fine print


def test_approved_sheets_carry_no_draft_mark(built):
    for name in ("en/ketamine-aftercare.pdf", "en/ketamine-treatment-large-print.pdf"):
        assert not any(DRAFT_MARK["en"] in text for text in page_texts(built / name))


def test_an_english_draft_is_marked_in_english(project, tmp_path):
    sheet = project / "content/en/ketamine-treatment.md"
    # The band takes room at the top of every page: a draft may need a page more.
    sheet.write_text(sheet.read_text().replace("status: approved", "status: draft")
                     .replace("max_pages: 2", "max_pages: 3").replace("max_pages_large: 5", "max_pages_large: 6"))
    assert run("-C", project, "build", "ketamine-treatment", "--lang", "en", "--out", tmp_path).exit_code == 0
    for text in page_texts(tmp_path / "en/ketamine-treatment.pdf"):
        assert DRAFT_MARK["en"] in text
    entry = json.loads((tmp_path / "manifest.json").read_text())["files"][0]
    assert entry["status"] == "draft"


def test_a_handout_in_one_language_builds_in_that_one(project, tmp_path):
    (project / "content/es/ketamine-treatment.md").unlink()
    result = run("-C", project, "build", "ketamine-treatment", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.pdf")) == [
        "en/ketamine-treatment-large-print.pdf", "en/ketamine-treatment.pdf"]


def test_unknown_language_on_the_command_line(project):
    result = run("-C", project, "build", "--lang", "fr")
    assert result.exit_code == 1
    assert "--lang: unknown language 'fr'; expected one of: en, es" in result.stderr


#: A bilingual reader's notes on the Spanish drafts: the wording to avoid, and what replaces it.
SPANISH_NOTES = [
    ("en su lugar", "qué otras opciones tiene"),
    ("dolor de los nervios", "dolor causado por daño en los nervios"),
    ("bajar la preocupación", "reducir la ansiedad, la tristeza (depresión) y los recuerdos repentinos del trauma"),
    ("terapia de conversación", "psicoterapia"),
    ("otros cuidados", "otros tratamientos"),
    ("etapas", "aliviar el ánimo bajo"),
    ("buena para usted", "adecuada para usted"),
    ("Le atendió", "Su médico o enfermera"),
    ("Preparado para", "Nombre del paciente"),
    ("En emergencias,", "En caso de emergencia,"),
    ("envíe un texto", "mande un mensaje de texto"),
]


@pytest.mark.parametrize("avoid, use", SPANISH_NOTES, ids=[use for _, use in SPANISH_NOTES])
def test_spanish_wording_follows_the_bilingual_review(avoid, use):
    text = " ".join(path.read_text(encoding="utf-8") for path in
                    [*(ROOT / "content/es").glob("*.md"), STRINGS / "es.toml"])
    assert avoid not in text
    assert use in text


def test_the_24_hour_rule_says_after_the_treatment_in_spanish():
    text = (ROOT / "content/es/ketamine-aftercare.md").read_text(encoding="utf-8")
    sentences = [line for line in text.splitlines() if "24 horas" in line]
    assert len(sentences) == 4  # the main message, the checklist, the heading, the paragraph
    assert all("por lo menos 24 horas" in line for line in sentences)  # as the review has it
    assert "por lo menos 24 horas después del tratamiento" in text
    assert "Su equipo médico" in (ROOT / "content/es/ketamine-treatment.md").read_text()
    assert " tú " not in text and " tu " not in text  # usted, never tú
