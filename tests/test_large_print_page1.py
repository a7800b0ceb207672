"""Large print starts with what to do: page 1 holds the title, the main message, the first
actions and the clinic's numbers; no list item splits over a page; no page but the last ends
more than a quarter empty (a drowsy reader may take a blank half page for the end); its page
budget is what it needs. Every sheet, in every language handouts.toml builds."""
from __future__ import annotations

import io

import pdfplumber
import pytest

from handouts import content
from handouts.config import load_project
from handouts.pipeline import Job, print_sheet

from conftest import ROOT, copy_project

PROJECT = load_project(ROOT)
#: Every sheet in every language handouts.toml builds, as (language, slug).
SHEETS = [(h.lang, h.slug) for h in content.load_all(PROJECT.content_dir, PROJECT.config.languages)[0]]
#: A page may end this much short of its text area's bottom, unless it is the last.
MOST_EMPTY = 0.25


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    # In this process (print_sheet, the gate's own half), so that WeasyPrint's layout is at hand.
    project = load_project(copy_project(tmp_path_factory.mktemp("large-print") / "project", all_languages=True))
    return {(lang, slug): print_sheet(project, Job(content.load_handout(project.root / f"content/{lang}/{slug}.md", lang),
                                                   "large-print", "letter"))
            for lang, slug in SHEETS}


def words(text: str) -> str:
    return " ".join(text.split())


def pages_of(document, element) -> set[int]:
    """The pages on which WeasyPrint laid out some of ``element``."""
    return {number for number, page in enumerate(document.pages, start=1)
            for box in _descendants(page._page_box) if getattr(box, "element", None) is element}


def what_to_do_first(document) -> dict:
    """The title, the main message and the first item of the first call-out (the checklist or
    the key points), as elements of the printed page. Found in the layout, not in the text
    layer: Arabic and Chinese lines read back out of order or without spaces."""
    [html] = [box.element for box in document.pages[0]._page_box.children if getattr(box, "element_tag", "") == "html"]
    callout = next(div for div in html.iter("div") if "admonition" in div.get("class", "").split())
    return {"title": next(html.iter("h1")),
            "main message": next(p for p in html.iter("p") if p.get("class") == "main-message"),
            "first action": next(callout.iter("li"))}


@pytest.mark.parametrize("lang, slug", SHEETS)
def test_page_1_starts_with_what_to_do(printed, lang, slug):
    document = printed[(lang, slug)].document
    for name, element in what_to_do_first(document).items():
        assert pages_of(document, element) == {1}, f"{lang}/{slug}: the {name} is not all on page 1"
    with pdfplumber.open(io.BytesIO(printed[(lang, slug)].data)) as pdf:
        page_1 = words(pdf.pages[0].extract_text())
    for number in ("(480) 555-0142", "911", "988"):
        assert number in page_1, f"{lang}/{slug}: {number} is not on page 1"


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


@pytest.mark.parametrize("lang, slug", SHEETS)
def test_the_large_print_budget_is_no_more_than_the_sheet_needs(printed, lang, slug):
    """max_pages_large is the pages the sheet takes on Letter or on A4, whichever is more: a
    budget with room to spare would let a page more slip into print unnoticed."""
    sheet = printed[(lang, slug)]
    budget = sheet.job.page_budget
    if sheet.pages < budget:  # A4 is longer, but narrower: print it only when Letter is short
        sheet = print_sheet(PROJECT, Job(sheet.job.handout, "large-print", "a4"))
    assert sheet.pages == budget, f"{lang}/{slug} needs {sheet.pages} pages; max_pages_large is {budget}"


@pytest.mark.parametrize("lang", ["zh", "ar"])
def test_the_note_row_never_goes_on_alone(lang):
    """On A4 the Chinese and Arabic treatment sheets end with the "Prepared for" box across a
    page break: the note goes on with the field before it, never alone on the last page."""
    if lang not in PROJECT.config.languages:
        pytest.skip(f"{lang} is not built")
    handout = content.load_handout(PROJECT.content_dir / lang / "ketamine-treatment.md", lang)
    document = print_sheet(PROJECT, Job(handout, "large-print", "a4")).document
    [html] = [box.element for box in document.pages[0]._page_box.children if getattr(box, "element_tag", "") == "html"]
    fields = {name: next(p for p in html.iter("p") if f"field-{name}" in p.get("class", "").split())
              for name in ("treatment-date", "note")}
    assert pages_of(document, fields["note"]) == pages_of(document, fields["treatment-date"])
