"""One brand: a change to the brand tokens in styles/tokens.css reaches every coloured part of
every edition: the logo, the title, the tinted boxes and the icons."""
from __future__ import annotations

import io

import pypdfium2
import pytest

from handouts import content, icons, render
from handouts.config import load_project
from handouts.pipeline import Job, print_sheet

from conftest import ROOT, one_sheet_project

#: The brand tokens and the colours they change to (a purple brand instead of the teal).
BRAND = {"--brand": ("#0e5a63", "#6a1b9a"), "--brand-dark": ("#0a3d44", "#4a126b"),
         "--brand-tint": ("#e7f1f2", "#f3e5f5")}


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def colours_in(data: bytes, box=None) -> dict[tuple[int, int, int], int]:
    """Pixel counts by colour of page 1 at 2x, or of the part of it in box (x0, y0, x1, y1 in pt)."""
    image = pypdfium2.PdfDocument(io.BytesIO(data))[0].render(scale=2).to_pil().convert("RGB")
    if box:
        image = image.crop(tuple(2 * value for value in box))
    return {colour: count for count, colour in image.getcolors(1 << 24)}


@pytest.fixture(scope="module")
def recoloured(tmp_path_factory):
    project = one_sheet_project(tmp_path_factory.mktemp("brand"))
    tokens = project / "styles/tokens.css"
    css = tokens.read_text(encoding="utf-8")
    for name, (old, new) in BRAND.items():
        assert f"{name}: {old};" in css, f"the token {name} this test changes has moved"
        css = css.replace(f"{name}: {old};", f"{name}: {new};")
    tokens.write_text(css, encoding="utf-8")
    loaded = load_project(project)
    handout = content.load_handout(project / "content/en/ketamine-aftercare.md", "en")
    return {edition: print_sheet(loaded, Job(handout, edition, "letter")).data
            for edition in ("standard", "large-print")}


@pytest.mark.parametrize("edition", ["standard", "large-print"])
def test_the_brand_change_reaches_every_coloured_part(recoloured, edition):
    found = colours_in(recoloured[edition])
    for name, (old, new) in BRAND.items():
        assert found.get(rgb(new), 0) > 200, f"{name}: the new colour {new} is missing"
        assert found.get(rgb(old), 0) == 0, f"{name}: the old colour {old} is still printed"


@pytest.mark.parametrize("edition", ["standard", "large-print"])
def test_the_logo_and_the_icons_take_the_icon_token(recoloured, edition):
    # The logo sits at the top left; the main message's icon is the first picture under the title.
    logo = colours_in(recoloured[edition], (0, 0, 120, 110))
    assert logo.get(rgb(BRAND["--brand"][1]), 0) > 1000
    # An icon that missed the token would be drawn in black: nothing on the sheet is black
    # (its text is the --ink token).
    assert colours_in(recoloured[edition]).get((0, 0, 0), 0) == 0
    assert icons.token_colour(ROOT, render.stylesheets(edition)) == BRAND["--brand"][0]


def test_icons_and_logo_are_drawn_from_current_color():
    for path in [*(ROOT / icons.ICON_DIR).glob("*.svg"), ROOT / "assets/logo.svg"]:
        svg = path.read_text(encoding="utf-8")
        assert "currentColor" in svg and "#0e5a63" not in svg.lower(), path.name
