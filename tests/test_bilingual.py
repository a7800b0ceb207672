"""The bilingual edition: a sheet and its translation section by section, each passage tagged in
its own language; its budget, name, manifest entry and draft band; [build] bilingual's checks."""
from __future__ import annotations

import json
import re
import shutil

import page as page_validation
import pdfplumber
import pikepdf
import pytest

from conftest import copy_project, reading_text, run, structure
from handouts import bilingual, config as config_module, content, output, pipeline, render
from handouts.config import load_project
from handouts.errors import ConfigError, ContentError

SHEET = "en/ketamine-aftercare-bilingual.pdf"


def bilingual_project(root, pair='["en", "es"]', editions='["standard", "bilingual"]'):
    text = (root / "handouts.toml").read_text().replace('bilingual = ["en", "es"]\n', "")
    text = text.replace('editions = ["standard", "large-print"]', f"editions = {editions}\nbilingual = {pair}")
    (root / "handouts.toml").write_text(text)
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The aftercare sheet built in the bilingual edition alone: (project, output folder)."""
    root = bilingual_project(copy_project(tmp_path_factory.mktemp("bilingual") / "project"))
    out = root / "dist"
    result = run("-C", root, "build", "--strict", "--edition", "bilingual", "--out", out, "ketamine-aftercare")
    assert result.exit_code == 0, result.output
    return root, out


def test_it_has_its_own_file_and_manifest_entry_with_both_languages(built):
    _root, out = built
    (entry,) = json.loads((out / "manifest.json").read_text())["files"]
    assert entry["path"] == SHEET and (out / SHEET).is_file()
    assert (entry["edition"], entry["lang"], entry["languages"]) == ("bilingual", "en", ["en", "es"])
    assert entry["status"] == "draft"  # the Spanish translation is a draft
    assert entry["pages"] == 4  # within its budget: the English sheet's 2 pages, the Spanish 2, and 1


def test_each_section_comes_in_english_then_in_spanish(built):
    _root, out = built
    text = reading_text(out / SHEET)
    order = [text.index(f"\n{heading}\n") for heading in (
        "After your ketamine treatment", "Después de su tratamiento con ketamina",
        "Rest for the rest of the day", "Descanse el resto del día",
        "Drink plenty of water", "Tome mucha agua")]
    assert order == sorted(order)


def _languages_of_blocks(path):
    """(language, text) of every heading, paragraph and list item, the language inherited down
    the structure tree from the nearest element with a /Lang (else the document's)."""
    texts = {}
    with pdfplumber.open(path) as pdf:
        for number, page in enumerate(pdf.pages):
            for char in page.chars:
                if char.get("mcid") is not None:
                    texts[number, char["mcid"]] = texts.get((number, char["mcid"]), "") + char["text"]
    found = []
    with pikepdf.open(path) as pdf:
        page_of = {page.obj.objgen: number for number, page in enumerate(pdf.pages)}

        def text_of(element, page):
            kids = element.get("/K")
            words = ""
            for kid in (kids if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]):
                if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                    words += text_of(kid, page_of.get(kid.Pg.objgen, page) if "/Pg" in kid else page)
                elif isinstance(kid, pikepdf.Dictionary) and "/MCID" in kid:
                    words += texts.get((page, int(kid.MCID)), "")
                elif isinstance(kid, int):
                    words += texts.get((page, int(kid)), "")
            return words

        def walk(element, lang):
            lang = str(element.get("/Lang", lang))
            if str(element.S) in ("/H1", "/H2", "/P", "/LI"):
                page = page_of.get(element.Pg.objgen) if "/Pg" in element else None
                found.append((lang, text_of(element, page)))
            for kid in element.get("/K", []) if isinstance(element.get("/K"), pikepdf.Array) else []:
                if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                    walk(kid, lang)

        for document in pdf.Root.StructTreeRoot.K:
            walk(document, str(pdf.Root.Lang))
    return found


