"""What content can and cannot do: it may give a paragraph an author class and use the designed
call-outs, but never restyle the page; Markdown typed as people type it prints as they meant
it, and syntax that would still print as text is an error at its line.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import markdown
import page
import pytest

from conftest import FIXTURES, ROOT, english_project, page_objects, reading_text, run, tagged_text
from handouts import pipeline
from handouts.config import load_project
from handouts.content import load_handout
from handouts.errors import ContentError
from handouts.markdown_extensions import AUTHOR_CLASSES, CALL_OUTS
from handouts.render import MARKDOWN_EXTENSIONS, markdown_to_html

FRONT = '---\ntitle: A sheet\nversion: "1.0"\nupdated: 2026-11-27\nstatus: approved\n---\n'
BODY_LINE = 7  # the first line after FRONT
SHEETS = ["author-classes", "two-space-sub-steps"]
PDFS = [f"en/{sheet}{edition}.pdf" for sheet in SHEETS for edition in ("", "-large-print")]
#: Every class the sheet's own Markdown may write: its extensions' and the author classes.
MADE_CLASSES = {"admonition", "admonition-title", "task-list", "task-list-item", "done", "tick-box",
                "shows-address", "footnote", "footnote-ref", "footnote-backref",
                *AUTHOR_CLASSES, *CALL_OUTS}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """The project, English only, for sheets written by the tests (none is printed)."""
    target = english_project(tmp_path_factory.mktemp("authors") / "project")
    return target


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> Path:
    """The two fixture sheets, built strictly in English in both editions."""
    target = english_project(tmp_path_factory.mktemp("printed") / "project")
    for sheet in SHEETS:
        shutil.copyfile(FIXTURES / "content" / f"{sheet}.md", target / "content/en" / f"{sheet}.md")
    result = run("-C", target, "build", *SHEETS, "--strict")
    assert result.exit_code == 0, result.output
    return target / "dist"


def html_of(project: Path, body: str) -> str:
    """The body as the render gate converts it (raises its ContentError)."""
    path = project / "content/en/typed.md"
    path.write_text(FRONT + body, encoding="utf-8")
    return str(markdown_to_html(load_project(project), load_handout(path, "en")))


def error_of(project: Path, body: str) -> ContentError:
    """The gate's refusal of a sheet with this body (it is refused before anything prints)."""
    (project / "content/en/typed.md").write_text(FRONT + body, encoding="utf-8")
    with pytest.raises(ContentError) as refused:
        pipeline.render_sheet(load_project(project), "typed", "en")
    assert refused.value.path.name == "typed.md"
    return refused.value


def classes_and_ids(html: str) -> tuple[set[str], set[str]]:
    classes = {name for value in re.findall(r'class="([^"]*)"', html) for name in value.split()}
    return classes, set(re.findall(r'id="([^"]*)"', html))


# --- A. Content cannot restyle the page ---------------------------------------------------------

def test_a_paragraph_takes_an_author_class(project):
    html = html_of(project, "Opening words.\n{: .lead }\n\nDo not drive today.\n{: .warning }\n\n"
                            "Both.\n{: .lead .warning }\n")
    assert '<p class="lead">Opening words.</p>' in html
    assert '<p class="warning">Do not drive today.</p>' in html
    assert '<p class="lead warning">Both.</p>' in html


