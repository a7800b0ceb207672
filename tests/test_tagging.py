"""The tagged text of every PDF, as a screen reader meets it: an independent PDF/UA-1 validator,
the draft band once, one list per list across page breaks, spaces between the words of two
lines, the version and date once.
"""
from __future__ import annotations

import re
from collections import Counter

import page
import pikepdf
import pytest

from conftest import page_objects, reading_text, run, structure, tagged_text

PDFS = [f"{lang}/{slug}{edition}.pdf" for lang in ("en", "es")
        for slug in ("ketamine-aftercare", "ketamine-treatment") for edition in ("", "-large-print")]
DRAFT_MARK = {"en": "DRAFT - not reviewed for patient use",
              "es": "BORRADOR: sin revisar para uso con pacientes"}
#: Lists on each sheet, as written: the items of each (the questions block's prompts last).
LISTS = {"ketamine-aftercare": {"en": [4, 3], "es": [4, 3]},
         "ketamine-treatment": {"en": [3, 3, 4, 3], "es": [2, 3, 4, 3]}}


def kids(element) -> list:
    value = element.get("/K")
    return list(value) if isinstance(value, pikepdf.Array) else [] if value is None else [value]


@pytest.mark.parametrize("name", PDFS)
def test_an_independent_validator_finds_pdf_ua_1(built, name):
    report = page.validate_pdf(built / name, profile=page.ValidationProfile.PDF_UA_1)
    assert report.is_compliant, [(f.rule_id, f.message) for f in report.failures]
    assert report.rules.failed == 0 and report.rules.passed >= 100


@pytest.mark.parametrize("name", [n for n in PDFS if n.startswith("es/")])
def test_the_draft_band_is_read_once_and_drawn_on_every_page(built, name):
    mark = DRAFT_MARK["es"]
    assert reading_text(built / name).count(mark) == 1
    assert reading_text(built / name).startswith(mark)  # first, before the clinic's name
    pages = page_objects(built / name)
    assert len(pages) > 1
    for number, sheet in enumerate(pages):
        band = [c for c in sheet.chars if tuple(c["non_stroking_color"] or ()) in ((1,), (1, 1, 1))]
        assert "".join(c["text"] for c in band) == mark, f"page {number + 1}"
        tags = {c.get("tag") for c in band}
        assert tags == ({"Span"} if number == 0 else {"Artifact"}), f"page {number + 1}: {tags}"


@pytest.mark.parametrize("name", PDFS)
def test_each_list_is_one_list_with_one_item_per_item(built, name):
    slug = name.split("/")[1].removesuffix(".pdf").removesuffix("-large-print")
    with pikepdf.open(built / name) as pdf:
        lists = [element for element in structure(pdf) if element.S == "/L"]
        assert sorted(len(kids(element)) for element in lists) == sorted(LISTS[slug][name[:2]])
        parts = [element for element in structure(pdf) if element.S == "/Part"]
        assert len(parts) == 1  # the sheet's main text, in one piece however many pages
        for element in lists:
            items = kids(element)
            assert all(item.S == "/LI" for item in items)
            labelled = [any(kid.S == "/Lbl" for kid in kids(item)) for item in items]
            assert all(labelled) or not any(labelled)  # no item loses its bullet or number
            for item in items:
                assert [kid.S for kid in kids(item)].count("/LBody") == 1


