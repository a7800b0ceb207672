"""check(project) -> CheckReport: is every handout readable, reviewed, accessible and short enough?

Per handout and language: reading level (of the prose alone), review state, translation state, alt text and the
pages of each edition against their budgets; for the theme: the contrast of every text colour
on its background. Each problem is a Finding at ``path:line`` where there is one; an error
fails the check, a warning does not. Thresholds come from the [check] table of handouts.toml.
Nothing is written and nothing is fetched.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import contrast, pipeline, readability, render
from .config import Project
from .content import Handout, reviewer_of
from .errors import InputError, display_path

ERROR, WARNING = "error", "warning"
#: A last page less full than this is all but empty.
LAST_PAGE_FILL = 0.2
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}


@dataclass(frozen=True)
class Finding:
    level: str  # ERROR or WARNING
    check: str  # content, reading, review, translation, images, pages, contrast
    message: str
    path: Path | None = None
    line: int | None = None

    def __str__(self) -> str:
        location = display_path(self.path) + (f":{self.line}" if self.line else "") if self.path else "styles"
        return f"{location}: {self.level}: {self.message}"

    def to_json(self, root: Path) -> dict:
        return {"level": self.level, "check": self.check, "message": self.message,
                "path": _project_path(self.path, root) if self.path else None, "line": self.line}


@dataclass
class SheetReport:
    """One handout in one language."""

    handout: Handout
    reading: readability.Reading | None = None
    pages: dict[str, tuple[int, int]] = field(default_factory=dict)  # edition -> (pages, budget)
    findings: list[Finding] = field(default_factory=list)


@dataclass
class CheckReport:
    today: date
    project: Project
    sheets: list[SheetReport] = field(default_factory=list)
    contrast: list[tuple[contrast.Pair, str]] = field(default_factory=list)  # (pair, where seen)
    tokens: dict = field(default_factory=dict)  # colour -> where the stylesheets define it
    findings: list[Finding] = field(default_factory=list)  # every finding, sheets' included

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == WARNING]


def check(project: Project, selection=(), today: date | None = None) -> CheckReport:
    """Check the selected handouts (all when none is named) in every language and edition."""
    report = CheckReport(today=today or date.today(), project=project)
    handouts, content_errors = pipeline.load_selection(project, selection)
    report.findings += [_finding_of(error, "content") for error in content_errors]
    colours: dict = {}
    for handout in handouts:
        sheet = check_sheet(project, handout, handouts, report.today, colours)
        report.sheets.append(sheet)
        report.findings += sheet.findings
    languages = project.config.languages
    report.sheets.sort(key=lambda sheet: (sheet.handout.slug, languages.index(sheet.handout.lang)))
    report.contrast = sorted(colours.values(), key=lambda seen: seen[0].ratio)
    every_stylesheet = dict.fromkeys(sheet for edition in project.config.editions
                                     for lang in project.config.languages
                                     for sheet in render.stylesheets(edition, lang))
    report.tokens = contrast.theme_tokens(project.root, tuple(every_stylesheet))
    report.findings += contrast_findings(project, report.contrast, report.tokens)
    return report


def check_sheet(project: Project, handout: Handout, handouts: list[Handout], today: date,
                colours: dict) -> SheetReport:
    sheet = SheetReport(handout)
    sheet.reading = readability.reading_level(handout)
    sheet.findings += reading_findings(project, handout, sheet.reading)
    sheet.findings += review_findings(project, handout, today)
    sheet.findings += translation_findings(project, handout, handouts)
    sheet.findings += [_finding_of(error, "images") for error in render.images_without_alt(handout)]
    sheet.findings += main_message_findings(handout)
    for job in pipeline.plan([handout], project.config.paper, project.config.editions,
                             project.config.bilingual, handouts):
        edition = job.edition
        try:  # the build's own gate: check reports everything the build would refuse
            printed = pipeline.print_bounded(project, job, colours=True)
        except pipeline.PageBudgetError as error:
            sheet.pages[edition] = (error.pages, job.page_budget)
            sheet.findings.append(Finding(ERROR, "pages", f"the {edition} edition {job.over_budget(error.pages)}",
                                          error.path, error.line))
            continue
        except InputError as error:
            if not any(f.message == error.detail and f.path == error.path for f in sheet.findings):
                sheet.findings.append(_finding_of(error, "content"))
            continue
        sheet.pages[edition] = (printed.pages, job.page_budget)
        if printed.pages > 1 and printed.last_page_fill < LAST_PAGE_FILL:
            sheet.findings.append(Finding(WARNING, "pages", f"the last page of the {edition} edition "
                                                            f"is only {printed.last_page_fill:.0%} full: "
                                                            f"a reader may take the page before it for "
                                                            f"the end (shorten the sheet, or give it room)",
                                          handout.path))
        for warning in printed.warnings:
            path, line = pipeline.blame_warning(project, job, printed, warning)
            sheet.findings.append(Finding(WARNING, "print", warning, path, line))
        for pair in printed.colours:
            colours.setdefault((pair.text, pair.background), (pair, job.path))
    return sheet


def main_message_findings(handout: Handout) -> list[Finding]:
    """Every sheet leads with one main message: what the patient must do or know."""
    if handout.main_message:
        return []
    return [Finding(ERROR, "content", "front matter has no main_message; expected one or two short "
                                      "sentences saying what the patient must do or know, printed "
                                      "first on the sheet", handout.path, 1)]


def reading_findings(project: Project, handout: Handout, reading) -> list[Finding]:
    if reading is None:
        return []
    limits = project.config.thresholds
    measure = reading.measure
    if measure.higher_is_easier:
        fail, warn = reading.score < limits.ease_fail, reading.score < limits.ease_warn
        expected = f"{limits.ease_fail:g} or above (aim for {limits.ease_warn:g} or above)"
    else:
        fail, warn = reading.score > limits.grade_fail, reading.score > limits.grade_warn
        expected = f"{limits.grade_fail:g} or below (aim for {limits.grade_warn:g} or below)"
    if not warn:
        return []
    message = (f"reads at {measure.name} {reading.score:.1f}; expected {expected}. Hardest sentence "
               f"({reading.hardest_score:.1f}): \"{_shortened(reading.hardest_sentence)}\"")
    return [Finding(ERROR if fail else WARNING, "reading", message, handout.path,
                    reading.hardest_line)]


def review_findings(project: Project, handout: Handout, today: date) -> list[Finding]:
    findings = []
    lines = handout.key_lines
    reviewer = reviewer_of(handout.lang, project.config.source_language)
    if handout.is_draft:
        findings.append(Finding(WARNING, "review", f"draft: not reviewed for patient use; once "
                                                   f"{reviewer} has reviewed it, set status: approved "
                                                   f"and reviewed_by", handout.path, lines.get("status")))
    elif not handout.reviewed_by:
        findings.append(Finding(WARNING, "review", f"approved, but reviewed_by does not say who "
                                                   f"reviewed it (expected the name of {reviewer})",
                                handout.path, lines.get("status")))
    if handout.review_due is None:
        if handout.reviewed_by:
            findings.append(Finding(WARNING, "review", "no review_due: expected the date of the "
                                                       "next review", handout.path, lines.get("reviewed_by")))
        return findings
    days = (handout.review_due - today).days
    if days < 0:
        findings.append(Finding(ERROR, "review", f"review was due on {handout.review_due} "
                                                 f"({-days} day{'s' * (days != -1)} ago); review the "
                                                 f"sheet, then set the next review_due",
                                handout.path, lines.get("review_due")))
    elif days <= project.config.thresholds.review_warn_days:
        findings.append(Finding(WARNING, "review", f"review is due on {handout.review_due}, in "
                                                   f"{days} day{'s' * (days != 1)}",
                                handout.path, lines.get("review_due")))
    return findings


def translation_findings(project: Project, handout: Handout, handouts: list[Handout]) -> list[Finding]:
    """A translation needs its original; an original says which translations it lacks."""
    source = project.config.source_language
    versions = {(h.slug, h.lang): h for h in handouts}
    original_path = project.content_dir / source / f"{handout.slug}.md"
    if handout.lang != source:
        original = versions.get((handout.slug, source))
        if original is None and not original_path.is_file():
            return [Finding(ERROR, "translation", f"a translation without its original: expected "
                                                  f"content/{source}/{handout.slug}.md (a translation "
                                                  f"keeps the file name of the sheet it translates)",
                            handout.path)]
        if original and original.version != handout.version:
            return [Finding(WARNING, "translation", f"translates version {handout.version}, but the "
                                                    f"original is at version {original.version}",
                            handout.path, handout.key_lines.get("version"))]
        return []
    missing = [lang for lang in project.config.languages[1:]
               if (handout.slug, lang) not in versions
               and not (project.content_dir / lang / f"{handout.slug}.md").is_file()]
    return [Finding(WARNING, "translation", f"no {LANGUAGE_NAMES.get(lang, lang)} version yet "
                                            f"(content/{lang}/{handout.slug}.md)", handout.path)
            for lang in missing]


def contrast_findings(project: Project, seen: list[tuple[contrast.Pair, str]],
                      tokens: dict) -> list[Finding]:
    """An error at the theme token of every text colour that is too faint on its background."""
    minimum = project.config.thresholds.contrast_min
    findings = []
    for pair, where in seen:
        if pair.ratio >= minimum:
            continue
        text, background = tokens.get(pair.text), tokens.get(pair.background)
        findings.append(Finding(
            ERROR, "contrast",
            f"text {_colour_name(pair.text, text)} on {_colour_name(pair.background, background)} has "
            f"a contrast of {pair.ratio:.2f}:1; expected at least {minimum:g}:1 "
            f"(seen in {where}: \"{pair.sample}\")",
            (text or background).path if (text or background) else None,
            (text or background).line if (text or background) else None))
    return findings


def _colour_name(colour, token) -> str:
    hex_value = contrast.hex_colour(colour)
    return f"{token.name} ({hex_value})" if token else hex_value


def _project_path(path: Path, root: Path) -> str:
    """A path as the project names it (content/en/x.md), wherever the project is."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _finding_of(error: InputError, check_name: str) -> Finding:
    return Finding(ERROR, check_name, error.detail, error.path, error.line)


