"""Stylesheets parsed once per process, not once per print.

Every sheet links the same few stylesheets, and WeasyPrint parses each of them and loads every
font their ``@font-face`` rules name again for every document it prints: a sixth of a print,
and more for a Chinese sheet, whose fonts weigh 22 MB. A print through ``pdf.print_pdf`` uses
this thread's ``Styles`` instead: a FontConfiguration that keeps the fonts, and the stylesheets
parsed with it, which the next document of the same project takes as they are.

What a print gets is what a fresh parse would give it:

- A stylesheet is taken from the cache only while every file its parse read (the stylesheet,
  its fonts, what it ``@import``\\ s) is unchanged: the same inode, size and times, and for a
  file of at most ``HASHED_UP_TO`` bytes the same SHA-256 (an edit that keeps the size within
  one tick of a coarse file clock changes no time). Otherwise the thread starts a new
  ``Styles``, so that a changed font never sits beside its old self under one family name.
- Another project keeps the thread's ``Styles`` only when every one of those files has the
  same bytes there (a copy of the project, as every test makes); else it gets a new one.
- Only a clean parse is kept: one that logged no warning, broke no sandbox rule and declared no
  ``@layer``, ``@counter-style`` or ``@color-profile`` (those belong to the document, not to
  the stylesheet). Any other is parsed again for every print, as WeasyPrint does.
- A print that takes a stylesheet from the cache is told of the files its parse read, in the
  same order, so that what a print records of them (see ``pdf.SandboxedFetcher``) is the same.
- A cached stylesheet keeps its own ``@page`` rules; WeasyPrint applies each author
  stylesheet's rules in document order, so the cascade is unchanged.

WeasyPrint has no hook for this: ``install`` replaces the name ``CSS`` that its stylesheet
finder calls with ``cached_css``, which only acts on a ``<link>``\\ ed stylesheet of a document
printed with a ``Styles`` (every other call goes to WeasyPrint's own ``CSS``).
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import weasyprint
from weasyprint import css as weasyprint_css
from weasyprint.text.fonts import FontConfiguration

from . import sandbox

#: A thread keeps at most this many stylesheets; past it, it starts again.
MAX_STYLESHEETS = 64
#: Files up to this size (a stylesheet, which a designer edits) are also compared by their
#: bytes; a larger one (a font, replaced whole: a Chinese one is 11 MB) by its inode, size and
#: times only. Reading every font again before each print cost a fiftieth of the print.
HASHED_UP_TO = 64 * 1024


@dataclass(frozen=True)
class _Parsed:
    """One stylesheet parsed, and what the print's fetcher recorded while it was."""

    css: weasyprint.CSS
    records: dict  # attribute of the fetcher -> the items its parse appended to it
    signatures: tuple  # (path, signature, sha256) of every file the parse read


class Styles(FontConfiguration):
    """The fonts and the parsed stylesheets of one project, kept between prints in a thread."""

    def __init__(self, root: Path):
        super().__init__()
        self.root = root
        self.parsed: dict[str, _Parsed] = {}

    def still_true(self) -> bool:
        """Whether every file read for the parsed stylesheets is unchanged."""
        return all(unchanged(self.root, *read) for parsed in self.parsed.values()
                   for read in parsed.signatures)

    def move_to(self, root: Path) -> bool:
        """Serve the project at ``root`` instead, if every file read for the parsed
        stylesheets has the same bytes there (a copy of this project: what is parsed does not
        depend on where the project is, since a sheet's URLs name project paths)."""
        moved = {}
        for key, parsed in self.parsed.items():
            signatures = []
            for path, _signature, sha256 in parsed.signatures:
                there = _same_place(path, self.root, root)
                before = signature(there) if there else None
                if before is None or not _has_digest(root, there, sha256):
                    return False
                signatures.append((there, before, sha256))
            moved[key] = dataclasses.replace(parsed, signatures=tuple(signatures))
        self.root, self.parsed = root, moved
        return True


def _same_place(path: Path, old_root: Path, new_root: Path) -> Path | None:
    """Where ``path`` (a file of the project at ``old_root``) is in the project at ``new_root``."""
    try:
        return Path(os.path.realpath(new_root)) / Path(path).relative_to(os.path.realpath(old_root))
    except ValueError:
        return None


