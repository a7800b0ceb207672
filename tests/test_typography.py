"""Numbers stay with their units and with the short word before them, in every language, in
the sheet's Markdown and in the page's own strings."""
from __future__ import annotations

import pytest

from handouts import typography
from handouts.config import load_project
from handouts.content import load_handout
from handouts.render import render_html

from conftest import ROOT

NBSP = "\u00a0"


@pytest.mark.parametrize("text, tied", [
    ("for at least 24 hours after", f"for at least{NBSP}24{NBSP}hours after"),
    ("durante al menos 24 horas", f"durante al menos{NBSP}24{NBSP}horas"),
    ("call 911.", f"call{NBSP}911."),
    ("llame al 911 o al 988", f"llame al{NBSP}911{NBSP}o al{NBSP}988"),
    ("Take 2.5 mg twice", f"Take{NBSP}2.5{NBSP}mg twice"),
    ("Page 3 of 4", f"Page{NBSP}3{NBSP}of{NBSP}4"),
    ("a 50% chance", f"a{NBSP}50%{NBSP}chance"),
    # A longer word before a number may still break; so may a number before punctuation.
    ("Version 1.1 · Updated", "Version 1.1 · Updated"),
    ("medicines 24, 25", "medicines 24, 25"),
    # Never inside a word or an entity.
    ("B12 levels", "B12 levels"),
    ("say &#8220;hello&#8221; to 5 people", f"say &#8220;hello&#8221; to{NBSP}5{NBSP}people"),
])
def test_numbers_are_tied(text, tied):
    assert typography.tie_numbers(text) == tied


def test_only_text_between_tags_changes():
    html = '<p class="x2 at 5"><a href="page 2 of 3">at 5 pm</a></p>'
    assert typography.tie_html(html) == f'<p class="x2 at 5"><a href="page 2 of 3">at{NBSP}5{NBSP}pm</a></p>'


def test_template_strings_are_tied_through_lists_and_tables():
    strings = {"a": "in 24 hours", "b": ["at 5 pm"], "c": {"d": "call 911"}, "n": 3}
    assert typography.tie_strings(strings) == {"a": f"in{NBSP}24{NBSP}hours", "b": [f"at{NBSP}5{NBSP}pm"],
                                               "c": {"d": f"call{NBSP}911"}, "n": 3}


@pytest.mark.parametrize("lang, edition, words", [
    ("en", "standard", [f"least{NBSP}24{NBSP}hours", f"call{NBSP}911", f"text{NBSP}988"]),
    ("es", "large-print", [f"menos{NBSP}24{NBSP}horas", f"al{NBSP}911", f"al{NBSP}988"]),
])
def test_the_rendered_sheet_ties_content_and_template_text(lang, edition, words):
    project = load_project(ROOT)
    handout = load_handout(ROOT / f"content/{lang}/ketamine-aftercare.md", lang)
    html = render_html(project, handout, edition, "letter")
    for tied in words:
        assert tied in html, tied
    assert "24 hours" not in html and "24 horas" not in html
