"""build(project, selection) -> BuildReport: the stages in order, then the files.

load content -> render HTML -> print PDF -> check -> write atomically -> manifest.
Rendering and printing happen in memory (``render_pdf``); only ``build`` writes, and only
into the output folder. A handout that fails leaves its earlier PDF and manifest entry as
they were, and the others still build.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import weasyprint

from . import content, pdf, render
from .config import Project
from .content import Handout
from .errors import BuildError, ContentError, HandoutsError, InputError, unknown_name

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
#: Which inputs each built PDF came from, so that an unchanged one is not printed again.
CACHE = ".handouts-cache.json"


class UnknownHandout(HandoutsError):
    """A slug on the command line that no content file has: a usage error."""

    exit_code = 2


@dataclass(frozen=True)
class Job:
    """One PDF to make: a handout in one edition on one paper."""

    handout: Handout
    edition: str
    paper: str

    @property
    def path(self) -> str:
        """Where the PDF goes, relative to the output folder."""
        suffix = "" if self.edition == "standard" else f"-{self.edition}"
        return f"{self.handout.lang}/{self.handout.slug}{suffix}.pdf"

    @property
    def page_budget(self) -> int:
        """Standard sheets keep max_pages; larger type may take twice as many pages."""
        if self.edition == "standard":
            return self.handout.max_pages
        if self.edition == "large-print" and self.handout.max_pages_large:
            return self.handout.max_pages_large
        return self.handout.max_pages * 2

    @property
    def budget_key(self) -> str:
        """The front matter key that sets this job's page budget."""
        return "max_pages_large" if self.edition == "large-print" else "max_pages"

    def over_budget(self, pages: int) -> str | None:
        """What to say when a printed sheet has more pages than its budget; None when it fits."""
        if pages <= self.page_budget:
            return None
        return (f"has {pages} pages; its budget is {self.page_budget} "
                f"(shorten it, or raise {self.budget_key})")


@dataclass(frozen=True)
class Result:
    job: Job
    seconds: float
    entry: dict | None = None  # the manifest entry, when the PDF is there
    error: InputError | None = None
    warnings: tuple[str, ...] = ()
    inputs: str | None = None  # input_key() of the PDF
    machine_notes: tuple[str, ...] = ()  # about this machine, e.g. a missing system library
    up_to_date: bool = False  # nothing changed since the last build: not printed again


@dataclass
class BuildReport:
    out: Path
    results: list[Result] = field(default_factory=list)
    content_errors: list[InputError] = field(default_factory=list)
    refused_drafts: list[InputError] = field(default_factory=list)  # --release met drafts
    seconds: float = 0.0

    @property
    def errors(self) -> list[InputError]:
        return (self.content_errors + self.refused_drafts
                + [r.error for r in self.results if r.error])


def build(project: Project, selection=(), out: Path = Path("dist"), *, paper: str | None = None,
          editions=None, languages=None, release: bool = False, strict: bool = False,
          force: bool = False, on_result=None) -> BuildReport:
    """Build every selected handout in every language and edition; write PDFs and the manifest.

    A release build refuses drafts: when any selected sheet is a draft it writes nothing."""
    started = time.perf_counter()
    out = Path(out)
    report = BuildReport(out=out)
    handouts, report.content_errors = load_selection(project, selection, languages)
    if release:
        report.refused_drafts = [draft_error(project, h) for h in handouts if h.is_draft]
        if report.refused_drafts:
            return report
    jobs = plan(handouts, paper or project.config.paper, editions or project.config.editions)
    manifest = read_manifest(out)
    cache = _read_json(out / CACHE, {})
    files = files_digest(project)
    for job in jobs:
        result = make(project, job, out, strict=strict, files=files, previous=manifest.get(job.path),
                      cached_inputs=None if force else cache.get(job.path))
        if result.entry and not result.error:
            manifest[job.path] = result.entry
            cache[job.path] = result.inputs
        report.results.append(result)
        if on_result:
            on_result(result)
    write_manifest(out, project.release, manifest)
    _write_atomically(out / CACHE, json.dumps(cache, indent=1, sort_keys=True).encode())
    report.seconds = time.perf_counter() - started
    return report


def load_selection(project: Project, selection, languages=None) -> tuple[list[Handout], list[InputError]]:
    """The selected handouts (all when none is named) and the errors of their files."""
    handouts, errors = content.load_all(project.content_dir, languages or project.config.languages)
    if not selection:
        return handouts, errors
    known = sorted({h.slug for h in handouts} | {e.path.stem for e in errors})
    for slug in selection:
        if slug not in known:
            raise UnknownHandout(unknown_name("handout", slug, known))
    return ([h for h in handouts if h.slug in selection],
            [e for e in errors if e.path.stem in selection])


def draft_error(project: Project, handout: Handout) -> ContentError:
    reviewer = content.reviewer_of(handout.lang, project.config.source_language)
    return ContentError(handout.path, f"status is draft; a release takes only approved sheets (once "
                                      f"{reviewer} has reviewed it, set status: approved)",
                        handout.key_lines.get("status"))


