"""How the pages are laid out, measured on the PDFs (and on WeasyPrint's own page boxes):
ink clear of the edges, a one-line footer, a readable measure, no lone lines at a page break,
a last page that carries text, and the questions block on every sheet."""
from __future__ import annotations

import re

import pdfplumber
import pypdfium2
import pytest
from PIL import ImageOps
from weasyprint.formatting_structure import boxes

from handouts.config import load_project
from handouts.content import load_handout
from handouts.pdf import lay_out
from handouts.render import render_html

from conftest import ROOT, page_objects, reading_text

PDFS = [f"{lang}/{slug}{edition}.pdf" for lang in ("en", "es")
        for slug in ("ketamine-aftercare", "ketamine-treatment") for edition in ("", "-large-print")]
#: Most printers cannot print the outer quarter inch; keep every mark further in than this.
INK_INSET = 18  # pt
#: Lines of running text longer than this are hard to follow back to the next line's start.
MEASURE = 100  # characters: below the side column the text runs across the page (two pages a sheet)
WRITE_IN = re.search(r"--write-in:\s*(#[0-9a-f]{6})", (ROOT / "styles/tokens.css").read_text())[1]
QUESTIONS = {"en": ("My questions for my care team", "How can this help me?",
                    "What do I need to do?", "Why is it important?"),
             "es": ("Mis preguntas para el equipo médico", "¿Cómo me puede ayudar este tratamiento?",
                    "¿Qué necesito hacer?", "¿Por qué es importante?")}


@pytest.mark.parametrize("name", PDFS)
def test_all_ink_is_at_least_18_pt_from_every_edge(built, name):
    document = pypdfium2.PdfDocument(built / name)
    for number in range(len(document)):
        image = document[number].render(scale=2).to_pil().convert("L")  # 2 pixels a point
        ink = ImageOps.invert(image.point(lambda value: 255 if value >= 250 else 0))
        left, top, right, bottom = ink.getbbox()
        width, height = image.size
        inset = min(left, top, width - right, height - bottom) / 2
        assert inset >= INK_INSET, f"{name} page {number + 1}: ink {inset} pt from an edge"


@pytest.mark.parametrize("name", PDFS)
def test_the_footer_is_one_line(built, name):
    for number, page in enumerate(page_objects(built / name), start=1):
        footer = [c for c in page.chars if c.get("tag") == "Artifact" and c["top"] > page.height / 2]
        assert footer, f"page {number}"
        assert max(c["top"] for c in footer) - min(c["top"] for c in footer) < 2, f"page {number}"


@pytest.mark.parametrize("name", [n for n in PDFS if "large-print" not in n])
def test_standard_lines_keep_a_measure(built, name):
    """Every line of text, each column on its own (a gap of a few spaces splits a line)."""
    longest = []
    for page in page_objects(built / name):
        rows: dict[int, list] = {}
        for char in page.chars:
            if char.get("tag") != "Artifact":
                rows.setdefault(round(char["top"]), []).append(char)
        for chars in rows.values():
            chars.sort(key=lambda c: c["x0"])
            line = chars[0]["text"]
            for before, char in zip(chars, chars[1:]):
                if char["x0"] - before["x1"] > 3 * char["size"]:
                    longest.append(line.rstrip())
                    line = ""
                line += char["text"]
            longest.append(line.rstrip())
    assert max(map(len, longest)) <= MEASURE, max(longest, key=len)
    assert max(map(len, longest)) >= 55  # a measure, not a narrow strip


def split_blocks(html_path_lang_edition):
    """(element, lines on each page) for every block of text that a page break splits."""
    lang, edition = html_path_lang_edition
    project = load_project(ROOT)
    handout = load_handout(ROOT / f"content/{lang}/ketamine-treatment.md", lang)
    document = lay_out(ROOT, render_html(project, handout, edition, "letter"))
    lines: dict[int, dict[int, int]] = {}

    def walk(box, page):
        if isinstance(box, boxes.LineBox) or box.style["position"] == "fixed":
            return  # a fixed box (the draft band) is repeated on every page, not split
        if isinstance(box, boxes.BlockContainerBox) and box.element is not None:
            count = sum(isinstance(child, boxes.LineBox) and has_text(child) for child in box.children)
            if count:
                lines.setdefault((id(box.element), box.element_tag), {})[page] = count
        for child in getattr(box, "children", []):
            walk(child, page)

    for number, page in enumerate(document.pages):
        walk(page._page_box, number)
    return [(tag, pages) for (_, tag), pages in lines.items() if len(pages) > 1]


def has_text(box) -> bool:
    if isinstance(box, boxes.TextBox):
        return bool(box.text.strip())
    return any(has_text(child) for child in getattr(box, "children", []))


# (No paragraph of the standard sheets crosses a page break since version 1.2.)
@pytest.mark.parametrize("lang_edition", [("en", "large-print"), ("es", "large-print")],
                         ids=lambda v: "-".join(v))
def test_a_page_break_leaves_at_least_two_lines_on_each_side(lang_edition):
    split = split_blocks(lang_edition)
    assert split, "no paragraph crosses a page break here: the test would prove nothing"
    for tag, pages in split:
        assert min(pages.values()) >= 2, (tag, pages)


@pytest.mark.parametrize("name", PDFS)
def test_every_sheet_has_the_questions_block(built, name):
    text = reading_text(built / name).replace("\xa0", " ")
    heading, *prompts = QUESTIONS[name[:2]]
    assert f"\n{heading}\n" in text
    for words in prompts:
        assert text.count(words) == 1, words
    # Lines to write on, drawn in their own colour (a border is drawn as two filled rectangles).
    colour = tuple(round(int(WRITE_IN[i:i + 2], 16) / 255, 3) for i in (1, 3, 5))
    rules = {(number, round(r["top"])) for number, page in enumerate(page_objects(built / name))
             for r in page.rects if isinstance(r["non_stroking_color"], tuple)  # not a pattern
             and tuple(round(v, 3) for v in r["non_stroking_color"]) == colour and r["width"] >= 120}
    assert len(rules) >= 4


@pytest.mark.parametrize("name", [n for n in PDFS if "large-print" in n])
def test_the_last_page_carries_text_not_boxes_alone(built, name):
    """The sheet's last page has more than the questions block's lines to write on: at least two
    lines of text, or the "Prepared for" box that comes last."""
    last = page_objects(built / name)[-1]
    labels = {"en": ("Prepared for", "Note"), "es": ("Nombre del paciente", "Nota")}[name[:2]]
    if any(label in "".join(c["text"] for c in last.chars) for label in labels):
        return
    body = [c for c in last.chars if c.get("tag") != "Artifact" and round(c["size"]) == 18
            and c["non_stroking_color"] not in ((1,), (1, 1, 1))]
    questions = min(c["top"] for c in last.chars if c["text"] == QUESTIONS[name[:2]][0][0]
                    and round(c["size"]) > 18)
    assert len({round(c["top"]) for c in body if c["top"] < questions}) >= 2


@pytest.mark.parametrize("name", PDFS)
def test_help_is_on_the_first_page(built, name):
    """The phone number and the emergency lines are on page 1 of every edition."""
    with pdfplumber.open(built / name) as pdf:
        first = (pdf.pages[0].extract_text() or "").replace("\xa0", " ")
    for words in ("(480) 555-0142", "911", "988"):
        assert words in first
