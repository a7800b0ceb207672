"""How hard a handout is to read: Flesch-Kincaid grade for English, Fernandez-Huerta ease for
Spanish, and the hardest sentence with its line, so the writer knows where to start.

textstat 0.7.3 is pinned on purpose: it counts syllables with Pyphen's hyphenation
dictionaries, which ship with it, so scoring works offline. Newer releases download the CMU
dictionary through nltk on first use and fail without a network.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import markdown
from textstat.textstat import textstatistics

from .content import Handout


@dataclass(frozen=True)
class Measure:
    name: str  # as the report shows it
    key: str  # as --json shows it
    method: str  # textstat's method
    pyphen_language: str  # whose syllable rules count the syllables
    higher_is_easier: bool


MEASURES = {
    "en": Measure("Flesch-Kincaid grade", "flesch-kincaid-grade", "flesch_kincaid_grade", "en_US",
                  higher_is_easier=False),
    "es": Measure("Fernandez-Huerta ease", "fernandez-huerta-ease", "fernandez_huerta", "es",
                  higher_is_easier=True),
}
#: A sentence this short says too little to be scored on its own.
MIN_SENTENCE_WORDS = 5


@dataclass(frozen=True)
class Reading:
    measure: Measure
    score: float
    hardest_sentence: str
    hardest_score: float
    hardest_line: int | None


def reading_level(handout: Handout) -> Reading | None:
    """The handout's score and its hardest sentence; None for a language we cannot measure."""
    measure = MEASURES.get(handout.lang)
    if measure is None:
        return None
    score = _scorer(measure)
    text = plain_text(handout.body)
    sentences = [s for s in split_sentences(text) if len(s.split()) >= MIN_SENTENCE_WORDS] or [text]
    scored = [(score(sentence), sentence) for sentence in sentences]
    hardest_score, hardest = (min if measure.higher_is_easier else max)(scored)
    return Reading(measure, score(text), hardest, hardest_score, _line_of_sentence(handout, hardest))


def plain_text(body: str) -> str:
    """The words a patient reads, one sentence-ending mark per paragraph, item and heading."""
    collector = _TextCollector()
    collector.feed(markdown.markdown(body, extensions=["admonition", "attr_list", "sane_lists"]))
    return " ".join(collector.blocks)


def split_sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]


def _scorer(measure: Measure):
    statistics = textstatistics()  # our own instance: set_lang() on the shared one is global
    statistics.set_lang(measure.pyphen_language)
    return getattr(statistics, measure.method)


def _line_of_sentence(handout: Handout, sentence: str) -> int | None:
    """The line where the sentence starts, matching its first words through any Markdown marks."""
    words = re.findall(r"\w+", sentence)[:4]
    if not words:
        return None
    pattern = re.compile(r"\W+".join(map(re.escape, words)))
    for offset, line in enumerate(handout.body.split("\n")):
        if pattern.search(line):
            return handout.body_line + offset
    return None


class _TextCollector(HTMLParser):
    """Text of each block element; a block without closing punctuation gets a full stop, so a
    heading or list item counts as a sentence of its own."""

    BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th"}

    def __init__(self):
        super().__init__()
        self.blocks: list[str] = []
        self._words: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self._flush()

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self._flush()

    def handle_data(self, data):
        self._words.append(data)

    def _flush(self):
        text = " ".join("".join(self._words).split())
        self._words = []
        if text:
            self.blocks.append(text if text[-1] in ".?!:" else text + ".")
