"""`handouts check`: reading level, review dates, translations, alt text, contrast, page budgets.

The real project passes; each bad input is one tiny fixture, reported at ``path:line`` with
exit status 1, in the text report and in the JSON alike.
"""
from __future__ import annotations

import json
import re
import shutil
import socket
import sys

import pytest

from conftest import FIXTURES, ROOT, copy_project, run

TODAY = "2026-11-27"


@pytest.fixture
def project(tmp_path):
    """A copy of the project with the standard edition only: what most checks need, at half
    the printing. Checks about editions use ``full_project``."""
    target = copy_project(tmp_path / "project")
    config = target / "handouts.toml"
    config.write_text(config.read_text().replace('editions = ["standard", "large-print"]',
                                                 'editions = ["standard"]'))
    return target


@pytest.fixture
def full_project(tmp_path):
    return copy_project(tmp_path / "full")


def check(project, *args):
    """Run `handouts check --json` and return (exit status, report)."""
    result = run("-C", project, "check", "--json", "--today", TODAY, *args)
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def add_sheet(project, fixture: str, lang: str = "en") -> str:
    """The fixture, given the main message check requires as its front matter's last line, in
    place of the blank line after it: every other line keeps its number."""
    target = f"content/{lang}/{fixture}.md"
    head, body = (FIXTURES / "content" / f"{fixture}.md").read_text(encoding="utf-8").split("\n---\n", 1)
    body = body.removeprefix("\n")
    (project / target).write_text(f"{head}\nmain_message: Rest today.\n---\n{body}", encoding="utf-8")
    return target


def findings(report, check_name: str, level: str = "error") -> list[dict]:
    return [f for f in report["findings"] if f["check"] == check_name and f["level"] == level]


def the_failure(project, slug: str, check_name: str, path: str, line: int | None) -> str:
    """Check one sheet: it fails with exactly one error of this kind, at path:line; its message."""
    status, report = check(project, slug)
    assert status == 1 and report["ok"] is False
    [finding] = findings(report, check_name)
    assert (finding["path"], finding["line"]) == (path, line)
    return finding["message"]


def test_the_real_project_passes(tmp_path):
    status, report = check(copy_project(tmp_path / "project"))  # English and Spanish: see test_languages
    assert status == 0, report["findings"]
    assert report["ok"] is True and report["errors"] == 0
    sheets = {(s["handout"], s["lang"]): s for s in report["handouts"]}
    assert set(sheets) == {(slug, lang) for slug in ("ketamine-aftercare", "ketamine-treatment")
                           for lang in ("en", "es")}
    for (slug, lang), sheet in sheets.items():
        reading = sheet["reading"]
        if lang == "en":
            assert reading["measure"] == "flesch-kincaid-grade" and reading["score"] <= 6
            assert sheet["result"] != "fail"
        else:
            assert reading["measure"] == "fernandez-huerta-ease" and reading["score"] >= 70
            assert sheet["status"] == "draft"
        for edition, pages in sheet["pages"].items():
            assert pages["pages"] <= pages["budget"], (slug, lang, edition)
    assert min(pair["ratio"] for pair in report["contrast"]) >= 4.5
    assert report["thresholds"]["grade_fail"] == 8 and report["thresholds"]["grade_warn"] == 6


def test_the_text_report_has_a_row_per_sheet_and_a_summary(project):
    result = run("-C", project, "check", "--today", TODAY)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["HANDOUT", "LANG", "STATUS", "READING"]
    assert lines[1].split()[:3] == ["ketamine-aftercare", "en", "approved"]
    assert "Flesch-Kincaid grade" in lines[1] and "Fernandez-Huerta ease" in lines[2]
    assert "Lowest text contrast:" in result.stdout
    assert "content/es/ketamine-aftercare.md:5: warning: draft: not reviewed for patient use" in result.stdout
    assert lines[-1].startswith("Checked 2 handouts: 0 errors, ")


def test_a_sheet_at_grade_14_fails_at_its_hardest_sentence(project):
    target = add_sheet(project, "hard-reading")
    message = the_failure(project, "hard-reading", "reading", target, 8)
    assert "reads at Flesch-Kincaid grade 15.2; expected 8 or below" in message
    assert "Hardest sentence" in message and "comprehensive evaluation" in message
    text = run("-C", project, "check", "hard-reading", "--today", TODAY)
    assert text.exit_code == 1
    assert f"{target}:8: error: reads at Flesch-Kincaid grade 15.2" in text.stdout


