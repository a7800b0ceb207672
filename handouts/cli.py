"""The ``handouts`` command: thin commands that load the project and call the pipeline."""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import click

from .config import PAPERS, load_project
from .errors import HandoutsError, display_path, unknown_name


@dataclass
class Options:
    root: Path = Path(".")
    verbosity: int = 0  # -1 quiet, 0 normal, 1+ verbose
    shown: set = field(default_factory=set)  # warnings already printed


def _set_verbose(ctx: click.Context, _param, count: int) -> None:
    if count:
        _set_verbosity(ctx, count)


def _set_quiet(ctx: click.Context, _param, quiet: bool) -> None:
    if quiet:
        _set_verbosity(ctx, -1)


def _set_verbosity(ctx: click.Context, verbosity: int) -> None:
    ctx.ensure_object(Options).verbosity = verbosity
    if verbosity > 0:  # WeasyPrint's warnings are reported per handout; -v shows its log too
        logging.basicConfig(level=logging.INFO if verbosity == 1 else logging.DEBUG,
                            format="%(levelname)s %(name)s: %(message)s")


def verbosity_options(command):
    """-v/-q, accepted before the command name and after it alike."""
    command = click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_set_quiet,
                           help="Say only what went wrong.")(command)
    return click.option("-v", "--verbose", count=True, expose_value=False, callback=_set_verbose,
                        help="Say more (repeat for even more).")(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-C", "root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=".", metavar="DIR", help="Work on the project in DIR (default: here).")
@verbosity_options
@click.version_option(package_name="handouts")
@click.pass_context
def main(ctx: click.Context, root: Path) -> None:
    """Print the clinic's patient handouts as PDF files."""
    ctx.ensure_object(Options).root = root


@main.command()
@click.argument("slugs", nargs=-1, metavar="[SLUG]...")
@click.option("--out", type=click.Path(path_type=Path), default=Path("dist"),
              show_default=True, help="Folder for the PDFs and manifest.json (relative to the project).")
@click.option("--paper", metavar="|".join(PAPERS), help=f"Paper size: {' or '.join(PAPERS)} (default from handouts.toml).")
@click.option("--edition", "editions", multiple=True, metavar="EDITION",
              help="Build only this edition, such as large-print (repeatable).")
@click.option("--lang", "languages", multiple=True, metavar="LANG",
              help="Build only this language, such as es (repeatable).")
@click.option("--release", is_flag=True,
              help="Publish every approved sheet into OUT/release/VERSION/, once (drafts left out).")
@click.option("--allow-drafts", is_flag=True, help="Let a release take draft sheets (they keep their band).")
@click.option("--strict", is_flag=True, help="Treat every warning as an error (CI builds strict).")
@click.option("--force", is_flag=True, help="Print every PDF again, even when nothing changed.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), envvar="HANDOUTS_JOBS",
              default=os.cpu_count() or 1, show_default="CPUs, or $HANDOUTS_JOBS",
              help="Print this many PDFs at once.")
@click.option("--html", "html_dir", type=click.Path(path_type=Path), metavar="DIR",
              help="Write each sheet's HTML into DIR instead of printing PDFs.")
