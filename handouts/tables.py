"""Tables that fit their column: each body cell learns the name of its column.

A table too wide for its column is printed as one block per row (see the end of
``styles/print.css``), with each value after its column's name: the header row is then only a
band of names above the blocks, far from most values. So every body cell carries its header's
words in ``data-label``, as plain text (the stylesheet prints it with ``attr()``), and the
sheet's own text stays as written.
"""
from __future__ import annotations

import html
import re
import xml.etree.ElementTree as etree

from markdown import util
from markdown.treeprocessors import Treeprocessor


class CellLabels(Treeprocessor):
    """``<td data-label="Dose">`` for every body cell whose column has a header."""

    def run(self, root: etree.Element) -> None:
        for table in root.iter("table"):
            labels = [self.plain_text(cell) for cell in table.iter("th")]
            for row in table.iter("tr"):
                for label, cell in zip(labels, row.findall("td")):
                    if label:
                        cell.set("data-label", label)

    def plain_text(self, element: etree.Element) -> str:
        """The words of a cell as printed: stashed HTML (``<sub>``, smart quotes) put back,
        tags left out, entities decoded."""
        stash = self.md.htmlStash.rawHtmlBlocks
        text = re.sub(util.HTML_PLACEHOLDER_RE, lambda match: str(stash[int(match[1])]),
                      "".join(element.itertext()))
        text = re.sub(r"<[^>]*>", "", text).replace(util.AMP_SUBSTITUTE, "&")
        return " ".join(html.unescape(text).split())