def test_grade_thresholds_come_from_handouts_toml(project):
    add_sheet(project, "hard-reading")
    config = project / "handouts.toml"
    config.write_text(config.read_text().replace("grade_fail = 8 ", "grade_fail = 16"))
    status, report = check(project, "hard-reading")
    assert status == 0
    assert findings(report, "reading", "warning")


def test_an_image_without_alt_text(project):
    target = add_sheet(project, "image-without-alt")
    message = the_failure(project, "image-without-alt", "images", target, 10)
    assert "image 'assets/logo.svg' has no alt text" in message
    built = run("-C", project, "build", "image-without-alt")
    assert built.exit_code == 1
    assert f"{target}:10: image 'assets/logo.svg' has no alt text" in built.stderr


def test_a_theme_colour_pair_below_4_5_to_1(project):
    tokens = project / "styles/tokens.css"
    tokens.write_text(tokens.read_text() + (FIXTURES / "styles/low-contrast.css").read_text())
    line = len(tokens.read_text().splitlines())
    status, report = check(project, "ketamine-aftercare")
    assert status == 1
    failing = findings(report, "contrast")
    assert failing and all(f["path"] == "styles/tokens.css" and f["line"] == line for f in failing)
    assert "text --muted (#a3adb5) on" in failing[0]["message"]
    assert "expected at least 4.5:1" in failing[0]["message"]
    assert min(pair["ratio"] for pair in report["contrast"]) < 4.5


def test_a_faint_colour_written_into_a_rule_is_named_at_its_line(project):
    css = project / "styles/print.css"
    css.write_text(css.read_text() + ".address { color: #aab4bb; }\n")
    line = len(css.read_text().splitlines())
    message = the_failure(project, "ketamine-aftercare", "contrast", "styles/print.css", line)
    assert message.startswith("text color (#aab4bb) on #ffffff has a contrast of 2.11:1")


def test_an_overdue_review(project):
    target = add_sheet(project, "overdue-review")
    message = the_failure(project, "overdue-review", "review", target, 7)
    assert "review was due on 2026-06-01 (179 days ago)" in message
    # The date is injectable: before the due date the same sheet passes, with a warning near it.
    early = run("-C", project, "check", "overdue-review", "--json", "--today", "2026-05-20")
    assert early.exit_code == 0
    [warning] = findings(json.loads(early.stdout), "review", "warning")
    assert "review is due on 2026-06-01, in 12 days" in warning["message"]
    assert run("-C", project, "check", "overdue-review", "--today", "2026-02-01").exit_code == 0


def test_a_translation_without_its_original(project):
    target = add_sheet(project, "translation-without-original", lang="es")
    message = the_failure(project, "translation-without-original", "translation", target, None)
    assert "a translation without its original: expected content/en/translation-without-original.md" \
        in message


def test_an_original_without_its_translation_is_a_warning(project):
    (project / "content/es/ketamine-treatment.md").unlink()
    status, report = check(project, "ketamine-treatment")
    assert status == 0
    [warning] = findings(report, "translation", "warning")
    assert warning["path"] == "content/en/ketamine-treatment.md"
    assert "no Spanish version yet" in warning["message"]


def test_a_sheet_over_its_page_budget(full_project):
    sheet = full_project / "content/en/ketamine-aftercare.md"
    sheet.write_text(sheet.read_text().replace("max_pages_large: 4", "max_pages_large: 3"))
    message = the_failure(full_project, "ketamine-aftercare", "pages", "content/en/ketamine-aftercare.md", 7)
    assert "the large-print edition has 4 pages; its budget is 3" in message


def test_broken_front_matter_is_reported_not_raised(project):
    shutil.copyfile(FIXTURES / "content/wrong-status.md", project / "content/en/ketamine-aftercare.md")
    status, report = check(project)
    assert status == 1
    [finding] = findings(report, "content")
    assert (finding["path"], finding["line"]) == ("content/en/ketamine-aftercare.md", 5)


def test_a_bad_date_is_a_usage_error():
    result = run("-C", ROOT, "check", "--today", "27/11/2026")
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output or "%Y-%m-%d" in result.output


def test_check_works_offline(monkeypatch, tmp_path):
    """Scoring never reaches for the network (newer textstat releases download a dictionary)."""
    def refuse(*args, **kwargs):
        raise OSError("network is off in this test")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    status, report = check(copy_project(tmp_path / "project"), "ketamine-aftercare")
    assert status == 0
    assert {s["reading"]["measure"] for s in report["handouts"]} == {"flesch-kincaid-grade",
                                                                       "fernandez-huerta-ease"}
    assert "nltk" not in sys.modules


