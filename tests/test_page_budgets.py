"""Each standard sheet fits one sheet of paper, both sides, in every language and on both
papers; a long title leaves the running header and footer on one line, by its short title."""
from __future__ import annotations

import io

import pdfplumber
import pytest

from handouts import content
from handouts.config import load_project
from handouts.pipeline import PERSONAL_LIMITS, Job, print_sheet
from handouts.render import Personal

from conftest import ROOT, copy_project

PROJECT = load_project(ROOT)
#: Every sheet in every language handouts.toml builds, as (language, slug).
SHEETS = [(h.lang, h.slug) for h in content.load_all(PROJECT.content_dir, PROJECT.config.languages)[0]]


#: Every field of the "Prepared for" box at its limit, in the widest letter: the longest a
#: sheet can print (a blank box takes no more room than a full one).
WIDEST = Personal(**{name: "W" * limit for name, limit in PERSONAL_LIMITS.items()})


@pytest.mark.parametrize("paper", ["letter", "a4"])
@pytest.mark.parametrize("lang, slug", SHEETS)
def test_every_standard_sheet_fits_two_pages_even_filled_in(lang, slug, paper):
    handout = content.load_handout(PROJECT.content_dir / lang / f"{slug}.md", lang)
    assert print_sheet(PROJECT, Job(handout, "standard", paper), personal=WIDEST).pages <= 2


def test_a_long_title_runs_in_the_header_and_footer_by_its_short_title(tmp_path):
    project = copy_project(tmp_path / "project")
    sheet = project / "content/es/ketamine-aftercare.md"
    long_title = "Después de su tratamiento con ketamina: cómo cuidarse en casa el resto del día"
    short = "Después de su tratamiento"
    sheet.write_text(sheet.read_text(encoding="utf-8").replace(
        "title: Después de su tratamiento con ketamina\n",
        f"title: \"{long_title}\"\nshort_title: {short}\n").replace("max_pages_large: 4", "max_pages_large: 5"),
        encoding="utf-8")
    handout = content.load_handout(sheet, "es")
    data = print_sheet(load_project(project), Job(handout, "large-print", "letter")).data
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[1]
        lines = page.extract_text_lines()
        header, footer = lines[1], lines[-1]  # under the draft band; the last line of the page
    assert short in header["text"] and long_title not in header["text"]
    assert footer["text"].startswith(f"{short} · Versión") and "Página 2 de" in footer["text"]
