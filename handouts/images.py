"""The images a sheet embeds, checked before WeasyPrint decodes them.

Every file a print fetches that is not a stylesheet or a font is an image, and passes through
``checked`` first (the content's pictures, the logo, a stylesheet's backgrounds, the pictures
inside an SVG):

- a raster image is a PNG, JPEG or GIF of at most MAX_PIXELS, in pixels WeasyPrint prints
  right, and decodes completely (WeasyPrint would print a truncated file half black, without
  a word);
- an SVG is a ``.svg`` file of at most MAX_SVG_BYTES, plain XML (a document type declaration,
  where entities would be declared, is refused before anything in it is read, and nothing
  external is ever loaded), whose elements number at most MAX_SVG_SHAPES when each is counted
  once for every time WeasyPrint would draw it (a ``<use>``, a pattern, a mask, a clip path or
  a marker draws its elements again wherever it is referenced), and whose text has at most
  MAX_SVG_CHARACTERS;
- SVG text is set in the project's fonts: a generic family (``sans-serif``, ``serif``...) is
  mapped to the family the project declares with @font-face, and any other family, or a
  character those fonts lack, is refused, so no font of the machine ever reaches a PDF.

A refusal is an ImageRefused whose message says what was expected and what was found; the
fetcher puts the file's name in front. What passed is remembered by content, so a file that
every sheet uses (the logo) is checked once per process.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Callable, NamedTuple
from xml.etree import ElementTree
from xml.parsers import expat

import cssselect2
import tinycss2
from PIL import Image, ImageFile, UnidentifiedImageError

#: What cameras, phones and drawing programs save, by Pillow's names. Not WebP: Pillow decodes
#: it through its animation decoder, which took 380 MB for 24 megapixels (measured), near the
#: memory a whole print may have.
RASTER_FORMATS = ("PNG", "JPEG", "GIF")
FORMAT_NAMES = "PNG, JPEG or GIF"
#: The pixel formats WeasyPrint 70 prints right (Pillow's modes). It fails on 16-bit grey
#: (I;16) and would print others with the wrong colours.
PRINTABLE_MODES = ("1", "L", "LA", "P", "I", "RGB", "RGBA", "CMYK")
#: 24 megapixels: 6000 x 4000, a full-frame camera's photo (a phone's is about 12). A whole
#: page at 300 dpi needs only 8.4, and a sheet with the largest image accepted prints in
#: under 300 MB (measured), far from what a 169-megapixel file took (1.4 GB); Pillow's own
#: check would only warn up to 178 megapixels.
MAX_PIXELS = 24_000_000
#: Photos are downsampled to this resolution at the size they are printed (WeasyPrint's
#: ``dpi`` option): a 4000 x 3000 phone photo across the column keeps about 1500 x 1100.
PRINT_DPI = 300
#: A logo or diagram is a few KiB; a single path of 512 KiB already takes WeasyPrint about
#: 3 s to draw (measured). Larger artwork prints as well as a PNG.
MAX_SVG_BYTES = 512 * 1024
#: WeasyPrint draws about 2,000 shapes a second, and a line of SVG text takes as long as six
#: (measured): so an SVG at the limit adds 1 to 7 s to its sheet, never minutes.
MAX_SVG_SHAPES = 2_000
#: WeasyPrint places SVG text a character at a time: 2,000 characters (a diagram's labels
#: take a few hundred) add about a second, and 100 KB of text took a minute (measured).
MAX_SVG_CHARACTERS = 2_000
#: Elements inside elements, and references through references: WeasyPrint draws each level
#: with a few nested calls, so a deeper file would exhaust Python's stack.
MAX_SVG_DEPTH = 64
#: CSS's generic families: each stands for the project's own font in SVG text.
GENERIC_FAMILIES = frozenset({"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui",
                              "ui-serif", "ui-sans-serif", "ui-monospace", "ui-rounded", "math",
                              "emoji", "fangsong"})

SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
#: The elements WeasyPrint lays out as text (it draws an ``<a>`` as text too).
TEXT_TAGS = frozenset({"text", "tspan", "textPath", "a"})
FONT_PROPERTIES = ("font-family", "font")
REFERENCE = re.compile(r"url\(\s*['\"]?#([^'\")\s]+)")
NUMBER = re.compile(r"[-+]?(?:\d*\.\d+|\d+\.?)(?:[eE][-+]?\d+)?")


class ImageRefused(ValueError):
    """An image a sheet may not embed; the message says what was expected and what was found."""


@dataclass(frozen=True)
class Fonts:
    """What SVG text may use: the families the project declares with @font-face (the first
    stands for every generic family) and the characters their files can draw."""

    families: tuple[str, ...]
    characters: frozenset[int]


def checked(body: bytes, content_type: str, fonts: Callable[[], Fonts]) -> bytes:
    """The bytes WeasyPrint may decode for an image file, or ImageRefused. ``fonts`` is
    called only for an SVG that has text."""
    if content_type == "image/svg+xml":
        return checked_svg(body, fonts)
    check_raster(body)
    return body


# --- raster images ---------------------------------------------------------------------------

_PILLOW = threading.Lock()
_PASSED: dict[str, None] = {}  # digests of the raster images that decoded completely


def check_raster(body: bytes) -> None:
    """Refuse a raster image of another format, of too many pixels, or one that does not
    decode to its last pixel. The pixels are counted from the header, before any is decoded."""
    digest = hashlib.sha256(body).hexdigest()
    if digest in _PASSED:
        return
    with _strict_pillow():
        try:
            image = Image.open(io.BytesIO(body), formats=RASTER_FORMATS)  # no other decoder runs
        except UnidentifiedImageError:
            raise ImageRefused(f"expected a {FORMAT_NAMES} image, found {_kind_of(body)}") from None
        except Exception as error:  # Pillow has many ways to say a header is damaged
            raise ImageRefused(f"expected a {FORMAT_NAMES} image, found a damaged file "
                               f"({_reason(error)})") from None
        if image.mode not in PRINTABLE_MODES:
            raise ImageRefused(f"expected 8-bit grey, colour or palette pixels, found Pillow's mode "
                               f"{image.mode}: save it as an 8-bit {image.format}")
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise ImageRefused(f"expected at most {MAX_PIXELS // 1_000_000} megapixels (such as "
                               f"6000 x 4000), found {width} x {height} = "
                               f"{width * height / 1_000_000:.1f} megapixels: save it smaller "
                               f"(a whole page at {PRINT_DPI} dpi needs 2550 x 3300)")
        if image.format == "JPEG":  # still reads every byte, at an eighth of the work
            image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
        try:
            image.load()
        except MemoryError:  # not the file's fault: the print's memory cap says so itself
            raise
        except Exception as error:
            raise ImageRefused(f"expected a complete {image.format} image, found a truncated or "
                               f"damaged file ({_reason(error)}); save or copy it again") from None
    if len(_PASSED) > 1024:  # a long-running server sees many edits of the same picture
        _PASSED.clear()
    _PASSED[digest] = None


@contextlib.contextmanager
def _strict_pillow():
    """Pillow's settings are one per process: WeasyPrint turns on LOAD_TRUNCATED_IMAGES at
    import (a truncated file decodes, the rest black), and the decompression-bomb check only
    warns below 178 megapixels. While an image is checked, a truncated file is an error and the
    pixel limit is ours alone, under a lock since the settings are shared. An image that passes
    decodes the same under either setting."""
    with _PILLOW:
        saved = ImageFile.LOAD_TRUNCATED_IMAGES, Image.MAX_IMAGE_PIXELS
        ImageFile.LOAD_TRUNCATED_IMAGES, Image.MAX_IMAGE_PIXELS = False, None
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES, Image.MAX_IMAGE_PIXELS = saved


#: Pictures a sheet cannot use, told by their first bytes, so that the message can name them.
OTHER_FORMATS = {b"RIFF": "a WebP image", b"II*\0": "a TIFF image", b"MM\0*": "a TIFF image",
                 b"BM": "a BMP image"}


def _kind_of(body: bytes) -> str:
    """What a file that is no image a sheet can use seems to be, in words."""
    if not body:
        return "an empty file"
    if body.lstrip()[:1] == b"<":
        return "SVG or other XML text (an SVG must be a file named .svg)"
    if body[4:8] == b"ftyp":
        return "a HEIC or AVIF photo (a phone can share it as JPEG)"
    return next((kind for start, kind in OTHER_FORMATS.items() if body.startswith(start)),
                "a file Pillow cannot read as a picture")


def _reason(error: Exception) -> str:
    return str(error) or error.__class__.__name__


# --- SVG -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Svg:
    """What a checked SVG asks of the project."""

    has_text: bool
    families: tuple[str, ...]  # every font family it names, in order
    characters: str  # the characters of its text


def checked_svg(body: bytes, fonts: Callable[[], Fonts]) -> bytes:
    """The SVG's bytes once checked, with its text's generic families mapped to the
    project's font; unchanged when it has no text (a logo)."""
    if len(body) > MAX_SVG_BYTES:
        raise ImageRefused(f"expected an SVG of at most {MAX_SVG_BYTES:,} bytes "
                           f"({MAX_SVG_BYTES // 1024} KiB), found {len(body):,} bytes: simplify it, "
                           f"or save it as a PNG")
    svg = _read_svg(body)
    if not svg.has_text:
        return body
    project = fonts()
    _check_fonts(svg, project)
    return _with_project_font(body, project.families[0])