def scored_parts(reading: readability.Reading) -> str:
    """'scored 41 sentences of prose; left out: 1 table, 2 captions'."""
    left_out = ", ".join(f"{count} {kind}{'s' * (count != 1)}" for kind, count in reading.left_out.items())
    return (f"scored {reading.sentences} sentence{'s' * (reading.sentences != 1)} of prose; "
            f"{f'left out: {left_out}' if left_out else 'nothing left out'}")


def _shortened(sentence: str, limit: int = 90) -> str:
    return sentence if len(sentence) <= limit else sentence[:limit - 3].rstrip() + "..."


def as_text(report: CheckReport, quiet: bool = False) -> list[str]:
    """A table of the sheets, the contrast, then one line per finding and a summary."""
    lines = []
    if not quiet:
        editions = report.project.config.editions
        rows = [("HANDOUT", "LANG", "STATUS", "READING", f"PAGES ({', '.join(editions)})", "RESULT")]
        for sheet in report.sheets:
            reading = sheet.reading
            levels = {finding.level for finding in sheet.findings}
            rows.append((sheet.handout.slug, sheet.handout.lang, sheet.handout.status,
                         f"{reading.measure.name} {reading.score:.1f}" if reading else "not measured for this language",
                         "  ".join(f"{pages}/{budget}" if pages else "-"
                                   for pages, budget in (sheet.pages.get(e, (0, 0)) for e in editions)),
                         "FAIL" if ERROR in levels else "warn" if WARNING in levels else "ok"))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
                  for row in rows]
        measured = [sheet for sheet in report.sheets if sheet.reading]
        if measured:
            lines.append("\nReading level, scored on prose only:")
            width = max(len(f"{sheet.handout.slug} {sheet.handout.lang}") for sheet in measured)
            lines += [f"  {f'{sheet.handout.slug} {sheet.handout.lang}'.ljust(width)}  "
                      f"{scored_parts(sheet.reading)}" for sheet in measured]
        if report.contrast:
            lowest, where = report.contrast[0]
            lines.append(f"\nLowest text contrast: {lowest.ratio:.2f}:1, "
                         f"{_colour_name(lowest.text, report.tokens.get(lowest.text))} on "
                         f"{_colour_name(lowest.background, report.tokens.get(lowest.background))} "
                         f"(at least {report.project.config.thresholds.contrast_min:g}:1 needed)")
        lines.append("")
    findings = sorted(report.findings, key=lambda f: (f.level != ERROR, str(f.path), f.line or 0))
    lines += [str(finding) for finding in findings if not quiet or finding.level == ERROR]
    if not quiet:
        count = len({sheet.handout.slug for sheet in report.sheets})
        lines.append(f"{'' if not findings else chr(10)}Checked {count} handout{'s' * (count != 1)}: "
                     f"{len(report.errors)} error{'s' * (len(report.errors) != 1)}, "
                     f"{len(report.warnings)} warning{'s' * (len(report.warnings) != 1)}.")
    return lines


