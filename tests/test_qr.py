"""The QR code to the sheet online: read back from the printed page as a phone would (zxing-cpp),
measured in the PDF, tagged as a figure with alt text; and [clinic] sheet_url's checks."""
from __future__ import annotations

import io

import page as page_validation
import pdfplumber
import pikepdf
import pypdfium2
import pytest
import segno
import zxingcpp

from conftest import copy_project, run, structure
from handouts import config as config_module, pipeline, render
from handouts.config import load_project
from handouts.errors import ConfigError

PATTERN = "https://www.example.org/handouts/{lang}/{slug}"
ADDRESS = "www.example.org/handouts/en/ketamine-aftercare"
EDITIONS = ("standard", "large-print", "bilingual")
SCALE = 3  # 216 dpi: a module of the code is several pixels
MODULES = segno.make(f"https://{ADDRESS}", error="m").symbol_size(border=0)[0]


def with_settings(root, sheet_url: str = PATTERN) -> None:
    """Give the project's handouts.toml a sheet_url and the bilingual edition."""
    config = root / "handouts.toml"
    text = config.read_text().replace('bilingual = ["en", "es"]\n', "")
    text = text.replace('logo = "assets/logo.svg"\n', f'logo = "assets/logo.svg"\nsheet_url = "{sheet_url}"\n')
    text = text.replace('editions = ["standard", "large-print"]',
                        'editions = ["standard", "large-print", "bilingual"]\nbilingual = ["en", "es"]')
    config.write_text(text)


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """Page 1 of the aftercare sheet in every edition, with the QR code: (PDF path, PIL image)."""
    root = copy_project(tmp_path_factory.mktemp("qr") / "project")
    with_settings(root)
    project = load_project(root)
    sheets = {}
    for edition in EDITIONS:
        sheet = pipeline.render_sheet(project, "ketamine-aftercare", "en", edition, strict=True)
        path = root / f"{edition}.pdf"
        path.write_bytes(sheet.data)
        document = pypdfium2.PdfDocument(sheet.data)
        sheets[edition] = path, document[0].render(scale=SCALE).to_pil().convert("L")
        document.close()
    return sheets


@pytest.mark.parametrize("edition", EDITIONS)
def test_page_one_carries_a_code_that_opens_the_sheet(printed, edition):
    _path, image = printed[edition]
    codes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [code.text for code in codes] == [f"https://{ADDRESS}"]


@pytest.mark.parametrize("edition", EDITIONS)
def test_the_code_is_at_least_2_cm_across_with_its_quiet_zone(printed, edition):
    _path, image = printed[edition]
    (code,) = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    corners = code.position
    width_cm = (corners.top_right.x - corners.top_left.x) / SCALE / 72 * 2.54
    assert 2.0 <= width_cm < 2.3
    # The quiet zone: four modules of white all round the code, so a camera finds its edges.
    module = (corners.top_right.x - corners.top_left.x) / MODULES
    left, top = corners.top_left.x, corners.top_left.y
    right, bottom = corners.bottom_right.x, corners.bottom_right.y
    zone = int(4 * module) - 1
    for box in ((left - zone, top - zone, left - 2, bottom + zone), (right + 2, top - zone, right + zone, bottom + zone),
                (left - zone, top - zone, right + zone, top - 2), (left - zone, bottom + 2, right + zone, bottom + zone)):
        assert image.crop(tuple(map(int, box))).getextrema()[0] > 200, "ink in the code's quiet zone"


@pytest.mark.parametrize("edition", EDITIONS)
def test_the_code_is_vector_art_tagged_as_a_figure_with_alt_text(printed, edition):
    path, _image = printed[edition]
    with pikepdf.open(path) as pdf:
        figures = [element for element in structure(pdf) if element.S == "/Figure"
                   and str(element.Alt).startswith("QR code")]  # the sheet's pictures are Figures too
        assert [str(figure.Alt) for figure in figures] == [f"QR code: opens this sheet online at {ADDRESS}"]
        for page in pdf.pages:  # no raster image anywhere: the code is drawn as paths
            assert not page.get_images()


@pytest.mark.parametrize("edition", EDITIONS)
def test_the_short_address_is_printed_beside_the_code(printed, edition):
    path, _image = printed[edition]
    document = pypdfium2.PdfDocument(path)
    # PDFium gives a hyphen at the end of a line as U+FFFE.
    text = "".join(document[0].get_textpage().get_text_range().replace("\ufffe", "-").split())
    document.close()
    assert "Readthissheetonline:" in text and ADDRESS in text and "https" not in text


@pytest.mark.parametrize("edition", EDITIONS)
def test_an_independent_validator_finds_pdf_ua_1_with_the_code(printed, edition):
    report = page_validation.validate_pdf(printed[edition][0],
                                          profile=page_validation.ValidationProfile.PDF_UA_1)
    assert report.is_compliant, [(f.rule_id, f.message) for f in report.failures]