@pytest.mark.parametrize("body, line, words", [
    ("Over everything.\n{: .draft-mark }\n", 8, ["expected the class .lead or .warning, found .draft-mark"]),
    ("Beside the text.\n\nText.\n{: .side-column }\n", 10, ["found .side-column"]),
    ("A paragraph.\n{: #contact }\n", 8, ["expected no id in content, found #contact"]),
    ("A paragraph.\n{: style='color: red' }\n", 8, ["expected no style attribute in content"]),
    ("A paragraph.\n{: data-x=1 }\n", 8, ["expected no data-x attribute in content"]),
    ("A paragraph.\n{: hidden }\n", 8, ["expected no hidden attribute in content"]),
    ("## A heading {: #top }\n", 7, ["expected no id in content, found #top"]),
    ("## A heading {: .warning }\n", 7, ["expected {: .warning } on the line after a paragraph of the "
                                         "running text, found it on a heading"]),
    ("- An item\n{: .warning }\n", 8, ["found it on a list item"]),
    ("- An item\n\n    More about it.\n    {: .warning }\n", 10,
     ["found it on a paragraph inside a list, quote or call-out"]),
    ('!!! note "A note"\n    Inside.\n    {: .lead }\n', 9, ["inside a list, quote or call-out"]),
    ("Some **bold**{: .warning } words.\n", 7, ["found it on bold words"]),
])
def test_any_other_class_id_or_attribute_is_an_error_at_its_line(project, body, line, words):
    error = error_of(project, body)
    assert error.line == line
    for word in words:
        assert word in error.detail
    assert "a paragraph may take {: .lead } or {: .warning } on the line after it" in error.detail


def test_an_unknown_call_out_type_is_an_error_naming_the_known_ones(project):
    error = error_of(project, 'Text.\n\n!!! warning "Careful"\n    Inside.\n')
    assert error.line == 9
    assert "unknown call-out type 'warning'; expected one of: checklist, note" in error.detail
    error = error_of(project, '!!! note draft-mark "Careful"\n    Inside.\n')  # more words, more classes
    assert error.line == 7 and "unknown call-out type 'note draft-mark'" in error.detail
    for kind in CALL_OUTS:
        assert f'<div class="admonition {kind}">' in html_of(project, f'!!! {kind} "T"\n    - Inside.\n')


def test_an_empty_call_out_is_an_error(project):
    error = error_of(project, 'Text.\n\n!!! note "Before you come"\nEat first.\n')
    assert error.line == 9
    assert "expected the lines of the call-out 'Before you come' under it, indented 4 spaces" in error.detail


def test_a_footnote_label_never_becomes_an_id(project):
    html = html_of(project, "It stings.[^side-column] It passes.[^2]\n\n[^side-column]: Briefly.\n\n"
                            "[^2]: Soon.\n")
    assert classes_and_ids(html)[1] == {"fnref:1", "fn:1", "fnref:2", "fn:2"}
    assert 'href="#fn:1"' in html and "side-column" not in html


@pytest.mark.parametrize("source", [FIXTURES / "content/every-element.md", FIXTURES / "content/author-classes.md",
                                    *sorted((ROOT / "templates/specimen").glob("*/*.md"))],
                         ids=lambda path: path.stem)
def test_content_sets_only_the_classes_made_for_it_and_numbered_ids(source):
    html = markdown.markdown(source.read_text(encoding="utf-8"), extensions=MARKDOWN_EXTENSIONS)
    classes, ids = classes_and_ids(html)
    assert classes <= MADE_CLASSES
    assert all(re.fullmatch(r"fn(ref)?:\d+", name) for name in ids), ids


def test_what_an_author_writes_never_sets_another_class_or_id():
    """Even where the gate would refuse the sheet, no class or id of the page gets through."""
    hostile = ('Over all.\n{: .draft-mark #masthead style="top: 0" }\n\n## H {: .side-column #x }\n\n'
               '!!! note draft-mark "T"\n    In.\n\n- item\n{: .emergency }\n\n**b**{: .contact }\n\n'
               "A note.[^masthead]\n\n[^masthead]: Here.\n")
    html = markdown.markdown(hostile, extensions=MARKDOWN_EXTENSIONS)
    classes, ids = classes_and_ids(html)
    assert classes <= MADE_CLASSES and "style=" not in html
    assert ids == {"fnref:1", "fn:1"}


