"""The typography that follows from a sheet's language: its direction, and no-break spaces that
keep a number with its unit and with the short word before it.

Direction comes from the language's locale data (Babel's CLDR): ``ar``, ``fa``, ``he``, ``ur``
and every other right-to-left language get ``dir="rtl"`` and the right-to-left stylesheet layer.
Line breaking and hyphenation need no rule here: WeasyPrint breaks lines by Unicode's rules for
the script (between Chinese characters, at spaces elsewhere) and hyphenates with Pyphen's
dictionary for the ``lang`` of the page where Pyphen has one (not for Vietnamese, Chinese or
Arabic, whose words it leaves whole).

"24 / hours" or "al menos / 24 horas" split over two lines is hard to read, most of all in
large print, where few words fit on a line. Two rules, the same in every language, applied
to the text of the rendered Markdown and to the page's own strings (never to tags or
attribute values):

- a number and the word after it stay together: "24 hours", "24 horas", "100 mg";
- a short word (up to ``SHORT_WORD`` letters) and the number after it stay together:
  "least 24", "menos 24", "call 911", "al 911", "Page 3".
"""
from __future__ import annotations

import functools
import re

from babel import Locale
from markupsafe import Markup, escape

NBSP = "\u00a0"
#: Words this short are tied to the number that follows them.
SHORT_WORD = 6

_NUMBER = r"(?<![\w#&.,])\d+(?:[.,:]\d+)*%?"  # 24, 1.5, 3:30, 1,000, 50%; not inside &#8220;
_NUMBER_THEN_WORD = re.compile(rf"({_NUMBER})[ \t]+(?=[^\W\d_])")
_SHORT_WORD_THEN_NUMBER = re.compile(rf"(?<![\w\-])([^\W\d_]{{1,{SHORT_WORD}}})[ \t]+(?={_NUMBER})")
_TAG = re.compile(r"(<[^>]*>)")


@functools.cache
def direction(lang: str) -> str:
    """``rtl`` for a language written right to left, else ``ltr`` (the code is checked when
    handouts.toml is loaded, so Babel knows it)."""
    return Locale.parse(lang, sep="-").text_direction


def left_to_right(number: str) -> Markup:
    """A phone number kept whole and in its order in a sentence of any direction: isolated as
    left to right (in Arabic, "(480) 555-0142" would otherwise print as "555-0142 (480)"), its
    spaces no-break spaces so that it never wraps."""
    return Markup('<bdi dir="ltr">{}</bdi>').format(escape(str(number)).replace(" ", NBSP))


def tie_numbers(text: str) -> str:
    """Plain text with its numbers tied to their units and to the short word before them."""
    text = _NUMBER_THEN_WORD.sub(rf"\1{NBSP}", text)
    return _SHORT_WORD_THEN_NUMBER.sub(rf"\1{NBSP}", text)


def tie_html(html: str) -> Markup:
    """The same for HTML: only the text between tags changes."""
    parts = _TAG.split(str(html))
    return Markup("".join(part if part.startswith("<") else tie_numbers(part) for part in parts))


def tie_strings(strings):
    """Every string of a language's template strings (nested lists and tables included)."""
    if isinstance(strings, str):
        return tie_numbers(strings)
    if isinstance(strings, dict):
        return {key: tie_strings(value) for key, value in strings.items()}
    if isinstance(strings, list):
        return [tie_strings(value) for value in strings]
    return strings
