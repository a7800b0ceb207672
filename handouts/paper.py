"""The paper check: what the patient holds is what was written.

A PDF's text layer proves that text is present, not that anyone can see it: text can sit under
another block, off the page, at opacity 0, at 1 px, clipped to nothing, or in the colour of its
box. So after WeasyPrint lays a sheet out and writes it, this module looks at the sheet the way
a patient does, in three parts:

- **The clinic's numbers.** On page 1, each of the sentences the template strings define ("Call
  us at (480) 555-0142.", "In an emergency, call 911.", "...call or text 988.") is found in the
  text PDFium reads back, with the number a whole token. The number's glyphs are then measured
  where PDFium says they are drawn: inside the printable area (18 pt from every edge), at no
  less than the edition's size for them, with no other text drawn over them, and, on a
  rendering of just that spot at 216 dpi, as ink with at least 4.5:1 contrast against the
  pixels around it (so a cover, a fade, white on white or the box's own tint all fail).
- **Every word of the content.** The text WeasyPrint laid out for each element of the content
  (and each personal field) must be the element's own text, word for word: a rule that hides
  it, a table column that did not fit, or a value cut short shows as missing words.
- **Every line of text is seen.** Each laid-out line of text lies inside the printable area, is
  clipped by nothing, sits under no transform, is at least the edition's smallest size, is not
  drawn over other text, and shows ink on a 72 dpi rendering of its page, window by window.

Each fault names the element and the style property that caused it, so that the render gate can
blame the stylesheet line that sets it (``stylesheets.Cascade``) or the content line.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, replace

import pypdfium2
from weasyprint.formatting_structure import boxes

from .contrast import contrast_ratio

#: CSS px (WeasyPrint's unit) to PDF points.
PT = 0.75
#: Printers cannot print the outer quarter inch of a sheet.
PRINTABLE_INSET = 18.0
#: What the clinic's numbers need against what is under them (WCAG AA for text).
NUMBER_CONTRAST = 4.5
#: The numbers are rendered at this scale (216 dpi) to measure their ink.
NUMBER_SCALE = 3
#: A window of a line shows ink when its lightest and darkest pixels differ by this much
#: (of 255) at 72 dpi; text on the sheets measures 128 or more, a cover 0.
INK_RANGE = 48
#: Lines are checked for ink in windows this many ems wide: a window always holds a letter.
WINDOW_EMS = 3
#: Two lines of text overlap when their cores share more than this many square points.
OVERLAP = 1.0


@dataclass(frozen=True)
class Line:
    """A sentence that must be seen on page 1, and the number in it."""

    name: str  # "the emergency line"
    sentence: str  # as the template strings write it, the number filled in
    number: str


@dataclass(frozen=True)
class Expected:
    """What a sheet must show: its mandatory lines and the sizes of the edition."""

    lines: tuple[Line, ...]
    paper_size: tuple[float, float]  # width, height in points
    min_text: float  # the smallest text the edition allows, in points
    min_number: float  # the smallest the clinic's numbers may be, in points


@dataclass(frozen=True)
class Fault:
    """Something a patient would not see as written. ``element`` and ``properties`` point at
    the cause; ``content`` is true when the text comes from the sheet's Markdown."""

    message: str
    element: object = None
    properties: tuple[str, ...] = ()
    pseudo: str | None = None
    content: bool = False
    text: str = ""  # the words concerned, to find their line in the content


@dataclass(frozen=True)
class _Ancestry:
    """What a box's ancestors do to the text inside it (None: nothing)."""

    clip: tuple[float, float, float, float] | None = None  # what their overflow leaves visible
    clipper: object = None  # the element whose overflow clips
    hidden: object = None  # the element whose visibility hides it
    transformed: object = None  # the element whose transform moves it
    faded: object = None  # the nearest element with an opacity below 1
    positioned: int = 0  # 2: absolute or fixed (drawn out of the flow), 1: relative or floated
    shifted: bool = False  # raised or lowered inline (sup, sub): meant to reach into its neighbours
    content: bool = False  # the sheet's own words (see _is_content)


