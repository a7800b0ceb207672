"""A release: every approved sheet printed into ``<out>/release/<version>/``, once and for good.

The folder holds every PDF with the project's version in its name, one patient packet per
language and edition (the sheets of ``[release] packet`` in handouts.toml, joined), the
manifest and a ``SHA256SUMS`` file that ``sha256sum -c`` accepts. What it holds is decided by
the project alone: every approved sheet in every configured language and edition, on the
configured paper (drafts are left out and named, unless asked for: their draft band stays on).

A published release never changes, so that a printed sheet always matches the release of its
number: releasing a version again with other bytes is refused, with the same bytes it is a
no-op. A sheet whose words changed since the previous release needs a new sheet version, so
that the version printed on a sheet always identifies its words.

Crash safety: the release is written into a hidden folder beside its place and appears with one
rename, under a lock on the releases folder; nothing published is ever rewritten or deleted,
and the leftovers of an interrupted release are removed by the next one.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from . import output, packets, pipeline, render
from .config import Project
from .content import Handout
from .errors import ConfigError, ContentError, HandoutsError, InputError, display_path

CHANGELOG = "CHANGELOG.md"
CHECKSUMS = "SHA256SUMS"
PARTIAL = ".partial"  # suffix of a release being written: ``.1.2.0.partial``


class ReleaseError(HandoutsError):
    """The release cannot be published: it would change a published one, or cannot be written."""


@dataclass
class ReleaseReport:
    folder: Path
    files: list[dict] = field(default_factory=list)  # manifest entries, packets included
    errors: list[InputError] = field(default_factory=list)
    left_out: list[InputError] = field(default_factory=list)  # drafts, each at its status: line
    already_published: bool = False  # the same bytes were published before: nothing written


def release(project: Project, out: Path, *, allow_drafts: bool = False, strict: bool = True,
            jobs: int = 1, on_result=None, on_wait=None) -> ReleaseReport:
    """Print every approved sheet and publish the release folder; nothing is written on any error."""
    version = project.release
    releases = Path(out) / "release"
    report = ReleaseReport(releases / version)
    check_changelog(project.root, version)
    handouts, report.errors = pipeline.load_selection(project, ())
    if not allow_drafts:
        report.left_out = [pipeline.draft_error(project, h) for h in handouts if h.is_draft]
        handouts = [h for h in handouts if not h.is_draft]
    report.errors += unversioned_changes(handouts, releases, version)
    if report.errors:
        return report
    jobs_planned = pipeline.plan(handouts, project.config.paper, project.config.editions,
                                 project.config.bilingual)
    if not jobs_planned:  # a bilingual sheet needs both its languages approved
        raise ReleaseError(f"{display_path(report.folder)}: expected approved sheets to release, "
                           f"found only drafts")
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
    report.files = [{**pipeline.manifest_entry(sheet), "path": versioned(path, version),
                     "source": source_of(sheet.job.handout)} for path, sheet in printed.items()]
    for path, data, entry in packets_of(project, printed, version):
        files[path] = data
        report.files.append(entry)
    files.update(listings(version, files, report.files))
    with locked(releases, on_wait):
        remove_leftovers(releases)
        published = read_published(report.folder)
        if published is None:
            write_folder(report.folder, files)
        else:
            refuse_changes(report.folder, published, files)
            report.already_published = True
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


def source_of(handout: Handout) -> str:
    """The sha256 of the sheet's content file: what its words were when it was released."""
    return hashlib.sha256(handout.path.read_bytes()).hexdigest()


def unversioned_changes(handouts: list[Handout], releases: Path, version: str) -> list[ContentError]:
    """A sheet whose words changed since the previous release but whose version did not."""
    previous = previous_release(releases, version)
    if previous is None:
        return []
    released = {(entry["handout"], entry["lang"]): entry for entry in manifest_entries(previous)
                if isinstance(entry.get("source"), str)}  # older releases lack the field
    errors = []
    for handout in handouts:
        entry = released.get((handout.slug, handout.lang))
        if entry and entry.get("version") == handout.version and entry["source"] != source_of(handout):
            errors.append(ContentError(
                handout.path, f"the words changed since release {previous.name}, which printed "
                              f"version {handout.version} of this sheet; expected a new version, "
                              f"found {handout.version} again (raise it, so that the version printed "
                              f"on the sheet tells its words apart)", handout.key_lines.get("version")))
    return errors