def test_every_author_class_and_call_out_has_a_designed_look():
    standard = (ROOT / "styles/print.css").read_text(encoding="utf-8")
    large = (ROOT / "styles/editions/large-print.css").read_text(encoding="utf-8")
    for name in AUTHOR_CLASSES:
        assert re.search(rf"^\.{name} \{{", standard, re.MULTILINE), name
    assert re.search(r"^\.warning \{", large, re.MULTILINE)  # a box needs larger borders in large print
    for kind in ("checklist",):  # a note is the plain .admonition box
        assert re.search(rf"^\.{kind} ", standard, re.MULTILINE), kind
    assert re.search(r"^\.admonition \{", standard, re.MULTILINE)


@pytest.mark.parametrize("name", [p for p in PDFS if "author-classes" in p])
def test_the_author_classes_print_as_designed(printed, name):
    large = "large-print" in name
    pages = page_objects(printed / name)
    # The text's last page (the "Prepared for" box may follow on a page of its own).
    last = next(page for page in reversed(pages)
                if "Ourclinichasdone" in "".join(c["text"] for c in page.chars if c["text"].strip()))
    lead, normal = chars_of(pages[0], "You will have a scan"), chars_of(last, "Our clinic has done")
    assert {round(c["size"], 1) for c in lead} == {19 if large else 13.5}
    assert {round(c["size"], 1) for c in normal} == {18 if large else 12}
    sheet = last  # large print sets the warning on page 2
    warning = chars_of(sheet, "Do not eat for 4 hours")
    assert all("Bold" in c["fontname"] for c in warning)
    warning_top = warning[0]["top"]
    tint = [r for r in sheet.rects if isinstance(r["non_stroking_color"], tuple)  # not a pattern
            and [round(v, 3) for v in r["non_stroking_color"]] == [0.984, 0.925, 0.922]]
    assert any(r["top"] <= warning_top <= r["bottom"] for r in tint), "the warning's tinted box"


def chars_of(sheet, words: str) -> list:
    """The characters that print ``words`` (spaces aside) on a page."""
    chars = [c for c in sheet.chars if c["text"].strip()]
    squeezed, wanted = "".join(c["text"] for c in chars), words.replace(" ", "")
    start = squeezed.index(wanted)
    return chars[start:start + len(wanted)]


@pytest.mark.parametrize("name", PDFS)
def test_fixture_sheets_pass_pdf_ua_1(printed, name):
    report = page.validate_pdf(printed / name, profile=page.ValidationProfile.PDF_UA_1)
    assert report.is_compliant, [(f.rule_id, f.message) for f in report.failures]


# --- B. Markdown as people type it --------------------------------------------------------------

@pytest.mark.parametrize("name", [p for p in PDFS if "sub-steps" in p])
def test_sub_steps_typed_with_two_spaces_print_as_nested_lists(printed, name):
    text = reading_text(printed / name).replace("\xa0", " ")
    assert "A light meal earlier in the day is fine." in text
    assert not re.search(r"visit\.\s*-", text) and "- A light" not in text
    labels = ["".join(t for _, t in lines).strip() for tag, lines in tagged_text(printed / name)
              if tag == "/Lbl"]
    assert labels == ["1.", "•", "•", "2.", "a.", "b.", "3.", "•", "–", "1."]  # the last: the footnote


def test_a_sub_item_nests_from_two_spaces_under_either_marker(project):
    assert html_of(project, "1. Step\n  - sub\n").count("<ul>") == 1  # 2 spaces under "1.": nested
    assert html_of(project, "10. Step\n  - sub\n").count("<ul>") == 1  # ...and under "10."
    assert html_of(project, "- Step\n  1. sub\n").count("<ol>") == 1
    nested = html_of(project, "1. Step\n  - sub\n    1. deeper\n  - sub\n2. Next\n")
    assert re.sub(r"\s", "", nested) == ("<ol><li>Step<ul><li>sub<ol><li>deeper</li></ol></li><li>sub</li>"
                                         "</ul></li><li>Next</li></ol>")
    error = error_of(project, "1. Step\n - sub\n")  # 1 space: not nested, and it would print "- sub"
    assert error.line == 8 and "expected a list, found '- sub' printed as text" in error.detail


