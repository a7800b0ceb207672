"""The content rules, each at its boundary: front matter keys, types and lengths, characters
that do not print, how deep YAML, lists and quotes may nest, how large a sheet may be, and who
must review it. Each case writes one tiny sheet and reads the message; no PDF is printed."""
from __future__ import annotations

from datetime import date

import pytest

from handouts import check, content
from handouts.config import load_project
from handouts.errors import ContentError

from conftest import english_project

FRONT = {"title": "A sheet", "version": '"1.0"', "updated": "2026-11-27", "status": "approved"}


def front_matter(**changes) -> str:
    keys = {**FRONT, **changes}
    return "---\n" + "".join(f"{key}: {value}\n" for key, value in keys.items() if value is not None) + "---\n"


@pytest.fixture
def sheet(tmp_path):
    """Write content/en/<slug>.md and load it; returns the Handout or the error's message."""
    folder = tmp_path / "content" / "en"
    folder.mkdir(parents=True)

    def load(text: str | bytes, slug: str = "a-sheet"):
        path = folder / f"{slug}.md"
        path.write_bytes(text.encode() if isinstance(text, str) else text)
        try:
            return content.load_handout(path, "en")
        except ContentError as error:
            assert error.path == path
            return error.format_message().removeprefix(f"{path}:")
    return load


def test_a_good_sheet_loads_with_its_values(sheet):
    handout = sheet(front_matter(summary="One sentence.", reviewed_by="Dr. A", review_due="2027-01-02",
                                 max_pages=3, max_pages_large=5) + "\nHello.\n")
    assert (handout.title, handout.version, handout.updated, handout.status) == \
        ("A sheet", "1.0", date(2026, 11, 27), "approved")
    assert (handout.summary, handout.reviewed_by, handout.review_due) == ("One sentence.", "Dr. A", date(2027, 1, 2))
    assert (handout.max_pages, handout.max_pages_large, handout.slug, handout.lang) == (3, 5, "a-sheet", "en")
    assert handout.body == "\nHello.\n" and handout.body_line == 12
    assert handout.key_lines == {"title": 2, "version": 3, "updated": 4, "status": 5, "summary": 6,
                                 "reviewed_by": 7, "review_due": 8, "max_pages": 9, "max_pages_large": 10}
    assert handout.line_of("Hello") == 13 and handout.line_of("absent") is None
    assert not handout.is_draft and sheet(front_matter(status="draft")).is_draft


def test_defaults_of_the_optional_keys(sheet):
    handout = sheet(front_matter())
    assert (handout.summary, handout.reviewed_by, handout.review_due) == ("", "", None)
    assert (handout.max_pages, handout.max_pages_large) == (2, None)


@pytest.mark.parametrize("slug, shown", [("A-sheet", "A-sheet.md"), ("a_sheet", "a_sheet.md"),
                                         ("a--sheet", "a--sheet.md"), ("-a", "-a.md"), ("a-", "a-.md"),
                                         ("A" * 37, "A" * 37 + ".md"), ("A" * 38, "A" * 37 + "...")])
def test_a_file_name_that_is_no_slug_is_refused(sheet, slug, shown):
    assert sheet(front_matter(), slug) == (f" expected a file name of lowercase letters, digits and "
                                           f"hyphens, found '{shown}'")


@pytest.mark.parametrize("key, value, found", [
    ("title", '""', "nothing"), ("version", '""', "nothing"), ("summary", '""', "nothing"),
    ("reviewed_by", '""', "nothing"), ("title", "", "nothing"),
    ("version", '"1.x"', "'1.x'"), ("version", '"v1"', "'v1'"), ("version", '"1."', "'1.'"),
    ("status", "final", "'final'"), ("title", "3", "3 (int)"), ("max_pages", "0", "0 (int)"),
    ("max_pages_large", "0", "0 (int)"), ("max_pages", "true", "True (bool)"), ("max_pages", "1.5", "1.5 (float)"),
    ("updated", "soon", "'soon'"), ("review_due", "2027", "2027 (int)"),
])
def test_a_value_of_the_wrong_kind_is_refused_at_its_line(sheet, key, value, found):
    line = list({**FRONT, key: value}).index(key) + 2
    description = content.FIELDS[key].description
    assert sheet(front_matter(**{key: value})) == f"{line}: {key}: expected {description}, found {found}"


