"""Build times of Handouts against bare WeasyPrint and Pandoc, measured in one run.

    make bench                      # or: .venv/bin/python benchmarks/bench.py [--repeat N]

Every figure is a whole process (``handouts ...`` from start to exit), the median of --repeat
runs, on copies of this project made in a temporary folder, so the working tree is left alone:

- full:      ``handouts build --force`` in a fresh copy (no earlier output, no cache)
- jobs:      the same with ``--jobs 1`` and with ``--jobs`` = every CPU
- no-op:     ``handouts build`` again, nothing changed
- one sheet: ``handouts build`` after an edit to one sheet's Markdown
- library:   a generated library of --library sheets (copies of the shipped ones with new
             slugs) x every language x every edition of handouts.toml, with one job and with every CPU (one run each)
- bare:      one Python process that imports WeasyPrint and prints the intermediate HTML that
             ``handouts build --html DIR`` writes, as the same PDF variant (pdf/ua-1);
             run by turns with the one-job build, so that each pair meets the same load
- Pandoc:    ``pandoc SHEET.md --pdf-engine=weasyprint`` per document, when pandoc is installed

An option the command line does not have (yet) is reported as "n/a (option missing)".
Prints a table and writes the figures to benchmarks/results.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HANDOUTS = str(BIN / "handouts")
PROJECT_PARTS = ("content", "templates", "styles", "assets", "handouts.toml", "pyproject.toml",
                 "CHANGELOG.md")
PDF_VARIANT = "pdf/ua-1"  # what the build prints (handouts/pdf.py)
CPUS = os.cpu_count() or 1
EDITED_SHEET = "content/en/ketamine-aftercare.md"

# Print every sheet of the project in DIR in this process, then run the paper check on each;
# print the seconds of both as JSON.
PAPER_CHECK = """
import json, sys, time
from pathlib import Path
from handouts import paper, pdf, pipeline, render
from handouts.config import load_project
project = load_project(Path(sys.argv[1]))
handouts, _ = pipeline.load_selection(project, ())
jobs = pipeline.plan(handouts, project.config.paper, project.config.editions)
printing = checking = 0.0
for job in jobs:
    started = time.perf_counter()
    printed = pdf.print_pdf(project.root, render.render_html(project, job.handout, job.edition, job.paper))
    middle = time.perf_counter()
    assert not paper.inspect(printed.document, printed.data, pipeline.expected_on_paper(project, job))
    printing, checking = printing + middle - started, checking + time.perf_counter() - middle
print(json.dumps({"print": printing, "paper": checking}))
"""

# Print every HTML file named on the command line to PDF beside it, as the build does.
BARE_WEASYPRINT = """
import sys, weasyprint
for path in sys.argv[1:]:
    weasyprint.HTML(filename=path).write_pdf(path[:-5] + '.pdf', pdf_variant=%r)