@verbosity_options
@click.pass_obj
def build(options: Options, slugs, out, paper, editions, languages, release, allow_drafts, strict,
          force, jobs, html_dir) -> None:
    """Build every handout (or the SLUGs named) in every language and edition."""
    if release:
        _refuse_narrowing(slugs=slugs, languages=languages, editions=editions, paper=paper)
    project = load_project(options.root)
    out = out if out.is_absolute() else options.root / out
    if not html_dir and (force or release or not _probably_up_to_date(options.root, out)):
        from . import workers  # the printing worker starts while the content is read
        workers.warm_up(project.config.print_megabytes)
    from . import pipeline

    if paper and paper not in PAPERS:
        raise HandoutsError(f"--paper: {unknown_name('paper', paper, PAPERS)}")
    for edition in editions:
        if edition not in project.config.editions:
            raise HandoutsError(f"--edition: {unknown_name('edition', edition, project.config.editions)}")
    for lang in languages:
        if lang not in project.config.languages:
            raise HandoutsError(f"--lang: {unknown_name('language', lang, project.config.languages)}")
    say = _sayer(options)
    if html_dir:
        report = pipeline.write_html(project, slugs, html_dir, paper=paper, editions=editions or None,
                                     languages=languages or None)
        for error in report.errors:
            click.echo(error.message, err=True)
        say(f"{sum(1 for r in report.results if not r.error)} HTML files in {display_path(html_dir)}/")
        raise SystemExit(1 if report.errors else 0)
    if release:
        _release(options, project, out, allow_drafts, strict, jobs)
        return
    kind = "strict" if strict else ""
    say(f"Building into {display_path(out)}/ ({paper or project.config.paper} paper{', ' + kind if kind else ''})")
    report = pipeline.build(project, slugs, out, paper=paper, editions=editions or None,
                            languages=languages or None, strict=strict,
                            force=force, jobs=jobs, on_result=lambda r: _show_result(options, r),
                            on_wait=lambda message: click.echo(message, err=True))
    for note in report.notes:
        click.echo(f"warning: {note}", err=True)
    for path, source in report.removed:
        say(f"  removed     {path}: {display_path(source)} is gone")
    for error in report.content_errors:
        click.echo(error.message, err=True)
    for note in sorted({note for result in report.results for note in result.machine_notes}):
        click.echo(f"note: {note}", err=True)
    if not report.results and not report.errors:
        say(f"No handouts found in {', '.join(f'content/{lang}/' for lang in project.config.languages)}")
    built = sum(1 for r in report.results if not r.error)
    failed = len(report.errors)
    if report.results and all(r.up_to_date for r in report.results) and not failed and not report.removed:
        say(f"Nothing changed: {built} PDF{'s' * (built != 1)} up to date, nothing written.")
        return
    removed = f", {len(report.removed)} removed" if report.removed else ""
    say(f"{built} PDF{'s' * (built != 1)} ready, {failed} failed{removed}, in {report.seconds:.1f} s. "
        f"Manifest: {display_path(out / pipeline.MANIFEST)}")
    if failed:
        raise SystemExit(1)


def _probably_up_to_date(root: Path, out: Path) -> bool:
    """Whether no input is newer than the last build's cache, by the files' times: then the
    build most likely prints nothing, and starting a worker (WeasyPrint's import) is skipped.
    Only a guess to save that second: the build still compares every input's contents, and
    starts a worker if one is needed after all."""
    from .config import input_paths
    from .output import CACHE

    try:
        built = (out / CACHE).stat().st_mtime
        return all(path.stat().st_mtime < built for top in input_paths(root) for path in _and_below(top))
    except OSError:
        return False


def _and_below(path: Path):
    yield path
    if path.is_dir():
        yield from path.rglob("*")


def _refuse_narrowing(**given) -> None:
    """What a release holds is the project's to say: no option may make one version two releases."""
    named = {"slugs": "SLUG arguments", "languages": "--lang", "editions": "--edition",
             "paper": "--paper"}
    narrowing = [named[key] for key, value in given.items() if value]
    if narrowing:
        raise click.UsageError(f"--release takes every approved sheet in every language and edition "
                               f"of handouts.toml, on its paper; leave out {', '.join(narrowing)} "
                               f"(to release less, change handouts.toml)")