def plan(handouts: list[Handout], paper: str, editions) -> list[Job]:
    """Every PDF to make: each handout in each edition, on one paper."""
    return [Job(handout, edition, paper) for handout in handouts for edition in editions]


def render_pdf(project: Project, job: Job) -> pdf.PrintedPdf:
    """One handout edition as PDF bytes, in memory: reads the project, writes nothing."""
    html = render.render_html(project, job.handout, job.edition, job.paper)
    return pdf.print_pdf(project.root, html)


def make(project: Project, job: Job, out: Path, *, strict: bool, files: str,
         previous: dict | None, cached_inputs: str | None) -> Result:
    """Print one job and write it, unless it is up to date; errors become the result's error."""
    started = time.perf_counter()
    try:
        missing_alt = render.images_without_alt(job.handout)  # a tagged PDF needs alt text
        if missing_alt:
            raise missing_alt[0]
        html = render.render_html(project, job.handout, job.edition, job.paper)
        inputs = input_key(html, files, strict)
        target = out / job.path
        if previous and cached_inputs == inputs and _sha256_of_file(target) == previous["sha256"]:
            return Result(job, time.perf_counter() - started, entry=previous, inputs=inputs,
                          up_to_date=True)
        printed = pdf.print_pdf(project.root, html)
        refuse_faults(job, printed, strict)
        _write_atomically(target, printed.data)
    except InputError as error:
        return Result(job, time.perf_counter() - started, error=error)
    except Exception as error:  # a WeasyPrint failure must not stop the other handouts
        logger.debug("printing %s failed", job.path, exc_info=True)
        failure = BuildError(job.handout.path,
                             f"could not print {job.path}: {error!r} (run with -vv for details)")
        return Result(job, time.perf_counter() - started, error=failure)
    return Result(job, time.perf_counter() - started, entry=manifest_entry(job, printed),
                  inputs=inputs, warnings=printed.warnings, machine_notes=printed.machine_notes)


def refuse_faults(job: Job, printed: pdf.PrintedPdf, strict: bool) -> None:
    """Refuse a PDF that broke the sandbox, used a system font, outgrew its page budget or
    (strict) drew a warning."""
    if printed.violations:
        raise BuildError(job.handout.path, f"sandbox: {printed.violations[0]}")
    if printed.missing_characters or printed.system_fonts:
        lines = [job.handout.line_of(char) for char in printed.missing_characters]
        raise BuildError(job.handout.path, f"expected only characters the project's fonts have, found "
                                           f"{' '.join(printed.missing_characters) or 'some'} (drawn "
                                           f"with this machine's {', '.join(printed.system_fonts)})",
                         min(filter(None, lines), default=None))
    if overrun := job.over_budget(printed.pages):
        raise BuildError(job.handout.path, f"{job.path} {overrun}",
                         job.handout.key_lines.get(job.budget_key))
    if strict and printed.warnings:
        raise BuildError(job.handout.path, f"warning (--strict): {printed.warnings[0]}")


def manifest_entry(job: Job, printed: pdf.PrintedPdf) -> dict:
    handout = job.handout
    return {"path": job.path, "handout": handout.slug, "lang": handout.lang,
            "edition": job.edition, "paper": job.paper, "version": handout.version,
            "status": handout.status, "pages": printed.pages, "bytes": len(printed.data),
            "sha256": hashlib.sha256(printed.data).hexdigest()}


def input_key(html: str, files: str, strict: bool) -> str:
    """A hash of everything a PDF is made from: the HTML, every file it may load, the code."""
    return hashlib.sha256(f"{_code_version()}\n{strict}\n{files}\n{html}".encode()).hexdigest()


def files_digest(project: Project) -> str:
    """One hash of every file in styles/ and assets/, read once per build."""
    digest = hashlib.sha256()
    for folder in ("styles", "assets"):
        for path in sorted((project.root / folder).rglob("*")):
            if path.is_file():
                digest.update(f"\n{path.relative_to(project.root)}\n".encode() + path.read_bytes())
    return digest.hexdigest()


@functools.cache
def _code_version() -> str:
    """WeasyPrint's version and a hash of this package's source: new code prints anew."""
    source = hashlib.sha256(weasyprint.__version__.encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        source.update(path.read_bytes())
    return source.hexdigest()


def read_manifest(out: Path) -> dict[str, dict]:
    """The last build's entries whose PDF is still there, by path."""
    files = _read_json(out / MANIFEST, {}).get("files", [])
    return {entry["path"]: entry for entry in files
            if isinstance(entry, dict) and "path" in entry and (out / entry["path"]).is_file()}


def write_manifest(out: Path, release: str, entries: dict[str, dict]) -> None:
    manifest = {"release": release, "files": [entries[path] for path in sorted(entries)]}
    _write_atomically(out / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())


def _read_json(path: Path, default):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return default


def _sha256_of_file(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _write_atomically(target: Path, data: bytes) -> None:
    """Write to a temporary file beside the target, then rename: never a half-written file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", delete=False) as tmp:
        tmp.write(data)
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, target)
