"""HTML -> PDF bytes with WeasyPrint: URL sandbox, captured warnings, tagged PDF/UA-1,
deterministic output.

Printing happens in memory and writes nothing. The PDF's dates come from the handout's
``updated`` date (through dcterms meta elements in the HTML) and its identifier from a hash
of everything that went into it, so the same inputs give the same bytes on every machine.
Several threads may print at once: each captures only its own thread's warnings, and the
fetcher of each print records the files that print used.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import logging
import mimetypes
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from fontTools.ttLib import TTFont
import pypdfium2
import tinycss2
import weasyprint
from weasyprint.urls import URLFetcher, URLFetcherResponse

from . import images, sandbox, stylecache, tagging, workers

tagging.tag_passage_languages()
stylecache.install()

#: Tagged for screen readers: structure tree, /Lang, headings, lists, the title as window title.
PDF_VARIANT = "pdf/ua-1"


@dataclass(frozen=True)
class PrintedPdf:
    data: bytes
    pages: int
    warnings: tuple[str, ...]  # what WeasyPrint complained about, one message each
    violations: tuple[tuple[str, str], ...]  # (url, why) for each URL the sandbox refused
    system_fonts: tuple[str, ...]  # families drawn from the machine, not from @font-face
    missing_characters: str  # characters of the page that no project font has
    machine_notes: tuple[str, ...] = ()  # warnings about this machine, not the handout
    used: tuple[tuple[str, str], ...] = ()  # (project path, sha256) of every file it loaded
    stylesheets: tuple[tuple[str, bytes], ...] = ()  # (project path, text) of each stylesheet
    document: object = field(default=None, compare=False, repr=False)  # the layout, for check

    def text(self) -> str:
        """The text a reader of the PDF gets, read back from the PDF itself."""
        return pdf_text(self.data)


class RefusedFile(Exception):
    """A print that failed after the sandbox refused a file it needed (a stylesheet that sets
    the tokens, say): the refusal is the cause to report, not WeasyPrint's failure."""

    def __init__(self, needle: str, why: str, stylesheets: tuple[tuple[str, bytes], ...]):
        super().__init__(why)
        self.needle, self.why, self.stylesheets = needle, why, stylesheets


class SandboxedFetcher(URLFetcher):
    """Serves project files from the sandbox and refuses every other URL.

    WeasyPrint turns a refusal into a warning and goes on, so refusals are also kept here
    for the caller to fail the build on. Every file that is not a stylesheet or a font is an
    image, served only once ``images.checked`` has passed it. A subclass, not a function:
    WeasyPrint 70 crashes when a plain fetcher function raises.
    """

    def __init__(self, root: Path):
        super().__init__(allowed_protocols=("file", "data"))
        self.root = root
        self.fetched: list[tuple[str, str]] = []  # (project path, sha256) in fetch order
        self.stylesheets: list[tuple[str, bytes]] = []  # (project path, text)
        self.fonts: list[bytes] = []
        self.violations: list[tuple[str, str]] = []  # (what the source names, the message)
        self.signatures: list[tuple] = []  # (path, stylecache.signature, sha256) of each file read

    #: What a fetch records, which a stylesheet taken from the stylecache replays.
    RECORDS = ("fetched", "stylesheets", "fonts", "violations", "signatures")

    def recorded(self) -> dict[str, int]:
        """How much of each record there is now (for ``recorded_since``)."""
        return {name: len(getattr(self, name)) for name in self.RECORDS}

    def recorded_since(self, marks: dict[str, int]) -> dict[str, list]:
        return {name: getattr(self, name)[marks[name]:] for name in self.RECORDS}

    def replay(self, records: dict[str, list]) -> None:
        """Record again what the fetches of a cached stylesheet's parse recorded."""
        for name, items in records.items():
            getattr(self, name).extend(items)

    def fetch(self, url, headers=None):
        try:
            path = sandbox.resolve(self.root, url)
            if path is None:  # a data: URL, decoded by urllib
                response = super().fetch(url, headers)
                if not _is_image(response.content_type):
                    return response
                body = self._checked_image(f"the data: URL {sandbox.excerpt(url, 40)}", url,
                                           response.read(), response.content_type)
                return URLFetcherResponse(url, body, {"Content-Type": response.content_type})
            workers.loading(path.relative_to(self.root.resolve()).as_posix())
            before = stylecache.signature(path)  # before it is read: an edit meanwhile is seen
            body = sandbox.read_file(self.root, path)
        except (sandbox.SandboxViolation, sandbox.UnreadableFile) as violation:
            self.violations.append((url, f"sandbox: {violation}"))
            raise
        relative, digest = path.relative_to(self.root.resolve()).as_posix(), hashlib.sha256(body).hexdigest()
        self.fetched.append((relative, digest))
        self.signatures.append((path, before, digest))
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if content_type == "text/css":
            self.stylesheets.append((relative, body))
        elif path.suffix.lower() in (".ttf", ".otf"):
            self.fonts.append(body)
        elif _is_image(content_type):
            body = self._checked_image(relative, relative, body, content_type)
        return URLFetcherResponse(url, body, {"Content-Type": content_type})

    def _checked_image(self, name: str, needle: str, body: bytes, content_type: str) -> bytes:
        """The image's bytes once ``images.checked`` passes them; otherwise the refusal is
        kept, its message naming the image, and ``needle`` (what the sheet's source wrote)
        finds the line to blame."""
        try:
            return images.checked(body, content_type, self._project_fonts)
        except images.ImageRefused as refusal:
            self.violations.append((needle, f"{name}: {refusal}"))
            raise

    def _project_fonts(self) -> images.Fonts:
        """What SVG text may use: the @font-face fonts of the stylesheets fetched so far
        (WeasyPrint loads every stylesheet and font before the first image)."""
        families = _font_face_families(css for _, css in self.stylesheets)
        return images.Fonts(families=tuple(sorted(families)),
                            characters=frozenset().union(*map(_characters_of, self.fonts)))


