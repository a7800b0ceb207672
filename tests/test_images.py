"""Images and SVGs that cannot hang, bloat or garble a print.

Each hostile or careless file is generated here (none is committed), put on a sheet that was
already built, and refused at the line that uses it: exit status 1, the file named, what was
expected and what was found, and the sheet's earlier PDF untouched. A phone photo prints at
300 dpi; SVG text is set in the project's font. The limits themselves are tested at their
boundary on the check alone, without printing.
"""
from __future__ import annotations

import base64
import functools
import io
import shutil
import struct
import zlib

import page
import pdfplumber
import pikepdf
import pypdf
import pytest
from PIL import Image, ImageDraw, ImageFile

from conftest import one_sheet_project, run
from test_bad_input import assert_reported
from handouts import images

PICTURE = "content/en/picture.md"
PDF = "dist/en/picture.pdf"
SVG_OPEN = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 40" width="200" height="40">'
PROJECT_FONTS = images.Fonts(("Atkinson Hyperlegible",), frozenset(range(32, 127)))


def sheet(image: str) -> str:
    """A sheet whose line 11 shows ``image``."""
    return ("---\ntitle: A sheet with a picture\nversion: \"1.0\"\nupdated: 2026-11-27\n"
            "status: approved\nmax_pages: 2\n---\n\nBefore your visit, look at the picture.\n\n"
            f"![The clinic's front door, with a ramp on the left]({image})\n\nCome in by the ramp.\n")


