"""The Markdown authors write, made to print as designed parts of a sheet.

Python-Markdown does most of it (``tables``, ``admonition``...) and pymdown-extensions'
``tasklist`` reads ``- [ ]`` items. This module adds the small things no well-kept
extension does the way a sheet needs:

- **CommonMark indentation.** Python-Markdown nests a list item only under 4 spaces, while
  authors indent as GitHub and CommonMark do (2 spaces under ``-``, 3 under ``1.``), and many
  indent sub-steps 2 spaces under ``1.`` too: their sub-items would silently join the parent
  line. A preprocessor rewrites the indentation of list items, and of what goes on under them,
  to Python-Markdown's 4 spaces per level; a sub-item nests from 2 spaces under either marker.
  (``mdx_truly_sane_lists`` takes one fixed indent, so it cannot follow both markers.)
- **Heading levels.** The sheet's title is its only ``h1``: body headings shift so that the
  top body level is ``h2``, and a level never skips (``#`` then ``###`` gives h2, h3).
- **Printed addresses.** On paper a link cannot be clicked: a web, mail or phone link whose
  text is not already its address gets ``class="shows-address"`` and the address to print
  after it in ``data-address`` (styles/print.css prints it).
- **Tick boxes.** pymdownx.tasklist writes ``<input type="checkbox">``, which WeasyPrint
  would turn into a form field; it becomes an empty ``span.tick-box`` (drawn by the styles),
  and a ticked item's ``li`` gets the class ``done``.
- **Figures.** An image on a line of its own becomes a ``figure``, its title the caption.
- **No footnote backlinks**: see NoBacklinks.
- **Cell labels**: each table cell carries its column's header (see handouts/tables.py).
- **Icons.** ``:icon[water]{alt="Water from a tap"}`` places an icon of ``assets/icons/``
  with the words a screen reader says for it: a tagged Figure with its alt text. The alt is
  required (a picture that carries meaning must say it); handouts/icons.py checks the name
  and draws it in the brand's colour.

And it keeps content from restyling the page or printing its own syntax. Each finding is a
Mistake, collected while converting (the converter knows no line numbers: the render gate
finds the line and refuses the sheet):

- **Author classes only.** attr_list would let ``{: .draft-mark }`` lay a paragraph over the
  masthead and the contact box on every page. Here it sets only AUTHOR_CLASSES, on a paragraph
  of the running text; any other class, an id or any other attribute is a mistake.
- **Known call-outs only.** An admonition's words become its classes, so only the types the
  styles design (CALL_OUTS) may be used, and a call-out must hold something.
- **Numbered footnotes.** A footnote's ids are its number, never its label.
- **No syntax left as text.** Markdown that did not convert (a list without a blank line
  above it, a table without its ``|---|`` line, ``**`` without its pair...) would print as
  dashes, bars and stars; PrintedSyntax finds it in the text, outside code. A character
  escaped with a backslash (``\\*``) is the author's own and passes.
"""
from __future__ import annotations

import html
import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from typing import NamedTuple

from markdown import util
from markdown.extensions import Extension
from markdown.extensions.admonition import AdmonitionExtension, AdmonitionProcessor
from markdown.extensions.attr_list import AttrListExtension, AttrListTreeprocessor, get_attrs_and_remainder
from markdown.extensions.footnotes import FootnoteExtension
from markdown.inlinepatterns import InlineProcessor
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

from .errors import unknown_name
from .tables import CellLabels

#: The classes an author may give a paragraph (``{: .warning }`` on the line after it). Each
#: has a designed look in styles/print.css and styles/editions/large-print.css.
AUTHOR_CLASSES = ("lead", "warning")
#: The call-out types the styles design: ``!!! checklist "Title"``, ``!!! note "Title"``.
CALL_OUTS = ("checklist", "note")