@pytest.mark.parametrize("key, value", [("version", "1"), ("version", "1.10.2"), ("max_pages", "1"),
                                        ("max_pages_large", "1"), ("status", "draft")])
def test_the_smallest_good_values_are_accepted(sheet, key, value):
    assert str(getattr(sheet(front_matter(**{key: value})), key)) == value


@pytest.mark.parametrize("key, limit", sorted(content.MAX_LENGTHS.items()))
def test_each_text_may_have_its_limit_and_not_one_character_more(sheet, key, limit):
    value = "1" * limit if key == "version" else "x" * limit
    assert getattr(sheet(front_matter(**{key: f'"{value}"'})), key) == value
    line = list({**FRONT, key: value}).index(key) + 2
    assert sheet(front_matter(**{key: f'"{value}1"'})) == \
        f"{line}: {key}: expected at most {limit} characters, found {limit + 1}"


def test_a_missing_required_key_is_named(sheet):
    assert sheet(front_matter(version=None)) == "1: front matter is missing required key version"
    assert sheet(front_matter(version=None, status=None)) == \
        "1: front matter is missing required keys version, status"


def test_an_unknown_or_repeated_key_is_refused(sheet):
    assert sheet(front_matter(titel="x")) == \
        "6: unknown key 'titel'; expected one of: " + ", ".join(content.FIELDS) + " (did you mean 'title'?)"
    assert sheet(front_matter() .replace("status: approved\n", "status: approved\ntitle: B\n")) == \
        "6: 'title' is given twice (first on line 2)"


@pytest.mark.parametrize("text, message", [
    ("", "1: expected front matter between '---' lines, found an empty file"),
    ("  \n\n", "1: expected front matter between '---' lines, found an empty file"),
    ("# A sheet\n", "1: expected front matter starting with '---' on line 1, found '# A sheet'"),
    ("---\ntitle: x\n", "1: expected a closing '---' after the front matter, found the end of the file"),
    ("---\n---\nbody\n", "1: expected front matter keys (title, version, updated, status), found nothing"),
    ("---\n- a\n---\n", "2: expected 'key: value' lines, found a list"),
    ("---\njust text\n---\n", "2: expected 'key: value' lines, found the text 'just text'"),
    ("---\n[a]: 1\n---\n", "2: expected a key name, found a list"),
    ("---\ntitle: [a]\n---\n", "2: title: expected text, found a list"),
    ("---\ntitle: {a: 1}\n---\n", "2: title: expected text, found a mapping"),
    ("---\ntitle: a: b\n---\n", "2: YAML syntax error: mapping values are not allowed here (text that "
                                "holds ': ' needs quotes around it)"),
    ("---\ntitle: &a x\n---\n", "2: expected plain values, found a YAML anchor or alias (& or *); front "
                                "matter needs none, so write each value out"),
    ("---\nupdated: 2026-02-30\n---\n", "2: updated: expected a real date as YYYY-MM-DD, found "
                                        "'2026-02-30' (day is out of range for month)"),
    ("---\nupdated: 2026-02-30 10:00:00.123456789012345678901234\n---\n", "2: updated: expected a real "
     "date as YYYY-MM-DD, found '2026-02-30 10:00:00.12345678901234567...' (day is out of range for month)"),
    ("---\n" + "x" * 50 + "\n---\n", f"2: expected 'key: value' lines, found the text '{'x' * 40}'"),
    ("x" * 50 + "\n", f"1: expected front matter starting with '---' on line 1, found '{'x' * 40}'"),
    ("---\n\n\n- a\n---\n", "4: expected 'key: value' lines, found a list"),
    ("---\ntitle: x\nversion: '1'\nsummary: a: b\n---\n", "4: YAML syntax error: mapping values are not "
                                                       "allowed here (text that holds ': ' needs quotes around it)"),
    ("---\ntitle: x\nsummary: 'a\n---\n", "3: YAML syntax error: found unexpected end of stream while "
                                         "scanning a quoted scalar"),
    ("---\ntitle: x\nsummary: &a x\n---\n", "3: expected plain values, found a YAML anchor or alias (& or *); "
                                           "front matter needs none, so write each value out"),
    ("---\ntitle: x\nsummary: [[[x]]]\n---\n", "3: expected 'key: value' lines, found values nested more than "
                                              "4 deep"),
    ("---\ntitle: [[a], [[b]]]\n---\n", "2: expected 'key: value' lines, found values nested more than 4 deep"),
    ("---  \ntitle: x\n---\n", "1: front matter is missing required keys version, updated, status"),
    ("---\ntitle: x\n---\t \n", "1: front matter is missing required keys version, updated, status"),
])
def test_broken_front_matter_says_what_was_expected_at_its_line(sheet, text, message):
    assert sheet(text) == message