""" % PDF_VARIANT
BARE_WHAT = f"bare WeasyPrint, one process, the HTML of build --html, {PDF_VARIANT}"


class OptionMissing(Exception):
    """The command line rejected an option: the figure is reported as n/a."""


@dataclass
class Measure:
    name: str
    what: str
    seconds: float | None  # median; None when not measured
    pdfs: int = 0
    note: str = ""


@dataclass
class Target:
    name: str
    ratio: float | None
    goal: str
    met: bool | None
    note: str = ""


def main(argv=None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="handouts-bench-") as scratch:
        bench = Bench(Path(scratch), args.repeat)
        measures = bench.run_all(args.library)
    targets = judge(measures)
    print_table(measures, targets)
    write_json(args.json, measures, targets, args)
    print(f"\nFigures written to {args.json}")
    return 0


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure, median taken (default 3)")
    parser.add_argument("--library", type=int, default=50, help="sheets in the generated library (default 50)")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks/results.json",
                        help="where to write the figures (default benchmarks/results.json)")
    return parser.parse_args(argv)


class Bench:
    """The measurements, each on its own copy of the project inside ``scratch``."""

    def __init__(self, scratch: Path, repeat: int):
        self.scratch, self.repeat, self.copies = scratch, repeat, 0

    def run_all(self, library_sheets: int) -> list[Measure]:
        pdfs = self.warm_up()
        measures = [
            self.full_build(pdfs),
            *self.one_job_and_bare(pdfs),
            self.full_build(pdfs, "--jobs", str(CPUS)),
            self.noop_build(pdfs),
            self.one_sheet_build(),
        ]
        library = self.library(library_sheets)
        config = tomllib.loads((library / "handouts.toml").read_text(encoding="utf-8"))["build"]
        library_pdfs = library_sheets * len(config["languages"]) * len(config["editions"])
        measures += [self.library_build(library, library_pdfs, "1"),
                     self.library_build(library, library_pdfs, str(CPUS))]
        if measures[-1].seconds is None:  # no --jobs: time the library as the build does it today
            measures.append(self.library_build(library, library_pdfs, None))
        measures += [self.pandoc(pdfs)]
        measures += self.paper_check(pdfs)
        return measures

    # --- projects and commands --------------------------------------------------------------------

    def fresh_copy(self) -> Path:
        self.copies += 1
        target = self.scratch / f"project-{self.copies}"
        target.mkdir()
        for part in PROJECT_PARTS:
            source = ROOT / part
            if source.is_dir():
                shutil.copytree(source, target / part)
            elif source.exists():
                shutil.copy2(source, target / part)
        return target

    def warm_up(self) -> int:
        """One untimed build, so that every figure sees the same warm disk cache and bytecode;
        returns how many PDFs the project makes."""
        project = self.fresh_copy()
        handouts(project, "build", "--force")
        return len(json.loads((project / "dist/manifest.json").read_text())["files"])

    def timed(self, name: str, what: str, pdfs: int, run, prepare=lambda: None,
              repeat: int | None = None) -> Measure:
        """The median of ``repeat`` runs of ``run()``, each after an untimed ``prepare()``."""
        times = []
        try:
            for _ in range(repeat or self.repeat):
                prepared = prepare()
                start = time.perf_counter()
                run(prepared)
                times.append(time.perf_counter() - start)
        except OptionMissing as missing:
            return Measure(name, what, None, pdfs, f"n/a (option missing: {missing})")
        return Measure(name, what, statistics.median(times), pdfs)

    # --- the measurements ---------------------------------------------------------------------------

    def full_build(self, pdfs: int, *options: str, repeat: int | None = None) -> Measure:
        name = "full" + "".join(f"_jobs{value}" for value in options[1:])
        what = f"build --force {' '.join(options)}".strip() + ", cold, fresh copy"
        return self.timed(name, what, pdfs, lambda project: handouts(project, "build", "--force", *options),
                          prepare=self.fresh_copy, repeat=repeat)

    def noop_build(self, pdfs: int) -> Measure:
        project = self.fresh_copy()
        handouts(project, "build")
        return self.timed("noop", "build, nothing changed", pdfs, lambda _: handouts(project, "build"))

    def one_sheet_build(self) -> Measure:
        project = self.fresh_copy()
        handouts(project, "build")
        sheet = project / EDITED_SHEET

        def edit():  # a real change to the file (a blank line at its end), once per run
            sheet.write_text(sheet.read_text(encoding="utf-8") + "\n", encoding="utf-8")

        return self.timed("one_sheet", f"build after editing {EDITED_SHEET}", 2,
                          lambda _: handouts(project, "build"), prepare=edit)

    def library(self, sheets: int) -> Path:
        """A project with ``sheets`` sheets in each language: the shipped ones copied round-robin."""
        project = self.fresh_copy()
        for lang_dir in sorted((project / "content").iterdir()):
            originals = sorted(lang_dir.glob("*.md"))
            for number in range(1, sheets + 1):
                original = originals[(number - 1) % len(originals)]
                shutil.copy2(original, lang_dir / f"sheet-{number:02d}.md")
            for original in originals:
                original.unlink()
        config = project / "handouts.toml"  # the packet names sheets the library renamed
        config.write_text(re.sub(r"^packet = .*$", "packet = []", config.read_text(), flags=re.M))
        return project

    def library_build(self, project: Path, pdfs: int, jobs: str | None) -> Measure:
        options = ("--jobs", jobs) if jobs else ()
        name = f"library_jobs{jobs}" if jobs else "library"
        what = f"library, {pdfs} PDFs, build --force {' '.join(options)}".rstrip()
        measure = self.timed(name, what, pdfs, lambda _: handouts(project, "build", "--force", *options),
                             repeat=1)  # long enough that one run is a steady figure
        if measure.seconds is not None:
            measure.note = f"{measure.seconds / pdfs * 1000:.0f} ms a PDF, one run"
        return measure

    def one_job_and_bare(self, pdfs: int) -> list[Measure]:
        """The one-job build and bare WeasyPrint, run by turns: on a machine shared with other
        work, each pair meets the same load, and the note gives the spread of the pairs' ratios."""
        command, unavailable = self.bare_command()
        if command is None:
            return [self.full_build(pdfs, "--jobs", "1"), Measure("bare", BARE_WHAT, None, pdfs, unavailable)]
        builds, bares = [], []
        for _ in range(self.repeat):
            builds.append(self.full_build(pdfs, "--jobs", "1", repeat=1).seconds)
            bares.append(self.timed("bare", BARE_WHAT, pdfs, lambda _: run_checked(command), repeat=1).seconds)
        ratios = sorted(built / printed for built, printed in zip(builds, bares))
        return [Measure("full_jobs1", "build --force --jobs 1, cold, fresh copy", statistics.median(builds),
                        pdfs, f"by turns with bare: ratios {ratios[0]:.2f} to {ratios[-1]:.2f}"),
                Measure("bare", BARE_WHAT, statistics.median(bares), len(command) - 3)]

    def bare_command(self) -> tuple[list[str] | None, str]:
        """The command that prints the HTML of ``build --html`` with bare WeasyPrint, run once
        to warm the caches; or None and why it cannot be measured."""
        project = self.fresh_copy()
        html_dir = self.scratch / "html"
        try:
            handouts(project, "build", "--force", "--html", str(html_dir))
        except OptionMissing as missing:
            return None, f"n/a (option missing: {missing})"
        pages = sorted(str(path) for path in html_dir.rglob("*.html"))
        if not pages:
            return None, f"n/a (build --html wrote no HTML into {html_dir})"
        command = [sys.executable, "-c", BARE_WEASYPRINT, *pages]
        run_checked(command)  # warm
        return command, ""

    def paper_check(self, pdfs: int) -> list[Measure]:
        """The paper check of every sheet against printing it, in one warm process (the
        second of two rounds, so that fonts and caches are loaded)."""
        project = self.fresh_copy()
        rounds = []
        for _ in range(max(2, self.repeat + 1)):
            result = subprocess.run([sys.executable, "-c", PAPER_CHECK, str(project)], text=True,
                                    capture_output=True)
            if result.returncode:
                sys.exit(f"the paper check benchmark failed:\n{result.stderr}")
            rounds.append(json.loads(result.stdout))
        rounds = rounds[1:]
        return [Measure("print", "printing every sheet, in one process", statistics.median(
                    r["print"] for r in rounds), pdfs),
                Measure("paper", "the paper check of every sheet", statistics.median(
                    r["paper"] for r in rounds), pdfs)]

    def pandoc(self, pdfs: int) -> Measure:
        what = f"Pandoc --pdf-engine=weasyprint, per document x {pdfs} PDFs"
        pandoc = shutil.which("pandoc")
        if pandoc is None:
            return Measure("pandoc", what, None, pdfs, "n/a (pandoc is not installed)")
        project = self.fresh_copy()
        sources = sorted((project / "content").rglob("*.md"))
        environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}

        def convert_all(_):
            for source in sources:
                run_checked([pandoc, str(source), "--standalone", "--pdf-engine=weasyprint",
                             f"--pdf-engine-opt=--pdf-variant={PDF_VARIANT}",
                             f"--metadata=lang:{source.parent.name}",  # PDF/UA wants a language
                             "-o", str(source.with_suffix(".pdf"))], env=environment, cwd=project)

        measure = self.timed("pandoc", what, pdfs, convert_all)
        if measure.seconds is not None:
            per_document = measure.seconds / len(sources)
            measure.note = f"{per_document:.2f} s a document"
            measure.seconds = per_document * pdfs
        return measure


