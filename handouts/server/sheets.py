"""The sheets the web app shows: current renders through the gate, page images, and changes.

Every render goes through the render gate (``pipeline.render_sheet``); this module only keeps
the latest render of each sheet in memory, turns its pages into PNG images with PDFium, and
counts *generations*: each burst of file changes under the project starts a new one, reloads
handouts.toml and forgets every render. Pages waiting for a change (the live preview) are
woken when a new generation begins. Renders kept here are plain sheets only: a personalised
sheet is printed, sent and forgotten by the caller, never kept.

A plain print is the PDF the last build wrote into dist/ when the manifest and the build cache
say it is true to today's files (the same bytes a render would give, without the wait);
otherwise it is rendered once per generation and kept.
"""
from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2

from .. import content, output
from ..config import PAPERS, Project, load_project
from ..errors import HandoutsError, InputError
from ..pdf import _PDFIUM  # the gate reads text back with PDFium too: one lock for both
from ..pipeline import Inputs, Job, Sheet, UnknownSheet, render_sheet
from . import watching

logger = logging.getLogger(__name__)

#: Page images: the preview at 1.5 x 72 dpi (crisp on a tablet), catalogue thumbnails small.
PREVIEW_SCALE = 1.5
THUMB_SCALE = 0.4
#: Where `handouts build` writes by default, relative to the project.
BUILT = "dist"


@dataclass
class Render:
    """The current render of one plain sheet: its pages, or the error that stopped it."""

    generation: int
    sheet: Sheet | None = None
    error: InputError | None = None
    pngs: dict = field(default_factory=dict)  # (page, scale) -> PNG bytes
    built: bool = False  # read from dist/, not rendered

    @property
    def pages(self) -> int:
        return self.sheet.pages if self.sheet else 0

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.sheet.warnings if self.sheet else ()