def encoded(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


@functools.cache
def photo(width: int = 300, height: int = 200) -> Image.Image:
    """A photo-like picture: a sky, a door, and grain (which JPEG cannot squeeze away)."""
    picture = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    picture = Image.blend(picture, Image.new("RGB", (width, height), (90, 140, 200)), 0.5)
    ImageDraw.Draw(picture).rectangle((width * 2 // 5, height // 3, width * 3 // 5, height),
                                      fill=(120, 70, 40))
    grain = Image.effect_noise((width, height), 24).convert("RGB")
    return Image.blend(picture, grain, 0.25)


def png_header(width: int, height: int) -> bytes:
    """A PNG that only claims its size: a signature and a header chunk, no pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IEND", b""))


def nested_use(levels: int = 7, fanout: int = 10) -> bytes:
    """The classic SVG bomb: each group uses the one before ten times (1.9 KB, 10^7 shapes)."""
    groups = "".join(f'<g id="g{level}">' + f'<use href="#g{level - 1}"/>' * fanout + "</g>"
                     for level in range(1, levels + 1))
    return (f'{SVG_OPEN}<defs><rect id="g0" width="1" height="1"/>{groups}</defs>'
            f'<use href="#g{levels}"/></svg>').encode()


def svg_text(family: str | None = "sans-serif", words: str = "Call us") -> bytes:
    font = f' font-family="{family}"' if family else ""
    return f'{SVG_OPEN}<text x="4" y="28" font-size="20"{font}>{words}</text></svg>'.encode()


def long_path(size: int) -> bytes:
    """An SVG of exactly ``size`` bytes: one path, padded with a comment."""
    svg = f'{SVG_OPEN}<path d="M0 0 L{"1 1 " * 10}" stroke="black"/><!---->' + "</svg>"
    return svg.replace("<!---->", f"<!--{'x' * (size - len(svg))}-->").encode()


LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;">'
          b'<!ENTITY c "&b;&b;&b;&b;&b;">]><svg xmlns="http://www.w3.org/2000/svg"><text>&c;</text></svg>')
EXTERNAL = (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>')


@pytest.fixture(scope="module")
def built_picture(tmp_path_factory):
    """A one-sheet project with a sheet 'picture' that shows assets/picture.png, built once."""
    project = one_sheet_project(tmp_path_factory.mktemp("pictures"))
    (project / "assets/picture.png").write_bytes(encoded(photo(), "PNG"))
    (project / PICTURE).write_text(sheet("assets/picture.png"))
    result = run("-C", project, "build", "picture")
    assert result.exit_code == 0, result.output
    return project


@pytest.fixture
def picture_project(built_picture, tmp_path):
    """A fresh copy of ``built_picture``, its dist/ included, for one test to break."""
    return shutil.copytree(built_picture, tmp_path / "project")


HOSTILE = [
    # case, file name, its bytes, words the message must hold
    ("169-megapixels", "huge.png", lambda: encoded(Image.new("1", (13000, 13000)), "PNG"),
     ["expected at most 24 megapixels (such as 6000 x 4000), found 13000 x 13000 = 169.0 megapixels"]),
    ("truncated-png", "cut.png", lambda: encoded(photo(), "PNG")[:6000],
     ["expected a complete PNG image, found a truncated or damaged file"]),
    ("truncated-jpeg", "cut.jpg", lambda: encoded(photo(), "JPEG")[:4000],
     ["expected a complete JPEG image, found a truncated or damaged file"]),
    ("webp", "download.webp", lambda: encoded(photo(), "WEBP"),
     ["expected a PNG, JPEG or GIF image, found a WebP image"]),
    ("tiff", "scan.tiff", lambda: encoded(photo(), "TIFF"),
     ["expected a PNG, JPEG or GIF image, found a TIFF image"]),
    ("heic", "IMG_0042.HEIC", lambda: b"\0\0\0\x18ftypheic\0\0\0\0mif1heic",
     ["expected a PNG, JPEG or GIF image, found a HEIC or AVIF photo"]),
    ("16-bit-grey", "scan.png", lambda: encoded(Image.new("I;16", (300, 200), 3000), "PNG"),
     ["expected 8-bit grey, colour or palette pixels, found Pillow's mode I;16"]),
    ("svg-named-png", "diagram.png", lambda: svg_text(),
     ["expected a PNG, JPEG or GIF image, found SVG or other XML text"]),
    ("nested-use", "bomb.svg", nested_use, ["expected at most 2,000 shapes, found 46,913,572"]),
    ("svg-too-large", "map.svg", lambda: long_path(600_000),
     ["expected an SVG of at most 524,288 bytes (512 KiB), found 600,000 bytes"]),
    ("svg-entities", "laughs.svg", lambda: LAUGHS,
     ["expected plain SVG, found a document type declaration with entities"]),
    ("svg-font-not-declared", "label.svg", lambda: svg_text("Arial, sans-serif"),
     ["expected its text in a font family the project declares (Atkinson Hyperlegible, Noto Sans)",
      "found the font family 'Arial'"]),
    ("svg-character-not-in-fonts", "tick.svg", lambda: svg_text(words="Done \U0001F9FF"),
     ["expected text the project's fonts can draw, found \U0001F9FF (U+1F9FF NAZAR AMULET)"]),
]


@pytest.mark.parametrize("name, body, words", [case[1:] for case in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_a_hostile_or_careless_image_is_refused_at_its_line(picture_project, name, body, words):
    before = (picture_project / PDF).read_bytes()
    (picture_project / "assets" / name).write_bytes(body())
    (picture_project / PICTURE).write_text(sheet(f"assets/{name}"))
    result = run("-C", picture_project, "build", "picture")
    assert_reported(result, f"{PICTURE}:11: assets/{name}: ", words)
    assert (picture_project / PDF).read_bytes() == before


def test_an_image_in_a_data_url_is_checked_too(picture_project):
    before = (picture_project / PDF).read_bytes()
    url = "data:image/png;base64," + base64.b64encode(encoded(photo(), "PNG")[:3000]).decode()
    (picture_project / PICTURE).write_text(sheet(url))
    result = run("-C", picture_project, "build", "picture")
    assert_reported(result, f"{PICTURE}:11: the data: URL data:image/png;base64,",
                   ["expected a complete PNG image, found a truncated or damaged file"])
    assert (picture_project / PDF).read_bytes() == before


def test_the_logo_is_checked_and_blamed_on_handouts_toml(picture_project):
    before = (picture_project / PDF).read_bytes()
    (picture_project / "assets/logo.svg").write_bytes(nested_use())
    result = run("-C", picture_project, "build", "picture")
    assert_reported(result, "handouts.toml:10: assets/logo.svg: ",
                   ["expected at most 2,000 shapes"])
    assert (picture_project / PDF).read_bytes() == before


def test_a_stylesheet_image_is_blamed_on_its_rule(picture_project):
    before = (picture_project / PDF).read_bytes()
    (picture_project / "assets/paper.jpg").write_bytes(encoded(photo(), "JPEG")[:2000])
    css = picture_project / "styles/print.css"
    css.write_text(css.read_text() + "\nbody { background: url(../assets/paper.jpg); }\n")
    result = run("-C", picture_project, "build", "picture")
    line = css.read_text().count("\n")
    assert_reported(result, f"styles/print.css:{line}: assets/paper.jpg: ",
                   ["expected a complete JPEG image"])
    assert (picture_project / PDF).read_bytes() == before


def test_a_phone_photo_is_printed_at_300_dpi_and_stays_small(picture_project, tmp_path):
    """A 4000 x 3000 photo (about 6 MB) across the column: downsampled to 300 dpi at its
    printed size, the same bytes at every build, and still PDF/UA-1."""
    (picture_project / "assets/door.jpg").write_bytes(encoded(photo(4000, 3000), "JPEG", quality=92))
    (picture_project / PICTURE).write_text(sheet("assets/door.jpg"))
    result = run("-C", picture_project, "build", "picture", "--strict")
    assert result.exit_code == 0, result.output
    data = (picture_project / PDF).read_bytes()
    assert len(data) < 1024 * 1024
    with pdfplumber.open(picture_project / PDF) as pdf:
        [image] = [image for page in pdf.pages for image in page.images]
    (width, height), placed = image["srcsize"], float(image["width"])  # pixels, points
    assert abs(width - placed / 72 * images.PRINT_DPI) <= 1, (width, placed)
    assert width < 4000 and abs(width / height - 4 / 3) < 0.01
    again = run("-C", picture_project, "build", "picture", "--strict", "--force", "--out", tmp_path / "again")
    assert again.exit_code == 0, again.output
    assert (tmp_path / "again/en/picture.pdf").read_bytes() == data
    report = page.validate_pdf(picture_project / PDF, profile=page.ValidationProfile.PDF_UA_1)
    assert report.is_compliant, [(f.rule_id, f.message) for f in report.failures]


def test_svg_text_in_a_generic_family_prints_in_the_project_font(picture_project):
    """sans-serif, serif and monospace, named in an attribute, a style attribute and a
    <style> rule, and text that names no family at all: every glyph is Atkinson Hyperlegible."""
    label = (f'{SVG_OPEN}<style>.note {{ font: 9px monospace }}</style>'
             f'<text x="4" y="12" font-size="10" font-family="sans-serif">Call us</text>'
             f'<text x="4" y="24" style="font-family: serif; font-size: 10px">any day</text>'
             f'<text x="4" y="36" class="note">at the desk</text>'
             f'<text x="100" y="12" font-size="10">or write</text></svg>')
    (picture_project / "assets/label.svg").write_text(label)
    (picture_project / PICTURE).write_text(sheet("assets/label.svg"))
    result = run("-C", picture_project, "build", "picture", "--strict")
    assert result.exit_code == 0, result.output
    with pikepdf.open(picture_project / PDF) as pdf:  # every font object, wherever it is used
        fonts = {str(item.BaseFont) for item in pdf.objects
                 if isinstance(item, pikepdf.Dictionary) and item.get("/Type") == "/Font"
                 and "/BaseFont" in item}
    assert fonts and all(name.split("+", 1)[1].startswith("Atkinson-Hyperlegible") for name in fonts), fonts
    text = pypdf.PdfReader(picture_project / PDF).pages[0].extract_text()
    for words in ("Call us", "any day", "at the desk", "or write"):
        assert words in text, text
    report = page.validate_pdf(picture_project / PDF, profile=page.ValidationProfile.PDF_UA_1)
    assert report.is_compliant, [(f.rule_id, f.message) for f in report.failures]


# --- the limits at their boundaries, on the check alone ---------------------------------------

def check_svg(body: bytes, fonts: images.Fonts = PROJECT_FONTS) -> bytes:
    return images.checked(body, "image/svg+xml", lambda: fonts)


def test_the_pixel_limit_is_exact():
    """6000 x 4000 (24 megapixels) decodes and passes; one pixel more is refused from the
    header alone, before anything is decoded."""
    images.check_raster(encoded(Image.new("1", (6000, 4000)), "PNG"))
    with pytest.raises(images.ImageRefused, match=r"found 1 x 24000001 = 24.0 megapixels"):
        images.check_raster(png_header(1, images.MAX_PIXELS + 1))


def test_the_check_leaves_pillows_settings_as_weasyprint_set_them():
    import weasyprint  # noqa: F401  it lets Pillow decode truncated files, at its import

    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    limit = Image.MAX_IMAGE_PIXELS
    with pytest.raises(images.ImageRefused):
        images.check_raster(encoded(photo(), "PNG")[:5000])
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True and Image.MAX_IMAGE_PIXELS == limit


def test_the_svg_byte_limit_is_exact():
    check_svg(long_path(images.MAX_SVG_BYTES))
    with pytest.raises(images.ImageRefused, match="found 524,289 bytes"):
        check_svg(long_path(images.MAX_SVG_BYTES + 1))


def test_the_svg_text_limit_is_exact():
    check_svg(svg_text(words="a" * 1990 + "<tspan>bcdefghijk</tspan>"))  # 2,000 characters
    with pytest.raises(images.ImageRefused, match="expected at most 2,000 characters of text, found 2,001"):
        check_svg(svg_text(words="a" * 1990 + "<tspan>bcdefghijk</tspan>l"))
    used = f'{SVG_OPEN}<text id="t">{"a" * 1000}</text><use href="#t"/></svg>'  # drawn twice
    with pytest.raises(images.ImageRefused, match="found 2,002 .each <use> counts the text"):
        check_svg(used.replace("a" * 1000, "a" * 1001).encode())
    check_svg(used.encode())


def uses(count: int, extra: int = 0) -> bytes:
    """An SVG of 2 + 2 x count + extra shapes: the root, a rect, ``count`` uses of it (each
    draws the rect again) and ``extra`` circles."""
    return (f'{SVG_OPEN}<rect id="r" width="1" height="1"/>' + '<use href="#r"/>' * count
            + "<circle/>" * extra + "</svg>").encode()


def test_the_shape_limit_is_exact_and_counts_what_each_use_draws():
    check_svg(uses(999))  # 2,000 shapes
    with pytest.raises(images.ImageRefused, match="expected at most 2,000 shapes, found 2,001"):
        check_svg(uses(999, extra=1))
    with pytest.raises(images.ImageRefused, match="found 2,002"):
        check_svg(uses(1000))


@pytest.mark.parametrize("svg, found", [
    # a pattern painted by a <style> rule is drawn again for every element the rule matches
    (f'{SVG_OPEN}<style>rect {{ fill: url(#p) }}</style><pattern id="p">{"<circle/>" * 99}</pattern>'
     f'{"<rect/>" * 30}</svg>', "found 3,132"),
    # a mid-marker is drawn again at every vertex
    (f'{SVG_OPEN}<marker id="m">{"<circle/>" * 99}</marker>'
     f'<path marker-mid="url(#m)" d="M0 0{" L1 1" * 30}"/></svg>', "found 3,402"),
], ids=["pattern-in-a-style-rule", "marker-at-every-vertex"])
def test_references_count_what_they_draw_again(svg, found):
    with pytest.raises(images.ImageRefused, match=found):
        check_svg(svg.encode())


def nested(levels: int) -> bytes:
    return f'{SVG_OPEN}{"<g>" * levels}<rect/>{"</g>" * levels}</svg>'.encode()


def test_the_nesting_limit_is_exact():
    check_svg(nested(images.MAX_SVG_DEPTH - 1))  # the rect is 64 deep
    with pytest.raises(images.ImageRefused, match="nested at most 64 deep"):
        check_svg(nested(images.MAX_SVG_DEPTH))
    with pytest.raises(images.ImageRefused, match="nested at most 64 deep"):
        check_svg(nested(70_000))  # refused while it is read, before anything recurses


def test_a_chain_of_references_deeper_than_the_limit_is_refused():
    chain = "".join(f'<g id="g{n}"><use href="#g{n - 1}"/></g>' for n in range(1, 40))
    with pytest.raises(images.ImageRefused, match="references nested at most 64 deep"):
        check_svg(f'{SVG_OPEN}<g id="g0"/>{chain}</svg>'.encode())


@pytest.mark.parametrize("svg", [
    f'{SVG_OPEN}<g id="a"><use href="#a"/></g></svg>',
    f'{SVG_OPEN}<g id="a"><use href="#b"/></g><g id="b"><use xmlns:x="http://www.w3.org/1999/xlink" '
    f'x:href="#a"/></g></svg>',
], ids=["itself", "through-another"])
def test_a_use_that_draws_itself_is_refused(svg):
    with pytest.raises(images.ImageRefused, match="expected references that end, found <g id='a'>"):
        check_svg(svg.encode())


@pytest.mark.parametrize("svg", [LAUGHS, EXTERNAL], ids=["entity-expansion", "external-entity"])
def test_an_svg_that_declares_entities_is_refused_before_they_are_read(svg):
    with pytest.raises(images.ImageRefused, match="found a document type declaration with entities"):
        check_svg(svg)


@pytest.mark.parametrize("svg, words", [
    (f'{SVG_OPEN}<image href="other.svg"/></svg>', "found another SVG (other.svg)"),
    (f'{SVG_OPEN}<style>@font-face {{ font-family: X; src: local(Arial) }}</style></svg>',
     "found @font-face in its <style>"),
    (f'{SVG_OPEN}<style>@import url(more.css);</style></svg>', "found @import in its <style>"),
    (f'{SVG_OPEN}<rect></svg>', "expected well-formed SVG, found mismatched tag at line 1"),
    ('<html xmlns="http://www.w3.org/1999/xhtml"/>', "expected <svg> around everything, found <html>"),
], ids=["svg-in-svg", "font-face", "import", "not-well-formed", "not-svg"])
def test_what_an_svg_may_not_hold(svg, words):
    with pytest.raises(images.ImageRefused, match=words.replace("(", r"\(").replace(")", r"\)")):
        check_svg(svg.encode())


def test_svg_text_needs_the_projects_fonts():
    with pytest.raises(images.ImageRefused, match="found no @font-face in styles/"):
        check_svg(svg_text(), images.Fonts((), frozenset()))


def test_generic_families_are_mapped_wherever_they_are_named():
    mapped = check_svg(
        f'{SVG_OPEN}<style>.a {{ font-family: "serif" !important; fill: red }}</style>'
        f'<text class="a" style="font: 9px ui-monospace; fill: blue">a</text>'
        f'<text font-family="Atkinson Hyperlegible, system-ui">b</text>'
        f'<text font-family="inherit">c</text></svg>'.encode()).decode()
    for generic in ("serif", "ui-monospace", "system-ui"):
        assert f"'{generic}'" not in mapped and f" {generic}" not in mapped, mapped
    assert "font-family: 'Atkinson Hyperlegible' !important; fill: red" in mapped
    assert "font: 9px 'Atkinson Hyperlegible'; fill: blue" in mapped
    assert "font-family=\"'Atkinson Hyperlegible', 'Atkinson Hyperlegible'\"" in mapped
    assert 'font-family="inherit"' in mapped
    # text that names no family inherits the project's from the root, not the machine's sans-serif
    assert b'height="40" font-family="\'Atkinson Hyperlegible\'">' in check_svg(svg_text(None))


def test_an_svg_without_text_is_served_as_it_is():
    body = nested_use(levels=2)
    assert check_svg(body, images.Fonts((), frozenset())) == body
