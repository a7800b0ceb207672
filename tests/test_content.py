"""The handouts' words: plain language, front matter, and no clinic facts outside handouts.toml."""
from __future__ import annotations

from datetime import date

import pytest
import textstat

from handouts.content import load_all, load_handout
from handouts.readability import plain_text, reading_level

from conftest import ROOT

SHEETS = sorted((ROOT / "content").glob("*/*.md"))


@pytest.mark.parametrize("path", SHEETS, ids=[f"{p.parent.name}/{p.stem}" for p in SHEETS])
def test_every_sheet_reads_easily(path):
    """English at grade 6 or below (8 fails); Spanish at a Fernandez-Huerta ease of 70 or more."""
    reading = reading_level(load_handout(path, path.parent.name))
    if path.parent.name == "en":
        assert reading.score <= 6, f"{path.name} reads at grade {reading.score}"
    else:
        assert reading.score >= 70, f"{path.name} reads at ease {reading.score}"


def test_plain_text_is_what_a_patient_reads():
    text = plain_text("## Rest today\n\n!!! checklist \"Your list\"\n    - Drink **water**\n\n"
                      "See [the sheet](#x).")
    assert text == "Rest today. Your list. Drink water. See the sheet."


def test_the_readability_measure_can_fail():
    hard = ("Ketamine, once known only as a powerful anesthetic and popular recreational drug, has "
            "emerged as a promising treatment for many medical conditions in recent years.")
    assert textstat.flesch_kincaid_grade(hard) > 8


def test_every_handout_loads_with_its_front_matter():
    handouts, errors = load_all(ROOT / "content", ("en", "es"))
    assert not errors
    assert {(h.slug, h.lang) for h in handouts} == {
        (slug, lang) for slug in ("ketamine-aftercare", "ketamine-treatment") for lang in ("en", "es")}
    for handout in handouts:
        assert handout.updated == date(2026, 11, 27)
        assert handout.version == "1.0"
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
