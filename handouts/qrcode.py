"""The QR code on page 1 that opens the sheet online, drawn by segno as an SVG path.

The code is vector art (a data: URL of an SVG, no raster), so it prints sharp at any size.
Its size is set in millimetres, not in modules: a longer address makes more, smaller modules,
while the code itself stays SYMBOL_MM across, which phone cameras read from a hand's length.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import segno

#: The code's width without its quiet zone: at least 2 cm, as print guidance for QR codes asks.
SYMBOL_MM = 21
#: White modules around the code, as the QR standard asks, so a camera finds its edges.
QUIET_ZONE = 4


@dataclass(frozen=True)
class SheetLink:
    """A sheet's web address, as the QR code holds it and as the page prints it."""

    url: str
    address: str  # printed beside the code: the address without https://
    image: str  # the code, as a data: URL of an SVG


def sheet_link(pattern: str, lang: str, slug: str) -> SheetLink | None:
    """The link for one sheet from ``[clinic] sheet_url``; None when the clinic gives none."""
    if not pattern:
        return None
    url = pattern.format(lang=lang, slug=slug)
    return SheetLink(url=url, address=re.sub(r"^https?://", "", url), image=qr_image(url))


def qr_image(url: str) -> str:
    """A QR code of ``url`` as an SVG data: URL, SYMBOL_MM wide plus its quiet zone."""
    code = segno.make(url, error="m", micro=False)
    modules = code.symbol_size(scale=1, border=0)[0]
    return code.svg_data_uri(scale=SYMBOL_MM / modules, border=QUIET_ZONE, unit="mm")
