"""The bilingual edition's body: a sheet and its translation, section by section.

Each section (the text under one ``#`` heading of the Markdown, and the opening text before
the first) prints in the original language, then at once in the translation, each passage
tagged with its own ``lang`` so that a screen reader speaks it in that language and the
tagged PDF gives it its own ``/Lang``. A translation must keep its original's sections.
"""
from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

from markupsafe import Markup

from .content import Handout
from .errors import ContentError

#: A section starts at a top-level heading of this level (``#`` in the Markdown prints as h2).
SECTION_HEADING = "h2"
#: A footnote's anchor or a link to one, as Python-Markdown's footnotes write them.
FOOTNOTE_ID = re.compile(r'(\b(?:id|href)=")(#?)(fn(?:ref)?:)')
#: Elements without an end tag: they never open a level.
VOID = {"br", "wbr", "hr", "img", "input", "meta", "link", "col", "area", "source"}


def paired_body(original: Handout, original_html: str, translation: Handout,
                translation_html: str) -> Markup:
    """Both bodies, interleaved section by section."""
    ours, theirs = sections(original_html), sections(translation_html)
    if len(ours) != len(theirs):
        raise ContentError(translation.path, f"the bilingual edition prints each section beside its "
                                             f"original: expected {_count(ours)}, as in "
                                             f"{original.path.parent.name}/{original.path.name}, "
                                             f"found {_count(theirs)}", translation.body_line)
    theirs = [_own_footnote_ids(translation.lang, html) for html in theirs]
    pairs = [f'<section class="pair">\n{_passage(original.lang, mine)}\n'
             f'{_passage(translation.lang, yours)}\n</section>' for mine, yours in zip(ours, theirs)]
    return Markup("\n".join(pairs))


def sections(html: str) -> list[str]:
    """``html`` cut before each top-level section heading; the opening text (if any) first."""
    finder = _SectionStarts()
    finder.feed(html)
    finder.close()
    cuts = [0, *finder.starts, len(html)]
    return [html[start:end] for start, end in zip(cuts, cuts[1:]) if html[start:end].strip()]


def _own_footnote_ids(lang: str, html: str) -> str:
    """The translation's footnotes and their marks, renamed: both languages number theirs
    from 1, and one page cannot hold two anchors of one name."""
    return FOOTNOTE_ID.sub(lambda match: f"{match[1]}{match[2]}{lang}-{match[3]}", html)


def _passage(lang: str, html: str) -> str:
    return f'<div class="passage passage-{escape(lang)}" lang="{escape(lang)}">\n{html}\n</div>'


def _count(found: list[str]) -> str:
    return f"{len(found)} section{'s' * (len(found) != 1)} (text under each # heading, and before the first)"


class _SectionStarts(HTMLParser):
    """The offsets in the HTML of every section heading that no other element holds."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.starts: list[int] = []
        self._line_offsets: list[int] = []
        self._html = ""

    def feed(self, data: str) -> None:
        self._html += data
        self._line_offsets = [0, *(i + 1 for i, char in enumerate(self._html) if char == "\n")]
        super().feed(data)

    def handle_starttag(self, tag, attrs):
        if tag == SECTION_HEADING and self.depth == 0:
            line, column = self.getpos()
            self.starts.append(self._line_offsets[line - 1] + column)
        if tag not in VOID:
            self.depth += 1

    def handle_startendtag(self, tag, attrs):
        pass  # <br/>: opens nothing

    def handle_endtag(self, tag):
        if tag not in VOID:
            self.depth = max(0, self.depth - 1)
