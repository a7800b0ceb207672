"""The handouts' words: plain language, front matter, and no clinic facts outside handouts.toml."""
from __future__ import annotations

import re
from datetime import date

import markdown
import pytest
import textstat

from handouts.content import load_all, load_handout

from conftest import ROOT

SHEETS = sorted((ROOT / "content" / "en").glob("*.md"))


def plain_text(body: str) -> str:
    """The words a patient reads: Markdown rendered, tags and call-out markers removed."""
    html = markdown.markdown(body, extensions=["admonition", "sane_lists"])
    blocks = re.split(r"</(?:p|li|h\d)>", html)
    sentences = []
    for block in blocks:
        text = re.sub(r"<[^>]+>", " ", block)
        text = " ".join(text.split())
        if text:
            sentences.append(text if text[-1] in ".?!:" else text + ".")
    return " ".join(sentences)


@pytest.mark.parametrize("path", SHEETS, ids=[p.stem for p in SHEETS])
def test_english_reads_at_grade_8_or_below(path):
    handout = load_handout(path, "en")
    grade = textstat.flesch_kincaid_grade(plain_text(handout.body))
    assert grade <= 8, f"{path.name} reads at grade {grade}"


def test_the_readability_measure_can_fail():
    hard = ("Ketamine, once known only as a powerful anesthetic and popular recreational drug, has "
            "emerged as a promising treatment for many medical conditions in recent years.")
    assert textstat.flesch_kincaid_grade(hard) > 8


def test_every_handout_loads_with_its_front_matter():
    handouts, errors = load_all(ROOT / "content", ("en",))
    assert not errors
    assert {h.slug for h in handouts} == {"ketamine-aftercare", "ketamine-treatment"}
    for handout in handouts:
        assert handout.updated == date(2026, 11, 27)
        assert handout.version == "1.0" and handout.status == "approved"
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