@dataclass(frozen=True)
class _Run:
    """One laid-out run of text: a line, or the part of a line in one element."""

    text: str
    element: object
    pseudo: str | None
    page: int
    rect: tuple[float, float, float, float]  # x0, y0, x1, y1 in points from the top left
    font_size: float  # in points
    ancestry: _Ancestry

    @property
    def content(self) -> bool:
        return self.ancestry.content and self.pseudo is None


def inspect(document, data: bytes, expected: Expected) -> list[Fault]:
    """Every fault of a printed sheet: ``document`` is WeasyPrint's layout, ``data`` its PDF."""
    faults = _page_sizes(document, expected)
    if faults:
        return faults  # nothing else can be measured on the wrong paper
    runs = list(_runs(document))
    faults += _missing_words(document, runs)
    pdf = pypdfium2.PdfDocument(data)
    try:
        pages = _Renders(pdf)
        faults += _unseen_runs(runs, expected, pages)
        faults += _overlaps(runs)
        faults += _inkless_runs(document, runs, pages)
        faults += _mandatory_lines(pdf, pages.page(0), document, expected)
    finally:
        pdf.close()
    return faults


class _Renders:
    """Each page loaded once and rendered once, at 72 dpi in grey, when first needed (PDFium
    parses a page anew each time it is asked for one)."""

    def __init__(self, pdf):
        self.pdf = pdf
        self.pages: dict[int, object] = {}
        self.images: dict[int, object] = {}

    def page(self, number: int):
        if number not in self.pages:
            self.pages[number] = self.pdf[number]
        return self.pages[number]

    def __getitem__(self, number: int):
        if number not in self.images:
            self.images[number] = self.page(number).render(scale=1, grayscale=True).to_pil()  # mode L
        return self.images[number]


def last_page_fill(document) -> float:
    """How full the last page is: the part of its text area above its last line of text."""
    page = document.pages[-1]._page_box
    top, height = page.content_box_y() * PT, page.height * PT
    bottoms = [run.rect[3] for run in _walk(page, len(document.pages) - 1, _Ancestry())
               if run.element is not None]  # margin boxes (header, footer) have no element
    return max(0.0, (max(bottoms, default=top) - top) / height) if height else 1.0


# --- the paper itself --------------------------------------------------------------------------

def _page_sizes(document, expected: Expected) -> list[Fault]:
    width, height = expected.paper_size
    for number, page in enumerate(document.pages, start=1):
        if abs(page.width * PT - width) > 1 or abs(page.height * PT - height) > 1:
            return [Fault(f"page {number} is {page.width * PT / 72:.2f} x {page.height * PT / 72:.2f} "
                          f"in; expected the paper being built, {width / 72:.2f} x "
                          f"{height / 72:.2f} in (an @page size rule must not set another)",
                          properties=("@page size",))]
    return []


# --- the laid-out text -------------------------------------------------------------------------

def _runs(document):
    """Every run of visible characters on every page, with what its ancestors do to it."""
    for number, page in enumerate(document.pages):
        page_box = page._page_box  # WeasyPrint keeps the laid-out boxes here
        yield from _walk(page_box, number, _Ancestry())