def previous_release(releases: Path, version: str) -> Path | None:
    """The newest published release folder older than ``version``."""
    try:
        folders = [path for path in releases.iterdir() if not path.name.startswith(".")
                   and (path / output.MANIFEST).is_file()]
    except OSError:
        return None
    older = [path for path in folders if version_key(path.name) < version_key(version)]
    return max(older, key=lambda path: version_key(path.name), default=None)


def version_key(version: str) -> tuple[int, ...]:
    """``1.10.0`` sorts after ``1.9.2``: the numbers of a version, compared as numbers."""
    return tuple(int(number) for number in re.findall(r"\d+", version))


def manifest_entries(folder: Path) -> list[dict]:
    """The entries of a release's manifest (none when it cannot be read)."""
    try:
        files = json.loads((folder / output.MANIFEST).read_bytes()).get("files")
    except (OSError, ValueError, AttributeError):
        return []
    return [entry for entry in files if isinstance(entry, dict)] if isinstance(files, list) else []


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
            "status": "draft" if any(s.job.status == "draft" for s in members) else "approved",
            "pages": sum(sheet.pages for sheet in members), "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            **({"languages": [lang, members[0].job.translation.lang]} if members[0].job.translation else {})}


def listings(version: str, files: dict[str, bytes], entries: list[dict]) -> dict[str, bytes]:
    """The manifest and the checksums of the release's files."""
    manifest = {"release": version, "files": sorted(entries, key=lambda e: e["path"])}
    sums = "".join(f"{hashlib.sha256(data).hexdigest()}  {path}\n" for path, data in sorted(files.items()))
    return {output.MANIFEST: (json.dumps(manifest, indent=2) + "\n").encode(), CHECKSUMS: sums.encode()}


@contextlib.contextmanager
def locked(releases: Path, on_wait=None):
    """flock the releases folder itself, as ``output`` does the output folder: the kernel lets
    go of it when the release ends, however it ends, so no lock file is ever left behind."""
    try:
        releases.mkdir(parents=True, exist_ok=True)
        lock = os.open(releases, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as error:
        raise ReleaseError(f"{display_path(releases)}: cannot open the releases folder: "
                           f"{output.reason(error)}") from None
    try:
        output._acquire(lock, releases, on_wait)  # the output folder's own locking, message and all
        yield
    finally:
        os.close(lock)  # releases the flock


def remove_leftovers(releases: Path) -> None:
    """The hidden folders of interrupted releases: never published, so never anyone's."""
    for leftover in releases.glob(f".*{PARTIAL}"):
        shutil.rmtree(leftover, ignore_errors=True)


def read_published(folder: Path) -> dict[str, bytes] | None:
    """The files of the release published under this name, or None when there is none."""
    if not folder.exists() and not folder.is_symlink():
        return None
    if not folder.is_dir():
        raise ReleaseError(f"{display_path(folder)}: expected a published release folder or "
                           f"nothing, found a file; nothing was written")
    try:
        return {path.relative_to(folder).as_posix(): path.read_bytes()
                for path in folder.rglob("*") if path.is_file()}
    except OSError as error:
        raise ReleaseError(f"{display_path(folder)}: cannot read the published release: "
                           f"{output.reason(error)}") from None


def refuse_changes(folder: Path, published: dict[str, bytes], files: dict[str, bytes]) -> None:
    """The same version must mean the same bytes: say which files would differ, and what to do."""
    differences = ([f"{path} changed" for path in sorted(files.keys() & published.keys())
                    if files[path] != published[path]]
                   + [f"{path} new" for path in sorted(files.keys() - published.keys())]
                   + [f"{path} missing" for path in sorted(published.keys() - files.keys())])
    sheets = [difference for difference in differences if ".pdf " in difference]
    differences = sheets or differences  # the listings change with the sheets: name the sheets
    if differences:
        version = folder.name
        raise ReleaseError(
            f"{display_path(folder)}: release {version} is already published, and this build of it "
            f"differs: {', '.join(differences)}. A published release never changes, so that the "
            f"printed copies match it; nothing was written. Raise the version in pyproject.toml "
            f"(with its section in {CHANGELOG}), and the sheet's own version in its front matter "
            f"where its words changed, then release again.")


def write_folder(folder: Path, files: dict[str, bytes]) -> None:
    """Write the whole release beside its place, then rename it in: never half a release."""
    partial = folder.with_name(f".{folder.name}{PARTIAL}")
    try:
        for path, data in sorted(files.items()):
            output.write_atomically(partial / path, data)
        os.rename(partial, folder)
    except OSError as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise ReleaseError(f"{display_path(folder)}: could not write the release: "
                           f"{output.reason(error)}; nothing was published, earlier releases "
                           f"are unchanged") from None