def as_json(report: CheckReport) -> dict:
    """The report for machines: thresholds, one entry per sheet, every finding."""
    limits = report.project.config.thresholds
    root = report.project.root
    return {
        "ok": not report.errors,
        "today": report.today.isoformat(),
        "thresholds": dict(vars(limits)),
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "handouts": [{
            "handout": sheet.handout.slug,
            "lang": sheet.handout.lang,
            "path": _project_path(sheet.handout.path, root),
            "status": sheet.handout.status,
            "reviewed_by": sheet.handout.reviewed_by or None,
            "review_due": sheet.handout.review_due.isoformat() if sheet.handout.review_due else None,
            "reading": {"measure": sheet.reading.measure.key, "score": round(sheet.reading.score, 2),
                        "hardest_line": sheet.reading.hardest_line,
                        "sentences": sheet.reading.sentences,
                        "left_out": sheet.reading.left_out} if sheet.reading else None,
            "pages": {edition: {"pages": pages, "budget": budget}
                      for edition, (pages, budget) in sheet.pages.items()},
            "result": ("fail" if any(f.level == ERROR for f in sheet.findings)
                       else "warn" if sheet.findings else "ok"),
            "findings": [finding.to_json(root) for finding in sheet.findings],
        } for sheet in report.sheets],
        "contrast": [{"text": contrast.hex_colour(pair.text),
                      "background": contrast.hex_colour(pair.background),
                      "ratio": round(pair.ratio, 2), "seen_in": where, "sample": pair.sample}
                     for pair, where in report.contrast],
        "findings": [finding.to_json(root) for finding in report.findings],
    }