#: A list item's start: indentation, marker, the spaces after it.
_ITEM = re.compile(r"^( *)([-*+]|\d{1,9}[.)])( {1,4}|$)")
#: A call-out's first line (admonition): what follows it is indented 4 spaces.
_CALL_OUT = re.compile(r"^( *)(!!!|\?\?\?\+?) ")
#: Schemes of links that print, are never fetched, and show their address on paper.
ADDRESS_SCHEMES = ("http", "https", "mailto", "tel")


class _Open(NamedTuple):
    """A list item or call-out that later lines may belong to."""

    source: int  # the column its text starts at, as written
    target: int  # the same column in Python-Markdown's 4 spaces per level
    nests: int  # a list item this far in or further goes inside it


class CommonMarkIndent(Preprocessor):
    """Rewrite CommonMark list indentation (a sub-item under the parent's text) to 4 spaces.

    A sub-item nests from 2 spaces under its parent's marker, under ``1.`` as under ``-``:
    many editors indent so, and a sub-item that did not nest would join its parent's line."""

    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        stack: list[_Open] = []
        after_text = False  # the line before held text (a line with less indent goes on lazily)
        for line in lines:
            if not line.strip():
                out.append(line)
                after_text = False
                continue
            indent = len(line) - len(line.lstrip(" "))
            item, call_out = _ITEM.match(line), _CALL_OUT.match(line)
            if after_text and not item and not call_out and stack and indent < stack[-1].source:
                out.append(line)  # a lazy continuation of the paragraph above
                continue
            while stack and indent < (stack[-1].nests if item else stack[-1].source):
                stack.pop()
            source, target = stack[-1][:2] if stack else (0, 0)
            new_indent = target + max(0, indent - source)
            out.append(" " * new_indent + line[indent:])
            if item:
                text_column = indent + len(item[2]) + max(len(item[3]), 1)
                stack.append(_Open(text_column, new_indent + 4, min(indent + 2, text_column)))
            elif call_out:
                stack.append(_Open(indent + 4, new_indent + 4, indent + 4))
            after_text = True
        return out


class HeadingLevels(Treeprocessor):
    """The top body heading becomes h2 (the title is the only h1); no level is skipped."""

    def run(self, root: etree.Element) -> None:
        headings = [element for element in root.iter() if re.fullmatch(r"h[1-6]", element.tag)]
        if not headings:
            return
        top, previous = min(int(h.tag[1]) for h in headings), 1
        for heading in headings:
            level = min(int(heading.tag[1]) - top + 2, previous + 1, 6)
            heading.tag, previous = f"h{level}", level


class PrintedAddresses(Treeprocessor):
    """Mark links whose address must be printed after their text."""

    def run(self, root: etree.Element) -> None:
        for link in root.iter("a"):
            href = _unstash(link.get("href", ""))
            scheme, _, rest = href.partition(":")
            if scheme.lower() not in ADDRESS_SCHEMES:
                continue
            shown = href if scheme.lower() in ("http", "https") else rest
            text = _unstash("".join(link.itertext()))
            if _same_address(text, shown, phone=scheme.lower() == "tel"):
                continue
            link.set("class", " ".join(filter(None, [link.get("class"), "shows-address"])))
            link.set("data-address", shown)


class TickBoxes(Treeprocessor):
    """pymdownx.tasklist's check boxes become drawn tick boxes, not form fields. (It stores its
    ``<input>`` as raw HTML behind a placeholder; the stored HTML is emptied and a span takes
    the placeholder's place, so that the raw-HTML check sees only the author's own HTML.)"""

    def run(self, root: etree.Element) -> None:
        for item in root.iter("li"):
            if "task-list-item" not in (item.get("class") or "").split():
                continue
            holder = item if item.text else next(iter(item), item)  # the li, or its first <p>
            match = re.match(util.HTML_PLACEHOLDER_RE, holder.text or "")
            if not match:
                continue
            stashed = self.md.htmlStash.rawHtmlBlocks[int(match[1])]
            self.md.htmlStash.rawHtmlBlocks[int(match[1])] = ""
            if " checked" in str(stashed):
                item.set("class", item.get("class") + " done")
            tick = etree.Element("span", {"class": "tick-box"})
            tick.tail, holder.text = holder.text[match.end():].lstrip(), None
            holder.insert(0, tick)


