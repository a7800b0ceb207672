"""The handouts' words: plain language, front matter, and no clinic facts outside handouts.toml."""
from __future__ import annotations

from datetime import date

import pytest

from handouts.content import load_all, load_handout
from handouts.readability import (MEASURES, english_syllables, prose, reading_level, score_text,
                                  spanish_syllables, words_of)

from conftest import ROOT

SHEETS = sorted(path for path in (ROOT / "content").glob("*/*.md") if path.parent.name in MEASURES)


@pytest.mark.parametrize("path", SHEETS, ids=[f"{p.parent.name}/{p.stem}" for p in SHEETS])
def test_every_sheet_reads_easily(path):
    """English at grade 6 or below (8 fails); Spanish at a Fernandez-Huerta ease of 70 or more."""
    reading = reading_level(load_handout(path, path.parent.name))
    if path.parent.name == "en":
        assert reading.score <= 6, f"{path.name} reads at grade {reading.score}"
    else:
        assert reading.score >= 70, f"{path.name} reads at ease {reading.score}"


def test_prose_is_what_a_patient_reads_as_sentences():
    found = prose("## Rest today\n\n!!! checklist \"Your list\"\n    - Drink **plenty of** water\n\n"
                  "See [the sheet](#x).")
    assert found.text == "Drink plenty of water. See the sheet."
    assert found.left_out == {"heading": 1, "call-out title": 1}


def test_the_readability_measure_can_fail():
    hard = ("Ketamine, once known only as a powerful anesthetic and popular recreational drug, has "
            "emerged as a promising treatment for many medical conditions in recent years.")
    assert score_text(MEASURES["en"], hard) > 8


# Syllables counted by hand, word by word (a dictionary of pronunciations for English; Spanish
# vowel nuclei, a diphthong one, a hiatus two). Hyphenation patterns count "medicine", "body"
# and "very" short, which made sheets look two grades easier than they are.
ENGLISH = ("Rest gives your body time to recover from the medicine. Ketamine can make your body "
           "lose very much water. Sedatives are medicines that make you calm or sleepy. "
           "Antidepressants and psychotherapy did not help. The clinic's CRPS sheet has 24 lines.")
ENGLISH_BY_HAND = [1, 1, 1, 2, 1, 1, 3, 1, 1, 3,
                   3, 1, 1, 1, 2, 1, 2, 1, 2,
                   3, 1, 3, 1, 1, 1, 1, 1, 2,
                   5, 1, 5, 1, 1, 1,
                   1, 2, 4, 1, 1, 2, 1]
SPANISH = ("La ketamina puede hacerle perder demasiada agua. Después del tratamiento, descanse el "
           "resto del día. El oído y la guía de psicoterapia ayudan muy poco hoy. "
           "Los sedantes aumentan el riesgo de deshidratación durante 24 horas.")
SPANISH_BY_HAND = [1, 4, 2, 3, 2, 4, 2,
                   2, 1, 4, 3, 1, 2, 1, 2,
                   1, 3, 1, 1, 2, 1, 5, 3, 1, 2, 1,
                   1, 3, 3, 1, 2, 1, 5, 3, 2, 2]


@pytest.mark.parametrize("text, by_hand, count", [(ENGLISH, ENGLISH_BY_HAND, english_syllables),
                                                  (SPANISH, SPANISH_BY_HAND, spanish_syllables)],
                         ids=["en", "es"])
def test_syllables_match_counts_by_hand(text, by_hand, count):
    words = words_of(text)
    assert len(words) == len(by_hand)
    assert [(word, count(word)) for word in words] == list(zip(words, by_hand))


def test_reading_level_formulas_on_a_counted_paragraph():
    """Flesch-Kincaid grade and Fernandez-Huerta ease from the counts by hand above."""
    words, sentences = len(ENGLISH_BY_HAND), 5
    grade = 0.39 * words / sentences + 11.8 * sum(ENGLISH_BY_HAND) / words - 15.59
    assert score_text(MEASURES["en"], ENGLISH) == pytest.approx(grade)
    words, sentences = len(SPANISH_BY_HAND), 4
    ease = 206.84 - 60 * sum(SPANISH_BY_HAND) / words - 1.02 * words / sentences
    assert score_text(MEASURES["es"], SPANISH) == pytest.approx(ease)


def test_every_handout_loads_with_its_front_matter():
    handouts, errors = load_all(ROOT / "content", ("en", "es"))
    assert not errors
    assert {(h.slug, h.lang) for h in handouts} == {
        (slug, lang) for slug in ("ketamine-aftercare", "ketamine-treatment") for lang in ("en", "es")}
    for handout in handouts:
        assert handout.updated == date(2026, 12, 3)
        assert handout.version == {"ketamine-aftercare": "1.3", "ketamine-treatment": "1.2"}[handout.slug]
        # A translation stays a draft until a qualified medical translator has reviewed it.
        assert handout.status == {"en": "approved", "es": "draft"}[handout.lang]
        assert handout.summary


def test_version_keeps_its_text(tmp_path):
    page = tmp_path / "sheet.md"
    page.write_text("---\ntitle: T\nversion: 1.10\nupdated: 2026-01-02\nstatus: draft\n---\nBody\n")
    assert load_handout(page, "en").version == "1.10"


@pytest.mark.parametrize("fact", ["Mesquite", "555-", "911", "988", "example.org"])
def test_clinic_facts_live_only_in_handouts_toml(fact):
    for folder in ("templates", "content", "styles"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in (".html", ".md", ".css", ".toml"):
                assert fact not in path.read_text(encoding="utf-8"), f"{fact!r} in {path}"
    assert fact in (ROOT / "handouts.toml").read_text()


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_overview_helps_the_reader_act(lang):
    """Key points near the top, steps written for the reader, and the terms it uses defined."""
    text = (ROOT / f"content/{lang}/ketamine-treatment.md").read_text(encoding="utf-8")
    body = text.split("\n---\n", 1)[1]
    key_points = {"en": '!!! note "Key points"', "es": '!!! note "Puntos clave"'}[lang]
    assert body.index(key_points) < body.index("\n## ")  # before the first section
    actions = {"en": ["Bring a list of all the medicines you take.", "Ask the specialist",
                      "Write your questions in the box"],
               "es": ["Traiga una lista de todos los medicamentos que toma.", "Pregúntele al especialista",
                      "Escriba sus preguntas en el cuadro"]}[lang]
    definitions = {"en": ["antidepressants (medicines for depression)", "psychotherapy (talk therapy)",
                          "A specialist is", "complex regional pain syndrome (CRPS).",
                          "pain caused by damaged nerves", "anxiety, depression and flashbacks"],
                   "es": ["antidepresivos (medicamentos para la depresión)",
                          "Es alguien de nuestro equipo que conoce bien este tratamiento",
                          "psicoterapia (terapia con un psicólogo o consejero)",
                          "síndrome de dolor regional complejo (SDRC)", "dolor causado por daño en los nervios"]}[lang]
    for words in actions + definitions:
        assert words in body, words
    for trimmed in ("anesthetic", "anestésico", "receptor"):  # history and mechanism, left out
        assert trimmed not in body


def test_the_aftercare_sheet_says_what_to_do_with_a_prescribed_sedative():
    text = (ROOT / "content/en/ketamine-aftercare.md").read_text(encoding="utf-8")
    assert "If a doctor prescribed you a sedative, ask us before you skip or stop it." in text
    assert '!!! checklist "Your recovery checklist"' in text