@pytest.mark.parametrize("body, line, words", [
    ("Bring these:\n- your ID\n- your list\n", 8,
     ["expected a list, found '- your ID' printed as text", "leave a blank line above a list"]),
    ("Steps:\n1) Rest\n2) Drink\n", 8, ["found '1) Rest'"]),
    ("Doses:\n999. High\n", 8, ["found '999. High'"]),
    ("| Time | Dose |\n| 8 am | One |\n", 7, ["expected a table, found '|'", "|---|---|"]),
    ("Text.\n\n[ ] Pack a bag\n", 9, ["expected a tick box, found '[ ]'", "- [ ] Pack a bag"]),
    ("1. [X] Done\n\nA [x] here.\n", 9, ["found '[x]'"]),
    ("Do **not drive ** today.\n", 7, ["expected bold words, found '**'", "**never**"]),
    ("Do __not__drive __ today.\n", 7, ["found '__'"]),
    ("It stings.[^1]\n", 7, ["expected a footnote, found '[^1]' printed as text", "[^1]: The note."]),
    ("Read [the sheet] (https://example.org).\n", 7, ["expected a link, found '] ('"]),
    ("Read [the sheet](https://example.org/a b c).\n", None, []),  # a space in an address is a link still
    ("Read [the sheet][site].\n", 7, ["expected a link, found ']['"]),
    ("A paragraph.\n\n{: .warning }\n", 9, ["expected a class for the paragraph above, found '{:'"]),
    ("!!!\n", 7, ["expected a call-out, found '!!!'"]),
    ("Fine.\n\n- An item\n\n    Bring:\n    - a list\n", 12, ["found '- a list'"]),
])
def test_markdown_that_would_print_as_text_is_an_error_at_its_line(project, body, line, words):
    if line is None:
        html_of(project, body)
        return
    error = error_of(project, body)
    assert error.line == line, error.detail
    for word in words:
        assert word in error.detail


@pytest.mark.parametrize("body", [
    "The front desk answers 24/7.",
    "Results marked * need a second look, and 2 * 3 is 6.",
    "A well-known, easy-to-follow step.",
    "Write your name here: ______ and the date: ___",
    "[Your doctor's name] will call you.",
    "Our clinic has done this scan since\n2019. It is safe.",
    "The dose goes up to\n2.5 mg.",
    "Stars and bars as written: \\*\\*, \\|, \\[ \\], \\[^1\\], \\{: x }.",
    "A code: `a ** b | c [ ]`.",
    "- [ ] A task\n- [x] A done task",
    "1. A step\n\n   - Under it, 3 spaces.",
    "Bring:\n\n- your ID",
])
def test_real_text_is_never_refused(project, body):
    html_of(project, body + "\n")


@pytest.mark.parametrize("source", [*sorted((ROOT / "content").glob("*/*.md")),
                                    *sorted((ROOT / "templates/specimen").glob("*/*.md")),
                                    *(FIXTURES / "content" / f"{sheet}.md" for sheet in SHEETS)],
                         ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_the_real_sheets_and_the_specimen_pass(source):
    project = load_project(ROOT)
    markdown_to_html(project, load_handout(source, source.parent.name if source.parent.name == "es" else "en"))


def test_a_build_names_the_line_and_keeps_the_earlier_pdf(small_project):
    assert run("-C", small_project, "build").exit_code == 0
    aftercare = small_project / "dist/en/ketamine-aftercare.pdf"
    before = aftercare.read_bytes()
    sheet = small_project / "content/en/ketamine-aftercare.md"
    text = sheet.read_text(encoding="utf-8")
    sheet.write_text(text.replace("Rest gives your body time to recover from the medicine.",
                                  "Rest gives your body time to recover from the medicine.\n{: .draft-mark }"),
                     encoding="utf-8")
    line = sheet.read_text(encoding="utf-8").splitlines().index("{: .draft-mark }") + 1
    result = run("-C", small_project, "build")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"content/en/ketamine-aftercare.md:{line}: expected the class .lead or .warning, found " \
           f".draft-mark" in result.stderr
    assert aftercare.read_bytes() == before
