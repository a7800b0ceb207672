"""The render gate and build(): one sheet to checked PDF bytes, then every sheet to files.

``render_sheet`` is the one way a sheet is printed: ``build``, ``check`` and the web app all
call it (or ``print_sheet``, its half for an already loaded handout). It renders in memory,
applies every gate (sandbox, fonts, alt text, raw HTML, page budget, the clinic's phone and
emergency lines, strict warnings) and returns bytes only when all of them pass; otherwise it
raises an InputError naming ``path:line``. It is safe to call from several threads at once.

``build`` reads like its stages: load content -> plan -> remove the PDFs of sheets that are
gone -> skip what is up to date -> print -> write (through ``output``, which alone writes). Whether a PDF is up to date is decided from
cheap inputs (hashes of every file it used at its last build, the code's version, strict)
before WeasyPrint is even imported, so a build with nothing to do costs almost nothing.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import logging
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from . import content, icons, output, render, sandbox, typography, workers
from .config import BILINGUAL, CONFIG_FILE, PAPER_POINTS, PAPERS, Project, line_of
from .content import Handout
from .errors import (BuildError, ConfigError, ContentError, HandoutsError, InputError, display_path,
                     unknown_name)
from .render import Personal

logger = logging.getLogger(__name__)

MANIFEST = output.MANIFEST
#: What staff may write in for a patient, at most: enough for a name, a date, a short note.
#: The "Prepared for" box is designed for every field at its limit (tests/test_personal_room.py
#: prints them all, in wide letters, on every sheet, edition and paper): a date as the web app
#: writes it out in full is at most 60 characters, a note two short sentences.
PERSONAL_LIMITS = {"patient": 60, "treatment_date": 60, "next_visit": 60, "clinician": 60,
                   "note": 150}
#: Pages a sheet with the "Prepared for" box filled in may take beyond its budget, by edition.
#: The budget is measured on the blank sheet; in large print a value may take two lines of 18 pt
#: where the blank box has one to write on, and a Spanish or Vietnamese sheet with every field at
#: its limit needs a page more. The front desk is never refused what the form lets it type.
PERSONAL_EXTRA_PAGES = {"large-print": 1}
#: Accent marks a letter may carry: Vietnamese stacks two, a few scripts three; a tall stack of
#: them is drawn over the lines above and below, and past the paper's edge.
MAX_MARKS = 3


class UnknownSheet(HandoutsError):
    """A sheet, language, edition or paper that the project does not have: a usage error."""

    exit_code = 2


class PersonalFieldError(HandoutsError):
    """A personal field that cannot be printed. Names the field, never its value."""


class PageBudgetError(BuildError):
    """A sheet that printed on more pages than its budget allows."""

    def __init__(self, path, message, line, pages: int):
        super().__init__(path, message, line)
        self.pages = pages

    def __reduce__(self):
        return self.__class__, (self.path, self.detail, self.line, self.pages)


@dataclass(frozen=True)
class Job:
    """One PDF to make: a handout in one edition on one paper (the bilingual edition's with
    its translation)."""

    handout: Handout
    edition: str
    paper: str
    translation: Handout | None = None

    @property
    def status(self) -> str:
        """A sheet printed with a draft translation is a draft too."""
        drafts = self.handout.is_draft or bool(self.translation and self.translation.is_draft)
        return "draft" if drafts else self.handout.status

    @property
    def path(self) -> str:
        """Where the PDF goes, relative to the output folder."""
        suffix = "" if self.edition == "standard" else f"-{self.edition}"
        return f"{self.handout.lang}/{self.handout.slug}{suffix}.pdf"

    @property
    def page_budget(self) -> int:
        """Standard sheets keep max_pages; larger type may take twice as many pages, and two
        languages as many as the two sheets and one more, for the boxes both languages share
        across the page instead of in a side column."""
        if self.edition == "standard":
            return self.handout.max_pages
        if self.edition == "large-print" and self.handout.max_pages_large:
            return self.handout.max_pages_large
        if self.edition == BILINGUAL:  # both sheets' pages and one, unless the original says otherwise
            return self.handout.max_pages_bilingual or self.handout.max_pages + self.translation.max_pages + 1
        return self.handout.max_pages * 2

    @property
    def budget_key(self) -> str:
        """The front matter key that sets this job's page budget."""
        return {"large-print": "max_pages_large", BILINGUAL: "max_pages_bilingual"}.get(self.edition, "max_pages")

    def over_budget(self, pages: int, filled_in: bool = False) -> str | None:
        """What to say when a printed sheet has more pages than its budget (and, ``filled_in``,
        the pages a filled-in box may add); None when it fits."""
        extra = PERSONAL_EXTRA_PAGES.get(self.edition, 0) if filled_in else 0
        if pages <= self.page_budget + extra:
            return None
        allowing = f" and {extra} more for what was typed in" if extra else ""
        return (f"has {pages} pages; its budget is {self.page_budget}{allowing} "
                f"(shorten it, or raise {self.budget_key})")


