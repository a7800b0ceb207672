"""The Markdown authors write, made to print as designed parts of a sheet.

Python-Markdown does most of it (``tables``, ``admonition``...) and pymdown-extensions'
``tasklist`` reads ``- [ ]`` items. This module adds the small things no well-kept
extension does the way a sheet needs:

- **CommonMark indentation.** Python-Markdown nests a list item only under 4 spaces, while
  authors indent as GitHub and CommonMark do (2 spaces under ``-``, 3 under ``1.``): their
  sub-items would silently join the parent line. A preprocessor rewrites the indentation of
  list items, and of what goes on under them, to Python-Markdown's 4 spaces per level.
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
"""
from __future__ import annotations

import html
import re
import xml.etree.ElementTree as etree

from markdown import util
from markdown.extensions import Extension
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

from .tables import CellLabels

#: A list item's start: indentation, marker, the spaces after it.
_ITEM = re.compile(r"^( *)([-*+]|\d{1,9}[.)])( {1,4}|$)")
#: A call-out's first line (admonition): what follows it is indented 4 spaces.
_CALL_OUT = re.compile(r"^( *)(!!!|\?\?\?\+?) ")
#: Schemes of links that print, are never fetched, and show their address on paper.
ADDRESS_SCHEMES = ("http", "https", "mailto", "tel")


class CommonMarkIndent(Preprocessor):
    """Rewrite CommonMark list indentation (a sub-item under the parent's text) to 4 spaces."""

    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        stack: list[tuple[int, int]] = []  # (source column, output column) of each open block
        after_text = False  # the line before held text (a line with less indent goes on lazily)
        for line in lines:
            if not line.strip():
                out.append(line)
                after_text = False
                continue
            indent = len(line) - len(line.lstrip(" "))
            item, call_out = _ITEM.match(line), _CALL_OUT.match(line)
            if after_text and not item and not call_out and stack and indent < stack[-1][0]:
                out.append(line)  # a lazy continuation of the paragraph above
                continue
            while stack and indent < stack[-1][0]:
                stack.pop()
            source, target = stack[-1] if stack else (0, 0)
            new_indent = target + (indent - source)
            out.append(" " * new_indent + line[indent:])
            if item:
                stack.append((indent + len(item[2]) + max(len(item[3]), 1), new_indent + 4))
            elif call_out:
                stack.append((indent + 4, new_indent + 4))
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


class SheetMarkdown(Extension):
    """The additions above, in one extension for MARKDOWN_EXTENSIONS."""

    def extendMarkdown(self, md) -> None:  # noqa: N802 (Python-Markdown's name)
        md.preprocessors.register(CommonMarkIndent(md), "commonmark_indent", 27)
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
    if phone:
        return re.sub(r"\D", "", text) == re.sub(r"\D", "", address)

    def bare(value: str) -> str:
        return re.sub(r"^(https?:)?//|^mailto:|/$", "", value.strip().lower())
    return bare(text) == bare(address)
