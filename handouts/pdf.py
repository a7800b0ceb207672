"""HTML -> PDF bytes with WeasyPrint: URL sandbox, captured warnings, tagged PDF/UA-1,
deterministic output.

Printing happens in memory and writes nothing. The PDF's dates come from the handout's
``updated`` date (through dcterms meta elements in the HTML) and its identifier from a hash
of everything that went into it, so the same inputs give the same bytes on every machine.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import logging
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont
import tinycss2
import weasyprint
from weasyprint.urls import URLFetcher, URLFetcherResponse

from . import sandbox, tagging

#: Tagged for screen readers: structure tree, /Lang, headings, lists, the title as window title.
PDF_VARIANT = "pdf/ua-1"


@dataclass(frozen=True)
class PrintedPdf:
    data: bytes
    pages: int
    warnings: tuple[str, ...]  # what WeasyPrint complained about, one message each
    violations: tuple[str, ...]  # URLs the sandbox refused
    system_fonts: tuple[str, ...]  # families drawn from the machine, not from @font-face
    missing_characters: str  # characters of the page that no project font has
    machine_notes: tuple[str, ...] = ()  # warnings about this machine, not the handout


class SandboxedFetcher(URLFetcher):
    """Serves project files from the sandbox and refuses every other URL.

    WeasyPrint turns a refusal into a warning and goes on, so refusals are also kept here
    for the caller to fail the build on. A subclass, not a function: WeasyPrint 70 crashes
    when a plain fetcher function raises.
    """

    def __init__(self, root: Path):
        super().__init__(allowed_protocols=("file", "data"))
        self.root = root
        self.fetched: list[tuple[str, str]] = []  # (url, sha256) in fetch order
        self.stylesheets: list[bytes] = []
        self.fonts: list[bytes] = []
        self.violations: list[str] = []

    def fetch(self, url, headers=None):
        try:
            path = sandbox.resolve(self.root, url)
        except sandbox.SandboxViolation as violation:
            self.violations.append(str(violation))
            raise
        if path is None:  # a data: URL, decoded by urllib
            return super().fetch(url, headers)
        body = path.read_bytes()
        self.fetched.append((url, hashlib.sha256(body).hexdigest()))
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if content_type == "text/css":
            self.stylesheets.append(body)
        elif path.suffix.lower() in (".ttf", ".otf"):
            self.fonts.append(body)
        return URLFetcherResponse(url, body, {"Content-Type": content_type})


def lay_out(root: Path, html: str, fetcher: SandboxedFetcher | None = None) -> weasyprint.Document:
    """Pages and boxes of ``html`` (addressed from the sandbox's base URL), without a PDF."""
    return weasyprint.HTML(string=html, base_url=sandbox.BASE_URL,
                           url_fetcher=fetcher or SandboxedFetcher(root)).render()


def print_pdf(root: Path, html: str) -> PrintedPdf:
    """Lay out ``html`` and return the PDF."""
    fetcher = SandboxedFetcher(root)
    with captured_warnings() as (warnings, machine_notes):
        document = lay_out(root, html, fetcher)
        data = document.write_pdf(pdf_variant=PDF_VARIANT,
                                  pdf_identifier=_identifier(html, fetcher.fetched))
    data = tagging.mark_page_furniture_as_artifacts(data)
    system_fonts = {font.family for font in document.fonts.values()}
    system_fonts -= _font_face_families(fetcher.stylesheets)
    return PrintedPdf(data=data, pages=len(document.pages), warnings=tuple(warnings),
                      violations=tuple(fetcher.violations), system_fonts=tuple(sorted(system_fonts)),
                      missing_characters=_missing_characters(html, fetcher.fonts),
                      machine_notes=tuple(sorted(set(machine_notes))))


def _identifier(html: str, fetched: list[tuple[str, str]]) -> bytes:
    """A PDF /ID that changes exactly when the HTML or a file it uses changes."""
    fingerprint = hashlib.sha256(html.encode("utf-8"))
    for url, digest in fetched:
        fingerprint.update(f"\n{url} {digest}".encode())
    return fingerprint.hexdigest()[:32].encode()


def _font_face_families(stylesheets: list[bytes]) -> set[str]:
    """The families the project's stylesheets declare with @font-face."""
    families = set()
    for css in stylesheets:
        rules, _ = tinycss2.parse_stylesheet_bytes(css, skip_comments=True, skip_whitespace=True)
        for rule in rules:
            if rule.type == "at-rule" and rule.lower_at_keyword == "font-face":
                for declaration in tinycss2.parse_blocks_contents(
                        rule.content, skip_comments=True, skip_whitespace=True):
                    if declaration.type == "declaration" and declaration.lower_name == "font-family":
                        families.add(tinycss2.serialize(declaration.value).strip().strip("\"'"))
    return families


def _missing_characters(html: str, fonts: list[bytes]) -> str:
    """The characters of the page that none of the project's font files can draw."""
    covered = set().union(*(_characters_of(body) for body in fonts))
    text = re.sub(r"<[^>]*>", "", html)
    return "".join(sorted({char for char in text if not char.isspace() and ord(char) not in covered}))


@functools.lru_cache(maxsize=32)
def _characters_of(font: bytes) -> frozenset[int]:
    """The code points a font file can draw (fontTools comes with WeasyPrint)."""
    return frozenset(TTFont(io.BytesIO(font)).getBestCmap())


#: Warnings about this machine rather than the handout: they never fail a build, and each
#: becomes one note saying what to do.
MACHINE_NOTES = {
    "Using fontTools instead of HarfBuzz-Subset": (
        "libharfbuzz-subset0 is not installed, so fonts are subset about 3x slower and the PDFs' "
        "bytes differ from those of a machine that has it; install it with "
        "'sudo apt-get install libharfbuzz-subset0' (make does this when run as root)"),
}


class _ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.warnings: list[str] = []
        self.machine_notes: list[str] = []

    def emit(self, record):
        message = record.getMessage()
        notes = [note for prefix, note in MACHINE_NOTES.items() if message.startswith(prefix)]
        (self.machine_notes if notes else self.warnings).extend(notes or [message])


@contextlib.contextmanager
def captured_warnings():
    """WeasyPrint only logs a missing image or bad CSS; collect those messages for the caller."""
    handler = _ListHandler()
    weasyprint_logger = logging.getLogger("weasyprint")
    weasyprint_logger.addHandler(handler)
    try:
        yield handler.warnings, handler.machine_notes
    finally:
        weasyprint_logger.removeHandler(handler)