def test_every_passage_is_tagged_in_its_own_language(built):
    root, out = built
    blocks = _languages_of_blocks(out / SHEET)
    for lang in ("en", "es"):
        handout = content.load_handout(root / f"content/{lang}/ketamine-aftercare.md", lang)
        headings = [line.lstrip("#").strip() for line in handout.body.splitlines() if line.startswith("#")]
        assert headings
        for heading in headings:
            langs = {block_lang for block_lang, text in blocks if " ".join(text.split()) == heading}
            assert langs == {lang}, (heading, langs)
    # The contact box's lines too: "Llámenos al (480) 555-0142." is read in Spanish.
    assert {lang for lang, text in blocks if text.startswith("Llámenos")} == {"es"}
    # And the questions box's prompts, in both languages.
    assert {lang for lang, text in blocks if "How can this help me?" in text} == {"en"}
    assert {lang for lang, text in blocks if "¿Cómo me puede ayudar este tratamiento?" in " ".join(text.split())} == {"es"}


def test_both_languages_draft_band_is_on_every_page(built):
    _root, out = built
    with pdfplumber.open(out / SHEET) as pdf:
        for page in pdf.pages:
            words = page.extract_text()
            assert "DRAFT - not reviewed" in words and "BORRADOR: sin revisar" in words


def test_an_independent_validator_finds_pdf_ua_1(built):
    _root, out = built
    report = page_validation.validate_pdf(out / SHEET, profile=page_validation.ValidationProfile.PDF_UA_1)
    assert report.is_compliant, [(f.rule_id, f.message) for f in report.failures]


def test_max_pages_bilingual_sets_its_budget(built):
    root, _out = built
    sheet = root / "content/en/ketamine-aftercare.md"
    original = sheet.read_text()
    try:
        sheet.write_text(original.replace("max_pages: 2\n", "max_pages: 2\nmax_pages_bilingual: 2\n"))
        with pytest.raises(pipeline.PageBudgetError) as error:
            pipeline.render_sheet(load_project(root), "ketamine-aftercare", "en", "bilingual")
        assert "has 4 pages; its budget is 2 (shorten it, or raise max_pages_bilingual)" in error.value.detail
        assert error.value.line == 7
    finally:
        sheet.write_text(original)


def test_only_sheets_in_both_languages_are_planned(tmp_path):
    root = bilingual_project(copy_project(tmp_path / "project"))
    (root / "content/es/ketamine-treatment.md").unlink()
    project = load_project(root)
    handouts, _ = content.load_all(project.content_dir, project.config.languages)
    jobs = pipeline.plan(handouts, "letter", project.config.editions, project.config.bilingual)
    assert [job.path for job in jobs if job.edition == "bilingual"] == [SHEET]
    assert jobs[[job.path for job in jobs].index(SHEET)].translation.lang == "es"
    assert pipeline.plan(handouts, "letter", project.config.editions) == [
        job for job in jobs if job.edition != "bilingual"]  # no pair, no bilingual sheet
    with pytest.raises(pipeline.UnknownSheet, match="printed from 'en'"):
        pipeline.render_sheet(project, "ketamine-aftercare", "es", "bilingual")


def test_a_translation_must_keep_its_originals_sections(tmp_path):
    root = bilingual_project(copy_project(tmp_path / "project"))
    project = load_project(root)
    original = content.load_handout(root / "content/en/ketamine-aftercare.md", "en")
    spanish = root / "content/es/ketamine-aftercare.md"
    spanish.write_text(spanish.read_text().replace("## Tome mucha agua\n", "**Tome mucha agua**\n"))
    translation = content.load_handout(spanish, "es")
    with pytest.raises(ContentError) as error:
        render.render_html(project, original, "bilingual", "letter", None, translation)
    assert error.value.path == spanish
    assert "expected 5 sections" in error.value.detail and "found 4 sections" in error.value.detail


