"""The Markdown authors write, printed and tagged: nested lists, tables, task lists, links,
headings, quotes, definition lists and footnotes, in both editions (every-element.md), and a
table that crosses pages (long-table.md).
"""
from __future__ import annotations

import shutil
import xml.etree.ElementTree as etree

import markdown
import page
import pikepdf
import pytest

from conftest import FIXTURES, english_project, page_objects, reading_text, run, tagged_text
from handouts.render import MARKDOWN_EXTENSIONS

SHEETS = ["every-element", "long-table"]
PDFS = [f"en/{sheet}{edition}.pdf" for sheet in SHEETS for edition in ("", "-large-print")]
EVERY = [name for name in PDFS if "every-element" in name]


@pytest.fixture(scope="session")
def elements(tmp_path_factory):
    """The two fixture sheets, built strictly in English in both editions."""
    project = english_project(tmp_path_factory.mktemp("elements") / "project")
    for sheet in SHEETS:
        shutil.copyfile(FIXTURES / "content" / f"{sheet}.md", project / "content/en" / f"{sheet}.md")
    out = project / "dist"
    result = run("-C", project, "build", *SHEETS, "--strict", "--out", out)
    assert result.exit_code == 0, result.output
    return out


def elements_of(pdf: pikepdf.Pdf, tag: str | None = None, root=None) -> list:
    found, stack = [], list(kids(root) if root is not None else pdf.Root.StructTreeRoot.K)
    while stack:
        element = stack.pop(0)
        if isinstance(element, pikepdf.Dictionary) and "/S" in element:
            if tag is None or element.S == tag:
                found.append(element)
            stack[:0] = kids(element)
    return found


def kids(element) -> list:
    value = element.get("/K")
    items = list(value) if isinstance(value, pikepdf.Array) else [] if value is None else [value]
    return [item for item in items if isinstance(item, pikepdf.Dictionary) and "/S" in item]


def html_of(text: str) -> str:
    return markdown.markdown(text, extensions=MARKDOWN_EXTENSIONS, output_format="html")


@pytest.mark.parametrize("name", PDFS)
def test_an_independent_validator_finds_pdf_ua_1(elements, name):
    report = page.validate_pdf(elements / name, profile=page.ValidationProfile.PDF_UA_1)
    assert report.is_compliant, [(f.rule_id, f.message) for f in report.failures]


@pytest.mark.parametrize("name", EVERY)
def test_every_element_keeps_its_text_and_no_markdown_shows(elements, name):
    text = reading_text(elements / name).replace("\xa0", " ")
    for words in ("Stop eating two hours before", "Crackers", "Skip if you feel sick", "Pack your bag",
                  "Book a ride home", "Rest is part of your care.", "A medicine used in our clinic.",
                  "This feeling goes away within a day."):
        assert words in text, words
    printed = "".join(c["text"] for sheet in page_objects(elements / name) for c in sheet.chars)
    for raw in ("|", "[ ]", "[x]", "](", "# ", ":   ", "[^1]", "---", "> "):
        assert raw not in printed, raw


@pytest.mark.parametrize("name", EVERY)
def test_nested_lists_go_three_deep_as_written(elements, name):
    with pikepdf.open(elements / name) as pdf:
        def depth(element) -> int:
            inner = [depth(kid) for kid in kids(element)]
            return (element.S == "/L") + max(inner, default=0)
        top = [e for e in kids(elements_of(pdf, "/Part")[0]) if e.S == "/L"]
        assert sorted(depth(lst) for lst in top)[-3:] == [1, 3, 3]  # the task list, the two nests
    labels = ["".join(text for _, text in lines).strip() for tag, lines in tagged_text(elements / name)
              if tag == "/Lbl"]  # bullets, dashes, numbers and letters: all in the sheet's font
    assert labels[:12] == ["1.", "•", "a.", "b.", "•", "2.", "•", "•", "1.", "2.", "–", "–"]


def test_commonmark_indentation_nests_under_both_markers():
    two_under_dash = html_of("- one\n  - two\n    - three\n")
    assert two_under_dash.count("<ul>") == 3
    three_under_number = html_of("1. one\n   1. two\n      - three\n")
    assert three_under_number.count("<ol>") == 2 and three_under_number.count("<ul>") == 1
    four_spaces = html_of("- one\n    - two\n")  # Python-Markdown's own way still works
    assert four_spaces.count("<ul>") == 2
    one_space = html_of("- one\n - two\n")  # not under the parent's text: a sibling
    assert one_space.count("<ul>") == 1 and one_space.count("<li>") == 2
    lazy = html_of("- one\ngoes on\n  - two\n")  # a lazy line keeps the list open
    assert lazy.count("<ul>") == 2 and "goes on" in lazy
    checklist = html_of('!!! checklist "Title"\n    - one\n    - two\n')
    assert checklist.count("<ul>") == 1 and checklist.count("<li>") == 2


def test_the_title_is_the_only_h1_and_levels_never_skip():
    html = html_of("# A\n\n## B\n\n# C\n\n#### D\n")
    assert [e.tag for e in etree.fromstring(f"<x>{html}</x>")] == ["h2", "h3", "h2", "h3"]
    assert html_of("### Only\n").startswith("<h2>")


