"""HTML -> PDF bytes with WeasyPrint: URL sandbox, captured warnings, deterministic output.

Printing happens in memory and writes nothing. The PDF's dates come from the handout's
``updated`` date (through dcterms meta elements in the HTML) and its identifier from a hash
of everything that went into it, so the same inputs give the same bytes on every machine.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import mimetypes
from dataclasses import dataclass
from pathlib import Path

import weasyprint
from weasyprint.urls import URLFetcher, URLFetcherResponse

from . import sandbox


@dataclass(frozen=True)
class PrintedPdf:
    data: bytes
    pages: int
    warnings: tuple[str, ...]  # what WeasyPrint complained about, one message each
    violations: tuple[str, ...]  # URLs the sandbox refused


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
        return URLFetcherResponse(url, body, {"Content-Type": content_type})


def print_pdf(root: Path, html: str) -> PrintedPdf:
    """Lay out ``html`` (addressed from the sandbox's base URL) and return the PDF."""
    fetcher = SandboxedFetcher(root)
    with _captured_warnings() as warnings:
        document = weasyprint.HTML(string=html, base_url=sandbox.BASE_URL,
                                   url_fetcher=fetcher).render()
        data = document.write_pdf(pdf_identifier=_identifier(html, fetcher.fetched))
    return PrintedPdf(data=data, pages=len(document.pages), warnings=tuple(warnings),
                      violations=tuple(fetcher.violations))


def _identifier(html: str, fetched: list[tuple[str, str]]) -> bytes:
    """A PDF /ID that changes exactly when the HTML or a file it uses changes."""
    fingerprint = hashlib.sha256(html.encode("utf-8"))
    for url, digest in fetched:
        fingerprint.update(f"\n{url} {digest}".encode())
    return fingerprint.hexdigest()[:32].encode()


#: Warnings about this machine rather than the handout: they never fail a build.
MACHINE_WARNINGS = ("Using fontTools instead of HarfBuzz-Subset",)


class _ListHandler(logging.Handler):
    def __init__(self, messages: list[str]):
        super().__init__(logging.WARNING)
        self.messages = messages

    def emit(self, record):
        message = record.getMessage()
        if not message.startswith(MACHINE_WARNINGS):
            self.messages.append(message)


@contextlib.contextmanager
def _captured_warnings():
    """WeasyPrint only logs a missing image or bad CSS; collect those messages for the caller."""
    messages: list[str] = []
    handler = _ListHandler(messages)
    weasyprint_logger = logging.getLogger("weasyprint")
    weasyprint_logger.addHandler(handler)
    try:
        yield messages
    finally:
        weasyprint_logger.removeHandler(handler)
