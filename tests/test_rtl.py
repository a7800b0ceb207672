"""Right to left: an Arabic sheet's lines end at the text column's right edge, its side column
is at the left, and the clinic's numbers keep their order, in both editions."""
from __future__ import annotations

import io
from collections import Counter

import pdfplumber
import pytest

from conftest import copy_project
from handouts.config import load_project
from handouts.pipeline import render_sheet

EDITIONS = ("standard", "large-print")


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """The Arabic aftercare sheet in each edition: (each page's pdfplumber lines, each page's
    words, page width). A line joins the words of both columns that share a baseline."""
    project = load_project(copy_project(tmp_path_factory.mktemp("rtl") / "project", all_languages=True))
    found = {}
    for edition in EDITIONS:
        data = render_sheet(project, "ketamine-aftercare", "ar", edition, strict=True).data
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            found[edition] = ([page.extract_text_lines() for page in pdf.pages],
                              [page.extract_words() for page in pdf.pages], float(pdf.pages[0].width))
    return found


@pytest.fixture(scope="module")
def pages(printed):
    """Page 1 of the Arabic aftercare sheet in each edition: (its lines, page width, its words)."""
    return {edition: (lines[0], width, words[0]) for edition, (lines, words, width) in printed.items()}


def arabic(text: str) -> bool:
    return any("\u0600" <= char <= "\u06ff" for char in text)


@pytest.mark.parametrize("edition", EDITIONS)
def test_arabic_lines_are_right_aligned_to_the_text_column(pages, edition):
    lines, width, _ = pages[edition]
    body = [line for line in lines if arabic(line["text"]) and line["top"] > 250]
    # The commonest right edge is the text column's: a few points inside the right margin
    # (a call-out's padding); lines end there and start wherever their words run out.
    [(edge, count)] = Counter(round(line["x1"]) for line in body).most_common(1)
    assert width - edge < 1.2 * 72 and count >= 4, (edge, count)
    # Most lines start somewhere else (two of fifteen may share a start by chance).
    assert len({round(line["x0"]) for line in body if round(line["x1"]) == edge}) > count // 2


def test_the_side_column_is_at_the_left_in_the_standard_edition(pages):
    _, width, words = pages["standard"]
    [heading] = [word for word in words if word["text"][::-1] == "هل"]  # of "هل لديك أسئلة؟", drawn order
    assert heading["x1"] < width / 2


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("number", ["(480) 555-0142", "911", "988"])
def test_the_numbers_come_out_in_order(pages, edition, number):
    lines, _, _ = pages[edition]
    assert any(number in line["text"].replace("\u00a0", " ") for line in lines), [l["text"] for l in lines]


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("words", ["123 Example Street", "www.example.org"])
def test_the_clinics_address_keeps_its_order(pages, edition, words):
    lines, _, _ = pages[edition]
    assert any(words in line["text"].replace("\u00a0", " ") for line in lines), [l["text"] for l in lines]


@pytest.mark.parametrize("edition", EDITIONS)
def test_the_running_header_and_footer_are_mirrored(printed, edition):
    # Page 2: the clinic's name at the right of the header and the title at its left; the
    # footer's title and version at the right and the page number at the left. "Mesquite"
    # begins the clinic's name in handouts.toml; the footer is the lowest line of words.
    _, words, width = printed[edition]
    [clinic] = [word for word in words[1] if word["text"] == "Mesquite"]
    header = [word for word in words[1] if abs(word["top"] - clinic["top"]) < 2]
    assert clinic["x0"] > width / 2
    assert any(arabic(word["text"]) for word in header if word["x1"] < width / 2)
    assert not any(arabic(word["text"]) for word in header if word["x0"] > width / 2)
    lowest = max(word["top"] for word in words[1])
    footer = [word for word in words[1] if abs(word["top"] - lowest) < 2]
    page_numbers = [word for word in footer if word["text"].isdigit()]  # "page 2 of N"
    [version] = [word for word in footer if "." in word["text"]]        # "version 1.2"
    assert page_numbers and all(word["x1"] < width / 4 for word in page_numbers), footer
    assert version["x0"] > width / 2