class NoBacklinks(Postprocessor):
    """A footnote's link back to its mark means nothing on paper, and its arrow (U+21A9) is not
    in the sheet's font: it is left out."""

    def run(self, text: str) -> str:
        return re.sub(r'(&#160;)?<a class="footnote-backref"[^>]*>[^<]*</a>', "", text)


#: ``:icon[name]{alt="words"}``; the braces may be missing (an error: an icon needs its alt).
ICON = re.compile(r':icon\[([^\]\n]*)\](?:\{\s*alt\s*=\s*"([^"\n]*)"\s*\})?')


class Icons(InlineProcessor):
    """``:icon[name]{alt="..."}`` -> ``<img class="icon">`` of assets/icons/; without alt text
    (or with empty alt text) it is a mistake at its line."""

    def handleMatch(self, match: re.Match, data: str):  # noqa: N802 (Python-Markdown's name)
        name, alt = match[1].strip(), (match[2] or "").strip()
        if not alt:
            mistakes(self.md).append(Mistake(
                f"the icon {name!r} has no alt text; expected the words a screen reader says for it, "
                f"as in :icon[{name}]{{alt=\"Water from a tap\"}}", (f":icon[{match[1]}]",)))
        icon = etree.Element("img", {"class": "icon", "src": f"assets/icons/{name}.svg", "alt": alt})
        return icon, match.start(0), match.end(0)


def without_icons(text: str) -> str:
    """Text as a reader reads it: the words, without the icons' syntax."""
    return re.sub(r"\s+", " ", ICON.sub("", text)).strip()


class Figures(Treeprocessor):
    """An image on a paragraph of its own is a figure; its title, if it has one, the caption:
    ``![A nurse takes a blood pressure](assets/bp.png "Sit still while it is measured")``."""

    def run(self, root: etree.Element) -> None:
        for paragraph in root.iter("p"):
            kids = list(paragraph)
            if len(kids) != 1 or kids[0].tag != "img" or (paragraph.text or "").strip() \
                    or (kids[0].tail or "").strip():
                continue
            image = kids[0]
            paragraph.tag, paragraph.text, image.tail = "figure", None, None
            if caption := image.attrib.pop("title", "").strip():
                etree.SubElement(paragraph, "figcaption").text = caption


@dataclass(frozen=True)
class Mistake:
    """Markdown that would not print as its author meant. ``near`` holds text of the line it
    was written on, most telling first: the render gate looks the line up by it."""

    message: str
    near: tuple[str, ...]


def mistakes(md) -> list[Mistake]:
    """What the conversions of this converter found wrong, in the order found."""
    if not hasattr(md, "sheet_mistakes"):
        md.sheet_mistakes = []
    return md.sheet_mistakes


class AuthorClasses(AttrListExtension):
    """attr_list, narrowed to AUTHOR_CLASSES on a paragraph of the running text."""

    def extendMarkdown(self, md) -> None:  # noqa: N802 (Python-Markdown's name)
        md.registerExtension(self)
        md.treeprocessors.register(_AuthorClassesOnly(md), "attr_list", 8)


