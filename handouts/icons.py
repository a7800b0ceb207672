"""Icons and the logo, drawn in the brand's colour.

A sheet places an icon of ``assets/icons/`` with ``:icon[water]{alt="Water from a tap"}``
(handouts/markdown_extensions.py writes it as an ``<img class="icon">``). The SVG files draw
with ``currentColor``, but a picture in an ``<img>`` (or a CSS background) does not inherit
the page's colour. So each one goes into the page as a ``data:`` URL whose ``<svg>`` carries
the colour of the ``--icon`` token, read from the sheet's own stylesheets in cascade order
(tokens.css, then the edition's layer): a designer's change to the tokens reaches every icon
and the logo, and no colour is written twice.
"""
from __future__ import annotations

import base64
import functools
import re
from pathlib import Path

import tinycss2

from .errors import ContentError, unknown_name

ICON_DIR = "assets/icons"
#: The token icons and the logo are drawn in (tokens.css sets it from --brand).
COLOUR_TOKEN = "--icon"
#: An icon's address as the Markdown writes it: its name is the file's.
PLACED = re.compile(r'\bsrc="assets/icons/([^"/]*)\.svg"')
_VAR = re.compile(r"var\(\s*(--[\w-]+)\s*\)")


def names(root: Path) -> list[str]:
    """The icons a sheet may use: the SVG files of assets/icons/."""
    return sorted(path.stem for path in (root / ICON_DIR).glob("*.svg"))


def token_colour(root: Path, stylesheets: tuple[str, ...], token: str = COLOUR_TOKEN) -> str:
    """The value of a custom property as the cascade leaves it on :root, var() resolved."""
    values: dict[str, str] = {}
    for sheet in stylesheets:
        values.update(_root_properties((root / sheet).read_text(encoding="utf-8")))
    value, seen = values.get(token, "currentColor"), set()
    while (found := _VAR.fullmatch(value)) and found[1] not in seen:
        seen.add(found[1])
        value = values.get(found[1], "currentColor")
    return value


@functools.lru_cache(maxsize=64)
def _root_properties(css: str) -> dict[str, str]:
    """The custom properties a stylesheet sets on :root, in its order. Kept by the stylesheet's
    text: every sheet a build prints parses the same few stylesheets."""
    values = {}
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type == "qualified-rule" and tinycss2.serialize(rule.prelude).strip() == ":root":
            for item in tinycss2.parse_blocks_contents(rule.content, skip_whitespace=True, skip_comments=True):
                if item.type == "declaration" and item.name.startswith("--"):
                    values[item.name] = tinycss2.serialize(item.value).strip()
    return values


def coloured(svg: str, colour: str) -> str:
    """An SVG as a data: URL, its root given the colour its ``currentColor`` paints with."""
    painted = re.sub(r"<svg\b", f'<svg color="{colour}"', svg, count=1)
    return "data:image/svg+xml;base64," + base64.b64encode(painted.encode("utf-8")).decode("ascii")


def check_names(html: str, root: Path, source: Path, line_of) -> None:
    """An icon the project does not have is an error at its line, naming the ones it has."""
    known = names(root)
    for name in PLACED.findall(html):
        if name not in known:
            raise ContentError(source, unknown_name("icon", name, known), line_of(f":icon[{name}]"))


def colour_icons(html: str, root: Path, colour: str, source: Path, line_of) -> str:
    """Every placed icon as a coloured data: URL; an unknown name is an error at its line."""
    check_names(html, root, source, line_of)

    def replace(found: re.Match) -> str:
        name = found[1]
        svg = (root / ICON_DIR / f"{name}.svg").read_text(encoding="utf-8")
        return f'src="{coloured(svg, colour)}"'
    return PLACED.sub(replace, html)


def coloured_logo(root: Path, logo: str, colour: str) -> str:
    """The logo to print: an SVG drawn with currentColor takes the brand colour; others as they are."""
    if not logo.endswith(".svg"):
        return logo
    svg = (root / logo).read_text(encoding="utf-8")
    return coloured(svg, colour) if "currentColor" in svg else logo