def _release(options: Options, project, out, allow_drafts, strict, jobs):
    from . import release

    say = _sayer(options)
    say(f"Building release {project.release} into {display_path(out / 'release' / project.release)}/")
    report = release.release(project, out, allow_drafts=allow_drafts, strict=strict, jobs=jobs,
                             on_result=lambda job, sheet: None if isinstance(sheet, Exception)
                             else say(f"  ok          {job.path}"),
                             on_wait=lambda message: click.echo(message, err=True))
    if report.left_out:
        click.echo(f"Left out of the release: {len(report.left_out)} draft"
                   f"{'s' * (len(report.left_out) != 1)} (--allow-drafts takes them, draft band "
                   f"and all):", err=True)
    for error in report.left_out + report.errors:
        click.echo(error.message, err=True)
    if report.errors:
        click.echo(f"Release refused: {len(report.errors)} problem{'s' * (len(report.errors) != 1)}, "
                   f"nothing written.", err=True)
        raise SystemExit(1)
    if report.already_published:
        say(f"Release {project.release} is already published with these same bytes in "
            f"{display_path(report.folder)}/: nothing written.")
        return
    say(f"Release {project.release}: {len(report.files)} PDFs, manifest.json and SHA256SUMS in "
        f"{display_path(report.folder)}/")


@main.command(name="check")
@click.argument("slugs", nargs=-1, metavar="[SLUG]...")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON, for machines.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Check review dates as of this day (default: today).")
@verbosity_options
@click.pass_obj
def check_(options: Options, slugs, as_json, today) -> None:
    """Check reading level, review dates, alt text, contrast and page budgets.

    Exits 1 when anything fails; warnings alone do not fail."""
    from . import check

    project = load_project(options.root)
    result = check.check(project, slugs, today.date() if today else None)
    if as_json:
        click.echo(json.dumps(check.as_json(result), indent=2, ensure_ascii=False))
    else:
        for line in check.as_text(result, quiet=options.verbosity < 0):
            click.echo(line)
    if result.errors:
        raise SystemExit(1)


@main.command(name="list")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("dist"),
              show_default=True, help="Folder of the last build, for its page counts (relative to the project).")
@verbosity_options
@click.pass_obj
def list_(options: Options, out) -> None:
    """List the handouts in each language: version, status, date, pages, and missing translations."""
    from . import content
    from .output import read_manifest

    project = load_project(options.root)
    config = project.config
    handouts, errors = content.load_all(project.content_dir, config.languages)
    by_key = {(h.slug, h.lang): h for h in handouts}
    pages = {}
    for entry in read_manifest(out if out.is_absolute() else options.root / out).values():
        pages.setdefault((entry["handout"], entry["lang"]), {})[entry["edition"]] = str(entry["pages"])
    rows = [("HANDOUT", "LANG", "VERSION", "STATUS", "UPDATED", f"PAGES ({'/'.join(config.editions)})")]
    missing = []
    for slug in sorted({h.slug for h in handouts}):
        for lang in config.languages:
            handout = by_key.get((slug, lang))
            if handout is None:
                missing.append(f"content/{lang}/{slug}.md")
                rows.append((slug, lang, "-", "MISSING", "-", "-"))
                continue
            built = pages.get((slug, lang), {})
            rows.append((slug, lang, handout.version, handout.status, handout.updated.isoformat(),
                         "/".join(built.get(e, "-") for e in config.editions) if built else "not built"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    if missing:
        click.echo(f"\nMissing: {', '.join(missing)} (the sheet prints in its other languages)")
    for error in errors:
        click.echo(error.message, err=True)
    if errors:
        raise SystemExit(1)


def _sayer(options: Options):
    return (lambda message: None) if options.verbosity < 0 else click.echo


def _show_result(options: Options, result) -> None:
    if result.error:
        if options.verbosity >= 0:
            click.echo(f"  FAILED      {result.job.path}")
        if result.error.message not in options.shown:  # a stylesheet's error fails every sheet
            options.shown.add(result.error.message)
            click.echo(result.error.message, err=True)
        return
    for warning in result.warnings:
        if warning.message not in options.shown:  # a stylesheet's warning comes once, not per sheet
            options.shown.add(warning.message)
            click.echo(warning.message, err=True)
    if options.verbosity < 0:
        return
    pages = result.entry["pages"]
    state = "up to date" if result.up_to_date else f"{result.seconds:.2f} s"
    click.echo(f"  ok          {result.job.path:<40} {pages} page{'s' * (pages != 1)}  {state}")


@main.command(name="diff")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("diff-report"),
              show_default=True, help="Folder for index.html and the page images (relative to the project).")
@click.option("--dpi", type=click.IntRange(24, 300), default=96, show_default=True,
              help="Resolution the pages are rendered at.")
@verbosity_options
@click.pass_obj
def diff_(options: Options, old, new, out, dpi) -> None:
    """Compare two builds page by page and write a visual report.

    OLD and NEW are build folders or their manifest.json (relative to the project). Exits 0 when
    nothing changed, 1 when something did, 2 when they cannot be compared."""
    from . import diff

    old, new, out = (path if path.is_absolute() else options.root / path for path in (old, new, out))
    report = diff.diff(old, new, out, dpi=dpi)
    say = _sayer(options)
    for line in diff.summary_lines(report):
        say(line)
    if report.changed:
        raise SystemExit(1)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Any but this computer's own needs an access code.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@verbosity_options
@click.pass_obj
def serve(options: Options, host: str, port: int) -> None:
    """Serve the staff's print page and the designers' live preview.

    Open http://127.0.0.1:8000/ in a browser. Bound to another address (--host 0.0.0.0 for the
    clinic's network), the page asks each browser once for the access code: set it in
    handouts.toml ([server] access_code) or in HANDOUTS_ACCESS_CODE."""
    import os

    from .server import serving

    project = load_project(options.root)
    code = os.environ.get("HANDOUTS_ACCESS_CODE") or project.config.server.access_code
    serving.serve(project.root, host, port, code, say=_sayer(options), verbose=options.verbosity > 0)


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("dist"),
              show_default=True, help="Folder for the PDFs (relative to the project).")