class _AuthorClassesOnly(AttrListTreeprocessor):
    """Sets an author class where one may go; reports (and sets nothing for) the rest."""

    def run(self, doc: etree.Element) -> None:
        self.running_text = {child for child in doc if child.tag == "p"}
        super().run(doc)

    def assign_attrs(self, elem: etree.Element, attrs_string: str, *, strict: bool = False) -> str:
        attrs, remainder = get_attrs_and_remainder(attrs_string)
        if strict and remainder:
            return remainder  # not an attribute list after all: attr_list leaves the text alone
        for name, value in attrs:
            if name == "." and value in AUTHOR_CLASSES and elem in self.running_text:
                elem.set("class", " ".join(filter(None, [elem.get("class"), value])))
                continue
            if name == "." and value in AUTHOR_CLASSES:
                found = f"expected {{: .{value} }} on the line after a paragraph of the running " \
                        f"text, found it on {_element_name(elem)}"
            elif name == ".":
                found = f"expected the class {' or '.join('.' + c for c in AUTHOR_CLASSES)}, found .{value}"
            elif name == "id":
                found = f"expected no id in content, found #{value}"
            else:
                found = f"expected no {name} attribute in content"
            allowed = " or ".join(f"{{: .{c} }}" for c in AUTHOR_CLASSES)
            mistakes(self.md).append(Mistake(
                f"{found}; a paragraph may take {allowed} on the line after it, and content may "
                f"set no other class, id or attribute (the look of a sheet belongs to styles/)",
                (attrs_string + "}", f".{value}" if name == "." else name)))
        return remainder


def _element_name(elem: etree.Element) -> str:
    names = {"p": "a paragraph inside a list, quote or call-out", "li": "a list item",
             "td": "a table cell", "th": "a table cell", "dt": "a definition", "a": "a link",
             "img": "an image", "strong": "bold words", "em": "slanted words"}
    return "a heading" if re.fullmatch(r"h[1-6]", elem.tag) else names.get(elem.tag, f"<{elem.tag}>")


class CallOuts(AdmonitionExtension):
    """admonition, narrowed to the types of CALL_OUTS: its words become the box's classes."""

    def extendMarkdown(self, md) -> None:  # noqa: N802 (Python-Markdown's name)
        md.registerExtension(self)
        md.parser.blockprocessors.register(_KnownCallOuts(md.parser), "admonition", 105)


class _KnownCallOuts(AdmonitionProcessor):
    """Reports a call-out of another type, and gives its box no class of the author's words."""

    def get_class_and_title(self, match: re.Match) -> tuple[str, str | None]:
        kind, title = super().get_class_and_title(match)
        if kind in CALL_OUTS:
            return kind, title
        mistakes(self.parser.md).append(Mistake(
            f"{unknown_name('call-out type', kind, CALL_OUTS)}; a call-out starts with one of them, "
            f"as in !!! {CALL_OUTS[-1]} \"Title\"", (match[0].strip(),)))
        return "", title  # none of the author's words becomes a class


class NumberedFootnotes(FootnoteExtension):
    """footnotes, with ids made of each note's number (``fn:1``), never of its label."""

    def makeFootnoteId(self, id: str) -> str:  # noqa: N802, A002 (Python-Markdown's names)
        return super().makeFootnoteId(self._number(id))

    def makeFootnoteRefId(self, id: str, found: bool = False) -> str:  # noqa: N802, A002
        return super().makeFootnoteRefId(self._number(id), found)

    def _number(self, label: str) -> str:
        return str(list(self.footnotes).index(label) + 1)


#: Markdown syntax that can only be in the text because it did not convert: (its pattern, whose
#: ``syntax`` group is what would print; what the author probably meant; how to write that).
LEFT_AS_TEXT = [
    (re.compile(r"\n[ \t]*(?P<syntax>(?:[-*+]|\d{1,3}[.)])[ \t][^\n]*)"), "a list",
     "leave a blank line above a list, and indent a sub-item at least 2 spaces under its parent"),
    (re.compile(r"(?P<syntax>\|)"), "a table",
     "a table is a row of | Headings |, a line such as |---|---| under it, then its rows, with a "
     "blank line above (write \\| for a bar)"),
    (re.compile(r"(?P<syntax>\[[ xX]\])"), "a tick box", "a tick box starts a list item, as in - [ ] Pack a bag"),
    (re.compile(r"(?P<syntax>\*\*|(?<!_)__(?!_))"), "bold words",
     "put ** right against both ends of the words, as in **never** (write \\* for a star)"),
    (re.compile(r"(?P<syntax>\[\^[^\]\s]*\])"), "a footnote",
     "add its note on a line of its own at the end, as in {syntax}: The note."),
    (re.compile(r"(?P<syntax>\]\s?\()"), "a link",
     "a link is [words](address), with nothing between ] and ( and a ) at the end of the address"),
    (re.compile(r"(?P<syntax>\]\[)"), "a link", "write the address in the link, as in [words](https://example.org/)"),
    (re.compile(r"(?P<syntax>\{:)"), "a class for the paragraph above",
     "write {{: .warning }} on the line right after the paragraph, with no blank line between"),
    (re.compile(r"(?:^|\n)[ \t]*(?P<syntax>!!!|\?\?\?)"), "a call-out",
     "a call-out starts with a line such as !!! note \"Title\", its lines indented 4 spaces under it"),
]


