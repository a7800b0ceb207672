"""Text contrast, measured on the laid-out page: every run of text against what lies under it.

Reading colours off the finished layout, rather than off a list of token pairs, checks what a
patient actually sees: a designer who sets ``color: var(--muted)`` on a tinted box is measured
on that tint. Each colour is named by the theme token that defines it, with that token's line,
so a failure points at the line to change.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from weasyprint.formatting_structure import boxes

RGB = tuple[float, float, float]
PAPER: RGB = (1.0, 1.0, 1.0)
#: A theme token (``--ink: #1c2329``), or a colour written straight into a rule (``color: #333``).
TOKEN = re.compile(r"(--[\w-]+)\s*:\s*(#[0-9a-fA-F]{3,8}|white|black)\b")
LITERAL = re.compile(r"(?<![\w-])([a-z-]*color|background|border[a-z-]*)\s*:[^;]*?(#[0-9a-fA-F]{3,8})\b")


@dataclass(frozen=True)
class Pair:
    """A text colour on a background colour, as found on a page."""

    text: RGB
    background: RGB
    sample: str  # some of the text drawn in it, to find it on the sheet

    @property
    def ratio(self) -> float:
        return contrast_ratio(self.text, self.background)


@dataclass(frozen=True)
class Token:
    name: str
    path: Path
    line: int


def colour_pairs(document) -> list[Pair]:
    """Every distinct (text colour, background colour) drawn in a laid-out WeasyPrint document."""
    found: dict[tuple[RGB, RGB], Pair] = {}
    for page in document.pages:
        page_box = page._page_box  # WeasyPrint keeps the laid-out boxes here
        background = _over(_rgba(page_box.style["background_color"]), PAPER)
        _collect(page_box, background, found)
    return sorted(found.values(), key=lambda pair: pair.ratio)


def contrast_ratio(first: RGB, second: RGB) -> float:
    """WCAG 2 contrast ratio, from 1 (none) to 21 (black on white)."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def theme_tokens(root: Path, stylesheets: tuple[str, ...]) -> dict[RGB, Token]:
    """Colour -> where the stylesheets define it: the first custom property with that value,
    in cascade order, or else the first rule that writes it out."""
    tokens: dict[RGB, Token] = {}
    literals: dict[RGB, Token] = {}
    for relative in stylesheets:
        path = root / relative
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for name, value in TOKEN.findall(line):
                tokens.setdefault(parse_colour(value), Token(name, path, number))
            for name, value in LITERAL.findall(line):
                literals.setdefault(parse_colour(value), Token(name, path, number))
    return {**literals, **tokens}


def parse_colour(value: str) -> RGB:
    value = {"white": "#ffffff", "black": "#000000"}.get(value.lower(), value).lstrip("#")
    if len(value) in (3, 4):
        value = "".join(char * 2 for char in value)
    return tuple(int(value[i:i + 2], 16) / 255 for i in (0, 2, 4))


def hex_colour(colour: RGB) -> str:
    return "#" + "".join(f"{round(channel * 255):02x}" for channel in colour)


def _collect(box, background: RGB, found: dict) -> None:
    colour = _rgba(box.style["background_color"])
    if colour[3] > 0:
        background = _over(colour, background)
    if isinstance(box, boxes.TextBox) and box.text.strip():
        text = _over(_rgba(box.style["color"]), background)
        key = (_rounded(text), _rounded(background))
        if key not in found:
            found[key] = Pair(key[0], key[1], box.text.strip()[:40])
    for child in getattr(box, "children", ()):
        _collect(child, background, found)


def _rgba(colour) -> tuple[float, float, float, float]:
    red, green, blue = colour.to("srgb").coordinates
    return red, green, blue, colour.alpha


def _over(colour: tuple[float, float, float, float], background: RGB) -> RGB:
    """A translucent colour as it looks over the background."""
    alpha = colour[3]
    return tuple(alpha * c + (1 - alpha) * b for c, b in zip(colour[:3], background))


def _rounded(colour: RGB) -> RGB:
    return tuple(round(channel * 255) / 255 for channel in colour)


def _luminance(colour: RGB) -> float:
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in colour]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