@dataclass(frozen=True)
class Sheet:
    """A printed sheet that passed every gate."""

    job: Job
    data: bytes
    pages: int
    warnings: tuple[str, ...] = ()  # WeasyPrint's, when not strict
    machine_notes: tuple[str, ...] = ()  # about this machine, e.g. a missing system library
    used: tuple[tuple[str, str], ...] = ()  # (project path, sha256) of every file it loaded
    stylesheets: tuple[tuple[str, bytes], ...] = field(default=(), compare=False, repr=False)
    document: object = field(default=None, compare=False, repr=False)  # WeasyPrint's layout
    colours: tuple = field(default=(), compare=False, repr=False)  # contrast.Pair, when asked for
    last_page_fill: float = 1.0  # how full the last page is, when colours are asked for


def render_sheet(project: Project, slug: str, lang: str, edition: str = "standard",
                 paper: str | None = None, *, strict: bool = False,
                 personal: Personal | None = None) -> Sheet:
    """The render gate: one sheet as checked PDF bytes, in memory. Writes nothing.

    Raises UnknownSheet for a name the project lacks, PersonalFieldError for a personal field
    it cannot print, and an InputError at ``path:line`` for anything that fails a gate."""
    config = project.config
    paper = paper or config.paper
    for what, name, known in (("language", lang, config.languages), ("edition", edition, config.editions),
                              ("paper", paper, PAPERS)):
        if name not in known:
            raise UnknownSheet(unknown_name(what, sandbox.excerpt(str(name), 40), known))
    translation = None
    if edition == BILINGUAL:
        if lang != config.bilingual[0]:
            raise UnknownSheet(f"the bilingual edition is printed from {config.bilingual[0]!r}, "
                               f"with {config.bilingual[1]!r}; found {sandbox.excerpt(lang, 20)!r}")
        translation = content.load_handout(_content_file(project, slug, config.bilingual[1]),
                                           config.bilingual[1])
    handout = content.load_handout(_content_file(project, slug, lang), lang)
    return print_bounded(project, Job(handout, edition, paper, translation), strict=strict,
                         personal=personal)


def _content_file(project: Project, slug: str, lang: str) -> Path:
    """The content file of a sheet in one language; UnknownSheet when there is none."""
    path = project.content_dir / lang / f"{slug}.md"
    if not content.SLUG.match(slug) or sandbox.file_kind(path) == "nothing":
        known = sorted(p.stem for p in (project.content_dir / lang).glob("*.md"))
        raise UnknownSheet(unknown_name(f"{lang} handout", sandbox.excerpt(slug, 40), known))
    return path


def print_bounded(project: Project, job: Job, *, strict: bool = False,
                  personal: Personal | None = None, colours: bool = False) -> Sheet:
    """``print_sheet`` in a worker process, within the project's deadline and memory cap (see
    ``workers``). The Sheet comes back without WeasyPrint's layout; ``colours`` asks for the
    text and background colours of the layout and how full its last page is (for ``check``)."""
    try:
        return workers.call(limits_of(project), _print_in_worker, project, job, strict, personal, colours)
    except workers.Stopped as stopped:
        raise stopped_error(job, stopped) from None


def limits_of(project: Project) -> workers.Limits:
    return workers.Limits(project.config.print_seconds, project.config.print_megabytes)


def stopped_error(job: Job, stopped: workers.Stopped) -> BuildError:
    """A print stopped by its limits, blamed on the file it was loading when the content names
    it, else on the sheet."""
    loading = f" while loading {stopped.loading}" if stopped.loading else ""
    return BuildError(job.handout.path, f"printing {job.path} {stopped.reason}{loading}: is a "
                                        f"picture, a table or a value too large? (the limits are "
                                        f"print_seconds and print_megabytes in handouts.toml)",
                      job.handout.line_of(stopped.loading) if stopped.loading else None)