@functools.lru_cache(maxsize=32)
def _read_svg(body: bytes) -> _Svg:
    """Parse, measure and describe an SVG; the same bytes are read once per process."""
    root = _parse(body)
    for element in root.iter():  # a picture in a picture would multiply its shapes
        if _name(element.tag) == "image" and _is_svg_url(_href(element)):
            raise ImageRefused(f"expected <image> to show a {FORMAT_NAMES} picture, found "
                               f"another SVG ({_href(element)[:60]}): draw it in this SVG instead")
    declarations = _declarations(root)
    drawn = _measure(root, declarations)
    _refuse_too_many_shapes(drawn.shapes)
    if drawn.characters > MAX_SVG_CHARACTERS:
        raise ImageRefused(f"expected at most {MAX_SVG_CHARACTERS:,} characters of text, found "
                           f"{drawn.characters:,} (each <use> counts the text it draws again): "
                           f"put the words in the sheet itself")
    families = [family for pairs in declarations.values() for name, value in pairs
                if name in FONT_PROPERTIES for family in _families(name, value)]
    return _Svg(has_text=any(_name(element.tag) in TEXT_TAGS for element in root.iter()),
                families=tuple(dict.fromkeys(families)),
                characters="".join(map(_own_text, root.iter())))


def _parse(body: bytes) -> ElementTree.Element:
    """The SVG's element tree, read as plain XML. A first pass with expat refuses a document
    type declaration with an internal subset (where entities are declared) as soon as it
    starts, elements nested deeper than MAX_SVG_DEPTH, and more elements than MAX_SVG_SHAPES,
    before anything else looks at the file."""
    parser = expat.ParserCreate()
    depth, elements = 0, 0

    def refuse_internal_subset(name, system_id, public_id, has_internal_subset):
        if has_internal_subset:
            raise ImageRefused(f"expected plain SVG, found a document type declaration with "
                               f"entities (<!DOCTYPE {name} [...]>) at line "
                               f"{parser.CurrentLineNumber}: save it again as plain SVG")

    def start(name, attributes):
        nonlocal depth, elements
        depth, elements = depth + 1, elements + 1
        if depth > MAX_SVG_DEPTH + 1:  # the root is not nested in anything
            raise ImageRefused(f"expected elements nested at most {MAX_SVG_DEPTH} deep, found "
                               f"<{name}> deeper at line {parser.CurrentLineNumber}")

    def end(name):
        nonlocal depth
        depth -= 1

    parser.StartDoctypeDeclHandler = refuse_internal_subset
    parser.StartElementHandler, parser.EndElementHandler = start, end
    try:
        parser.Parse(body, True)
    except expat.ExpatError as error:
        raise ImageRefused(f"expected well-formed SVG, found {expat.errors.messages[error.code]} "
                           f"at line {error.lineno}") from None
    _refuse_too_many_shapes(elements)
    root = ElementTree.fromstring(body)
    if _name(root.tag) != "svg":
        raise ImageRefused(f"expected <svg> around everything, found <{_name(root.tag)}>")
    return root


