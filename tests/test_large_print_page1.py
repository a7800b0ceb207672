"""Large print starts with what to do: page 1 holds the title, the main message, the first
actions and the clinic's numbers; no list item splits over a page; no page but the last ends
more than a quarter empty (a drowsy reader may take a blank half page for the end)."""
from __future__ import annotations

import io
import re

import pdfplumber
import pytest

from handouts import content
from handouts.config import load_project
from handouts.markdown_extensions import without_icons
from handouts.pipeline import Job, print_sheet

from conftest import ROOT, copy_project

SHEETS = [(lang, slug) for lang in ("en", "es") for slug in ("ketamine-aftercare", "ketamine-treatment")]
#: A page may end this much short of its text area's bottom, unless it is the last.
MOST_EMPTY = 0.25


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    # In this process (print_sheet, the gate's own half), so that WeasyPrint's layout is at hand.
    project = load_project(copy_project(tmp_path_factory.mktemp("large-print") / "project"))
    return {(lang, slug): print_sheet(project, Job(content.load_handout(project.root / f"content/{lang}/{slug}.md", lang),
                                                   "large-print", "letter"))
            for lang, slug in SHEETS}


def words(text: str) -> str:
    return " ".join(text.split())


def first_action(lang: str, slug: str) -> str:
    """The first item of the sheet's first call-out (its checklist or key points), as printed."""
    handout = content.load_handout(ROOT / f"content/{lang}/{slug}.md", lang)
    item = re.search(r"^!!! .*\n\s+- (.+)$", handout.body, re.MULTILINE)[1]
    return words(without_icons(item).replace("**", ""))


@pytest.mark.parametrize("lang, slug", SHEETS)
def test_page_1_starts_with_what_to_do(printed, lang, slug):
    handout = content.load_handout(ROOT / f"content/{lang}/{slug}.md", lang)
    with pdfplumber.open(io.BytesIO(printed[(lang, slug)].data)) as pdf:
        page_1 = words(pdf.pages[0].extract_text())
    for expected in (handout.title, without_icons(handout.main_message), first_action(lang, slug),
                     "(480) 555-0142", "911", "988"):
        assert words(expected) in page_1, f"{lang}/{slug}: {expected!r} is not on page 1"


def split_items(document) -> list[str]:
    """The list items that start on one page and go on to the next."""
    pages_of = {}
    for number, page in enumerate(document.pages, start=1):
        for box in _descendants(page._page_box):
            if getattr(box, "element_tag", None) == "li":
                pages_of.setdefault(box.element, set()).add(number)
    return [" ".join("".join(item.itertext()).split())[:60] for item, pages in pages_of.items() if len(pages) > 1]


def _descendants(box):
    for child in getattr(box, "children", ()):
        yield child
        yield from _descendants(child)


@pytest.mark.parametrize("lang, slug", SHEETS)
def test_no_list_item_splits_over_a_page(printed, lang, slug):
    assert split_items(printed[(lang, slug)].document) == []


def page_fills(data: bytes) -> list[float]:
    """How far down its text area each page's lowest text or rule reaches (0 top, 1 bottom).
    The text area is measured from the running header's rule to the footer's."""
    fills = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            footer_rule = max(line["top"] for line in page.lines + page.rects if line["top"] > page.height * 0.85)
            marks = [w["bottom"] for w in page.extract_words() if w["bottom"] < footer_rule]
            marks += [r["bottom"] for r in page.lines + page.rects if r["bottom"] < footer_rule - 1]
            top = min(w["top"] for w in page.extract_words())
            fills.append((max(marks) - top) / (footer_rule - top))
    return fills


@pytest.mark.parametrize("lang, slug", SHEETS)
def test_no_page_but_the_last_ends_more_than_a_quarter_empty(printed, lang, slug):
    fills = page_fills(printed[(lang, slug)].data)
    assert all(fill >= 1 - MOST_EMPTY for fill in fills[:-1]), [f"{fill:.0%}" for fill in fills]
