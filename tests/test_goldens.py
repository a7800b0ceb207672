"""Golden page images: every page of the shipped sheets, as reviewed, at low resolution.

A change to how any page looks fails here until someone has looked at it and accepted it:

    make goldens      # = pytest tests/test_goldens.py --update-goldens

then commit tests/golden/. The failing test writes an old | new | changes picture of each
changed page and names its folder; ``handouts diff`` between two builds shows the same.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from handouts import diff

GOLDEN = Path(__file__).resolve().parent / "golden"
GOLDEN_DPI = 36  # half of 72: small files, yet a changed word or colour still shows


@dataclass
class Mismatch:
    page: str  # en/ketamine-aftercare/page-1
    why: str
    picture: tuple | None = None  # (golden, page, comparison) for a changed page


def pages_of(build: Path) -> dict[str, Image.Image]:
    """Every page of every PDF in a build: ``en/ketamine-aftercare/page-1`` -> image."""
    files = json.loads((build / "manifest.json").read_text(encoding="utf-8"))["files"]
    pages = {}
    for entry in sorted(files, key=lambda entry: entry["path"]):
        for number, image in enumerate(diff.render_pages(build / entry["path"], GOLDEN_DPI), start=1):
            pages[f"{entry['path'].removesuffix('.pdf')}/page-{number}"] = image
    return pages


def golden_files(golden: Path) -> dict[str, Path]:
    return {path.relative_to(golden).with_suffix("").as_posix(): path for path in golden.rglob("*.png")}


def mismatches(build: Path, golden: Path = GOLDEN) -> list[Mismatch]:
    """How a build's pages differ from the golden ones, by diff.py's own comparison."""
    pages, goldens = pages_of(build), golden_files(golden)
    found = [Mismatch(name, "no golden image (a new page)") for name in sorted(pages.keys() - goldens.keys())]
    found += [Mismatch(name, "golden image of a page that is gone") for name in sorted(goldens.keys() - pages.keys())]
    for name in sorted(pages.keys() & goldens.keys()):
        expected = Image.open(goldens[name]).convert("RGB")
        comparison = diff.compare_pages(expected, pages[name])
        if comparison.changed:
            found.append(Mismatch(name, f"{comparison.percent:.2f}% of the page changed",
                                  (expected, pages[name], comparison)))
    return found


def update(build: Path, golden: Path = GOLDEN) -> None:
    """Write the golden images anew from a build, and remove those of pages that are gone."""
    pages = pages_of(build)
    for name, path in golden_files(golden).items():
        if name not in pages:
            path.unlink()
    for name, image in pages.items():
        target = golden / f"{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        image.save(target, optimize=True)
    for folder in sorted(golden.rglob("*"), reverse=True):  # folders of sheets that are gone
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def test_every_page_looks_as_reviewed(built, request, tmp_path):
    if request.config.getoption("--update-goldens"):
        update(built)
    found = mismatches(built)
    for mismatch in found:
        if mismatch.picture:
            golden, page, comparison = mismatch.picture
            target = tmp_path / f"{mismatch.page}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            pages = diff.on_one_canvas(golden, page)
            diff.side_by_side(*pages, comparison, labels=("Golden", "Now")).save(target)
    if found:
        pytest.fail("pages differ from tests/golden/ "
                    f"pictures in {tmp_path}:\n" + "\n".join(f"  {m.page}: {m.why}" for m in found)
                    + "\nIf the change is meant, run `make goldens` and commit tests/golden/.",
                    pytrace=False)


def test_goldens_catch_a_colour_change_on_every_page(recoloured):
    found = mismatches(recoloured)
    assert found and all(mismatch.picture for mismatch in found)
    assert {m.page for m in found} == set(golden_files(GOLDEN))


def test_goldens_catch_a_page_gone_and_a_page_new(built, tmp_path):
    golden = tmp_path / "golden"
    update(built, golden)
    (golden / "en/ketamine-treatment/page-2.png").rename(golden / "en/ketamine-treatment/page-9.png")
    assert [(m.page, m.why) for m in mismatches(built, golden)] == [
        ("en/ketamine-treatment/page-2", "no golden image (a new page)"),
        ("en/ketamine-treatment/page-9", "golden image of a page that is gone"),
    ]
    update(built, golden)
    assert not (golden / "en/ketamine-treatment/page-9.png").exists()
    assert mismatches(built, golden) == []