def _print_in_worker(project: Project, job: Job, strict: bool, personal: Personal | None,
                     colours: bool) -> Sheet:
    from . import contrast, paper

    sheet = print_sheet(project, job, strict=strict, personal=personal)
    if not colours:
        return dataclasses.replace(sheet, document=None)
    return dataclasses.replace(sheet, document=None, colours=tuple(contrast.colour_pairs(sheet.document)),
                               last_page_fill=paper.last_page_fill(sheet.document))


def print_sheet(project: Project, job: Job, *, strict: bool = False,
                personal: Personal | None = None) -> Sheet:
    """The gate for a handout already loaded: print it and refuse it unless every check passes."""
    from . import pdf  # imports WeasyPrint: only a sheet that is really printed pays for it

    check_personal(personal)
    refuse_broken_stylesheets(project, job.edition, job.handout.lang)
    try:
        html = render.render_html(project, job.handout, job.edition, job.paper, personal, job.translation)
        printed = pdf.print_pdf(project.root, html)
    except InputError:
        raise
    except pdf.RefusedFile as refused:
        path, line = blame(project, job, refused, refused.needle)
        raise BuildError(path, refused.why, line) from None
    except Exception as error:  # a Markdown or WeasyPrint failure is this sheet's, never a crash
        logger.debug("printing %s failed", job.path, exc_info=True)
        raise BuildError(job.handout.path, f"could not print {job.path}: {error.__class__.__name__}: "
                                           f"{sandbox.excerpt(str(error))} (run with -vv for details)")
    refuse_faults(project, job, printed, strict, personal)
    return Sheet(job, printed.data, printed.pages, printed.warnings, printed.machine_notes,
                 printed.used, printed.stylesheets, printed.document)


def check_personal(personal: Personal | None) -> None:
    """Refuse a personal field that is too long or holds control characters, naming the field."""
    for name, limit in PERSONAL_LIMITS.items():
        value = getattr(personal, name, "") if personal else ""
        if not isinstance(value, str):
            raise PersonalFieldError(f"{name}: expected text")
        if len(value) > limit:
            raise PersonalFieldError(f"{name}: expected at most {limit} characters, found {len(value)}")
        allowed_breaks = "\n" if name == "note" else ""
        if any(char in value for char in map(chr, [*range(32), *range(127, 160)])
               if char not in allowed_breaks):
            raise PersonalFieldError(f"{name}: expected plain text, found a control character")
        if _most_marks(unicodedata.normalize("NFC", value)) > MAX_MARKS:
            raise PersonalFieldError(f"{name}: expected at most {MAX_MARKS} accent marks on one "
                                     f"letter, found more (they would be drawn over other lines)")


def _most_marks(text: str) -> int:
    """The most combining marks (accents and the like) any one letter of ``text`` carries."""
    most = run = 0
    for char in text:
        run = run + 1 if unicodedata.category(char) in ("Mn", "Me") else 0
        most = max(most, run)
    return most