@pytest.mark.parametrize("lang, sentence, harder", [
    ("en", "Rest today. Drink water.", "Comprehensive pharmacological evaluation is indispensable."),
    ("es", "Descanse hoy. Beba agua.", "La evaluación farmacológica exhaustiva es indispensable."),
])
def test_the_measures_rank_hard_text_as_harder(tmp_path, lang, sentence, harder):
    from handouts.content import load_handout
    from handouts.readability import reading_level

    def score(text):
        page = tmp_path / f"{lang}-{abs(hash(text))}.md"
        page.write_text(f"---\ntitle: T\nversion: '1'\nupdated: 2026-01-01\nstatus: draft\n---\n{text}\n")
        reading = reading_level(load_handout(page, lang))
        return reading.score if not reading.measure.higher_is_easier else -reading.score

    assert score(harder) > score(sentence)


def test_a_threshold_that_is_not_a_number(project):
    config = project / "handouts.toml"
    config.write_text(config.read_text().replace("grade_fail = 8 ", 'grade_fail = "eight"'))
    result = run("-C", project, "check")
    assert result.exit_code == 1
    line = next(number for number, text in enumerate(config.read_text().splitlines(), start=1)
                if text.startswith("grade_fail"))
    assert f"handouts.toml:{line}: [check] grade_fail: expected a number, found 'eight'" in result.stderr


# --- boundaries: each would let a wrong change through if it moved by one --------------------

@pytest.mark.parametrize("today, level, words", [
    ("2026-06-01", "warning", "review is due on 2026-06-01, in 0 days"),  # due today: not yet late
    ("2026-06-02", "error", "review was due on 2026-06-01 (1 day ago)"),  # due yesterday: late
    ("2026-05-02", "warning", "in 30 days"),  # review_warn_days = 30 warns...
])
def test_review_due_today_yesterday_and_at_the_warning_edge(project, today, level, words):
    add_sheet(project, "overdue-review")
    result = run("-C", project, "check", "overdue-review", "--json", "--today", today)
    [finding] = [f for f in json.loads(result.stdout)["findings"] if f["check"] == "review"]
    assert finding["level"] == level and words in finding["message"]


def test_a_review_one_day_past_the_warning_edge_says_nothing(project):
    add_sheet(project, "overdue-review")  # ...and 31 days ahead is quiet
    result = run("-C", project, "check", "overdue-review", "--json", "--today", "2026-05-01")
    assert not [f for f in json.loads(result.stdout)["findings"] if f["check"] == "review"]


def test_a_reading_grade_exactly_on_the_threshold_passes(project):
    status, report = check(project, "ketamine-aftercare")
    grade = next(s["reading"]["score"] for s in report["handouts"] if s["lang"] == "en")
    config = project / "handouts.toml"
    text = config.read_text()
    for fail_at, fails in ((grade, False), (round(grade - 0.01, 2), True)):
        config.write_text(text.replace("grade_fail = 8 ", f"grade_fail = {fail_at} ")
                          .replace("grade_warn = 6 ", f"grade_warn = {fail_at - 1} "))
        status, report = check(project, "ketamine-aftercare")
        assert bool(findings(report, "reading")) is fails, (fail_at, report["findings"])


def test_a_translation_of_another_version_warns(project):
    sheet = project / "content/es/ketamine-aftercare.md"
    sheet.write_text(re.sub(r'version: "[\d.]+"', 'version: "0.9"', sheet.read_text()))
    status, report = check(project, "ketamine-aftercare")
    [warning] = findings(report, "translation", "warning")
    assert warning["path"] == "content/es/ketamine-aftercare.md" and warning["line"] == 3
    assert "translates version 0.9, but the original is at version 1.3" in warning["message"]


@pytest.mark.parametrize("fixture, line, words", [
    ("emoji-outside-font", 8, "😀 (U+1F600 GRINNING FACE): no font this project ships has it"),
    ("raw-html-style", 10, "expected Markdown, found the HTML tag <style>"),
])
def test_check_refuses_what_build_refuses(project, fixture, line, words):
    target = add_sheet(project, fixture)
    status, report = check(project, fixture)
    assert status == 1
    assert any(f["path"] == target and f["line"] == line and words in f["message"]
               for f in report["findings"]), report["findings"]


def test_check_refuses_a_stylesheet_that_imports_from_the_web(project):
    css = project / "styles/print.css"
    css.write_text('@import "https://example.org/fonts.css";\n' + css.read_text())
    status, report = check(project, "ketamine-aftercare")
    assert status == 1
    assert any(f["path"] == "styles/print.css" and f["line"] == 1 and "outside the project" in f["message"]
               for f in report["findings"]), report["findings"]
