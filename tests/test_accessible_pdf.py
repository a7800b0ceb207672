"""Tagged PDF/UA-1, inspected with pikepdf and pdfplumber: structure tree, /MarkInfo, /Lang,
the PDF/UA identification, headings and lists, page furniture and decorative images as artifacts.
"""
from __future__ import annotations

import shutil
from collections import Counter

import pdfplumber
import pikepdf
import pytest

from conftest import FIXTURES, ROOT, run, structure

PDFS = [f"{lang}/{slug}{edition}.pdf" for lang in ("en", "es")
        for slug in ("ketamine-aftercare", "ketamine-treatment") for edition in ("", "-large-print")]


@pytest.mark.parametrize("name", PDFS)
def test_catalog_says_tagged_pdf_ua_in_the_right_language(built, name):
    with pikepdf.open(built / name) as pdf:
        root = pdf.Root
        assert "/StructTreeRoot" in root
        assert root.MarkInfo.Marked is True
        assert str(root.Lang) == name[:2]
        assert root.ViewerPreferences.DisplayDocTitle is True  # the title, not the file name
        metadata = pdf.open_metadata()
        assert metadata["pdfuaid:part"] == "1"
        assert metadata["dc:title"]


def content_source(name: str) -> str:
    """The content file a PDF of the build was made from."""
    lang, file = name.split("/")
    return (ROOT / "content" / lang / file.replace("-large-print", "").replace(".pdf", ".md")).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", PDFS)
def test_headings_are_headings_and_lists_are_lists(built, name):
    with pikepdf.open(built / name) as pdf:
        tags = Counter(str(element.S) for element in structure(pdf))
    assert tags["/H1"] == 1
    assert tags["/H2"] >= 4  # the sections, "Questions?" and the emergency box
    assert tags["/L"] >= 1 and tags["/LI"] >= 4
    # The logo is decorative, drawn as a background (an artifact); the icons that carry meaning
    # are Figures (tests/test_pictures.py checks their alt text).
    assert tags["/Figure"] == content_source(name).count(":icon[")


@pytest.mark.parametrize("name", PDFS)
def test_page_furniture_is_artifact_and_all_else_is_in_the_tree(built, name):
    with pikepdf.open(built / name) as pdf:
        reachable = {element.objgen for element in structure(pdf)}
        numbers = pdf.Root.StructTreeRoot.ParentTree.Nums
        parents = {int(numbers[i]): numbers[i + 1] for i in range(0, len(numbers), 2)}
        for page in pdf.pages:
            owners = parents[int(page.obj.StructParents)]
            for operands, operator in pikepdf.parse_content_stream(page):
                if str(operator) == "BDC" and str(operands[0]) != "/Artifact":
                    mcid = int(operands[1].MCID)
                    assert owners[mcid].objgen in reachable, f"{name}: MCID {mcid} is orphaned"
    with pdfplumber.open(built / name) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            furniture = "".join(c["text"] for c in page.chars
                                if c.get("tag") == "Artifact").replace("\xa0", " ")
            page_word = {"en": "Page", "es": "Página"}[name[:2]]
            of = {"en": "of", "es": "de"}[name[:2]]
            assert f"{page_word} {number} {of} {len(pdf.pages)}" in furniture
            assert all(c.get("mcid") is not None for c in page.chars if c.get("tag") != "Artifact")


def test_a_content_image_is_a_figure_with_its_alt_text(project, tmp_path):
    shutil.copyfile(FIXTURES / "content/image-with-alt.md", project / "content/en/image-with-alt.md")
    result = run("-C", project, "build", "image-with-alt", "--edition", "standard", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    with pikepdf.open(tmp_path / "en/image-with-alt.pdf") as pdf:
        figures = [e for e in structure(pdf) if e.S == "/Figure"]
    assert [str(figure.Alt) for figure in figures] == ["The clinic's logo, a tree over a river"]
