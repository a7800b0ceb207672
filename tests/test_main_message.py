"""Every sheet leads with one main message: required by check, limited in length, printed first."""
from __future__ import annotations

import pdfplumber
import pytest

from handouts import check, content
from handouts.config import load_project
from handouts.content import MAX_LENGTHS
from handouts.errors import ContentError
from handouts.pipeline import render_sheet

from conftest import ROOT, english_project

FRONT = '---\ntitle: A sheet\nversion: "1.0"\nupdated: 2026-12-03\nstatus: draft\n{extra}---\n\nText.\n'


def sheet(tmp_path, extra: str):
    path = tmp_path / "content/en/a-sheet.md"
    path.parent.mkdir(parents=True)
    path.write_text(FRONT.format(extra=extra), encoding="utf-8")
    return path


@pytest.mark.parametrize("length, accepted", [(MAX_LENGTHS["main_message"], True),
                                              (MAX_LENGTHS["main_message"] + 1, False)])
def test_main_message_length_is_limited(tmp_path, length, accepted):
    path = sheet(tmp_path, f"main_message: {'a' * length}\n")
    if accepted:
        assert len(content.load_handout(path, "en").main_message) == length
    else:
        with pytest.raises(ContentError, match=f"a-sheet.md:6: main_message: expected at most 200 "
                                               f"characters, found {length}"):
            content.load_handout(path, "en")


def test_an_icon_in_the_main_message_does_not_count_towards_its_length(tmp_path):
    words = "a" * MAX_LENGTHS["main_message"]
    path = sheet(tmp_path, f"main_message: ':icon[water]{{alt=\"Water from a tap\"}} {words}'\n")
    assert content.load_handout(path, "en").main_message.endswith(words)


def test_check_requires_a_main_message_at_the_front_matter(tmp_path):
    handout = content.load_handout(sheet(tmp_path, ""), "en")
    [finding] = check.main_message_findings(handout)
    assert finding.level == check.ERROR and finding.line == 1
    assert str(finding).endswith("a-sheet.md:1: error: front matter has no main_message; expected one or two "
                                 "short sentences saying what the patient must do or know, printed first on the sheet")


def test_every_real_sheet_has_a_main_message():
    handouts, errors = content.load_all(ROOT / "content", ("en", "es"))
    assert not errors and handouts
    assert all(not check.main_message_findings(handout) for handout in handouts)


@pytest.mark.parametrize("edition", ["standard", "large-print"])
def test_main_message_is_printed_right_under_the_title_on_page_1(tmp_path, edition):
    project = load_project(english_project(tmp_path / "project"))
    printed = render_sheet(project, "ketamine-aftercare", "en", edition)
    path = tmp_path / "sheet.pdf"
    path.write_bytes(printed.data)
    with pdfplumber.open(path) as pdf:
        text = " ".join(pdf.pages[0].extract_text().split())
    title = text.index("After your ketamine treatment")
    message = text.index("For the rest of the day: rest, drink plenty of water, and have no alcohol or sedatives")
    assert title < message < text.index("Your recovery checklist")