def handouts(project: Path, *args: str) -> None:
    """Run ``handouts -C PROJECT -q ARGS``; OptionMissing when it does not know an option."""
    result = subprocess.run([HANDOUTS, "-C", str(project), "-q", *args], capture_output=True, text=True)
    missing = re.search(r"No such option:? '?(-[\w-]+)", result.stderr)
    if result.returncode == 2 and missing:
        raise OptionMissing(missing.group(1))
    if result.returncode != 0:
        sys.exit(f"handouts {' '.join(args)} failed in {project}:\n{result.stderr}")


def run_checked(command: list[str], **kwargs) -> None:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command[:2])} ... failed:\n{result.stderr}")


def judge(measures: list[Measure]) -> list[Target]:
    """The project's targets, as ratios of figures measured in this run."""
    by_name = {measure.name: measure.seconds for measure in measures}
    one_job = by_name.get("full_jobs1")
    one_job_note = ""
    if one_job is None:  # a build without --jobs prints its sheets one after the other
        one_job, one_job_note = by_name.get("full"), "no --jobs: the plain build, one job"
    return [
        target("one job full build / bare WeasyPrint", one_job, by_name.get("bare"), "<= 1.15", one_job_note),
        target("no-op build / full build", by_name.get("noop"), by_name.get("full"), "<= 0.10"),
        target(f"library one job / {CPUS} jobs (speed-up)", by_name.get("library_jobs1"),
               by_name.get(f"library_jobs{CPUS}"), ">= 1.6"),
        target("Pandoc / full build (speed-up)", by_name.get("pandoc"), by_name.get("full"), ">= 5"),
        target("paper check / printing", by_name.get("paper"), by_name.get("print"), "<= 0.15"),
    ]


