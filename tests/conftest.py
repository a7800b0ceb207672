"""Shared fixtures: a throw-away copy of the real project, its build, and the CLI."""
from __future__ import annotations

import functools
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from handouts.cli import main

# The suite already runs a test file per core: each build prints in its own process.
os.environ.setdefault("HANDOUTS_JOBS", "1")

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PROJECT_PARTS = ("content", "templates", "styles", "assets", "handouts.toml", "pyproject.toml",
                 "CHANGELOG.md")


#: The languages the shared fixtures build: each language more would print every sheet again in
#: every test that builds. Vietnamese, Chinese and Arabic are built in their own test files.
FIXTURE_LANGUAGES = 'languages = ["en", "es"]'
#: The editions they build: the bilingual one is built in its own test files.
FIXTURE_EDITIONS = 'editions = ["standard", "large-print"]'


def copy_project(target: Path, all_languages: bool = False) -> Path:
    """A complete copy of the repository's project (what a clone would have), in English and
    Spanish only unless ``all_languages``, without the bilingual edition."""
    target.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part)
        else:
            shutil.copy2(source, target / part)
    config = target / "handouts.toml"
    text = re.sub(r"(?m)^editions = \[.*\]", FIXTURE_EDITIONS, config.read_text())
    text = re.sub(r"(?m)^bilingual = \[.*\]\n", "", text)
    if not all_languages:
        text = re.sub(r"(?m)^languages = \[.*\]", FIXTURE_LANGUAGES, text)
    config.write_text(text)
    return target


def pytest_addoption(parser) -> None:
    parser.addoption("--update-goldens", action="store_true",
                     help="Write tests/golden/ anew from this build's pages (after reviewing the change).")


def english_project(target: Path) -> Path:
    """A copy of the project in English only, both editions."""
    project = copy_project(target)
    config = project / "handouts.toml"
    config.write_text(config.read_text().replace('languages = ["en", "es"]', 'languages = ["en"]'))
    return project


def one_sheet_project(tmp_path: Path) -> Path:
    """The project with English only and the standard edition: the cheapest real build."""
    project = english_project(tmp_path / "project")
    config = project / "handouts.toml"
    config.write_text(config.read_text().replace('editions = ["standard", "large-print"]', 'editions = ["standard"]'))
    return project


@pytest.fixture
def deadline():
    """Fails a test that blocks for two seconds (a FIFO opened or read without O_NONBLOCK)."""
    import signal

    def stop(_signal, _frame):
        raise TimeoutError("blocked for 2 seconds")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, 2)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def small_project(tmp_path: Path) -> Path:
    return one_sheet_project(tmp_path)


def run(*args: str):
    """Run ``handouts ARGS`` in-process and return click's result."""
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The real project built strictly, as CI builds it; returns the output folder."""
    out = tmp_path_factory.mktemp("dist")
    result = run("-C", copy_project(tmp_path_factory.mktemp("real") / "project"), "build", "--strict", "--out", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def built_project(tmp_path_factory) -> Path:
    """A copy of the project with a good build in its dist/: bad-input tests start from it."""
    project = copy_project(tmp_path_factory.mktemp("built") / "project")
    result = run("-C", project, "build")
    assert result.exit_code == 0, result.output
    return project


@pytest.fixture
def rebuildable(built_project: Path, tmp_path: Path) -> Path:
    """A fresh copy of ``built_project``, dist/ included, for one test to break."""
    target = tmp_path / "project"
    shutil.copytree(built_project, target)
    return target


RECOLOURED_BRAND = "#6a1b9a"  # purple, for the teal --brand of styles/tokens.css


@pytest.fixture(scope="session")
def recoloured(tmp_path_factory) -> Path:
    """The real project built after a designer's colour change: --brand turned from teal to purple."""
    project = copy_project(tmp_path_factory.mktemp("recoloured") / "project")
    tokens = project / "styles/tokens.css"
    css = tokens.read_text(encoding="utf-8")
    assert "--brand: #0e5a63;" in css, "the brand colour this fixture changes has moved"
    tokens.write_text(css.replace("--brand: #0e5a63;", f"--brand: {RECOLOURED_BRAND};"), encoding="utf-8")
    out = project / "dist"
    result = run("-C", project, "build", "--strict", "--out", out)
    assert result.exit_code == 0, result.output
    return out


def tagged_text(path) -> list[tuple[str, list[tuple[int, str]]]]:
    """What a screen reader meets, block by block, in structure order: (tag, [(page, line)]).

    The text of each marked-content sequence comes from pdfplumber (which decodes the fonts);
    the order and the grouping come from the structure tree, read with pikepdf. WeasyPrint
    marks each line of a block as a sequence of its own, so a block's items are its lines
    (or the runs of a line, where a line changes font).
    """
    return _tagged_text(str(path), Path(path).stat().st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _tagged_text(path: str, mtime: int) -> list[tuple[str, list[tuple[int, str]]]]:
    import pdfplumber
    import pikepdf

    texts: dict[tuple[int, int], str] = {}
    with pdfplumber.open(path) as pdf:
        for number, page in enumerate(pdf.pages):
            for char in page.chars:
                if char.get("mcid") is not None and char.get("tag") != "Artifact":
                    key = (number, char["mcid"])
                    texts[key] = texts.get(key, "") + char["text"]
    inline = {"/Span", "/NonStruct", "/Link"}
    blocks: list[tuple[str, list[tuple[int, str]]]] = []
    with pikepdf.open(path) as pdf:
        page_of = {page.obj.objgen: number for number, page in enumerate(pdf.pages)}

        def walk(element, page, block):
            if "/Pg" in element:
                page = page_of.get(element.Pg.objgen, page)
            if str(element.S) not in inline:
                block = (str(element.S), [])
                blocks.append(block)
            kids = element.get("/K")
            for kid in (kids if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]):
                if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                    walk(kid, page, block)
                elif isinstance(kid, pikepdf.Dictionary) and "/MCID" in kid:
                    kid_page = page_of.get(kid.Pg.objgen, page) if "/Pg" in kid else page
                    block[1].append((kid_page, texts.get((kid_page, int(kid.MCID)), "")))
                elif not isinstance(kid, pikepdf.Dictionary):
                    block[1].append((page, texts.get((page, int(kid)), "")))

        for document in pdf.Root.StructTreeRoot.K:
            walk(document, None, None)
    return [block for block in blocks if block[1]]


def reading_text(path) -> str:
    """The whole tagged text as one string, blocks separated by a newline."""
    return "\n".join("".join(text for _, text in lines) for _, lines in tagged_text(path))


@dataclass(frozen=True)
class PageObjects:
    width: float
    height: float
    chars: list
    rects: list


def page_objects(path) -> list[PageObjects]:
    """Every page's characters and rectangles, read once per file by pdfplumber (read-only)."""
    return _page_objects(str(path), Path(path).stat().st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _page_objects(path: str, mtime: int) -> list[PageObjects]:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return [PageObjects(float(page.width), float(page.height), page.chars, page.rects)
                for page in pdf.pages]


def structure(pdf) -> list:
    """Every structure element the tree's root reaches, in document order."""
    import pikepdf

    elements, stack = [], list(reversed(list(pdf.Root.StructTreeRoot.K)))
    while stack:
        element = stack.pop()
        if isinstance(element, pikepdf.Dictionary) and "/S" in element:
            elements.append(element)
            kids = element.get("/K")
            if isinstance(kids, pikepdf.Array):
                stack.extend(reversed(list(kids)))
            elif isinstance(kids, pikepdf.Dictionary):
                stack.append(kids)
    return elements