def refuse_faults(project: Project, job: Job, printed, strict: bool,
                  personal: Personal | None = None) -> None:
    """Refuse a PDF that broke the sandbox, used a system font, outgrew its page budget, lost
    the clinic's phone or emergency lines, or (strict) drew a warning. Each error is blamed on
    the file that caused it (the content, a stylesheet or a template) or the personal field."""
    handout = job.handout
    for name in PERSONAL_LIMITS:  # a character typed at the front desk is the field's fault
        value = getattr(personal, name, "") if personal else ""
        if unprintable := [char for char in printed.missing_characters if char in value]:
            # Named by its code only: an error never repeats what was typed about a patient.
            raise PersonalFieldError(f"{name}: {_character_name(unprintable[0])[2:]}: no font this "
                                     f"project ships has it; write it in by hand on the printed sheet")
    if printed.violations:  # a URL outside the sandbox, or an image that may not be printed
        needle, why = printed.violations[0]
        path, line = blame(project, job, printed, needle)
        config = project.root / CONFIG_FILE
        if line is None and (line := _line_in(config.read_text(encoding="utf-8"), needle)):
            path = config  # the logo, which the template takes from handouts.toml
        raise BuildError(path, why, line)
    refuse_stylesheet_warnings(project, job, printed)
    tofu = "".join(chr(int(code, 16)) for warning in printed.warnings  # no font at all drew it
                   for code in re.findall(r"^\.notdef glyph .*\(U\+([0-9A-F]+)\)", warning))
    if printed.missing_characters or printed.system_fonts or tofu:

        from . import pdf
        found = printed.missing_characters or tofu
        if not found:  # not in the content's text: a list marker or a stylesheet's content
            fonts = [sandbox.read_file(project.root, font)
                     for font in sorted((project.root / "styles").rglob("*.[ot]tf"))]
            found = pdf._missing_characters(printed.text(), fonts)
        if found:
            path, line = _where_written(project, handout, found[0])
            raise BuildError(path, f"{_character_name(found[0])}: no font this project ships has it: "
                                   f"add a font to styles/fonts.css, or write it in by hand", line)
        raise BuildError(handout.path, f"expected only the project's fonts, found this machine's "
                                       f"{', '.join(printed.system_fonts)} (from a list marker or a "
                                       f"stylesheet rule: set it in styles/)")
    filled_in = any(getattr(personal, name, "") for name in PERSONAL_LIMITS) if personal else False
    if overrun := job.over_budget(printed.pages, filled_in):
        raise PageBudgetError(handout.path, f"{job.path} {overrun}", handout.key_lines.get(job.budget_key),
                              printed.pages)
    refuse_paper_faults(project, job, printed, personal)
    if strict and printed.warnings:
        path, line = blame_warning(project, job, printed, printed.warnings[0])
        raise BuildError(path, f"warning (--strict): {printed.warnings[0]}", line)


def _character_name(char: str) -> str:
    return f"{char} (U+{ord(char):04X} {unicodedata.name(char, 'with no Unicode name')})"


def _where_written(project: Project, handout: Handout, char: str) -> tuple[Path, int | None]:
    """The file and line that hold ``char``: the content, the language's template strings or
    handouts.toml; else the content file, without a line (a list marker or a stylesheet's)."""
    if line := handout.line_of(char):
        return handout.path, line
    strings = project.root / "templates" / "strings" / f"{handout.lang}.toml"
    for path in (strings, project.root / CONFIG_FILE):
        try:
            text = sandbox.read_file(project.root, path, 1024 * 1024).decode("utf-8", "replace")
        except sandbox.UnreadableFile:
            continue
        if line := _line_in(text, char):
            return path, line
    return handout.path, None


def refuse_broken_stylesheets(project: Project, edition: str, lang: str) -> None:
    """A stylesheet is code: a lost ';' or '}' is an error at its line, before anything is
    printed with it (WeasyPrint would go on without a word)."""
    from . import stylesheets

    for relative in render.stylesheets(edition, lang):
        try:
            css = sandbox.read_file(project.root, project.root / relative)
        except sandbox.UnreadableFile:
            continue  # the print names it, through the sandbox
        for problem in stylesheets.lint(relative, css):
            raise BuildError(project.root / problem.path, problem.message, problem.line)


def refuse_stylesheet_warnings(project: Project, job: Job, printed) -> None:
    """Any warning WeasyPrint gives about a stylesheet (a parse error, an unknown property or
    value) is an error of that stylesheet's line, strict or not."""
    for warning in printed.warnings:
        path, line = blame_warning(project, job, printed, warning)
        if path.suffix == ".css" or path.name == render.TEMPLATE:
            raise BuildError(path, warning, line)


def refuse_paper_faults(project: Project, job: Job, printed, personal: Personal | None) -> None:
    """The paper check (see ``paper``): refuse a sheet on which a patient would not see every
    word, or the clinic's numbers on page 1. Blamed on the rule that causes it where one can be
    found, else on the content's line; with personal fields, on what was typed in."""
    from . import paper

    faults = paper.inspect(printed.document, printed.data, expected_on_paper(project, job))
    if not faults:
        return
    first, more = faults[0], len(faults) - 1
    others = f" (and {more} more fault{'s' * (more > 1)} of this sheet)" if more else ""
    if personal:
        raise PersonalFieldError(f"{_longest_field(personal)}: with what was typed in, the sheet no "
                                 f"longer prints as it must: {first.message}; shorten it")
    path, line, rule = blame_fault(project, job, printed, first)
    raise BuildError(path, f"paper check: {first.message}{rule}{others}", line)


