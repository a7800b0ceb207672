"""The large-print edition, measured on the PDF: every character's size, line spacing, budgets.

Large print follows the APH and RNIB clear-print guidance: body text at least 18 pt, nothing
under 14 pt (footer included), line spacing at least 1.5. It comes from the same Markdown as
the standard sheet through one stylesheet layer, so both carry exactly the same words.
"""
from __future__ import annotations

from collections import Counter

import pdfplumber
import pytest

from conftest import run

SHEETS = [f"{lang}/{slug}" for lang in ("en", "es") for slug in ("ketamine-aftercare", "ketamine-treatment")]


def is_draft_band(char) -> bool:
    """The draft band's white letters on red."""
    return tuple(char.get("non_stroking_color") or ()) in ((1,), (1, 1, 1), (1.0, 1.0, 1.0))


def body_chars(page, number: int) -> list[dict]:
    """Characters of the sheet's own text: not the page furniture (artifacts), not the masthead
    above the title on page 1, not the draft band."""
    chars = [c for c in page.chars if c.get("tag") != "Artifact" and not is_draft_band(c)]
    if number == 0:  # the title is the largest type on the sheet
        title_size = max(round(c["size"]) for c in chars)
        title_top = min(c["top"] for c in chars if round(c["size"]) == title_size)
        chars = [c for c in chars if c["top"] >= title_top - 1]
    return chars


def words(path) -> Counter:
    with pdfplumber.open(path) as pdf:
        # Case aside: the standard masthead sets its kicker in capitals.
        return Counter(word["text"].casefold() for page in pdf.pages
                       for word in page.filter(lambda o: o.get("tag") != "Artifact"
                                               and not (o.get("object_type") == "char" and is_draft_band(o))
                                               ).extract_words())


@pytest.mark.parametrize("sheet", SHEETS)
def test_large_print_has_nothing_under_14_pt_and_body_text_of_18(built, sheet):
    with pdfplumber.open(built / f"{sheet}-large-print.pdf") as pdf:
        for number, page in enumerate(pdf.pages):
            sizes = [round(c["size"], 2) for c in page.chars]
            assert min(sizes) >= 14, f"{sheet} page {number + 1}: a character of {min(sizes)} pt"
            body = body_chars(page, number)
            assert body and min(round(c["size"], 2) for c in body) >= 18, f"{sheet} page {number + 1}"
            furniture = [c for c in page.chars if c.get("tag") == "Artifact"]
            assert furniture and min(round(c["size"], 2) for c in furniture) >= 14  # header, footer


@pytest.mark.parametrize("sheet", SHEETS)
def test_large_print_lines_are_spaced_at_least_one_and_a_half(built, sheet):
    with pdfplumber.open(built / f"{sheet}-large-print.pdf") as pdf:
        for number, page in enumerate(pdf.pages):
            # Each side of the page on its own: the contact and emergency boxes stand side by side.
            chars = [c for c in body_chars(page, number) if round(c["size"]) == 18]
            steps = []
            for side in (lambda c: c["x0"] < page.width * 0.4, lambda c: c["x0"] >= page.width * 0.4):
                tops = sorted({round(c["top"], 1) for c in chars if side(c)})
                # within paragraphs; a line with an icon in it sets its number a little lower
                steps += [b - a for a, b in zip(tops, tops[1:]) if 8 < b - a < 40]
            # (the last page may hold the "Prepared for" box alone: labels, no lines of text)
            assert min(steps, default=27) >= 1.5 * 18 - 0.5, f"{sheet} page {number + 1}: {min(steps)}"


@pytest.mark.parametrize("sheet", SHEETS)
def test_standard_sheets_are_compact_but_never_small(built, sheet):
    with pdfplumber.open(built / f"{sheet}.pdf") as pdf:
        for number, page in enumerate(pdf.pages):
            assert min(round(c["size"], 2) for c in page.chars) >= 9  # the footer
            assert min(round(c["size"], 2) for c in body_chars(page, number)) >= 12
        sizes = Counter(round(c["size"], 1) for page in pdf.pages for c in page.chars)
    assert sizes.most_common(1)[0][0] == 12  # body text


@pytest.mark.parametrize("sheet", SHEETS)
def test_both_editions_carry_the_same_words(built, sheet):
    assert words(built / f"{sheet}.pdf") == words(built / f"{sheet}-large-print.pdf")


def test_large_print_budget_is_twice_max_pages_unless_set(project, tmp_path):
    sheet = project / "content/en/ketamine-treatment.md"
    sheet.write_text(sheet.read_text().replace("max_pages_large: 5\n", ""))
    result = run("-C", project, "build", "ketamine-treatment", "--lang", "en", "--out", tmp_path)
    assert result.exit_code == 1
    assert "en/ketamine-treatment-large-print.pdf has 5 pages; its budget is 4 (shorten it, or " \
           "raise max_pages_large)" in result.stderr
    assert (tmp_path / "en/ketamine-treatment.pdf").is_file()  # the standard sheet still built


def test_one_edition_on_request(project, tmp_path):
    result = run("-C", project, "build", "--edition", "large-print", "--lang", "es", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "es").iterdir()) == [
        "ketamine-aftercare-large-print.pdf", "ketamine-treatment-large-print.pdf"]
    assert not (tmp_path / "en").exists()


def test_editions_come_from_handouts_toml(project, tmp_path):
    config = project / "handouts.toml"
    config.write_text(config.read_text().replace('editions = ["standard", "large-print"]',
                                                 'editions = ["standard"]'))
    assert run("-C", project, "build", "--out", tmp_path).exit_code == 0
    assert not list(tmp_path.rglob("*-large-print.pdf"))
    unknown = run("-C", project, "build", "--edition", "large-print")
    assert unknown.exit_code == 1
    assert "--edition: unknown edition 'large-print'; expected one of: standard" in unknown.stderr