_THREAD = threading.local()


def styles_for(root: Path) -> Styles:
    """This thread's Styles for the project at ``root``: the one kept, while it still holds
    (the same project or a copy of it, no file changed, not too many stylesheets), else a new
    one."""
    styles = getattr(_THREAD, "styles", None)
    kept = (styles is not None and len(styles.parsed) < MAX_STYLESHEETS
            and (styles.still_true() if styles.root == root else styles.move_to(root)))
    if not kept:
        styles = _THREAD.styles = Styles(root)
    return styles


def signature(path) -> tuple | None:
    """What tells a changed file from the one read before, short of its bytes: its inode, size
    and times (taken before the file is read, so that an edit during the read is seen)."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns


def unchanged(root: Path, path: Path, old_signature: tuple | None, sha256: str) -> bool:
    """Whether the file read with this signature and digest is still the same."""
    if old_signature is None or signature(path) != old_signature:
        return False
    return old_signature[2] > HASHED_UP_TO or _has_digest(root, path, sha256, HASHED_UP_TO)


def _has_digest(root: Path, path: Path, sha256: str, limit: int = sandbox.MAX_FILE_BYTES) -> bool:
    """Whether the project file at ``path`` (read through the sandbox) has this SHA-256."""
    try:
        return hashlib.sha256(sandbox.read_file(root, path, limit)).hexdigest() == sha256
    except sandbox.UnreadableFile:
        return False


def install() -> None:
    """Make WeasyPrint's stylesheet finder ask ``cached_css`` for every stylesheet."""
    if getattr(weasyprint_css.CSS, "cached", False):
        return
    weasyprint_css.CSS = cached_css


def cached_css(**arguments) -> weasyprint.CSS:
    """The stylesheet WeasyPrint asks for: from the document's Styles when it is a linked one
    (a URL, checked for its type, parsed into its own matcher), else parsed as WeasyPrint does."""
    styles, fetcher = arguments.get("font_config"), arguments.get("url_fetcher")
    linked = "url" in arguments and arguments.get("_check_mime_type") and "matcher" not in arguments
    if not (linked and isinstance(styles, Styles) and hasattr(fetcher, "recorded")):
        return weasyprint.CSS(**arguments)
    key = f"{arguments['url']} {arguments.get('media_type')}"
    parsed = styles.parsed.get(key)
    if parsed is not None:
        fetcher.replay(parsed.records)
        return parsed.css
    return _parse(styles, fetcher, key, arguments)


cached_css.cached = True


def _parse(styles: Styles, fetcher, key: str, arguments: dict) -> weasyprint.CSS:
    """Parse a linked stylesheet for this document; keep it when the parse was clean."""
    page_rules, layers = arguments["page_rules"], arguments["layers"]
    counters, profiles = arguments["counter_style"], arguments["color_profiles"] or {}
    rules_before, layers_before = len(page_rules), len(layers)
    counters_before, profiles_before = dict(counters), dict(profiles)
    marks = fetcher.recorded()
    with _warnings_of_this_thread() as warnings:
        css = weasyprint.CSS(**arguments)
    records = fetcher.recorded_since(marks)
    clean = (not warnings and not records["violations"] and len(layers) == layers_before
             and _same(counters, counters_before) and _same(profiles, profiles_before))
    if clean:
        # The stylesheet's @page rules become its own (they were added to the document's).
        css.page_rules, css.layers = page_rules[rules_before:], []
        del page_rules[rules_before:]
        styles.parsed[key] = _Parsed(css, records, tuple(records.pop("signatures")))
    return css


def _same(mapping: dict, before: dict) -> bool:
    return mapping.keys() == before.keys() and all(mapping[k] is before[k] for k in before)


class _Warnings(logging.Handler):
    """Collects the warnings of one thread (they still reach every other handler)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.thread, self.messages = threading.get_ident(), []

    def emit(self, record):
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


@contextlib.contextmanager
def _warnings_of_this_thread():
    """The warnings WeasyPrint logs in this thread meanwhile."""
    handler, logger = _Warnings(), logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