def _longest_field(personal: Personal) -> str:
    return max(PERSONAL_LIMITS, key=lambda name: len(getattr(personal, name, "")))


def expected_on_paper(project: Project, job: Job):
    """What the paper check must find on this job's sheet."""
    from . import paper

    limits = project.config.thresholds
    return paper.Expected(lines=mandatory_lines(project, job.handout.lang),
                          paper_size=PAPER_POINTS[job.paper],
                          min_text=limits.size_for(limits.smallest_text, job.edition),
                          min_number=limits.size_for(limits.number_size, job.edition))


#: Each mandatory line: the template string that holds it, its placeholder, what it is called.
MANDATORY = (("call_us", "phone", "the clinic's phone number"),
             ("emergency", "number", "the emergency line"),
             ("crisis", "number", "the crisis line"))


def mandatory_lines(project: Project, lang: str):
    """The sentences with the clinic's numbers that page 1 must show, as the language's
    template strings write them. A string that does not hold its number's placeholder (a
    number typed in by hand goes stale) is an error at its line."""
    from . import paper

    strings = render.template_strings(project.root, lang)
    path = project.root / "templates" / "strings" / f"{lang}.toml"
    clinic, emergency = project.config.clinic, project.config.emergency
    numbers = {"call_us": clinic.phone, "emergency": emergency.emergency, "crisis": emergency.crisis}
    lines = []
    for key, placeholder, name in MANDATORY:
        template = strings.get(key)
        if not isinstance(template, str) or f"{{{placeholder}}}" not in template:
            raise ConfigError(path, f"{key}: expected a sentence holding {{{placeholder}}}, where "
                                    f"{name} from handouts.toml goes, found "
                                    f"{sandbox.excerpt(repr(template), 60)}", _key_line(path, key))
        sentence = template.replace(f"{{{placeholder}}}", numbers[key])
        if typography.direction(lang) == "rtl":
            # PDFium reads a right-to-left line in the order it is drawn, not as written: the
            # page is searched for the number itself (still whole, large enough, unhidden).
            sentence = numbers[key]
        lines.append(paper.Line(name, sentence, numbers[key]))
    return tuple(lines)


def _key_line(path: Path, key: str) -> int | None:
    try:
        text = sandbox.read_file(path.parent, path, 1024 * 1024).decode("utf-8", "replace")
    except sandbox.UnreadableFile:
        return None
    return line_of(text, re.escape(key))


def blame_fault(project: Project, job: Job, printed, fault) -> tuple[Path, int | None, str]:
    """(file, line, the rule in words) behind a paper fault: the stylesheet rule that gives the
    element (or its nearest ancestor) the look that hides it, else the content line."""
    from . import stylesheets

    document = printed.document
    cascade = stylesheets.Cascade(printed.stylesheets, document.pages[0]._page_box.children[0].element)
    element_properties = [name for name in fault.properties if not name.startswith("@page ")]
    declaration = cascade.rule_behind(fault.element, element_properties, fault.pseudo)
    for name in fault.properties:
        if not declaration and name.startswith("@page ") and (rules := cascade.page_rules(name[6:])):
            declaration = rules[-1]  # the last one in the cascade wins
    if declaration:
        return (project.root / declaration.path, declaration.line,
                f" (the rule {declaration.selector} {{ {declaration.name}: {declaration.value} }})")
    if line := job.handout.line_of(fault.text.split()[0] if fault.text.split() else "\0"):
        return job.handout.path, line, ""
    return job.handout.path, None, ""


def blame(project: Project, job: Job, printed, needle: str) -> tuple[Path, int | None]:
    """The file and line that wrote ``needle``: the content, a stylesheet, or a template."""
    if line := job.handout.line_of(needle):
        return job.handout.path, line
    for relative, css in printed.stylesheets:
        if (position := _line_in(css.decode("utf-8", "replace"), needle)) is not None:
            return project.root / relative, position
    for template in sorted((project.root / "templates").rglob("*.html")):
        try:
            text = sandbox.read_file(project.root, template, 1024 * 1024).decode("utf-8", "replace")
        except sandbox.UnreadableFile:
            continue
        if (position := _line_in(text, needle)) is not None:
            return template, position
    return job.handout.path, None