def _walk(box, page: int, ancestry: _Ancestry):
    element, style = getattr(box, "element", None), box.style
    changes = {}
    if element is not None and not _is_pseudo(box):
        content = (ancestry.content or _is_content(element)) and "side-column" not in _classes(element)
        if content != ancestry.content:  # a new ancestry only where something changes
            changes["content"] = content
    if style["transform"] and ancestry.transformed is None:
        changes["transformed"] = element
    if style["visibility"] != "visible" and ancestry.hidden is None:
        changes["hidden"] = element
    if style["opacity"] < 1:
        changes["faded"] = element
    if style["position"] in ("absolute", "fixed"):
        changes["positioned"] = 2
    elif (style["position"] != "static" or style["float"] != "none") and not ancestry.positioned:
        changes["positioned"] = 1
    if isinstance(box, boxes.InlineBox) and style["vertical_align"] != "baseline":
        changes["shifted"] = True
    if isinstance(box, boxes.TextBox):
        if box.text.strip():
            yield _Run(box.text, element, _pseudo(box), page, _rect(box), style["font_size"] * PT,
                       replace(ancestry, **changes))
        return
    if style["overflow"] != "visible" and isinstance(box, boxes.BlockContainerBox) \
            and not isinstance(box, boxes.PageBox):
        inner = _padding_rect(box)
        changes["clip"] = inner if ancestry.clip is None else _intersection(ancestry.clip, inner)
        changes["clipper"] = element
    ancestry = replace(ancestry, **changes) if changes else ancestry
    for child in getattr(box, "children", ()):
        yield from _walk(child, page, ancestry)


def _is_pseudo(box) -> bool:
    return "::" in str(getattr(box, "element_tag", "") or "")


def _pseudo(box) -> str | None:
    tag = str(getattr(box, "element_tag", "") or "")
    return tag.split("::", 1)[1] if "::" in tag else None


def _is_content(element) -> bool:
    """The sheet's own words: its title, its Markdown and the personal fields typed in (the
    template's boxes and labels are the designer's, and some are hidden on purpose)."""
    return element.tag in ("main", "h1") or "value" in _classes(element)


def _rect(box) -> tuple[float, float, float, float]:
    x, y = box.position_x * PT, box.position_y * PT
    return x, y, x + box.width * PT, y + box.height * PT


def _padding_rect(box) -> tuple[float, float, float, float]:
    x, y = box.padding_box_x() * PT, box.padding_box_y() * PT
    return x, y, x + box.padding_width() * PT, y + box.padding_height() * PT


def _intersection(first, second):
    x0, y0 = max(first[0], second[0]), max(first[1], second[1])
    return x0, y0, max(x0, min(first[2], second[2])), max(y0, min(first[3], second[3]))


def _area(rect) -> float:
    return max(0.0, rect[2] - rect[0]) * max(0.0, rect[3] - rect[1])