def test_a_list_item_across_a_page_break_stays_one_item(project, tmp_path):
    sheet = project / "content/en/long-list.md"
    # Large print keeps an item whole unless it is longer than a page: item 6 is.
    items = "\n".join(f"- Item {n}. " + "This sentence makes the item long enough to wrap. " * (40 if n == 6 else 6)
                      for n in range(1, 13))
    sheet.write_text(f"---\ntitle: A long list\nversion: '1'\nupdated: 2026-01-01\nstatus: draft\n"
                     f"max_pages: 4\n---\n\nA list.\n\n{items}\n")
    result = run("-C", project, "build", "long-list", "--lang", "en", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    for name in ("en/long-list.pdf", "en/long-list-large-print.pdf"):
        with pikepdf.open(tmp_path / name) as pdf:
            [long_list] = [e for e in structure(pdf) if e.S == "/L" and len(kids(e)) == 12]
            for item in kids(long_list):
                assert [kid.S for kid in kids(item)] == ["/Lbl", "/LBody"]
        bodies = [lines for tag, lines in tagged_text(tmp_path / name) if tag == "/LBody"]
        across = [lines for lines in bodies if len({page for page, _ in lines}) > 1]
        assert across, f"{name}: no item crosses a page break; make the fixture longer"
        for n in range(1, 13):
            [body] = [text for text in ("".join(t for _, t in lines).replace("\xa0", " ")
                                        for lines in bodies) if text.startswith(f"Item {n}.")]
            assert body.count("This sentence") == (40 if n == 6 else 6)  # the whole item, in one body


@pytest.mark.parametrize("name", PDFS)
def test_words_at_line_breaks_keep_their_space(built, name):
    """ISO 32000-1, 14.8.2.5: the tagged text has a space between the last word of one line and
    the first of the next (never "ketaminetreatment"); after a hyphen it goes on directly."""
    glued = []
    for tag, lines in tagged_text(built / name):
        for (_, before), (_, after) in zip(lines, lines[1:]):
            # (an icon before the words marks a line of no text: nothing to join)
            if before and not (before[-1:].isspace() or before.endswith("-") or not after[:1].isalnum()):
                glued.append(f"{before[-15:]}|{after[:15]}")
    assert not glued, glued


@pytest.mark.parametrize("name", PDFS)
def test_version_and_date_are_read_once(built, name):
    text = reading_text(built / name).replace("\xa0", " ")
    number = "1.3" if "aftercare" in name else "1.2"
    version, date = {"en": (f"Version {number}", "Updated December 3, 2026"),
                     "es": (f"Versión {number}", "Actualizado el 3 de diciembre de 2026")}[name[:2]]
    assert text.count(version) == 1 and text.count(date) == 1
    for sheet in page_objects(built / name):  # and the footer, page furniture, repeats the version
        footer = "".join(c["text"] for c in sheet.chars if c.get("tag") == "Artifact"
                         and c["top"] > sheet.height - 72).replace("\xa0", " ")
        assert version in footer


@pytest.mark.parametrize("name", PDFS)
def test_numbers_stay_with_their_units_in_the_tagged_lines(built, name):
    """No line ends with a number whose unit starts the next line, or with a short word whose
    number starts the next line ("at least / 24 hours", "al menos / 24 horas")."""
    broken = []
    for _, lines in tagged_text(built / name):
        for (_, before), (_, after) in zip(lines, lines[1:]):
            if re.search(r"\d\s*$", before) and re.match(r"\s*[^\W\d]", after):
                broken.append((before, after))
            if re.search(r"(^|\s)[^\W\d]{1,6}\s*$", before) and re.match(r"\s*\d", after):
                broken.append((before, after))
    assert not broken
    if "aftercare" in name:
        assert {"en": "24\xa0hours", "es": "24\xa0horas"}[name[:2]] in reading_text(built / name)


def test_the_tagged_text_is_the_sheet_in_reading_order(built):
    text = reading_text(built / "en/ketamine-aftercare.pdf")
    order = ["Mesquite Valley Integrated Health", "After your ketamine treatment", "For the rest of the day:",
             "Questions?", "Get help right away", "My questions for my care team",
             "Your recovery checklist", "Drink plenty of water and other fluids.", "After treatment, your body",
             "What doctors know", "Prepared for"]
    positions = [text.index(words) for words in order]
    assert positions == sorted(positions)
    assert Counter(text.split("\n"))["Questions?"] == 1


def test_the_post_pass_rewrites_only_the_instructions_it_changes():
    """Each page's content is parsed once and written back as parsed, save the marks and text
    it changes: WeasyPrint's own tokens ("120." for a width a hair over 120) stay as written."""
    import io

    import weasyprint

    from handouts import tagging

    html = ('<html lang="en"><style>@page { size: 300px; margin: 40px; @bottom-center { content: '
            'counter(page) } } p { background: #eee; width: 120.0000001px }</style>'
            '<p>Enough words here to go on over several lines of this narrow box.</p></html>')
    before = weasyprint.HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")
    after = tagging.finish_tagging(before)
    changed = ("BDC", "TJ", "Tj", "Tf")  # artifacts, spaces at line ends, the font of a space

    def untouched(data: bytes) -> list[bytes]:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            return [pikepdf.unparse_content_stream([instruction])
                    for instruction in pikepdf.parse_content_stream(pdf.pages[0])
                    if str(instruction.operator) not in changed]

    written = untouched(before)
    assert any(re.search(rb"\d\.(\s|$)", token) for token in written)  # "28." and the like
    assert untouched(after) == written
    assert after != before
