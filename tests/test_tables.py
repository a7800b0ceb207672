"""Tables that fit, measured on the PDF (wide-tables.md: tables of 6, 4, 5 and 2 columns with
long words and realistic text) in both editions, on Letter and A4.

Every word of every cell is printed inside the text column (WeasyPrint's own ``main`` box on
each page), never under the side column; a table never leaves the page before it mostly empty;
a table of five columns or more prints one block per row, each value after its header (and
still tags as a table with its header cells); a word is hyphenated only when it is wider than
its column; PDF/UA-1 holds in both layouts.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

import markdown
import page as page_validation
import pdfplumber
import pikepdf
import pytest
from weasyprint.formatting_structure import boxes

from conftest import FIXTURES, english_project, structure
from handouts import pipeline
from handouts.config import load_project
from handouts.content import load_handout
from handouts.render import MARKDOWN_EXTENSIONS

SOURCE = FIXTURES / "content/wide-tables.md"
PRINTS = [(edition, paper) for edition in ("standard", "large-print") for paper in ("letter", "a4")]
#: From this many columns on, a table prints as one block per row (styles/print.css).
STACKS_FROM = 5
PT_PER_PX = 0.75  # WeasyPrint lays out in CSS pixels; the PDF is in points
SLACK = 0.5  # pt: glyph boxes may overhang their line box by a hair


@dataclass
class Cell:
    tag: str  # "/TH" or "/TD"
    id: str  # a header cell's /ID
    headers: list[str]  # a data cell's /Headers: the IDs of its header cells
    chars: list[dict] = field(default_factory=list)  # pdfplumber's, each with its "page" index

    @property
    def text(self) -> str:
        return "".join(char["text"] for char in self.chars).replace("\xa0", " ")

    def lines(self) -> list[list[dict]]:
        """The cell's characters, one list per printed line."""
        lines: list[list[dict]] = []
        for char in self.chars:
            if lines and (lines[-1][-1]["page"], round(lines[-1][-1]["bottom"])) == (
                    char["page"], round(char["bottom"])):
                lines[-1].append(char)
            else:
                lines.append([char])
        return lines


@dataclass
class Printed:
    """One print of the sheet: the PDF, and its geometry from WeasyPrint's layout (in pt)."""

    path: Path
    columns: dict[int, tuple[float, float]]  # page -> text column (left, right)
    areas: list[tuple[float, float]]  # page -> page area (top, bottom)
    side_column: tuple[float, float, float, float]  # on page 1: x0, top, x1, bottom


@pytest.fixture(scope="module")
def prints(tmp_path_factory) -> dict[tuple[str, str], Printed]:
    """The sheet through the render gate, strictly, in each edition on each paper."""
    folder = tmp_path_factory.mktemp("tables")
    root = english_project(folder / "project")
    (root / "content/en/wide-tables.md").write_bytes(SOURCE.read_bytes())
    project = load_project(root)
    result = {}
    for edition, paper in PRINTS:
        # The gate in this process: its Sheet keeps WeasyPrint's layout, measured below.
        job = pipeline.Job(load_handout(root / "content/en/wide-tables.md", "en"), edition, paper)
        sheet = pipeline.print_sheet(project, job, strict=True)
        path = folder / f"{edition}-{paper}.pdf"
        path.write_bytes(sheet.data)
        result[edition, paper] = geometry(path, sheet.document)
    return result


def geometry(path: Path, document) -> Printed:
    columns, areas, side_column = {}, [], None
    for number, page in enumerate(document.pages):
        page_box = page._page_box
        top = page_box.content_box_y() * PT_PER_PX
        areas.append((top, top + page_box.height * PT_PER_PX))
        for box in descendants(page_box):
            if box.element_tag == "main":
                left = box.content_box_x() * PT_PER_PX
                columns[number] = (left, left + box.width * PT_PER_PX)
            elif number == 0 and "side-column" in (box.element.get("class") or "").split():
                x, y = box.border_box_x() * PT_PER_PX, box.border_box_y() * PT_PER_PX
                side_column = (x, y, x + box.border_width() * PT_PER_PX, y + box.border_height() * PT_PER_PX)
    return Printed(path, columns, areas, side_column)


def descendants(box):
    for child in getattr(box, "children", []):
        if not isinstance(child, boxes.TextBox) and child.element is not None:
            yield child
        yield from descendants(child)


@dataclass
class Table:
    groups: list[str]  # the tags of the table's kids: /THead, /TBody, /TR
    cells: list[Cell]