def target(name: str, numerator, denominator, goal: str, note: str = "") -> Target:
    if numerator is None or not denominator:
        return Target(name, None, goal, None, note or "n/a (a figure is missing)")
    ratio = numerator / denominator
    bound = float(goal.split()[1])
    return Target(name, ratio, goal, ratio <= bound if goal.startswith("<=") else ratio >= bound, note)


def print_table(measures: list[Measure], targets: list[Target]) -> None:
    width = max(len(measure.what) for measure in measures)
    print(f"{'MEASURE':<{width}}  {'SECONDS':>8}  {'PDFS':>5}  NOTE")
    for measure in measures:
        seconds = f"{measure.seconds:8.2f}" if measure.seconds is not None else f"{'-':>8}"
        print(f"{measure.what:<{width}}  {seconds}  {measure.pdfs:>5}  {measure.note}".rstrip())
    print()
    width = max(len(t.name) for t in targets)
    print(f"{'TARGET':<{width}}  {'RATIO':>6}  {'GOAL':<7}  RESULT")
    for t in targets:
        ratio = f"{t.ratio:6.2f}" if t.ratio is not None else f"{'-':>6}"
        result = "" if t.met is None else "met" if t.met else "MISSED"
        print(f"{t.name:<{width}}  {ratio}  {t.goal:<7}  {'  '.join(filter(None, (result, t.note)))}")


def write_json(path: Path, measures: list[Measure], targets: list[Target], args) -> None:
    results = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": CPUS, "python": platform.python_version(), "platform": platform.platform(),
                    "weasyprint": _version("weasyprint"), "handouts": _version("handouts"),
                    "pandoc": _pandoc_version()},
        "repeat": args.repeat,
        "measures": [asdict(measure) for measure in measures],
        "targets": [asdict(t) for t in targets],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def _version(package: str) -> str:
    from importlib.metadata import version
    return version(package)


def _pandoc_version() -> str | None:
    pandoc = shutil.which("pandoc")
    if pandoc is None:
        return None
    return subprocess.run([pandoc, "--version"], capture_output=True, text=True).stdout.split("\n")[0]


if __name__ == "__main__":
    sys.exit(main())