@pytest.mark.parametrize("pair, editions, problem", [
    ('["en", "es"]', '["standard", "bilingual"]', None),
    ('[]', '["standard"]', None),
    ('[]', '["standard", "bilingual"]', "editions: the bilingual edition needs its two languages"),
    ('["es", "en"]', '["standard"]', "bilingual: expected the original language 'en'"),
    ('["en", "en"]', '["standard"]', "bilingual: expected the original language 'en'"),
    ('["en", "fr"]', '["standard"]', "one other of languages (es), found en, fr"),
    ('["en"]', '["standard"]', "bilingual: expected"),
    ('["en", "es", "es"]', '["standard"]', "bilingual: expected"),
])
def test_the_pair_is_the_original_and_one_other_configured_language(tmp_path, pair, editions, problem):
    root = bilingual_project(copy_project(tmp_path / "project"), pair, editions)
    if problem is None:
        assert load_project(root).config.bilingual == tuple(json.loads(pair))
        return
    with pytest.raises(ConfigError) as error:
        config_module.load_config(root / "handouts.toml")
    assert problem in error.value.detail
    key = "editions" if problem.startswith("editions") else "bilingual"
    assert error.value.line == config_module.line_of((root / "handouts.toml").read_text(), key)


def test_a_build_of_everything_removes_it_when_the_translation_is_gone(built, tmp_path):
    root, out = built
    copy = tmp_path / "dist"
    shutil.copytree(out, copy)
    spanish = root / "content/es/ketamine-aftercare.md"
    kept = spanish.read_text()
    try:
        spanish.unlink()
        with output.opened(copy, "1.0.0") as folder:
            removed = pipeline.remove_gone(load_project(root), folder)
            folder.finish()
    finally:
        spanish.write_text(kept)
    assert removed == [(SHEET, spanish)]
    assert not (copy / SHEET).exists() and json.loads((copy / "manifest.json").read_text())["files"] == []


def test_a_release_joins_the_bilingual_sheets_into_a_bilingual_packet(tmp_path):
    root = bilingual_project(copy_project(tmp_path / "project"), editions='["bilingual"]')
    result = run("-C", root, "build", "--release", "--allow-drafts", "--strict", "--out", root / "dist")
    assert result.exit_code == 0, result.output
    folder = root / "dist/release/1.2.0"
    entries = {entry["path"]: entry for entry in json.loads((folder / "manifest.json").read_text())["files"]}
    assert sorted(entries) == ["en/ketamine-aftercare-bilingual-1.2.0.pdf",
                               "en/ketamine-treatment-bilingual-1.2.0.pdf",
                               "en/patient-packet-bilingual-1.2.0.pdf"]
    packet = entries["en/patient-packet-bilingual-1.2.0.pdf"]
    assert (packet["edition"], packet["languages"], packet["status"]) == ("bilingual", ["en", "es"], "draft")
    # Without --allow-drafts, the draft translations keep every bilingual sheet out.
    again = run("-C", root, "build", "--release", "--strict", "--out", tmp_path / "other")
    assert again.exit_code == 1 and "found only drafts" in again.output


def test_no_anchor_is_defined_twice_when_both_languages_have_footnotes(tmp_path):
    root = bilingual_project(copy_project(tmp_path / "project"))
    project = load_project(root)
    original, translation = (content.load_handout(root / f"templates/specimen/{lang}/specimen.md", lang)
                             for lang in ("en", "es"))
    html = render.render_html(project, original, "bilingual", "letter", None, translation)
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert "fn:1" in ids and "es-fn:1" in ids and len(ids) == len(set(ids))
    assert 'href="#es-fn:1"' in html  # the Spanish mark leads to the Spanish note


def test_a_heading_inside_a_quote_or_call_out_does_not_start_a_section():
    html = ("<p>Opening.</p>\n<h2>One</h2>\n<blockquote>\n<h2>Quoted</h2>\n</blockquote>\n"
            "<p>Text<br/>more.</p>\n<h2>Two</h2>\n<p>End.</p>")
    assert bilingual.sections(html) == [
        "<p>Opening.</p>\n", "<h2>One</h2>\n<blockquote>\n<h2>Quoted</h2>\n</blockquote>\n<p>Text<br/>more.</p>\n",
        "<h2>Two</h2>\n<p>End.</p>"]