@click.option("--strict", is_flag=True, help="Treat every warning as an error.")
@verbosity_options
@click.pass_obj
def watch(options: Options, out: Path, strict: bool) -> None:
    """Rebuild the PDFs in dist/ whenever a file they are made from changes (Ctrl+C stops)."""
    from .server import serving

    load_project(options.root)  # a broken handouts.toml is reported before watching starts
    out = out if out.is_absolute() else options.root / out
    serving.watch(options.root, out, strict, say=click.echo)


@main.command(name="new")
@click.argument("slug")
@click.option("--lang", metavar="LANG", help="Language of the sheet (default: the original language); "
                                              "another language starts a translation of SLUG.")
@click.option("--title", help="The sheet's title (default: made from SLUG).")
@verbosity_options
@click.pass_obj
def new(options: Options, slug: str, lang: str | None, title: str | None) -> None:
    """Write a new sheet, content/LANG/SLUG.md, ready to build and check."""
    from . import authoring

    path = authoring.new_sheet(load_project(options.root), slug, lang, title)
    if options.verbosity >= 0:
        click.echo(f"Wrote {display_path(path)} (status: draft). Next: handouts check {slug}")


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("specimen"),
              show_default=True, help="Folder for the specimen's PDFs and page images (relative to the project).")
@click.option("--paper", metavar="|".join(PAPERS), help="Paper size (default from handouts.toml).")
@verbosity_options
@click.pass_obj
def specimen(options: Options, out: Path, paper: str | None) -> None:
    """Print a sheet that shows every element, in every language and edition, for designers."""
    from .specimen import build_specimen

    project = load_project(options.root)
    folder = out if out.is_absolute() else options.root / out
    written = build_specimen(project, folder, paper)
    if options.verbosity >= 0:
        pdfs = [path for path in written if path.suffix == ".pdf"]
        click.echo(f"Wrote {len(pdfs)} PDFs and their page images into {display_path(folder)}/")