def _missing_words(document, runs: list[_Run]) -> list[Fault]:
    """The content elements whose laid-out text is not their own text, word for word."""
    laid_out: dict[int, list[str]] = {}
    for run in runs:
        if run.pseudo is None and run.element is not None:
            laid_out.setdefault(id(run.element), []).append(run.text)
    faults = []
    for element in _content_elements(document):
        own = _squeezed(_own_text(element))
        if not own:
            continue
        drawn = _squeezed("".join(laid_out.get(id(element), ())))
        # A table's header row is laid out again on every page it reaches.
        if drawn == own or (drawn and len(drawn) % len(own) == 0 and drawn == own * (len(drawn) // len(own))):
            continue
        lost = _lost_words(_own_text(element), drawn)
        faults.append(Fault(f"the words \"{_excerpt(lost)}\" are not on the paper (a rule hides "
                            f"them, or they did not fit)", element,
                            ("display", "width", "height", "max-height", "overflow", "content"),
                            content=True, text=lost))
    return faults


def _content_elements(document):
    """The elements whose words are the sheet's content (see ``_is_content``)."""
    if not document.pages:
        return
    root = document.pages[0]._page_box.children[0].element
    pending = [(root, False)]
    while pending:
        element, content = pending.pop()
        if not isinstance(element.tag, str) or "side-column" in _classes(element):
            continue
        content = content or _is_content(element)
        if content:
            yield element
        pending.extend((child, content) for child in reversed(element))


def _classes(element) -> list[str]:
    return (element.get("class") or "").split()


def _own_text(element) -> str:
    """The element's own text: its text and the tails of its children."""
    return (element.text or "") + "".join(child.tail or "" for child in element)


def _squeezed(text: str) -> str:
    """Letters and digits only, case folded: hyphens at line ends, spaces and case aside."""
    return "".join(char for char in unicodedata.normalize("NFKC", text).casefold() if char.isalnum())


def _lost_words(text: str, drawn: str) -> str:
    """The words of ``text`` not found in the squeezed ``drawn`` text, in order."""
    lost = [word for word in text.split() if _squeezed(word) and _squeezed(word) not in drawn]
    return " ".join(lost) or text.strip()


def _unseen_runs(runs: list[_Run], expected: Expected, pages: _Renders) -> list[Fault]:
    width, height = expected.paper_size
    printable = (PRINTABLE_INSET, PRINTABLE_INSET, width - PRINTABLE_INSET, height - PRINTABLE_INSET)
    faults = []
    for run in runs:
        words = run.text.strip()
        if run.ancestry.hidden is not None:
            faults.append(_fault(run, f"\"{_excerpt(words)}\" is hidden (visibility)", run.ancestry.hidden,
                                 ("visibility",)))
        elif run.ancestry.transformed is not None:
            faults.append(_fault(run, f"\"{_excerpt(words)}\" is under a transform, which moves "
                                      f"or shrinks it on paper; leave transforms to drawings",
                                 run.ancestry.transformed, ("transform",)))
        elif _area(_intersection(run.rect, printable)) < _area(run.rect) * 0.99 \
                and _ink_outside(pages[run.page], run.rect, printable):
            faults.append(_fault(run, f"\"{_excerpt(words)}\" on page {run.page + 1} is drawn "
                                      f"{_where_out(run.rect, width, height)}", run.element,
                                 ("position", "left", "right", "top", "bottom", "margin-left",
                                  "margin-right", "margin-top", "width", "text-indent", "float",
                                  "@page margin")))
        elif run.ancestry.clip is not None and _area(_intersection(run.rect, run.ancestry.clip)) < _area(run.rect) * 0.99:
            faults.append(_fault(run, f"\"{_excerpt(words)}\" on page {run.page + 1} is clipped "
                                      f"by a box too small for it (overflow)", run.ancestry.clipper,
                                 ("overflow", "height", "max-height", "width", "max-width")))
        elif run.font_size < expected.min_text - 0.01:
            faults.append(_fault(run, f"\"{_excerpt(words)}\" is printed at {run.font_size:.1f} pt; "
                                      f"expected at least {expected.min_text:g} pt in this edition",
                                 run.element, ("font-size", "font")))
    return faults


def _ink_outside(image, rect, printable) -> bool:
    """Whether a run that reaches past the printable area really puts ink there: its box holds
    the font's whole height, and capitals start lower than that."""
    x0, y0, x1, y1 = (round(value) for value in rect)
    inside = tuple(round(value) for value in printable)
    if x0 < 0 or y0 < 0 or x1 > image.width or y1 > image.height:
        return True  # off the paper itself
    for band in ((x0, y0, x1, min(y1, inside[1])), (x0, max(y0, inside[3]), x1, y1),
                 (x0, y0, min(x1, inside[0]), y1), (max(x0, inside[2]), y0, x1, y1)):
        if band[2] > band[0] and band[3] > band[1]:
            low, high = image.crop(band).getextrema()
            if high - low >= INK_RANGE:
                return True
    return False


def _where_out(rect, width: float, height: float) -> str:
    if rect[2] <= 0 or rect[0] >= width or rect[3] <= 0 or rect[1] >= height:
        return "off the paper"
    return f"too close to the edge of the paper, where printers cannot print (keep {PRINTABLE_INSET:g} pt clear)"


def _fault(run: _Run, message: str, element, properties) -> Fault:
    pseudo = run.pseudo if element is run.element else None
    return Fault(message, element, properties, pseudo, run.content, run.text.strip())


def _overlaps(runs: list[_Run]) -> list[Fault]:
    """Text drawn over other text: a positioned block over a paragraph, marks stacked too high.
    Lines are compared by their cores (the middle of each box: a box holds the font's whole
    height, and close lines, a subscript, touch at their edges without any ink meeting)."""
    by_page: dict[int, list[tuple[tuple, _Run]]] = {}
    for run in runs:
        if not run.ancestry.shifted:
            by_page.setdefault(run.page, []).append((_core(run.rect), run))
    for page_runs in by_page.values():
        page_runs.sort(key=lambda pair: pair[0][1])
        for index, (core, run) in enumerate(page_runs):
            for other_core, other in page_runs[index + 1:]:
                if other_core[1] >= core[3]:
                    break
                if _area(_intersection(core, other_core)) > OVERLAP:
                    top, under = (other, run) if other.ancestry.positioned > run.ancestry.positioned else (run, other)
                    return [_fault(top, f"\"{_excerpt(top.text.strip())}\" is drawn over "
                                        f"\"{_excerpt(under.text.strip())}\" on page {run.page + 1}",
                                   top.element, ("position", "top", "bottom", "left", "right",
                                                 "margin-top", "margin-bottom", "line-height",
                                                 "float"))]
    return []


def _core(rect):
    x0, y0, x1, y1 = rect
    inset = (y1 - y0) * 0.3
    return x0, y0 + inset, x1, y1 - inset


def _inkless_runs(document, runs: list[_Run], pages: _Renders) -> list[Fault]:
    """Runs that show no ink where they are laid out: covered, faded, or the colour of the paper."""
    faults = []
    for run in runs:
        if run.ancestry.hidden is not None or run.ancestry.transformed is not None:
            continue  # already a fault of its own
        image = pages[run.page]
        x0, y0, x1, y1 = run.rect
        window = max(WINDOW_EMS * run.font_size, 1.0)
        starts = [x0 + window * step for step in range(max(1, int((x1 - x0) // window)))]
        starts[-1] = max(x0, x1 - window)  # the last window ends with the run
        for start in starts:
            box = (int(start), int(y0), max(int(start) + 1, round(min(start + window, x1))),
                   max(int(y0) + 1, round(y1)))
            low, high = image.crop(box).getextrema()
            if high - low < INK_RANGE:
                faults.append(_inkless(document, run))
                break
    return faults


def _inkless(document, run: _Run) -> Fault:
    """Why a run shows no ink: a box drawn over it, an opacity, or its colour."""
    where = f"\"{_excerpt(run.text.strip())}\" on page {run.page + 1} cannot be seen"
    if cover := _cover_over(document.pages[run.page]._page_box, run.rect):
        return Fault(f"{where}: a box is drawn over it", cover.element,
                     ("position", "background", "background-color", "top", "left", "inset",
                      "z-index"), _pseudo(cover), run.content, run.text.strip())
    if run.ancestry.faded is not None:
        return Fault(f"{where}: it is faded out (opacity)", run.ancestry.faded, ("opacity",),
                     content=run.content, text=run.text.strip())
    return _fault(run, f"{where}: it is the colour of what is under it", run.element,
                  ("color", "background", "background-color"))


def _cover_over(box, rect):
    """The last positioned box with a background that overlaps ``rect``, if any."""
    found = None
    background = box.style["background_color"]
    if box.style["position"] != "static" and (background.alpha > 0 or box.background is not None) \
            and not isinstance(box, boxes.PageBox) \
            and _area(_intersection(rect, _border_rect(box))) > 0:
        found = box
    for child in getattr(box, "children", ()):
        found = _cover_over(child, rect) or found
    return found


def _border_rect(box) -> tuple[float, float, float, float]:
    x, y = box.border_box_x() * PT, box.border_box_y() * PT
    return x, y, x + box.border_width() * PT, y + box.border_height() * PT


# --- the clinic's numbers ----------------------------------------------------------------------

def _mandatory_lines(pdf, page, document, expected: Expected) -> list[Fault]:
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        squeezed, positions = _squeeze_with_positions(text)
        faults = []
        for line in expected.lines:
            problems = [_number_problem(page, textpage, text, positions, start, line, expected)
                        for start in _occurrences(squeezed, line)]
            if None in problems:
                continue  # one occurrence a patient can see and read is enough
            element = _element_holding(document, line.sentence)
            if not problems:
                later = _later_page(pdf, line)
                where = (f"it is on page {later}, not page 1: something above it takes the room"
                         if later else "it is not on the sheet")
                faults.append(Fault(f"page 1 must show {line.name}, \"{line.sentence}\"; {where}",
                                    element, () if later else ("display",), text=line.number))
            else:
                message, properties = problems[0]
                faults.append(Fault(f"{line.name} {line.number} on page 1 {message}", element,
                                    properties, text=line.number))
        return faults
    finally:
        textpage.close()


def _squeeze_with_positions(text: str) -> tuple[str, list[int]]:
    """The text without white space, and where each of its characters is in ``text``."""
    kept = [(char, index) for index, char in enumerate(text) if not char.isspace()]
    return "".join(char for char, _ in kept), [index for _, index in kept]


def _occurrences(squeezed: str, line: Line):
    """Where, in the squeezed page text, the number of each occurrence of the sentence starts."""
    sentence = re.sub(r"\s+", "", line.sentence)
    number = re.sub(r"\s+", "", line.number)
    offset = sentence.find(number)
    for match in re.finditer(re.escape(sentence), squeezed):
        yield match.start() + offset
    if line.sentence == line.number and " " in line.number:
        # A number alone (a right-to-left sheet's, see pipeline.mandatory_lines): in a
        # right-to-left line PDFium reads "(480) 555-0142" as drawn groups, last group first.
        for match in re.finditer(re.escape("".join(reversed(line.number.split()))), squeezed):
            yield match.start()


def _number_problem(page, textpage, text: str, positions: list[int], start: int, line: Line,
                    expected: Expected):
    """None when the number at ``start`` (squeezed) is a whole token a patient can read; else
    (what is wrong, the style properties that may cause it)."""
    length = len(re.sub(r"\s+", "", line.number))
    indexes = positions[start:start + length]
    before, after = text[indexes[0] - 1:indexes[0]], text[indexes[-1] + 1:indexes[-1] + 2]
    if before.isdigit() or after.isdigit():
        return "runs into other digits", ("content",)
    boxes_ = [textpage.get_charbox(index) for index in indexes if not text[index].isspace()]
    left, bottom = min(b[0] for b in boxes_), min(b[1] for b in boxes_)
    right, top = max(b[2] for b in boxes_), max(b[3] for b in boxes_)
    width, height = page.get_size()
    if min(left, bottom, width - right, height - top) < PRINTABLE_INSET:
        return (f"is {'off the paper' if right < 0 or left > width or top < 0 or bottom > height else 'too close to the edge of the paper'} "
                f"(keep {PRINTABLE_INSET:g} pt clear)", ("position", "left", "top", "margin-left",
                                                         "margin-top", "text-indent"))
    size = min(_effective_size(textpage, index) for index in indexes if not text[index].isspace())
    if size < expected.min_number - 0.01:
        return (f"is printed at {size:.1f} pt; expected at least {expected.min_number:g} pt",
                ("font-size", "font", "transform"))
    intruders = _squeezed(textpage.get_text_bounded(left + 0.5, bottom + 0.5, right - 0.5, top - 0.5))
    if sorted(intruders) != sorted(_squeezed(line.number)):  # in either reading order
        return f"has other text drawn over it (\"{intruders[:30]}\")", ("position", "top", "margin-top")
    ratio = _ink_contrast(page, boxes_, (left, bottom, right, top))
    if ratio < NUMBER_CONTRAST:
        return (f"has a contrast of {ratio:.1f}:1 with what is under it; expected at least "
                f"{NUMBER_CONTRAST:g}:1 (is it covered, faded or too pale?)",
                ("color", "opacity", "background", "background-color", "position", "z-index"))
    return None


def _effective_size(textpage, index: int) -> float:
    """The size a character is drawn at, in points: its font size through its text matrix."""
    import pypdfium2.raw as pdfium_c

    matrix = pdfium_c.FS_MATRIX()
    pdfium_c.FPDFText_GetMatrix(textpage.raw, index, matrix)
    scale = abs(matrix.a * matrix.d - matrix.b * matrix.c) ** 0.5
    return pdfium_c.FPDFText_GetFontSize(textpage.raw, index) * scale


def _ink_contrast(page, glyphs, bounds) -> float:
    """The contrast between the number's ink and the paper around it, rendered at 216 dpi:
    the background is the commonest colour of a frame around the glyphs, the ink the most
    distinct tenth of the pixels inside the glyphs' boxes."""
    left, bottom, right, top = bounds
    margin = max(2.0, (top - bottom) * 0.4)
    width, height = page.get_size()
    crop = (max(0.0, left - margin), max(0.0, bottom - margin),
            max(0.0, width - right - margin), max(0.0, height - top - margin))
    image = page.render(scale=NUMBER_SCALE, crop=crop).to_pil().convert("RGB")
    frame: dict[tuple, int] = {}
    for strip in (image.crop((0, 0, image.width, 2)), image.crop((0, image.height - 2, image.width, image.height)),
                  image.crop((0, 0, 2, image.height)), image.crop((image.width - 2, 0, image.width, image.height))):
        _count_colours(strip, frame)
    ink: dict[tuple, int] = {}
    for glyph in glyphs:
        box = (int((glyph[0] - crop[0]) * NUMBER_SCALE), int((height - crop[3] - glyph[3]) * NUMBER_SCALE),
               int((glyph[2] - crop[0]) * NUMBER_SCALE) + 1, int((height - crop[3] - glyph[1]) * NUMBER_SCALE) + 1)
        _count_colours(image.crop(box), ink)
    if not frame or not ink:
        return 1.0
    background = max(frame, key=frame.get)
    ratios = sorted((_contrast(colour, background), count) for colour, count in ink.items())
    wanted, seen = sum(ink.values()) * 0.9, 0
    for ratio, count in ratios:
        seen += count
        if seen >= wanted:
            return ratio
    return ratios[-1][0]


def _count_colours(image, counts: dict) -> None:
    for count, colour in image.getcolors(image.width * image.height) or ():
        counts[colour] = counts.get(colour, 0) + count


@functools.lru_cache(maxsize=4096)
def _contrast(colour: tuple, background: tuple) -> float:
    """The contrast of two 8-bit colours: the same few hundred shades of the text's edges
    come back on every sheet, so each pair is worked out once per worker."""
    return contrast_ratio(_unit(colour), _unit(background))


def _unit(colour) -> tuple[float, float, float]:
    return tuple(channel / 255 for channel in colour[:3])


def _element_holding(document, sentence: str):
    """The innermost element of the document whose text holds ``sentence``, shown or not."""
    wanted = _squeezed(sentence)
    found = None
    for element in document.pages[0]._page_box.children[0].element.iter():
        if isinstance(element.tag, str) and wanted in _squeezed("".join(element.itertext())):
            found = element  # iter() goes down: the last match is the innermost
    return found


def _later_page(pdf, line: Line) -> int | None:
    sentence = re.sub(r"\s+", "", line.sentence)
    for number in range(1, len(pdf)):
        textpage = pdf[number].get_textpage()
        try:
            if sentence in re.sub(r"\s+", "", textpage.get_text_range()):
                return number + 1
        finally:
            textpage.close()
    return None


def _excerpt(text: str, limit: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