def test_a_character_yaml_cannot_read_is_named(sheet):
    assert sheet("---\ntitle: x\nsummary: a\ufffeb\n---\n") == \
        "3: expected text YAML can read, found the character U+FFFE (delete it)"


def test_a_control_character_is_counted_on_its_own_line(sheet):
    assert sheet("\nab\x07") == ("2: expected text, found the control character U+0007 (BEL) at column 3 "
                                 "(delete it; it does not print)")


def test_front_matter_lines_count_from_the_file(sheet):
    assert sheet("---\ntitle: x\nversion: '1'\nupdated: 2026-01-01\nstatus: gone\n---\n") == \
        "5: status: expected approved or draft, found 'gone'"


def test_yaml_may_nest_four_deep_and_not_five(sheet):
    assert sheet("---\ntitle: [[x]]\n---\n") == "2: title: expected text, found a list"
    assert sheet("---\ntitle: [[[x]]]\n---\n") == \
        "2: expected 'key: value' lines, found values nested more than 4 deep"


@pytest.mark.parametrize("char, name", [("\x00", "U+0000 (NUL)"), ("\x07", "U+0007 (BEL)"),
                                        ("\x08", "U+0008 (BS)"), ("\x0b", "U+000B (VT)"),
                                        ("\x0c", "U+000C (FF)"), ("\x1b", "U+001B (ESC)"),
                                        ("\x1f", "U+001F (a control character)"), ("\x7f", "U+007F (DEL)"),
                                        ("\x80", "U+0080 (a control character)"),
                                        ("\x85", "U+0085 (a control character)"),
                                        ("\x9f", "U+009F (a control character)"), ("\r", "U+000D (CR)")])
def test_control_characters_are_refused_at_their_line_and_column(sheet, char, name):
    assert sheet(front_matter() + f"\nab{char}c\n") == \
        f"8: expected text, found the control character {name} at column 3 (delete it; it does not print)"


@pytest.mark.parametrize("char", ["\t", " ", "\xa0", "~", "é"])
def test_printable_neighbours_of_the_controls_are_text(sheet, char):
    assert sheet(front_matter() + f"\nab{char}c\n").body == f"\nab{char}c\n"


def test_windows_line_ends_and_a_byte_order_mark_are_read(sheet):
    handout = sheet(b"\xef\xbb\xbf" + front_matter().replace("\n", "\r\n").encode() + b"\r\nHi\r\n")
    assert handout.title == "A sheet" and handout.body == "\nHi\n"


def test_a_byte_that_is_not_utf8_is_named_at_its_line(sheet):
    assert sheet(front_matter().encode() + b"\ncaf\xe9\n") == \
        "8: expected UTF-8 text, found byte 0xe9 (save the file as UTF-8)"


def test_a_sheet_may_have_128_kib_and_not_one_byte_more(sheet):
    head = front_matter() + "\n"
    text = head + "x" * (128 * 1024 - len(head))
    assert len(sheet(text).body) == 128 * 1024 - len(head) + 1
    assert sheet(text + "x") == " expected a file of at most 128 KiB, found 128 KiB"