class Sheets:
    """The project as the web app sees it, kept current by a file watcher."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.generation = 0
        self.project: Project | None = None
        self.project_error: InputError | None = None
        self._renders: dict[tuple, Render] = {}
        self._locks: dict[tuple, threading.Lock] = {}
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reload()

    # --- the project and its changes ------------------------------------------------------

    def _reload(self) -> None:
        try:
            self.project, self.project_error = load_project(self.root), None
        except InputError as error:  # a broken handouts.toml: shown on every page until fixed
            self.project_error = error

    def changed(self, paths=()) -> None:
        """Start a new generation: reload handouts.toml, forget every render, wake the waiters."""
        with self._lock:
            self._reload()
            self.generation += 1
            self._renders.clear()
            waiters, self._waiters = self._waiters, []
        logger.info("changed: %s (generation %d)", ", ".join(paths) or "project", self.generation)
        for loop, future in waiters:
            loop.call_soon_threadsafe(_wake, future)

    async def wait_past(self, generation: int, timeout: float) -> int:
        """Wait until the generation is past ``generation`` (or ``timeout`` seconds pass)."""
        if self.generation > generation:
            return self.generation
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            if self.generation > generation:
                return self.generation
            self._waiters.append((loop, future))
        try:
            await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            with self._lock:
                if (loop, future) in self._waiters:
                    self._waiters.remove((loop, future))
        return self.generation

    def start_watching(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="handouts-watch", daemon=True)
        self._thread.start()

    def stop_watching(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)

    def _watch(self) -> None:
        for paths in watching.changes(self.root, self._stop):
            self.changed(paths)

    # --- what there is ----------------------------------------------------------------------

    def require_project(self) -> Project:
        if self.project_error:
            raise self.project_error
        return self.project

    def catalogue(self) -> tuple[list[dict], list[InputError]]:
        """Each sheet (slug) with its handout in every language it has, in the configured order."""
        project = self.require_project()
        languages = project.config.languages
        handouts, errors = content.load_all(project.content_dir, languages)
        by_slug: dict[str, dict] = {}
        for handout in sorted(handouts, key=lambda h: (h.slug, languages.index(h.lang))):
            by_slug.setdefault(handout.slug, {"slug": handout.slug, "versions": []})["versions"].append(handout)
        return list(by_slug.values()), errors

    def check_names(self, lang: str, edition: str, paper: str) -> None:
        """Raise UnknownSheet for a language, edition or paper the project does not have."""
        config = self.require_project().config
        for what, name, known in (("language", lang, config.languages),
                                  ("edition", edition, config.editions), ("paper", paper, PAPERS)):
            if name not in known:
                raise UnknownSheet(f"unknown {what}")

    # --- renders ----------------------------------------------------------------------------

    def current(self, lang: str, slug: str, edition: str = "standard", paper: str | None = None) -> Render:
        """The current render of a plain sheet, made now if files changed since the last one.

        Raises UnknownSheet for a name the project lacks; any other error is kept in the
        render, to be shown where the pages would be."""
        project = self.require_project()
        paper = paper or project.config.paper
        key = (lang, slug, edition, paper)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # two pages asking for the same sheet share one render
            generation = self.generation
            cached = self._renders.get(key)
            if cached and cached.generation == generation:
                return cached
            try:
                render = Render(generation, sheet=render_sheet(project, slug, lang, edition, paper))
            except UnknownSheet:
                raise
            except InputError as error:
                render = Render(generation, error=error)
            except HandoutsError as error:  # not at a file: still the sheet's, not the server's
                render = Render(generation, error=InputError(self.root, error.format_message()))
            with self._lock:
                if self.generation == generation:
                    self._renders[key] = render
            return render

    def plain(self, lang: str, slug: str, edition: str = "standard", paper: str | None = None) -> Render:
        """A plain sheet's print: dist/'s copy when it is up to date, else the current render."""
        project = self.require_project()
        paper = paper or project.config.paper
        key = ("plain", lang, slug, edition, paper)
        generation = self.generation
        cached = self._renders.get(key)
        if cached and cached.generation == generation:
            return cached
        render = self._built(project, Render(generation), lang, slug, edition, paper)
        render = render or self.current(lang, slug, edition, paper)
        with self._lock:
            if self.generation == generation:
                self._renders[key] = render
        return render

    def warm(self) -> None:
        """Make every plain sheet ready (from dist/, or rendered): the catalogue's first visit
        then shows at once which sheets print."""
        try:
            cards, _errors = self.catalogue()
            for card in cards:
                for handout in card["versions"]:
                    self.plain(handout.lang, handout.slug)
        except (HandoutsError, UnknownSheet) as error:  # shown by the page that needs it
            logger.debug("warming the sheets stopped: %s", error)

    def _built(self, project: Project, render: Render, lang, slug, edition, paper) -> Render | None:
        """The PDF of dist/ for this sheet, if the last build's is true to today's files."""
        path = project.content_dir / lang / f"{slug}.md"
        if not content.SLUG.match(slug) or not path.is_file():
            return None
        try:
            job = Job(content.load_handout(path, lang), edition, paper)
        except InputError:
            return None
        out = project.root / BUILT
        folder = output.OutputFolder(out, project.release, output.read_manifest(out), output.read_cache(out))
        inputs = Inputs(project)
        if not inputs.up_to_date(folder, job, inputs.key(job, strict=False)):
            return None
        entry = folder.entries[job.path]
        try:
            data = (out / job.path).read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:  # a build replaced it meanwhile
            return None
        render.sheet, render.built = Sheet(job, data, entry["pages"]), True
        return render

    def page_png(self, render: Render, page: int, scale: float = PREVIEW_SCALE) -> bytes:
        """Page ``page`` (from 1) of a render as PNG; raises IndexError past the last page."""
        if not render.sheet or not 1 <= page <= render.pages:
            raise IndexError(page)
        key = (page, scale)
        if key not in render.pngs:
            with _PDFIUM:
                document = pypdfium2.PdfDocument(render.sheet.data)
                try:
                    image = document[page - 1].render(scale=scale).to_pil()
                finally:
                    document.close()
            buffer = io.BytesIO()
            image.save(buffer, "PNG", compress_level=1)  # fast: these never leave the clinic
            render.pngs[key] = buffer.getvalue()
        return render.pngs[key]


def _wake(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)