@functools.lru_cache(maxsize=8)
def printed_tables(path: Path) -> list[Table]:
    """Each table's cells in structure order, with the characters each one printed (read once
    per file: the tests only read them)."""
    with pdfplumber.open(path) as pdf:
        chars: dict[tuple[int, int], list[dict]] = {}
        for number, sheet in enumerate(pdf.pages):
            for char in sheet.chars:
                if char.get("mcid") is not None and char.get("tag") != "Artifact":
                    chars.setdefault((number, char["mcid"]), []).append({**char, "page": number})
    tables = []
    with pikepdf.open(path) as pdf:
        page_of = {sheet.obj.objgen: number for number, sheet in enumerate(pdf.pages)}
        for table in (e for e in structure(pdf) if e.S == "/Table"):
            cells = []
            for element in (e for e in within(table) if e.S in ("/TH", "/TD")):
                attributes = element.get("/A", {})
                cells.append(Cell(str(element.S), str(element.get("/ID", "")),
                                  [str(h) for h in attributes.get("/Headers", [])],
                                  [char for key in marked_content(element, page_of)
                                   for char in chars.get(key, [])]))
            tables.append(Table([str(group.S) for group in kids(table)], cells))
    return tables


def within(element):
    for kid in kids(element):
        yield kid
        yield from within(kid)


def kids(element) -> list:
    value = element.get("/K")
    items = list(value) if isinstance(value, pikepdf.Array) else [] if value is None else [value]
    return [item for item in items if isinstance(item, pikepdf.Dictionary) and "/S" in item]


def marked_content(element, page_of, page=None):
    """(page, MCID) of everything an element holds, in order."""
    page = page_of.get(element.Pg.objgen, page) if "/Pg" in element else page
    value = element.get("/K")
    for kid in list(value) if isinstance(value, pikepdf.Array) else [value]:
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            yield from marked_content(kid, page_of, page)
        elif isinstance(kid, pikepdf.Dictionary) and "/MCID" in kid:
            yield page_of.get(kid.Pg.objgen, page) if "/Pg" in kid else page, int(kid.MCID)
        elif isinstance(kid, int):
            yield page, int(kid)


def source_tables() -> list[tuple[list[str], list[list[str]]]]:
    """(header, body rows) of each pipe table in the fixture; a link as it prints: its words,
    then its address, or the bare address."""
    tables, rows = [], []
    for line in SOURCE.read_text().splitlines() + [""]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(set(cell) <= set(":-") for cell in cells):
                cells = [re.sub(r"\[([^\]]*)\]\((?:mailto:)?([^)]*)\)", r"\1 (\2)", cell) for cell in cells]
                rows.append([re.sub(r"<([^>]*)>", r"\1", cell) for cell in cells])
        elif rows:
            tables.append((rows[0], rows[1:]))
            rows = []
    return tables


def squeezed(text: str) -> str:
    """Text without spaces or hyphens, so that lines and hyphenation do not matter."""
    return re.sub(r"[\s\xa0\-]", "", text)


@pytest.mark.parametrize("edition, paper", PRINTS)
def test_every_cell_is_printed_whole_inside_the_text_column(prints, edition, paper):
    printed = prints[edition, paper]
    tables = printed_tables(printed.path)
    assert [len(header) for header, _ in source_tables()] == [6, 4, 5, 2]
    assert len(tables) == len(source_tables())
    for (header, rows), cells in zip(source_tables(), (table.cells for table in tables)):
        values = [cell for cell in cells if cell.tag == "/TD"]
        assert len(values) == len(rows) * len(header), header
        for words, cell in zip([word for row in rows for word in row], values):
            assert squeezed(words) in squeezed(cell.text), (words, cell.text)
        for char in (char for cell in cells for char in cell.chars):
            left, right = printed.columns[char["page"]]
            where = f"{char['text']!r} on page {char['page'] + 1} at x {char['x0']:.1f}-{char['x1']:.1f}"
            assert left - SLACK <= char["x0"] and char["x1"] <= right + SLACK, \
                f"{where}, outside the text column {left:.1f}-{right:.1f}"
            assert 0 <= char["top"] and char["bottom"] <= printed.areas[char["page"]][1] + SLACK, where
            x0, top, x1, bottom = printed.side_column
            assert char["page"] > 0 or not (char["x1"] > x0 and char["x0"] < x1
                                            and char["bottom"] > top and char["top"] < bottom), \
                f"{where}, under the side column"