class PrintedSyntax(Treeprocessor):
    """Find Markdown left as text, outside code, and call-outs left empty. Runs before the
    backslash escapes are put back, so that ``\\*\\*`` (the author's own stars) passes."""

    def run(self, root: etree.Element) -> None:
        for text in _text_outside_code(root):
            for pattern, meant, advice in LEFT_AS_TEXT:
                if found := pattern.search(text):
                    syntax = found["syntax"].strip()[:40]
                    line = text[found.start("syntax"):].split("\n", 1)[0].strip()[:40]
                    mistakes(self.md).append(Mistake(
                        f"expected {meant}, found {syntax!r} printed as text; {advice.format(syntax=syntax)}",
                        (line, syntax)))
        for box in root.iter("div"):
            kind = (box.get("class") or "").split()
            if kind[:1] == ["admonition"] and all(part.get("class") == "admonition-title" for part in box):
                first_line = f"!!! {' '.join(kind[1:])}"
                title = "".join(box.itertext()).strip()
                mistakes(self.md).append(Mistake(
                    f"expected the lines of the call-out {title or first_line!r} under it, indented "
                    f"4 spaces, found an empty call-out", (f'{first_line} "{title}"', first_line)))


def _text_outside_code(element: etree.Element, in_code: bool = False):
    if element.text and not in_code:
        yield element.text
    for child in element:
        yield from _text_outside_code(child, in_code or child.tag in ("code", "pre"))
        if child.tail and not in_code:
            yield child.tail


class SheetMarkdown(Extension):
    """The additions above, in one extension for MARKDOWN_EXTENSIONS."""

    def extendMarkdown(self, md) -> None:  # noqa: N802 (Python-Markdown's name)
        md.preprocessors.register(CommonMarkIndent(md), "commonmark_indent", 27)
        # The space after an icon is left out: the icon's margin sets it apart, and a space would
        # push the first line of a list item past the lines under it.
        md.inlinePatterns.register(Icons(ICON.pattern + "[ \t]*", md), "icons", 175)  # before links and emphasis
        md.treeprocessors.register(PrintedSyntax(md), "printed_syntax", 7)  # after attr_list
        md.treeprocessors.register(HeadingLevels(md), "heading_levels", 5)
        md.treeprocessors.register(PrintedAddresses(md), "printed_addresses", 4)
        md.treeprocessors.register(TickBoxes(md), "tick_boxes", 3)
        md.treeprocessors.register(Figures(md), "figures", 2)
        md.treeprocessors.register(CellLabels(md), "cell_labels", 1)
        md.postprocessors.register(NoBacklinks(md), "no_backlinks", 5)


def _unstash(text: str) -> str:
    """Text as written: Python-Markdown hides the entities of an obfuscated e-mail address."""
    return html.unescape(text.replace(util.AMP_SUBSTITUTE, "&"))


def _same_address(text: str, address: str, phone: bool) -> bool:
    if phone:  # "(480) 555-0199" is tel:+14805550199: the address only adds the country code
        shown, dialled = re.sub(r"\D", "", text), re.sub(r"\D", "", address)
        return len(shown) >= 7 and dialled.endswith(shown) and len(dialled) - len(shown) <= 3

    def bare(value: str) -> str:
        return re.sub(r"^(https?:)?//|^mailto:|/$", "", value.strip().lower())
    return bare(text) == bare(address)