@pytest.mark.parametrize("name", EVERY)
def test_headings_below_the_title(elements, name):
    with pikepdf.open(elements / name) as pdf:
        assert len(elements_of(pdf, "/H1")) == 1
    blocks = [(tag, "".join(text for _, text in lines).strip()) for tag, lines in tagged_text(elements / name)]
    assert [block for block in blocks if block[0] in ("/H3", "/H4")] == [
        ("/H3", "Your medicine schedule"), ("/H4", "Things to do")]
    assert ("/H2", "Your visit day") in blocks


@pytest.mark.parametrize("name", PDFS)
def test_a_table_is_one_table_with_one_header_that_heads_its_columns(elements, name):
    rows = {"every-element": 3, "long-table": 40}[name.split("/")[1].removesuffix(".pdf")
                                                  .removesuffix("-large-print")]
    with pikepdf.open(elements / name) as pdf:
        [table] = elements_of(pdf, "/Table")
        assert [str(group.S) for group in kids(table)] == ["/THead", "/TBody"]
        [head], [body] = kids(kids(table)[0]), kids(table)[1:]
        assert [str(cell.S) for cell in kids(head)] == ["/TH"] * 3
        assert all(cell.A.Scope == "/Column" for cell in kids(head))
        header_ids = [str(cell.ID) for cell in kids(head)]
        assert len(kids(body)) == rows
        for row in kids(body):  # every row as wide as the header, empty cells included
            assert [str(cell.S) for cell in kids(row)] == ["/TD"] * 3
            assert [[str(h) for h in cell.A.Headers] for cell in kids(row)] == [[i] for i in header_ids]
        pages = len(pdf.pages)
    if "long-table" in name:  # the header row is printed on every page, read once
        assert pages > 1
        texts = ["".join(c["text"] for c in sheet.chars).replace(" ", "").replace("\xa0", "")
                 for sheet in page_objects(elements / name)]
        first = next(number for number, text in enumerate(texts) if "Day1" in text)
        last = max(number for number, text in enumerate(texts) if "Day" in text)  # then the form
        for number, text in enumerate(texts[first:last + 1], first):
            assert "WhattodoNotes" in text, f"page {number + 1}"
        assert reading_text(elements / name).count("What to do") == 1


@pytest.mark.parametrize("name", EVERY)
def test_task_list_is_a_list_of_drawn_boxes(elements, name):
    with pikepdf.open(elements / name) as pdf:  # three items, boxes instead of labels
        unlabelled = [e for e in elements_of(pdf, "/L")
                      if not any(kid.S == "/Lbl" for item in kids(e) for kid in kids(item))]
        assert 3 in [len(kids(e)) for e in unlabelled]
    blocks = [(tag, "".join(text for _, text in lines).strip()) for tag, lines in tagged_text(elements / name)]
    start = blocks.index(("/LBody", "Pack your bag"))
    assert blocks[start:start + 3] == [("/LBody", "Pack your bag"), ("/LBody", "Book a ride home"),
                                       ("/LBody", "Write down your questions")]
    html = html_of("- [ ] Pack\n- [x] Ride\n")
    assert html.count('<span class="tick-box"></span>') == 2
    assert '<li class="task-list-item done"><span class="tick-box"></span>Ride' in html
    assert "<input" not in html


@pytest.mark.parametrize("name", EVERY)
def test_links_are_annotations_and_show_their_address_on_paper(elements, name):
    with pikepdf.open(elements / name) as pdf:
        uris = {str(annotation.A.URI) for sheet in pdf.pages for annotation in sheet.get("/Annots", [])
                if "/A" in annotation and "/URI" in annotation.A}
        assert len(elements_of(pdf, "/Link")) >= 5
    assert uris == {"https://medlineplus.gov/", "https://988lifeline.org", "mailto:nurse@example.org",
                    "mailto:care@example.org", "tel:+14805550142"}
    printed = "".join(c["text"] for sheet in page_objects(elements / name) for c in sheet.chars)
    printed = printed.replace("\xa0", " ")
    squeezed = printed.replace(" ", "")
    assert "MedlinePlus(https://medlineplus.gov/)" in squeezed
    assert "ournurses(nurse@example.org)" in squeezed
    assert "ourfrontdesk(+14805550142)" in squeezed
    assert squeezed.count("988lifeline.org") == 1  # the address is the text: not printed twice
    assert squeezed.count("care@example.org") == 1


@pytest.mark.parametrize("name", EVERY)
def test_an_image_on_its_own_line_is_a_figure_with_its_caption(elements, name):
    with pikepdf.open(elements / name) as pdf:
        [figure] = elements_of(pdf, "/Figure")
        assert str(figure.Alt) == "A tree over a river, the clinic's sign"
        [caption] = elements_of(pdf, "/Caption")
    assert "Our sign at the front door" in reading_text(elements / name)
    html = html_of('![A sign](assets/logo.svg "Our sign")\n\nText ![inline](assets/logo.svg) text.\n')
    assert html.startswith('<figure><img alt="A sign" src="assets/logo.svg"')
    assert "<figcaption>Our sign</figcaption></figure>" in html and html.count("<figure>") == 1
