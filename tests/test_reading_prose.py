"""The reading level scores the prose of a sheet: its sentences, not its tables, captions,
headings, call-out titles, definition terms or short list items; the report says what it scored.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT, run
from handouts.content import load_handout
from handouts.readability import prose, reading_level

FRONT = '---\ntitle: A sheet\nversion: "1.0"\nupdated: 2026-11-27\nstatus: approved\n---\n'


def reading_of(tmp_path: Path, body: str, lang: str = "en"):
    path = tmp_path / "content" / lang / "sheet.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FRONT + body, encoding="utf-8")
    return reading_level(load_handout(path, lang))


def test_a_table_is_left_out_of_the_reading_level(tmp_path):
    body = (FIXTURES / "content/medicines-table.md").read_text(encoding="utf-8").split("---\n", 2)[2]
    with_table = reading_of(tmp_path, body)
    without = reading_of(tmp_path, "\n".join(line for line in body.splitlines() if not line.startswith("|")))
    assert with_table.score == without.score < 6
    assert with_table.sentences == without.sentences == 4
    assert with_table.left_out == {"table": 1} and without.left_out == {}
    assert "|" not in with_table.hardest_sentence and "Medicine" not in with_table.hardest_sentence


def test_each_part_that_is_not_prose_is_counted_and_left_out():
    found = prose('## Eating\n\n!!! checklist "Bring"\n    - Dry toast\n    - A photo ID\n'
                  "    - Your list of medicines\n    - Rest.\n\n"
                  '![A clinic room](assets/logo.svg "The room you wait in")\n\n'
                  "Ketamine\n:   A medicine used in our clinic.\n\n"
                  "| Time | Dose |\n|---|---|\n| Morning | One |\n\n"
                  "Rest today and drink water.\n")
    assert found.left_out == {"table": 1, "caption": 1, "heading": 1, "call-out title": 1,
                              "definition term": 1, "short list item": 2}
    # Three words without a full stop are an entry; four words, or a sentence's full stop, are prose.
    assert found.text == "Your list of medicines. Rest. A medicine used in our clinic. Rest today and drink water."


def test_a_heading_neither_eases_nor_hardens_the_score(tmp_path):
    plain = reading_of(tmp_path, "Rest for the rest of the day. Drink water.\n")
    headed = reading_of(tmp_path, "## Rest\n\nRest for the rest of the day. Drink water.\n\n## Water, water and "
                                  "extraordinarily comprehensive hydration considerations\n")
    assert headed.score == plain.score and headed.left_out == {"heading": 2}


SOURCES = [*sorted((ROOT / "content").glob("*/*.md")), *sorted((ROOT / "templates/specimen").glob("*/*.md")),
           *(FIXTURES / "content" / f"{name}.md" for name in ("every-element", "long-table", "author-classes",
                                                               "two-space-sub-steps", "medicines-table"))]


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_the_hardest_sentence_is_never_raw_markdown(source):
    handout = load_handout(source, source.parent.name if source.parent.name == "es" else "en")
    quoted = reading_level(handout).hardest_sentence
    assert not re.search(r"\||\*\*|\[[ xX^]|\]\(|^#|(^|\s)[-*+]\s|!!!", quoted), quoted


def test_the_report_says_what_was_scored(small_project):
    fixture = (FIXTURES / "content/medicines-table.md").read_text(encoding="utf-8")
    (small_project / "content/en/medicines-table.md").write_text(
        fixture.replace("\n---\n", "\nmain_message: Take your medicines.\n---\n", 1), encoding="utf-8")
    text = run("-C", small_project, "check", "medicines-table", "ketamine-aftercare")
    assert "Reading level, scored on prose only:" in text.stdout
    assert re.search(r"^  medicines-table en     scored 4 sentences of prose; left out: 1 table$",
                     text.stdout, re.MULTILINE), text.stdout
    assert re.search(r"^  ketamine-aftercare en  scored 28 sentences of prose; left out: 4 headings, "
                     r"1 call-out title$", text.stdout, re.MULTILINE), text.stdout
    report = json.loads(run("-C", small_project, "check", "medicines-table", "--json").stdout)
    [sheet] = report["handouts"]
    assert sheet["reading"]["sentences"] == 4 and sheet["reading"]["left_out"] == {"table": 1}