def _declarations(root: ElementTree.Element) -> dict[ElementTree.Element, list[tuple[str, str]]]:
    """Each element's (property, value) pairs as WeasyPrint applies them: its attributes,
    the rules of the SVG's <style> elements that match it, and its style attribute."""
    matcher = cssselect2.Matcher()
    for style in root.iter(f"{SVG}style"):
        for rule in tinycss2.parse_stylesheet(style.text or "", skip_comments=True,
                                              skip_whitespace=True):
            if rule.type == "at-rule" and rule.lower_at_keyword in ("import", "font-face"):
                raise ImageRefused(f"expected only the project's fonts and stylesheets, found "
                                   f"@{rule.lower_at_keyword} in its <style>")
            if rule.type == "qualified-rule":
                with contextlib.suppress(cssselect2.SelectorError):  # WeasyPrint skips it too
                    pairs = _css_declarations(tinycss2.serialize(rule.content))
                    for selector in cssselect2.compile_selector_list(rule.prelude):
                        matcher.add_selector(selector, pairs)
    declarations = {}
    for wrapper in cssselect2.ElementWrapper.from_xml_root(root).iter_subtree():
        element = wrapper.etree_element
        matched = [pair for *_, pairs in matcher.match(wrapper) for pair in pairs]
        declarations[element] = [*element.attrib.items(), *matched,
                                 *_css_declarations(element.get("style", ""))]
    return declarations