def blame_warning(project: Project, job: Job, printed, warning: str) -> tuple[Path, int | None]:
    """A CSS warning ('Ignored ... at 3:14') belongs to the stylesheet that gives it alone;
    one from the template's own <style> to the template; anything else to the content."""
    from . import pdf

    position = re.search(r" at (\d+):\d+", warning)
    if position:
        for relative, css in printed.stylesheets:
            if warning in pdf.stylesheet_warnings(project.root, relative, css):
                return project.root / relative, int(position[1])
        return project.root / "templates" / render.TEMPLATE, None
    if url := re.search(r"(?:file|https?)://\S+|[\w./-]+\.(?:ttf|otf|woff2?|css)\b", warning):
        return blame(project, job, printed, url[0].rsplit("/", 1)[-1].rstrip(".,'\""))
    return job.handout.path, None


def _line_in(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return None if index < 0 else text.count("\n", 0, index) + 1


# --- build: every selected sheet into the output folder ------------------------------------

@dataclass(frozen=True)
class Result:
    job: Job
    seconds: float
    entry: dict | None = None  # the manifest entry, when the PDF is there
    error: InputError | None = None
    warnings: tuple[InputError, ...] = ()  # not errors unless strict, but each at its file
    machine_notes: tuple[str, ...] = ()
    up_to_date: bool = False  # nothing changed since the last build: not printed again


@dataclass
class BuildReport:
    out: Path
    results: list[Result] = field(default_factory=list)
    content_errors: list[InputError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # the output folder had to be mended
    removed: list[tuple[str, Path]] = field(default_factory=list)  # (PDF path, its gone content file)
    seconds: float = 0.0

    @property
    def errors(self) -> list[InputError]:
        return self.content_errors + [r.error for r in self.results if r.error]


def build(project: Project, selection=(), out: Path = Path("dist"), *, paper: str | None = None,
          editions=None, languages=None, strict: bool = False, force: bool = False, jobs: int = 1,
          on_result=None, on_wait=None) -> BuildReport:
    """Build every selected handout in every language and edition; write PDFs and the manifest.
    A build of everything (no sheet, language or edition named) also removes the PDFs of
    sheets whose content file is gone.

    ``jobs`` processes print at once; the bytes are the same whatever their number."""
    started = time.perf_counter()
    report = BuildReport(out=Path(out))
    handouts, report.content_errors = load_selection(project, selection, languages)
    planned = plan(handouts, paper or project.config.paper, editions or project.config.editions,
                   project.config.bilingual)
    with output.opened(report.out, project.release, on_wait) as folder:
        report.notes = folder.notes
        if not (selection or languages or editions):
            report.removed = remove_gone(project, folder)
        inputs = Inputs(project)
        keys = {job.path: inputs.key(job, strict) for job in planned}
        fresh = {job.path for job in planned
                 if not force and inputs.up_to_date(folder, job, keys[job.path])}
        printed = printing(project, [job for job in planned if job.path not in fresh], strict, jobs)
        for job in planned:
            if job.path in fresh:
                result = Result(job, 0.0, entry=folder.entries[job.path], up_to_date=True)
            else:
                result = write(folder, *next(printed), {"key": keys[job.path],
                                                        "source": inputs.source(job.handout)})
            report.results.append(result)
            if on_result:
                on_result(result)
        folder.finish()
    report.seconds = time.perf_counter() - started
    return report


def remove_gone(project: Project, folder: output.OutputFolder) -> list[tuple[str, Path]]:
    """Remove every PDF whose content file no longer exists (for a bilingual sheet, either of
    its two). A content file that exists but does not load is an error of its own, and keeps
    its PDF."""
    gone = [(path, project.root / source) for path, source in sorted(folder.sources().items())
            if sandbox.file_kind(project.root / source) == "nothing"]
    for path, entry in sorted(folder.entries.items()):
        for lang in entry.get("languages", [])[1:]:
            translation = project.content_dir / str(lang) / f"{entry.get('handout')}.md"
            if path not in dict(gone) and sandbox.file_kind(translation) == "nothing":
                gone.append((path, translation))
    folder.remove_pdfs([path for path, _source in gone])
    return gone


def printing(project: Project, jobs: list[Job], strict: bool, count: int):
    """(job, Sheet or InputError, warnings, seconds) for each job, in order, printed by up to
    ``count`` bounded workers at once."""
    from concurrent.futures import ThreadPoolExecutor

    count = max(1, min(count, len(jobs)))
    workers.reserve(count, project.config.print_megabytes)
    with ThreadPoolExecutor(count) as threads:
        for future in [threads.submit(_print_for_build_bounded, project, job, strict) for job in jobs]:
            yield future.result()


def _print_for_build_bounded(project: Project, job: Job, strict: bool):
    started = time.perf_counter()
    try:
        return workers.call(limits_of(project), print_for_build, project, job, strict)
    except workers.Stopped as stopped:
        return job, stopped_error(job, stopped), (), time.perf_counter() - started


def print_for_build(project: Project, job: Job, strict: bool):
    """The gate for the build: errors and warnings as values, each blamed on its own file."""
    started = time.perf_counter()
    try:
        sheet = print_sheet(project, job, strict=strict)
    except InputError as error:
        return job, error, (), time.perf_counter() - started
    warnings = []
    for warning in sheet.warnings:
        path, line = blame_warning(project, job, sheet, warning)
        warnings.append(BuildError(path, f"warning: {warning}", line))
    # Only what the build writes crosses back from a worker: bytes, counts and hashes.
    sheet = dataclasses.replace(sheet, document=None, stylesheets=())
    return job, sheet, tuple(warnings), time.perf_counter() - started


def write(folder: output.OutputFolder, job: Job, sheet, warnings, seconds: float, cached: dict) -> Result:
    """Write one printed sheet into the folder; a print or write error becomes the result's.
    ``cached`` is what the cache keeps of it besides the files it used."""
    if isinstance(sheet, InputError):
        return Result(job, seconds, error=sheet)
    try:
        # Its entry is forgotten just before its PDF is replaced, not before the build prints:
        # a build stopped at any moment leaves every other entry, each true to its file.
        folder.forget([job.path])
        folder.write_pdf(job.path, sheet.data, manifest_entry(sheet), {**cached, "used": dict(sheet.used)})
    except output.OutputError as error:
        return Result(job, seconds, error=error)
    except OSError as error:  # this PDF could not be written; the others may still be
        return Result(job, seconds, error=BuildError(folder.path / job.path,
                                                     f"could not write: {output.reason(error)}"))
    return Result(job, seconds, entry=folder.entries[job.path], warnings=warnings,
                  machine_notes=sheet.machine_notes)


def write_html(project: Project, selection=(), out: Path = Path("dist/html"), *, paper=None,
               editions=None, languages=None) -> BuildReport:
    """Each selected sheet's HTML, as WeasyPrint prints it, into ``out``. A ``<base>`` names
    the project's folder, so that a bare WeasyPrint prints the file as it is."""
    report = BuildReport(out=Path(out))
    handouts, report.content_errors = load_selection(project, selection, languages)
    base = f'<base href="{Path(project.root).resolve().as_uri()}/">'
    for job in plan(handouts, paper or project.config.paper, editions or project.config.editions,
                    project.config.bilingual):
        started = time.perf_counter()
        try:
            html = render.render_html(project, job.handout, job.edition, job.paper, None, job.translation)
            target = report.out / (job.path.removesuffix(".pdf") + ".html")
            output.write_atomically(target, html.replace("<head>", f"<head>\n  {base}", 1).encode())
        except InputError as error:
            report.results.append(Result(job, time.perf_counter() - started, error=error))
            continue
        except OSError as error:
            raise output.OutputError(f"{display_path(report.out)}: could not write: "
                                     f"{output.reason(error)}") from None
        report.results.append(Result(job, time.perf_counter() - started,
                                     entry={"path": str(target.relative_to(report.out)), "pages": 0}))
    return report


def load_selection(project: Project, selection, languages=None) -> tuple[list[Handout], list[InputError]]:
    """The selected handouts (all when none is named) and the errors of their files."""
    handouts, errors = content.load_all(project.content_dir, languages or project.config.languages)
    if not selection:
        return handouts, errors
    known = sorted({h.slug for h in handouts} | {e.path.stem for e in errors})
    for slug in selection:
        if slug not in known:
            raise UnknownSheet(unknown_name("handout", sandbox.excerpt(slug, 40), known))
    return ([h for h in handouts if h.slug in selection],
            [e for e in errors if e.path.stem in selection])


def draft_error(project: Project, handout: Handout) -> ContentError:
    reviewer = content.reviewer_of(handout.lang, project.config.source_language)
    return ContentError(handout.path, f"status is draft; a release takes only approved sheets (once "
                                      f"{reviewer} has reviewed it, set status: approved)",
                        handout.key_lines.get("status"))


def plan(handouts: list[Handout], paper: str, editions, pair=(), others=()) -> list[Job]:
    """Every PDF to make: each handout in each edition, on one paper. The bilingual edition
    is made of each sheet of the pair's original language whose translation into the pair's
    other language is among ``handouts`` or ``others``; of no other sheet."""
    translations = {h.slug: h for h in [*handouts, *others] if pair and h.lang == pair[1]}
    jobs = []
    for handout in handouts:
        for edition in editions:
            if edition != BILINGUAL:
                jobs.append(Job(handout, edition, paper))
            elif pair and handout.lang == pair[0] and handout.slug in translations:
                jobs.append(Job(handout, edition, paper, translations[handout.slug]))
    return jobs


def manifest_entry(sheet: Sheet) -> dict:
    job, handout = sheet.job, sheet.job.handout
    return {"path": job.path, "handout": handout.slug, "lang": handout.lang,
            "edition": job.edition, "paper": job.paper, "version": handout.version,
            "status": job.status, "pages": sheet.pages, "bytes": len(sheet.data),
            "sha256": hashlib.sha256(sheet.data).hexdigest(),
            **({"languages": [handout.lang, job.translation.lang]} if job.translation else {})}


class Inputs:
    """Hashes of the files PDFs are made from, each file read at most once per build.

    A job's key covers what decides its HTML (its content file, every template, handouts.toml,
    the code and WeasyPrint's version, strict); the files the print itself loaded (stylesheets,
    fonts, images, under content/ too) are recorded at the build and checked one by one."""

    def __init__(self, project: Project):
        self.project = project
        self.digests: dict[str, str | None] = {}
        templates = sorted(p.relative_to(project.root).as_posix()
                           for p in (project.root / "templates").rglob("*") if p.is_file())
        # Icons and the logo go into the HTML as data: URLs (handouts/icons.py): never loaded by the
        # print, so they are inputs of every sheet.
        drawn = sorted(p.relative_to(project.root).as_posix()
                       for p in (project.root / icons.ICON_DIR).glob("*.svg"))
        self.shared = hashlib.sha256("\n".join(
            f"{path} {self.digest(path)}"
            for path in [CONFIG_FILE, *templates, *drawn, project.config.clinic.logo]).encode()).hexdigest()

    def digest(self, relative: str) -> str | None:
        if relative not in self.digests:
            try:
                data = sandbox.read_file(self.project.root, self.project.root / relative)
                self.digests[relative] = hashlib.sha256(data).hexdigest()
            except sandbox.UnreadableFile:
                self.digests[relative] = None
        return self.digests[relative]

    def source(self, handout: Handout) -> str:
        """The handout's content file, as the project names it (content/en/x.md)."""
        return handout.path.absolute().relative_to(self.project.root.absolute()).as_posix()

    def key(self, job: Job, strict: bool) -> str:
        sources = [self.source(h) for h in (job.handout, job.translation) if h]
        inputs = "\n".join(f"{source} {self.digest(source)}" for source in sources)
        return hashlib.sha256(f"{code_version()}\n{strict}\n{job.path}\n{job.paper}\n{self.shared}\n"
                              f"{inputs}".encode()).hexdigest()

    def up_to_date(self, folder: output.OutputFolder, job: Job, key: str) -> bool:
        cached = folder.cache.get(job.path)
        return (job.path in folder.entries and cached is not None and cached["key"] == key
                and all(self.digest(path) == digest for path, digest in cached["used"].items()))


@functools.cache
def code_version() -> str:
    """WeasyPrint's version and a hash of this package's source: new code prints anew.
    Read from package metadata, so that deciding costs no import of WeasyPrint."""
    source = hashlib.sha256(importlib.metadata.version("weasyprint").encode())
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        source.update(path.read_bytes())
    return source.hexdigest()
