"""Fonts for every script, the project's own: every font in a new PDF is one of ours, as a
subset; a name in any shipped script prints; a character no shipped font has is refused,
blamed on the line that holds it, or on the personal field with a word to write it by hand."""
from __future__ import annotations

import io

import pikepdf
import pytest

from conftest import copy_project
from handouts.config import load_project
from handouts.errors import BuildError
from handouts.pipeline import PersonalFieldError, render_sheet
from handouts.render import Personal

OUR_FONTS = {"AtkinsonHyperlegible", "Atkinson-Hyperlegible", "Noto-Sans", "NotoSans", "Tajawal",
             "NotoSansSC", "Noto-Sans-SC"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return load_project(copy_project(tmp_path_factory.mktemp("fonts") / "project", all_languages=True))


def embedded_fonts(data: bytes) -> list[str]:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return sorted({str(font.BaseFont) for page in pdf.pages
                       for font in page.Resources.Font.values()})


def test_every_font_of_a_sheet_in_every_script_is_ours_and_a_subset(world):
    names = ("Nguyễn Thị Lan", "王小明", "محمد", "Ολγα", "Ёлка")
    sheet = render_sheet(world, "ketamine-aftercare", "en",
                         personal=Personal(patient=" ".join(names), note="Ολγα, Ёлка"))
    fonts = embedded_fonts(sheet.data)
    assert len(fonts) >= 5, fonts  # Atkinson, Noto Sans, Noto Sans SC and Tajawal all drawn
    for font in fonts:
        prefix, _, family = font.lstrip("/").partition("+")
        assert len(prefix) == 6 and prefix.isupper(), f"{font} is not a subset"
        assert family.rsplit("-", 1)[0] in OUR_FONTS or family in OUR_FONTS, font


@pytest.mark.parametrize("name, loads", [("Ann Lee", set()), ("王小明", {"NotoSansSC"}),
                                         ("محمد", {"Tajawal"}), ("Ann 王 محمد", {"NotoSansSC", "Tajawal"})])
def test_a_script_font_is_loaded_only_for_a_sheet_with_its_letters(world, name, loads):
    sheet = render_sheet(world, "ketamine-aftercare", "en", personal=Personal(patient=name))
    loaded = {path.rsplit("/", 1)[1].split("-")[0] for path, _ in sheet.used if path.endswith(".ttf")}
    assert loaded & {"NotoSansSC", "Tajawal"} == loads


def test_a_chinese_sheet_loads_the_chinese_font_and_not_the_arabic(world):
    sheet = render_sheet(world, "ketamine-aftercare", "zh")
    loaded = {path.rsplit("/", 1)[1].split("-")[0] for path, _ in sheet.used if path.endswith(".ttf")}
    assert "NotoSansSC" in loaded and "Tajawal" not in loaded


@pytest.mark.parametrize("character", ["\U0001F9FF", "\U00010000"])  # nazar amulet, Linear B
def test_a_character_no_shipped_font_has_is_refused_with_a_word_to_write_it_in(world, character):
    with pytest.raises(PersonalFieldError) as raised:
        render_sheet(world, "ketamine-aftercare", "vi", personal=Personal(patient=f"Lan {character}"))
    assert f"patient: (U+{ord(character):04X}" in str(raised.value)
    assert "write it in by hand" in str(raised.value) and character not in str(raised.value)


def test_an_unprintable_character_is_blamed_on_its_strings_line(tmp_path):
    project = copy_project(tmp_path / "project", all_languages=True)
    strings = project / "templates/strings/zh.toml"
    text = strings.read_text(encoding="utf-8").replace('kicker = "患者须知"', 'kicker = "患者须知 \U0001F9FF"')
    strings.write_text(text, encoding="utf-8")
    with pytest.raises(BuildError) as raised:
        render_sheet(load_project(project), "ketamine-aftercare", "zh")
    line = text[:text.index("\U0001F9FF")].count("\n") + 1
    assert (raised.value.path, raised.value.line) == (strings, line)
    assert "U+1F9FF" in str(raised.value) and "no font this project ships has it" in str(raised.value)
    assert "add a font to styles/fonts.css, or write it in by hand" in str(raised.value)


def test_the_same_sheet_prints_the_same_bytes_twice(world):
    assert render_sheet(world, "ketamine-aftercare", "zh").data == render_sheet(world, "ketamine-aftercare", "zh").data