def test_the_address_is_a_link_to_the_sheet(printed):
    with pikepdf.open(printed["standard"][0]) as pdf:
        targets = {str(annotation.A.URI) for annotation in pdf.pages[0].get("/Annots", [])}
    assert targets == {f"https://{ADDRESS}"}


def test_without_a_pattern_there_is_no_code_and_no_room_for_one(tmp_path):
    root = copy_project(tmp_path / "project")
    project = load_project(root)
    handout = pipeline.content.load_handout(root / "content/en/ketamine-aftercare.md", "en")
    html = render.render_html(project, handout, "standard", "letter")
    assert "with-code" not in html and "qr-code" not in html and "qr-address" not in html


@pytest.mark.parametrize("pattern, problem", [
    ("https://www.example.org/handouts/{lang}/{slug}", None),
    ("http://clinic.example:8080/h?sheet={slug}", None),
    ("https://example.org/" + "x" * (100 - len("https://example.org/{slug}")) + "{slug}", None),
    ("https://example.org/" + "x" * (101 - len("https://example.org/{slug}")) + "{slug}",
     "expected at most 100 characters, found 101"),
    ("https://www.example.org/{lang}/{name}", "expected only the placeholders {lang} and {slug}, found {name}"),
    ("https://www.example.org/{slug!r}", "expected only the placeholders"),
    ("https://www.example.org/{slug:>9}", "expected only the placeholders"),
    ("https://www.example.org/{lang}", "expected {slug} in the address"),
    ("https://www.example.org/{slug", "unpaired brace"),
    ("ftp://www.example.org/{slug}", "expected a web address starting https:// or http://"),
    ("www.example.org/{slug}", "expected a web address starting https:// or http://"),
    ("https://www.example.org/my sheets/{slug}", "without spaces or quotes"),
])
def test_sheet_url_takes_a_web_address_with_slug_and_lang_only(tmp_path, pattern, problem):
    root = copy_project(tmp_path / "project")
    with_settings(root, pattern)
    if problem is None:
        assert load_project(root).config.clinic.sheet_url == pattern
        return
    with pytest.raises(ConfigError) as error:
        config_module.load_config(root / "handouts.toml")
    assert problem in error.value.detail
    text = (root / "handouts.toml").read_text()
    assert error.value.line == config_module.line_of(text, "sheet_url")


@pytest.mark.parametrize("edition", EDITIONS)
def test_no_text_is_drawn_over_the_code(printed, edition):
    path, _image = printed[edition]
    with pikepdf.open(path) as pdf:
        (figure,) = [element for element in structure(pdf) if element.S == "/Figure"
                     and str(element.Alt).startswith("QR code")]
        # From the page's top, in CSS pixels (WeasyPrint's unit): 0.75 pt each.
        x0, y0, x1, y1 = (float(value) * 0.75 for value in figure.A.BBox)
    with pdfplumber.open(path) as pdf:
        inside = [char["text"] for char in pdf.pages[0].chars
                  if x0 < (char["x0"] + char["x1"]) / 2 < x1 and y0 < (char["top"] + char["bottom"]) / 2 < y1]
    assert x1 - x0 > 2 / 2.54 * 72 and not inside


def test_the_code_keeps_every_sheet_within_its_page_budget(tmp_path):
    # The code sits at the end of the masthead, not above the text: a strict build with it of
    # the longer sheet (the one with the least room left) in every language and edition succeeds.
    root = copy_project(tmp_path / "project", all_languages=True)
    with_settings(root)
    result = run("-C", root, "build", "--strict", "--edition", "standard", "--edition", "large-print",
                 "ketamine-treatment")
    assert result.exit_code == 0, result.output


def test_the_code_is_at_the_end_of_the_masthead_in_either_direction(tmp_path):
    # English: the code at the right of the clinic's name; Arabic (right to left): at its left.
    root = copy_project(tmp_path / "project", all_languages=True)
    with_settings(root)
    project = load_project(root)
    for lang, at_right in (("en", True), ("ar", False)):
        data = pipeline.render_sheet(project, "ketamine-aftercare", lang, "standard", strict=True).data
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            [clinic] = [word for word in pdf.pages[0].extract_words() if word["text"] == "Mesquite"]
        document = pypdfium2.PdfDocument(data)
        (code,) = zxingcpp.read_barcodes(document[0].render(scale=SCALE).to_pil().convert("L"),
                                         formats=zxingcpp.BarcodeFormat.QRCode)
        document.close()
        left, right = code.position.top_left.x / SCALE, code.position.top_right.x / SCALE
        assert (left > clinic["x1"]) if at_right else (right < clinic["x0"]), (lang, left, right, clinic)