def _css_declarations(css: str) -> list[tuple[str, str]]:
    return [(item.lower_name, tinycss2.serialize(item.value).strip()) for item in _parsed(css)]


def _parsed(css: str) -> list:
    """The declarations of a style attribute or a rule's block."""
    return [item for item in tinycss2.parse_blocks_contents(css, skip_comments=True,
                                                            skip_whitespace=True)
            if item.type == "declaration"]


def _refuse_too_many_shapes(shapes: int) -> None:
    if shapes > MAX_SVG_SHAPES:
        raise ImageRefused(f"expected at most {MAX_SVG_SHAPES:,} shapes, found {shapes:,} (each "
                           f"<use>, pattern, mask, clip path or marker counts the shapes it "
                           f"draws again): simplify it, or save it as a PNG")


class _Drawn(NamedTuple):
    """What an element draws, references followed: its shapes and characters of text, and how
    deep its elements and references nest below it."""

    shapes: int
    characters: int
    below: int


def _measure(root, declarations) -> _Drawn:
    """What WeasyPrint would draw: each element, and again every element it draws through a
    reference (``<use href="#a">``, ``fill="url(#pattern)"``...) each time. Memoised, so a
    file of nested <use> is measured without being expanded; a cycle or a chain deeper than
    MAX_SVG_DEPTH is refused."""
    ids = {element.get("id"): element for element in reversed(list(root.iter())) if element.get("id")}
    measured: dict[ElementTree.Element, _Drawn] = {}
    open_: set[ElementTree.Element] = set()

    def measure(element, depth: int) -> _Drawn:
        if depth > MAX_SVG_DEPTH:
            raise ImageRefused(f"expected elements and references nested at most {MAX_SVG_DEPTH} "
                               f"deep, found {_describe(element)} deeper")
        if element in open_:
            raise ImageRefused(f"expected references that end, found {_describe(element)} "
                               f"drawing itself through a reference")
        if element not in measured:
            open_.add(element)
            shapes, characters, below = 1, len(_own_text(element)), 0
            drawn = [(child, 1) for child in element]
            drawn += _references(element, declarations.get(element, ()), ids)
            for target, times in drawn:
                inner = measure(target, depth + 1)
                shapes += times * inner.shapes
                characters += times * inner.characters
                below = max(below, inner.below + 1)
            open_.discard(element)
            measured[element] = _Drawn(shapes, characters, below)
        if depth + measured[element].below > MAX_SVG_DEPTH:
            raise ImageRefused(f"expected elements and references nested at most {MAX_SVG_DEPTH} "
                               f"deep, found {_describe(element)} deeper")
        return measured[element]

    return measure(root, 0)


def _own_text(element) -> str:
    """The text a text element holds itself (its children's is theirs), or ''."""
    if _name(element.tag) not in TEXT_TAGS:
        return ""
    return "".join(part for part in (element.text, *(child.tail for child in element)) if part)