@pytest.mark.parametrize("edition, paper", PRINTS)
def test_no_page_before_a_table_is_left_mostly_empty(prints, edition, paper):
    """The text column of the page before the one a table starts on is filled past its middle."""
    printed = prints[edition, paper]
    with pdfplumber.open(printed.path) as pdf:
        for cells in (table.cells for table in printed_tables(printed.path)):
            start = min(char["page"] for cell in cells for char in cell.chars)
            if start == 0:
                continue
            left, right = printed.columns[start - 1]
            text = [char for char in pdf.pages[start - 1].chars if char.get("tag") != "Artifact"
                    and char["x0"] >= left - SLACK and char["x1"] <= right + SLACK]
            top, bottom = printed.areas[start - 1]
            filled = max(char["bottom"] for char in text)
            assert filled >= (top + bottom) / 2, \
                f"page {start} is filled to {filled:.0f} pt of {top:.0f}-{bottom:.0f} before '{cells[0].text}'"


@pytest.mark.parametrize("edition, paper", PRINTS)
def test_a_table_of_five_columns_or_more_stacks_each_value_after_its_header(prints, edition, paper):
    """Four columns print as a grid; five or more as one block per row, under a band of the
    column names, each value after its column's name in bold. Either way a screen reader meets
    a table whose header cells head their columns."""
    for (header, rows), table in zip(source_tables(), printed_tables(prints[edition, paper].path)):
        heads = [cell for cell in table.cells if cell.tag == "/TH"]
        values = [cell for cell in table.cells if cell.tag == "/TD"]
        assert table.groups == ["/THead", "/TBody"] and [cell.text for cell in heads] == header
        stacked = len(header) >= STACKS_FROM
        for name, head, cell in zip(header * len(rows), heads * len(rows), values):
            assert cell.headers == [head.id], (name, cell.text)
            assert cell.text.startswith(f"{name}: ") == stacked, (name, cell.text)
            if stacked:
                assert all("Bold" in char["fontname"] for char in cell.chars[:len(name) + 1]), cell.text
                assert "Bold" not in cell.chars[len(name) + 2]["fontname"], cell.text
        if stacked:
            assert len({round(cell.chars[0]["x0"]) for cell in values}) == 1  # all flush left
            assert heads[0].chars[0]["page"] == values[0].chars[0]["page"]  # the band ends no page


@pytest.mark.parametrize("edition, paper", PRINTS)
def test_a_word_is_hyphenated_only_when_wider_than_its_column(prints, edition, paper):
    """A line that ends in an added hyphen splits a word wider than every line of its column:
    a word that fits on a line of its own goes there whole."""
    hyphenated = []
    for (header, rows), table in zip(source_tables(), printed_tables(prints[edition, paper].path)):
        cells, width = table.cells, len(header)
        columns: dict[int, list[list[dict]]] = {}
        for index, cell in enumerate(cells):
            columns.setdefault(index % width, []).extend(cell.lines())
        texts = header + [word for row in rows for word in row]
        for index, (source, cell) in enumerate(zip(texts, cells)):
            lines = cell.lines()
            for line, following in zip(lines, lines[1:]):
                head = "".join(c["text"] for c in line).split()[-1]
                tail = "".join(c["text"] for c in following).split()[0]
                if not head.endswith("-") or head + tail in source:
                    continue  # no hyphen, or the author's own ("Follow-up")
                hyphenated.append(head[:-1] + tail)
                assert head[:-1] + tail in source, (head, tail, source)
                word = line[-len(head):-1] + following[:len(tail)]
                word_width = sum(c["x1"] - c["x0"] for c in word)
                widest = max(ln[-1]["x1"] - ln[0]["x0"] for ln in columns[index % width])
                assert word_width > widest, \
                    f"{head}{tail} ({word_width:.0f} pt) fits its column ({widest:.0f} pt)"
    assert "Hydrochlorothiazide" in hyphenated  # the test proves something in every print


@pytest.mark.parametrize("edition, paper", PRINTS)
def test_an_independent_validator_finds_pdf_ua_1(prints, edition, paper):
    report = page_validation.validate_pdf(prints[edition, paper].path,
                                          profile=page_validation.ValidationProfile.PDF_UA_1)
    assert report.is_compliant, [(f.rule_id, f.message) for f in report.failures]


def test_each_body_cell_carries_its_header_as_plain_words():
    table = ("| Patient's **dose** | H<sub>2</sub>O | <abbr title=\"x\">BP</abbr> &amp; time | |\n"
             "|---|---|---|---|\n| 1 | 2 | 3 | 4 |\n| 5 | 6 |\n")
    html = markdown.markdown(table, extensions=MARKDOWN_EXTENSIONS, output_format="html")
    assert "<th data-label" not in html
    labels = [unescape(label) for label in re.findall(r'<td(?: data-label="([^"]*)")?>', html)]
    assert labels == ["Patient\u2019s dose", "H2O", "BP & time", ""] * 2  # a short row is padded
