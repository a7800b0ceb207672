"""Stylesheets parsed once per process: a print that takes them from the cache is the print a
fresh parse would give, and any change to a file the parse read is seen."""
from __future__ import annotations

import hashlib
import os
import shutil
import threading
from pathlib import Path

import pytest
import weasyprint

from handouts import content, pdf, render, stylecache
from handouts.config import load_project

from conftest import copy_project, one_sheet_project

SHEET = "content/en/ketamine-aftercare.md"


@pytest.fixture(autouse=True)
def nothing_kept(monkeypatch):
    """Each test starts with nothing kept: an earlier test's copy of the project has the same
    bytes, and its stylesheets would be taken."""
    monkeypatch.setattr(stylecache._THREAD, "styles", None, raising=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return one_sheet_project(tmp_path)


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """The linked stylesheets WeasyPrint parses, by URL, as they happen."""
    seen, real = [], weasyprint.CSS

    def counting(**arguments):
        if arguments.get("_check_mime_type"):
            seen.append(arguments["url"].rsplit("/", 1)[-1])
        return real(**arguments)

    monkeypatch.setattr(weasyprint, "CSS", counting)
    return seen


def print_once(root: Path, sheet: str = SHEET, lang: str = "en") -> pdf.PrintedPdf:
    project = load_project(root)
    handout = content.load_handout(root / sheet, lang)
    return pdf.print_pdf(project.root, render.render_html(project, handout, "standard", "letter"))


def print_uncached(root: Path, monkeypatch, sheet: str = SHEET) -> pdf.PrintedPdf:
    """The print WeasyPrint makes when every stylesheet is parsed afresh."""
    with monkeypatch.context() as patched:
        patched.setattr(stylecache, "styles_for", stylecache.Styles)
        return print_once(root, sheet)


def test_a_second_print_parses_no_stylesheet_and_is_the_same_pdf(project, parses, monkeypatch):
    first = print_once(project)
    assert parses == ["fonts.css", "tokens.css", "print.css"]
    parses.clear()
    second = print_once(project)
    assert parses == []
    assert second.data == first.data
    # What the print records of the files it used comes back in the same order.
    assert second.used == first.used and second.stylesheets == first.stylesheets
    assert any(path.endswith(".ttf") for path, _digest in second.used)
    assert print_uncached(project, monkeypatch).data == first.data


def test_a_sheet_gets_only_its_own_page_rules(tmp_path, monkeypatch):
    """A cached stylesheet keeps its own @page rules, not those of the document it was first
    parsed for: after an Arabic sheet (whose rtl.css mirrors the footer) an English one
    keeps its footer, title at the left; and each sheet keeps its own title."""
    project = copy_project(tmp_path / "project", all_languages=True)
    print_once(project, "content/ar/ketamine-aftercare.md", "ar")
    other = "content/en/ketamine-treatment.md"
    printed = print_once(project, other)
    assert printed.data == print_uncached(project, monkeypatch, other).data
    assert "ketamine treatment" in printed.text().split("\f")[1].splitlines()[-1]


def test_an_edited_stylesheet_is_parsed_again(project, parses, monkeypatch):
    first = print_once(project)
    tokens = project / "styles/tokens.css"
    tokens.write_text(tokens.read_text().replace("--brand: #", "--brand: #0", 1)[:-1])
    parses.clear()
    edited = print_once(project)
    assert "tokens.css" in parses
    assert edited.data != first.data
    assert edited.data == print_uncached(project, monkeypatch).data


def test_an_edit_that_changes_no_file_time_is_still_seen(project, parses, monkeypatch):
    """On a file system whose clock is coarse, an edit of the same size may keep every time:
    a small file is compared by its bytes too."""
    monkeypatch.setattr(stylecache, "signature", lambda path: (0, 0, os.stat(path).st_size, 0, 0))
    first = print_once(project)
    tokens = project / "styles/tokens.css"
    text = tokens.read_text()
    brand = text.index("--brand: #") + len("--brand: #")
    tokens.write_text(text[:brand] + ("0" if text[brand] != "0" else "1") + text[brand + 1:])
    parses.clear()
    assert print_once(project).data != first.data
    assert "tokens.css" in parses


def test_a_replaced_font_is_loaded_again(project, parses, monkeypatch):
    first = print_once(project)
    fonts = project / "styles/fonts"
    (fonts / "AtkinsonHyperlegible-Regular.ttf").write_bytes((fonts / "AtkinsonHyperlegible-Bold.ttf").read_bytes())
    parses.clear()
    replaced = print_once(project)
    assert "fonts.css" in parses
    assert replaced.data != first.data
    assert replaced.data == print_uncached(project, monkeypatch).data


def test_a_stylesheet_with_a_warning_is_parsed_and_warns_for_every_print(project, parses):
    stylesheet = project / "styles/print.css"
    stylesheet.write_text(stylesheet.read_text() + "\n.masthead { colr: red; }\n")
    for parsed in (["fonts.css", "tokens.css", "print.css"], ["print.css"]):
        parses.clear()
        printed = print_once(project)
        assert parses == parsed
        assert any("colr" in warning for warning in printed.warnings)


def test_a_copy_of_the_project_takes_the_parsed_stylesheets(project, parses, tmp_path):
    first = print_once(project)
    copy = tmp_path / "copy"
    shutil.copytree(project, copy)
    parses.clear()
    copied = print_once(copy)
    assert parses == []
    assert copied.data == first.data and copied.used == first.used


def test_another_project_whose_font_differs_gets_its_own_styles(project, parses, tmp_path, monkeypatch):
    print_once(project)
    other = tmp_path / "other"
    shutil.copytree(project, other)
    fonts = other / "styles/fonts"
    (fonts / "AtkinsonHyperlegible-Regular.ttf").write_bytes((fonts / "AtkinsonHyperlegible-Bold.ttf").read_bytes())
    parses.clear()
    printed = print_once(other)
    assert parses == ["fonts.css", "tokens.css", "print.css"]
    assert printed.data == print_uncached(other, monkeypatch).data


def test_each_thread_has_its_own_styles(tmp_path):
    kept = stylecache.styles_for(tmp_path)
    assert stylecache.styles_for(tmp_path) is kept
    elsewhere = []
    thread = threading.Thread(target=lambda: elsewhere.append(stylecache.styles_for(tmp_path)))
    thread.start(), thread.join()
    assert elsewhere[0] is not kept


@pytest.mark.parametrize("count, kept", [(stylecache.MAX_STYLESHEETS - 1, True),
                                         (stylecache.MAX_STYLESHEETS, False)])
def test_a_thread_keeps_a_bounded_number_of_stylesheets(tmp_path, count, kept):
    styles = stylecache.styles_for(tmp_path)
    styles.parsed.update((f"sheet-{number}.css", stylecache._Parsed(None, {}, ())) for number in range(count))
    assert (stylecache.styles_for(tmp_path) is styles) is kept


def test_a_file_gone_or_swapped_for_a_fifo_is_a_change(tmp_path):
    stylesheet = tmp_path / "a.css"
    stylesheet.write_text("p { color: red }")
    read = (stylesheet, stylecache.signature(stylesheet), hashlib.sha256(stylesheet.read_bytes()).hexdigest())
    assert stylecache.unchanged(tmp_path, *read)
    stylesheet.unlink()
    assert not stylecache.unchanged(tmp_path, *read)
    os.mkfifo(stylesheet)
    assert not stylecache.unchanged(tmp_path, *read)


@pytest.mark.parametrize("size, seen", [(stylecache.HASHED_UP_TO, True), (stylecache.HASHED_UP_TO + 1, False)])
def test_files_up_to_the_limit_are_compared_by_their_bytes(tmp_path, monkeypatch, size, seen):
    """An edit of the same size that no file time shows (a coarse clock) is seen in a file up
    to HASHED_UP_TO bytes; a larger one (a font) is compared by its metadata only."""
    monkeypatch.setattr(stylecache, "signature", lambda path: (0, 0, os.stat(path).st_size, 0, 0))
    font = tmp_path / "font.ttf"
    font.write_bytes(b"a" * size)
    read = (font, stylecache.signature(font), hashlib.sha256(font.read_bytes()).hexdigest())
    font.write_bytes(b"b" * size)
    assert stylecache.unchanged(tmp_path, *read) is not seen