def _references(element, pairs, ids) -> list[tuple[ElementTree.Element, int]]:
    """The elements this one draws again, each with how many times: a mid-marker is drawn at
    every vertex."""
    found = []
    for name, value in pairs:
        targets = ([value[1:]] if name in ("href", XLINK_HREF) and value.startswith("#")
                   else REFERENCE.findall(value))
        times = _vertices(element) if name in ("marker", "marker-mid") else 1
        found += [(ids[target], times) for target in targets if target in ids]
    return found


def _vertices(element) -> int:
    """At least as many vertices as a path, line, polyline or polygon has."""
    return len(NUMBER.findall(f"{element.get('d', '')} {element.get('points', '')}")) // 2 + 2


def _families(name: str, value: str) -> list[str]:
    """The families a font-family (or font) value names, split as WeasyPrint splits them."""
    if name == "font":  # WeasyPrint reads 'font' as a size, then the families
        value = (value.split(maxsplit=1) + [""])[1]
    return [family.strip().strip("\"'") for family in value.split(",") if family.strip()]


def _check_fonts(svg: _Svg, fonts: Fonts) -> None:
    """Refuse SVG text in a family the project does not declare, or with a character its
    fonts lack (the machine's fonts would draw either)."""
    if not fonts.families:
        raise ImageRefused("expected the project's fonts for its text, found no @font-face "
                           "in styles/")
    known = {family.casefold() for family in fonts.families} | GENERIC_FAMILIES
    for family in svg.families:
        if family.casefold() not in known and family != "inherit":
            raise ImageRefused(f"expected its text in a font family the project declares "
                               f"({', '.join(fonts.families)}) or a generic one such as "
                               f"sans-serif, found the font family {family!r}")
    for char in svg.characters:
        if not char.isspace() and ord(char) not in fonts.characters:
            raise ImageRefused(f"expected text the project's fonts can draw, found {char} "
                               f"(U+{ord(char):04X} {unicodedata.name(char, 'with no Unicode name')})")


@functools.lru_cache(maxsize=32)
def _with_project_font(body: bytes, family: str) -> bytes:
    """The SVG with every generic family mapped to ``family``, which its root also sets for
    text that names none (WeasyPrint's default would be the machine's sans-serif)."""
    root = ElementTree.fromstring(body)  # already checked by _parse
    root.attrib.setdefault("font-family", family)
    for element in root.iter():
        for name in FONT_PROPERTIES:
            if name in element.attrib:
                element.set(name, _mapped_font(name, element.get(name), family))
        if "style" in element.attrib:
            element.set("style", _mapped_declarations(element.get("style"), family))
        if element.tag == f"{SVG}style" and element.text:
            element.text = _mapped_stylesheet(element.text, family)
    return ElementTree.tostring(root, encoding="utf-8")


def _mapped_font(name: str, value: str, family: str) -> str:
    """A font-family (or font) value with each generic family replaced by ``family``."""
    size = ""
    if name == "font":
        size, value = (value.split(maxsplit=1) + [""])[:2]
    if value.strip() == "inherit":
        return f"{size} inherit".strip()
    families = [family if item.casefold() in GENERIC_FAMILIES else item
                for item in _families("font-family", value)]
    return f"{size} " * bool(size) + ", ".join(f"'{item}'" for item in families)


def _mapped_declarations(css: str, family: str) -> str:
    return "; ".join(
        f"{item.name}: {_mapped_font(item.lower_name, tinycss2.serialize(item.value).strip(), family)}"
        f"{' !important' * item.important}" if item.lower_name in FONT_PROPERTIES
        else item.serialize() for item in _parsed(css))


def _mapped_stylesheet(css: str, family: str) -> str:
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    return "\n".join(
        f"{tinycss2.serialize(rule.prelude).strip()} "
        f"{{{_mapped_declarations(tinycss2.serialize(rule.content), family)}}}"
        if rule.type == "qualified-rule" else rule.serialize()
        for rule in rules if rule.type != "error")


def _name(tag) -> str:
    """An element's name without its namespace ('' for a comment)."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _href(element) -> str:
    return element.get("href") or element.get(XLINK_HREF) or ""


def _is_svg_url(url: str) -> bool:
    path = url.split("#", 1)[0].split("?", 1)[0].lower()
    return path.endswith((".svg", ".svgz")) or path.startswith("data:image/svg")


def _describe(element) -> str:
    identifier = element.get("id")
    return f"<{_name(element.tag)}{f' id={identifier!r}' if identifier else ''}>"