@pytest.mark.parametrize("marker", ["-", "*", "+", "1.", "1)"])
def test_lists_may_nest_six_deep_and_not_seven(sheet, marker):
    six = "".join(f"{'  ' * level}{marker} item\n" for level in range(6))
    assert sheet(front_matter() + "\n" + six).body.endswith(six)
    assert sheet(front_matter() + "\n" + six + f"{'  ' * 6}{marker} item\n") == \
        "14: a list nested too deep; expected at most 6 levels (a printed sheet needs three at most)"


def test_quotes_may_nest_six_deep_and_not_seven(sheet):
    assert sheet(front_matter() + "\n" + "> " * 6 + "deep\n").title == "A sheet"
    assert sheet(front_matter() + "\n" + "> " * 7 + "deep\n") == \
        "8: a quote nested too deep; expected at most 6 levels (a printed sheet needs three at most)"


def test_the_deepest_reading_of_an_indent_counts_whole_levels(sheet):
    assert sheet(front_matter() + "\n" + " " * 11 + "- item\n").title == "A sheet"
    assert sheet(front_matter() + "\n" + " " * 40 + "indented text, no list\n").title == "A sheet"


def test_a_list_too_deep_inside_six_quotes_is_a_list_too_deep(sheet):
    assert sheet(front_matter() + "\n" + "> " * 6 + " " * 12 + "- item\n") == \
        "8: a list nested too deep; expected at most 6 levels (a printed sheet needs three at most)"


def test_a_tab_indents_a_list_four_columns(sheet):
    assert sheet(front_matter() + "\n- a\n" + "".join("\t" * level + "- b\n" for level in range(1, 4))).title
    assert sheet(front_matter() + "\n\t\t\t- deep\n") == \
        "8: a list nested too deep; expected at most 6 levels (a printed sheet needs three at most)"


def test_one_broken_sheet_leaves_the_others_loading(tmp_path):
    folder = tmp_path / "content" / "en"
    folder.mkdir(parents=True)
    (folder / "a-good.md").write_text(front_matter())
    (folder / "b-bad.md").write_text("no front matter\n")
    (folder / "c-good.md").write_text(front_matter())
    (folder / "notes.txt").write_text("not a sheet")
    handouts, errors = content.load_all(tmp_path / "content", ("en", "es"))
    assert [h.slug for h in handouts] == ["a-good", "c-good"]
    assert [e.path.name for e in errors] == ["b-bad.md"]


def test_a_sheet_that_breaks_the_reader_itself_is_an_error_of_its_own(tmp_path, monkeypatch):
    """Whatever goes wrong inside one file (here an unforeseen failure), the others still load."""
    folder = tmp_path / "content" / "en"
    folder.mkdir(parents=True)
    (folder / "broken.md").write_text(front_matter())
    (folder / "fine.md").write_text(front_matter())
    load_handout = content.load_handout

    def failing_on_broken(path, lang):
        if path.name == "broken.md":
            raise RecursionError("maximum recursion depth exceeded")
        return load_handout(path, lang)

    monkeypatch.setattr(content, "load_handout", failing_on_broken)
    handouts, errors = content.load_all(tmp_path / "content", ("en",))
    assert [h.slug for h in handouts] == ["fine"]
    assert [error.format_message() for error in errors] == [f"{folder / 'broken.md'}: could not be read: "
                                                            f"RecursionError"]


@pytest.mark.parametrize("lang, reviewer", [("en", "a clinician"), ("es", "a qualified medical translator")])
def test_a_draft_names_who_must_review_it(tmp_path, lang, reviewer):
    project = load_project(english_project(tmp_path / "project"))
    handout = content.Handout(slug="x", lang=lang, path=tmp_path / "x.md", title="X", version="1",
                              updated=date(2026, 1, 1), status="draft", body="", body_line=6)
    [finding] = check.review_findings(project, handout, date(2026, 1, 1))
    assert f"once {reviewer} has reviewed it" in finding.message
