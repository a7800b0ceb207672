"""A phone link prints its number once; a bare web address becomes a link, printed once."""
from __future__ import annotations

import io

import markdown
import pdfplumber
import pikepdf
import pytest

from handouts.config import load_project
from handouts.pipeline import render_sheet
from handouts.render import MARKDOWN_EXTENSIONS

from conftest import one_sheet_project


def html_of(text: str) -> str:
    return markdown.markdown(text, extensions=MARKDOWN_EXTENSIONS, output_format="html")


@pytest.mark.parametrize("text, prints_address", [
    ("[(480) 555-0199](tel:+14805550199)", False),  # the address only adds the country code
    ("[480-555-0199](tel:4805550199)", False),
    ("[our front desk](tel:+14805550199)", True),
    ("[555-0199](tel:+14805550199)", True),  # the area code is missing from the words
])
def test_a_phone_link_prints_its_address_only_when_the_words_are_not_the_number(text, prints_address):
    assert ("shows-address" in html_of(text)) is prints_address


def test_a_bare_web_address_is_a_link_that_prints_once():
    html = html_of("See https://medlineplus.gov/ketamine.html for more.")
    assert '<a href="https://medlineplus.gov/ketamine.html">https://medlineplus.gov/ketamine.html</a>' in html
    assert "shows-address" not in html


def test_on_the_sheet_the_number_and_the_address_print_once_and_are_links(tmp_path):
    project = one_sheet_project(tmp_path)
    sheet = project / "content/en/ketamine-aftercare.md"
    sheet.write_text(sheet.read_text(encoding="utf-8") + "\nCall [(480) 555-0199](tel:+14805550199) or read "
                     "https://medlineplus.gov/ketamine.html today.\n", encoding="utf-8")
    data = render_sheet(load_project(project), "ketamine-aftercare", "en").data
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        text = "".join(page.extract_text() for page in pdf.pages).replace(" ", "").replace("\n", "")
    assert text.count("555-0199") == 1 and "+14805550199" not in text
    assert text.count("medlineplus.gov/ketamine.html") == 1
    with pikepdf.open(io.BytesIO(data)) as pdf:
        uris = {str(note.A.URI) for page in pdf.pages for note in page.get("/Annots", []) if "/A" in note}
    assert {"tel:+14805550199", "https://medlineplus.gov/ketamine.html"} <= uris