def _is_image(content_type: str) -> bool:
    """Whatever a sheet embeds that is not a stylesheet or a font is an image."""
    return content_type != "text/css" and not content_type.startswith("font/")


def lay_out(root: Path, html: str, fetcher: SandboxedFetcher | None = None) -> weasyprint.Document:
    """Pages and boxes of ``html`` (addressed from the sandbox's base URL), without a PDF."""
    return weasyprint.HTML(string=html, base_url=sandbox.BASE_URL,
                           url_fetcher=fetcher or SandboxedFetcher(root)).render(
        dpi=images.PRINT_DPI, font_config=stylecache.styles_for(root))


def print_pdf(root: Path, html: str) -> PrintedPdf:
    """Lay out ``html`` and return the PDF."""
    fetcher = SandboxedFetcher(root)
    with captured_warnings() as (warnings, machine_notes):
        try:
            document = lay_out(root, html, fetcher)
            data = document.write_pdf(pdf_variant=PDF_VARIANT,
                                      pdf_identifier=_identifier(html, fetcher.fetched))
        except Exception:
            if fetcher.violations:  # WeasyPrint went on without a refused file, then failed
                raise RefusedFile(*fetcher.violations[0], tuple(fetcher.stylesheets)) from None
            raise
    data = tagging.mark_page_furniture_as_artifacts(data)
    system_fonts = {font.family for font in document.fonts.values()}
    system_fonts -= _font_face_families(css for _, css in fetcher.stylesheets)
    return PrintedPdf(data=data, pages=len(document.pages), warnings=tuple(warnings),
                      violations=tuple(fetcher.violations), system_fonts=tuple(sorted(system_fonts)),
                      missing_characters=_missing_characters(html, fetcher.fonts),
                      machine_notes=tuple(sorted(set(machine_notes))),
                      used=tuple(dict.fromkeys(fetcher.fetched)),
                      stylesheets=tuple(fetcher.stylesheets), document=document)


#: PDFium is not thread-safe: one reader at a time (a read takes a few milliseconds).
_PDFIUM = threading.Lock()


def pdf_text(data: bytes) -> str:
    """Every page's text as PDFium extracts it, pages separated by form feeds."""
    with _PDFIUM:
        document = pypdfium2.PdfDocument(data)
        try:
            return "\f".join(page.get_textpage().get_text_range() for page in document)
        finally:
            document.close()


def stylesheet_warnings(root: Path, path: str, css: bytes) -> list[str]:
    """The warnings WeasyPrint gives for one stylesheet parsed on its own (to find which
    stylesheet a warning of a whole print came from)."""
    with captured_warnings() as (warnings, _):
        weasyprint.CSS(string=css.decode("utf-8", "replace"), base_url=sandbox.project_url(path),
                       url_fetcher=SandboxedFetcher(root))
    return warnings


def _identifier(html: str, fetched: list[tuple[str, str]]) -> bytes:
    """A PDF /ID that changes exactly when the HTML or a file it uses changes."""
    fingerprint = hashlib.sha256(html.encode("utf-8"))
    for url, digest in fetched:
        fingerprint.update(f"\n{url} {digest}".encode())
    return fingerprint.hexdigest()[:32].encode()


def _font_face_families(stylesheets) -> set[str]:
    """The families the project's stylesheets declare with @font-face."""
    return set().union(*map(_families_declared, stylesheets))


@functools.lru_cache(maxsize=64)
def _families_declared(css: bytes) -> frozenset[str]:
    """The @font-face families of one stylesheet: parsed once per worker, not once per sheet
    (every sheet loads the same few stylesheets, and parsing them costs a twentieth of a print)."""
    families = set()
    rules, _ = tinycss2.parse_stylesheet_bytes(css, skip_comments=True, skip_whitespace=True)
    for rule in rules:
        if rule.type == "at-rule" and rule.lower_at_keyword == "font-face":
            for declaration in tinycss2.parse_blocks_contents(
                    rule.content, skip_comments=True, skip_whitespace=True):
                if declaration.type == "declaration" and declaration.lower_name == "font-family":
                    families.add(tinycss2.serialize(declaration.value).strip().strip("\"'"))
    return frozenset(families)


def _missing_characters(html: str, fonts: list[bytes]) -> str:
    """The characters of the page that none of the project's font files can draw."""
    # Each character once, looked up in each font's set: a sheet has thousands of characters,
    # and joining the sets (a Chinese font has tens of thousands) cost more than the lookups.
    covered = [_characters_of(body) for body in fonts]
    text = set(re.sub(r"<[^>]*>", "", html))
    return "".join(sorted(char for char in text if not char.isspace()
                          and not any(ord(char) in font for font in covered)))


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
    """Collects the warnings of one thread: WeasyPrint's logger is shared by every print."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.warnings: list[str] = []
        self.machine_notes: list[str] = []

    def emit(self, record):
        if record.thread != self.thread:
            return
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
