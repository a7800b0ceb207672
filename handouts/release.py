"""A release: every sheet printed anew into ``<out>/release/<version>/``, versioned and checked.

The folder holds every PDF with the project's version in its name, one patient packet per
language and edition (the sheets of ``[release] packet`` in handouts.toml, joined), the
manifest and a ``SHA256SUMS`` file that ``sha256sum -c`` accepts. A release refuses drafts
unless asked (their draft band stays on), and refuses a version that CHANGELOG.md does not
describe. It is written beside its final place and renamed into it, so a folder under that
name is always a whole release; two release builds of one commit are byte-identical.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from . import output, packets, pipeline, render
from .config import Project
from .errors import ConfigError, InputError, display_path

CHANGELOG = "CHANGELOG.md"


@dataclass
class ReleaseReport:
    folder: Path
    files: list[dict] = field(default_factory=list)  # manifest entries, packets included
    errors: list[InputError] = field(default_factory=list)


def release(project: Project, out: Path, *, allow_drafts: bool = False, strict: bool = True,
            languages=None, editions=None, paper: str | None = None, jobs: int = 1,
            on_result=None) -> ReleaseReport:
    """Print every sheet into the versioned release folder; nothing is written on any error."""
    version = project.release
    report = ReleaseReport(Path(out) / "release" / version)
    check_changelog(project.root, version)
    handouts, report.errors = pipeline.load_selection(project, (), languages)
    if not allow_drafts:
        report.errors += [pipeline.draft_error(project, h) for h in handouts if h.is_draft]
    if report.errors:
        return report
    jobs_planned = pipeline.plan(handouts, paper or project.config.paper,
                                 editions or project.config.editions)
    printed = {}
    for job, sheet, _warnings, _seconds in pipeline.printing(project, jobs_planned, strict, jobs):
        if isinstance(sheet, InputError):
            report.errors.append(sheet)
        else:
            printed[job.path] = sheet
        if on_result:
            on_result(job, sheet)
    if report.errors:
        return report
    files = {versioned(path, version): sheet.data for path, sheet in printed.items()}
    report.files = [{**pipeline.manifest_entry(sheet), "path": versioned(path, version)}
                    for path, sheet in printed.items()]
    for path, data, entry in packets_of(project, printed, version):
        files[path] = data
        report.files.append(entry)
    write_folder(report.folder, version, files, report.files)
    return report


def check_changelog(root: Path, version: str) -> None:
    """A release is described in CHANGELOG.md under a heading such as ``## [1.1.0] - 2026-12-01``."""
    path = root / CHANGELOG
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise ConfigError(path, f"expected a changelog with an entry for version {version}, "
                                f"found no readable {CHANGELOG}") from None
    if not re.search(rf"^##\s*\[?{re.escape(version)}\]?(\s|$)", text, re.MULTILINE):
        raise ConfigError(path, f"expected an entry for version {version} (a heading such as "
                                f"'## [{version}] - YYYY-MM-DD'), found none; describe the release "
                                f"before building it")


def versioned(path: str, version: str) -> str:
    """``en/ketamine-aftercare.pdf`` -> ``en/ketamine-aftercare-1.1.0.pdf``."""
    return f"{path.removesuffix('.pdf')}-{version}.pdf"


def packets_of(project: Project, printed: dict, version: str):
    """(path, bytes, manifest entry) of each language's and edition's patient packet."""
    slugs = project.config.packet
    groups: dict[tuple[str, str], list] = {}
    for sheet in printed.values():
        groups.setdefault((sheet.job.handout.lang, sheet.job.edition), []).append(sheet)
    for (lang, edition), sheets in sorted(groups.items()):
        by_slug = {sheet.job.handout.slug: sheet for sheet in sheets}
        if not slugs or any(slug not in by_slug for slug in slugs):
            continue
        members = [by_slug[slug] for slug in slugs]
        words = render.template_strings(project.root, lang)
        title = words["packet"].format(title=members[0].job.handout.title)
        data = packets.join([sheet.data for sheet in members], title)
        suffix = "" if edition == "standard" else f"-{edition}"
        path = f"{lang}/patient-packet{suffix}-{version}.pdf"
        yield path, data, {
            "path": path, "handout": "patient-packet", "lang": lang, "edition": edition,
            "paper": members[0].job.paper, "sheets": [f"{s.job.handout.slug} {s.job.handout.version}"
                                                      for s in members],
            "status": "draft" if any(s.job.handout.is_draft for s in members) else "approved",
            "pages": sum(sheet.pages for sheet in members), "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}


def write_folder(folder: Path, version: str, files: dict[str, bytes], entries: list[dict]) -> None:
    """Write the whole release beside its place, then rename it in: never half a release."""
    partial = folder.with_name(f".{folder.name}.partial")
    try:
        shutil.rmtree(partial, ignore_errors=True)
        for path, data in sorted(files.items()):
            output.write_atomically(partial / path, data)
        manifest = {"release": version, "files": sorted(entries, key=lambda e: e["path"])}
        output.write_atomically(partial / output.MANIFEST,
                                (json.dumps(manifest, indent=2) + "\n").encode())
        sums = "".join(f"{hashlib.sha256(data).hexdigest()}  {path}\n"
                       for path, data in sorted(files.items()))
        output.write_atomically(partial / "SHA256SUMS", sums.encode())
        if folder.exists():
            shutil.rmtree(folder)
        partial.rename(folder)
    except OSError as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise output.OutputError(f"{display_path(folder)}: could not write the release: "
                                 f"{output.reason(error)}") from None
