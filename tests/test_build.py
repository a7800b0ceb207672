"""The real handouts, built and inspected as PDF files."""
from __future__ import annotations

import hashlib
import tomllib
import json

import pdfplumber
import pytest
from pypdf import PdfReader

from conftest import ROOT, copy_project, run

LETTER = (612, 792)
A4 = (595.28, 841.89)
CLINIC = "Mesquite Valley Integrated Health"
EVERY_SHEET = [CLINIC, "(480) 555-0142", "Questions?", "911", "call or text 988"]
KEY_FACTS = {
    "en/ketamine-aftercare.pdf": ["Rest for the rest of the day", "water", "dehydration",
                                  "alcohol", "sedatives", "24 hours"],
    "en/ketamine-treatment.pdf": ["medical history", "physical exam", "how it may help you", "risks",
                                  "treatment-resistant depression", "Bipolar disorder", "PTSD",
                                  "CRPS", "Migraines", "several days to a week"],
}


def text_of(path) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(path).pages)


@pytest.mark.parametrize("name", sorted(KEY_FACTS))
def test_each_sheet_carries_its_facts_and_the_clinics_contact(built, name):
    text = text_of(built / name)
    for fact in KEY_FACTS[name] + EVERY_SHEET:
        assert fact in text, f"{fact!r} missing from {name}"


def test_sheets_fit_their_page_budgets(built):
    pages = {entry["path"]: entry["pages"] for entry in manifest(built)["files"]}
    assert pages["en/ketamine-aftercare.pdf"] <= 2  # one sheet of paper, both sides
    assert pages["en/ketamine-treatment.pdf"] <= 2


def test_every_page_is_us_letter_and_numbered(built):
    for name in KEY_FACTS:
        reader = PdfReader(built / name)
        for number, page in enumerate(reader.pages, start=1):
            assert tuple(round(float(v), 2) for v in page.mediabox[2:]) == LETTER
            assert f"Page {number} of {len(reader.pages)}" in page.extract_text().replace("\xa0", " ")


def test_footer_names_the_handout_and_version_and_the_sheet_its_date(built):
    text = text_of(built / "en/ketamine-aftercare.pdf")
    assert "After your ketamine treatment · Version 1.3 Page 1 of 2" in text  # the footer, one line
    assert "Version 1.3 Updated December 3, 2026" in text  # the masthead, once


def test_a4_when_asked(project, tmp_path):
    result = run("-C", project, "build", "ketamine-aftercare", "--paper", "a4", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    page = PdfReader(tmp_path / "en/ketamine-aftercare.pdf").pages[0]
    assert tuple(round(float(v), 2) for v in page.mediabox[2:]) == A4
    assert manifest(tmp_path)["files"][0]["paper"] == "a4"


def test_a4_from_handouts_toml(project, tmp_path):
    config = project / "handouts.toml"
    config.write_text(config.read_text().replace('paper = "letter"', 'paper = "a4"'))
    assert run("-C", project, "build", "--out", tmp_path).exit_code == 0
    for name in KEY_FACTS:
        page = PdfReader(tmp_path / name).pages[0]
        assert tuple(round(float(v), 2) for v in page.mediabox[2:]) == A4


def test_all_fonts_are_embedded_atkinson_hyperlegible(built):
    for name in KEY_FACTS:
        fonts = list(embedded_fonts(PdfReader(built / name)))
        assert fonts, "no fonts found"
        for base_font, has_file in fonts:
            assert "Atkinson-Hyperlegible" in base_font, base_font
            assert has_file, f"{base_font} is not embedded"


def test_body_text_is_at_least_12_pt(built):
    for name in KEY_FACTS:
        with pdfplumber.open(built / name) as pdf:
            for number, page in enumerate(pdf.pages):
                title_top = min(c["top"] for c in page.chars if c["size"] > 20) if number == 0 else 0
                body = [c for c in page.chars
                        if title_top <= c["top"] and 0.6 * 72 < c["top"] < page.height - 0.8 * 72]
                assert body and min(round(c["size"], 2) for c in body) >= 12, name


def test_metadata(built):
    for name, title in [("en/ketamine-aftercare.pdf", "After your ketamine treatment"),
                        ("en/ketamine-treatment.pdf", "What to expect from ketamine treatment")]:
        reader = PdfReader(built / name)
        info = reader.metadata
        assert info["/Title"] == title
        assert info["/Author"] == CLINIC
        assert info["/Subject"]
        assert "ketamine" in info["/Keywords"] and "patient handout" in info["/Keywords"]
        assert info["/CreationDate"].startswith("D:20261203")
        assert info["/ModDate"].startswith("D:20261203")
        assert reader.trailer["/Root"]["/Lang"] == "en"
        assert reader.trailer["/ID"][0] != reader.trailer["/ID"][1]  # ours, from the content


def test_manifest_lists_every_file_with_its_hash(built):
    data = manifest(built)
    assert data["release"] == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert [entry["path"] for entry in data["files"]] == sorted(
        f"{lang}/{slug}{suffix}.pdf" for lang in ("en", "es")
        for slug in ("ketamine-aftercare", "ketamine-treatment") for suffix in ("", "-large-print"))
    for entry in data["files"]:
        pdf = (built / entry["path"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(pdf).hexdigest()
        assert entry["bytes"] == len(pdf)
        assert entry["pages"] == len(PdfReader(built / entry["path"]).pages)
        lang, name = entry["path"][:-4].split("/")
        assert entry["lang"] == lang
        assert entry["edition"] == ("large-print" if name.endswith("-large-print") else "standard")
        assert entry["handout"] == name.removesuffix("-large-print")
        assert entry["paper"] == "letter"
        assert entry["version"] == {"ketamine-aftercare": "1.3", "ketamine-treatment": "1.2"}[entry["handout"]]
        assert entry["status"] == {"en": "approved", "es": "draft"}[lang]


def test_two_builds_in_two_checkouts_give_identical_bytes(built, tmp_path):
    elsewhere = copy_project(tmp_path / "another" / "checkout")
    assert run("-C", elsewhere, "build", "--force").exit_code == 0
    names = [entry["path"] for entry in manifest(built)["files"]]
    assert len(names) == 8
    for name in names:
        assert (elsewhere / "dist" / name).read_bytes() == (built / name).read_bytes(), name


def test_a_changed_sheet_changes_its_identifier(built, project, tmp_path):
    page = project / "content/en/ketamine-aftercare.md"
    page.write_text(page.read_text().replace("Drink plenty of water", "Drink lots of water"))
    assert run("-C", project, "build", "ketamine-aftercare", "--out", tmp_path).exit_code == 0
    ids = [PdfReader(folder / "en/ketamine-aftercare.pdf").trailer["/ID"][0]
           for folder in (built, tmp_path)]
    assert ids[0] != ids[1]


def test_pdfs_hold_no_path_of_the_build_machine(built):
    for name in KEY_FACTS:
        data = (built / name).read_bytes()
        assert str(ROOT).encode() not in data and b"file://" not in data


def manifest(out):
    return json.loads((out / "manifest.json").read_text())


def embedded_fonts(reader):
    """(BaseFont, has an embedded font file) for every font used on every page."""
    for page in reader.pages:
        fonts = page["/Resources"].get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            for leaf in ([d.get_object() for d in descendants] if descendants else [font]):
                descriptor = leaf["/FontDescriptor"].get_object()
                yield str(leaf["/BaseFont"]), any(
                    key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
