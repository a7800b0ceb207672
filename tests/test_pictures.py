"""Icons that carry meaning: tagged Figures with their alt text; a wrong icon is an error at its line."""
from __future__ import annotations

import io

import pikepdf
import pytest

from handouts.config import load_project
from handouts.errors import InputError
from handouts.pipeline import render_sheet

from conftest import one_sheet_project, reading_text


def figures(data: bytes) -> list[str]:
    """The alt text of every Figure in the structure tree, in reading order."""
    found = []

    def walk(node):
        if isinstance(node, pikepdf.Dictionary):
            if node.get("/S") == "/Figure":
                found.append(str(node.get("/Alt", "")))
            kids = node.get("/K")
            for kid in (kids if isinstance(kids, pikepdf.Array) else [kids]):
                walk(kid)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        walk(pdf.Root.StructTreeRoot)
    return found


@pytest.fixture
def sheet(tmp_path):
    return one_sheet_project(tmp_path)


def test_each_icon_is_a_figure_with_its_alt_text_and_its_words_are_read(sheet, tmp_path):
    data = render_sheet(load_project(sheet), "ketamine-aftercare", "en").data
    assert figures(data) == ["A sleeping face", "A sleeping face", "Water running from a tap",
                             "A bottle, crossed out", "A phone"]
    (tmp_path / "sheet.pdf").write_bytes(data)
    read = " ".join(reading_text(tmp_path / "sheet.pdf").split())
    assert "Drink plenty of water and other fluids." in read  # not left out beside its picture


def test_every_standard_sheet_has_at_least_two_pictures():
    from conftest import ROOT
    for path in (ROOT / "content").glob("*/*.md"):
        assert path.read_text(encoding="utf-8").count(":icon[") >= 2, path


def edit(project, old, new):
    path = project / "content/en/ketamine-aftercare.md"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    line = next(n for n, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if new in row)
    return line


def test_an_unknown_icon_is_an_error_at_its_line(sheet):
    line = edit(sheet, ":icon[water]", ":icon[watr]")
    with pytest.raises(InputError, match=rf"ketamine-aftercare.md:{line}: unknown icon 'watr'; expected one "
                                         rf"of: .*water.* \(did you mean 'water'\?\)"):
        render_sheet(load_project(sheet), "ketamine-aftercare", "en")


@pytest.mark.parametrize("written", [":icon[water] Drink", ':icon[water]{alt=""} Drink'])
def test_an_icon_without_alt_text_is_an_error_at_its_line(sheet, written):
    line = edit(sheet, ':icon[water]{alt="Water running from a tap"} Drink', written)
    with pytest.raises(InputError, match=rf"ketamine-aftercare.md:{line}: the icon 'water' has no alt text"):
        render_sheet(load_project(sheet), "ketamine-aftercare", "en")
