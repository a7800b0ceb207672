"""handouts diff: two real builds, a real colour change, and the report a reviewer opens."""
from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from conftest import RECOLOURED_BRAND, run
from handouts import diff
from test_robustness import small_disk

OLD_BRAND = (0x0E, 0x5A, 0x63)
NEW_BRAND = tuple(int(RECOLOURED_BRAND[i:i + 2], 16) for i in (1, 3, 5))


@pytest.fixture(scope="module")
def colour_report(built, recoloured, tmp_path_factory):
    out = tmp_path_factory.mktemp("diff-report")
    result = run("diff", built, recoloured, "--out", out)
    return result, out


def copy_build(built: Path, target: Path) -> Path:
    shutil.copytree(built, target)
    return target


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def write_manifest(folder: Path, data: dict) -> None:
    (folder / "manifest.json").write_text(json.dumps(data))


def panels(image: Image.Image, page_width: int) -> list[Image.Image]:
    """The old, new and changes panels of a side-by-side picture."""
    left = [diff.MARGIN + i * (page_width + diff.MARGIN) for i in range(3)]
    return [image.crop((x, diff.HEADER, x + page_width, image.height - diff.MARGIN)) for x in left]


def has_colour(image: Image.Image, colour, within: int = 6) -> bool:
    return any(all(abs(a - b) <= within for a, b in zip(pixel, colour))
               for _, pixel in image.getcolors(maxcolors=image.width * image.height))


# --- a colour change ----------------------------------------------------------------------------

def test_a_colour_change_exits_1_and_names_every_changed_page(colour_report, built):
    result, _ = colour_report
    assert result.exit_code == 1, result.output
    for entry in manifest(built)["files"]:
        pages = ", ".join(str(n) for n in range(1, entry["pages"] + 1))
        assert f"changed     {entry['path']:<40} pages {pages}" in result.output
    pages = sum(entry["pages"] for entry in manifest(built)["files"])
    assert f"8 PDFs compared, 8 changed ({pages} pages)." in result.output


def test_each_changed_page_has_old_new_and_highlighted_changes(colour_report):
    _, out = colour_report
    picture = Image.open(out / "pages/en/ketamine-aftercare/page-1.png").convert("RGB")
    page_width = round(8.5 * diff.DPI)
    assert picture.size == (3 * page_width + 4 * diff.MARGIN, round(11 * diff.DPI) + diff.HEADER + diff.MARGIN)
    old, new, changes = panels(picture, page_width)
    assert has_colour(old, OLD_BRAND) and not has_colour(old, NEW_BRAND)
    assert has_colour(new, NEW_BRAND)
    assert has_colour(changes, diff.HIGHLIGHT) and not has_colour(old, diff.HIGHLIGHT)


def test_a_colour_change_marks_the_coloured_parts_not_the_body_text(built, recoloured):
    old = diff.render_pages(built / "en/ketamine-aftercare.pdf")[0]
    new = diff.render_pages(recoloured / "en/ketamine-aftercare.pdf")[0]
    comparison = diff.compare_pages(old, new)
    assert comparison.changed
    assert 0.5 < comparison.percent < 5  # headings, rules and boxes; the black body text stays
    assert len(comparison.regions) >= 4  # the clinic name, the checklist, headings, the contact box
    width, height = old.size
    assert all(0 <= left < right <= width and 0 <= top < bottom <= height
               for left, top, right, bottom in comparison.regions)


def test_the_report_lists_the_changes_with_their_images(colour_report, built):
    _, out = colour_report
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<h1>Visual changes to review</h1>" in page
    pages = sum(entry["pages"] for entry in manifest(built)["files"])
    assert f"8 PDFs compared, 8 changed ({pages} pages)." in page
    assert "<h2 id='pdf-1'>en/ketamine-aftercare-large-print.pdf</h2>" in page
    images = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert len(images) == pages  # old, new and highlighted side by side, one image a page
    assert sorted(ReportPage.of(page).images) == images


def test_the_report_is_self_contained_and_accessible(colour_report):
    _, out = colour_report
    report = ReportPage.of((out / "index.html").read_text(encoding="utf-8"))
    assert report.lang == "en" and report.title == "Visual changes to review"
    assert not report.scripts and not report.external
    for link in report.links:  # every link is to a part of this page or to a file beside it
        if link.startswith("#"):
            assert link[1:] in report.ids, link
        else:
            assert (out / link).is_file() and (out / link).resolve().is_relative_to(out.resolve())
    assert report.alts and all("magenta" in alt and " of " in alt for alt in report.alts)
    assert report.header_cells_without_scope == 0
    assert report.headings[0] == "h1" and "h2" in report.headings and "h3" in report.headings


# --- nothing changed, or something other than pixels ----------------------------------------------

def test_identical_builds_exit_0_and_the_report_says_so(built, tmp_path):
    same = copy_build(built, tmp_path / "same")
    result = run("diff", built, same / "manifest.json", "--out", tmp_path / "report")
    assert result.exit_code == 0, result.output
    assert "8 PDFs compared, 0 changed (0 pages)." in result.output
    page = (tmp_path / "report/index.html").read_text(encoding="utf-8")
    assert "<h1>No visual change</h1>" in page
    assert not list((tmp_path / "report").rglob("*.png"))


def test_a_second_report_in_the_same_folder_leaves_no_stale_image(built, recoloured, tmp_path):
    out = tmp_path / "report"
    assert run("diff", built, recoloured, "--out", out).exit_code == 1
    assert list(out.rglob("*.png"))
    assert run("diff", built, built, "--out", out).exit_code == 0
    assert not list(out.rglob("*.png"))


def test_added_removed_and_page_count_changes(built, tmp_path):
    new = copy_build(built, tmp_path / "new")
    data = manifest(new)
    # A one-page sheet that now runs to three pages (the large-print PDF in its place)...
    shutil.copy(new / "en/ketamine-aftercare-large-print.pdf", new / "en/ketamine-aftercare.pdf")
    # ...one sheet gone, and a new one.
    (new / "es/ketamine-aftercare.pdf").unlink()
    shutil.copy(new / "en/ketamine-treatment.pdf", new / "en/new-sheet.pdf")
    data["files"] = [entry for entry in data["files"] if entry["path"] != "es/ketamine-aftercare.pdf"]
    data["files"].append({**data["files"][0], "path": "en/new-sheet.pdf"})
    write_manifest(new, data)

    result = run("diff", built, new, "--out", tmp_path / "report")
    assert result.exit_code == 1, result.output
    assert "  added       en/new-sheet.pdf" in result.output
    assert "  removed     es/ketamine-aftercare.pdf" in result.output
    assert f"  changed     {'en/ketamine-aftercare.pdf':<40} pages 1, 2, 3, 4 (2 -> 4 pages)" in result.output
    assert "7 PDFs compared, 1 changed (4 pages), 1 added, 1 removed." in result.output
    page = (tmp_path / "report/index.html").read_text(encoding="utf-8")
    assert "Page count changed: 2 before, 4 now." in page
    assert "Page 3 (page added)" in page
    assert "<h2>PDFs added</h2>" in page and "<code>en/new-sheet.pdf</code>" in page
    assert "<h2>PDFs removed</h2>" in page and "<code>es/ketamine-aftercare.pdf</code>" in page


def test_a_pdf_that_lost_pages_shows_them_removed(built, tmp_path):
    new = copy_build(built, tmp_path / "new")
    shutil.copy(new / "es/ketamine-aftercare-large-print.pdf", new / "es/ketamine-treatment-large-print.pdf")
    result = run("diff", built, new, "--out", tmp_path / "report")
    assert result.exit_code == 1
    sheet = "es/ketamine-treatment-large-print.pdf"
    assert f"  changed     {sheet:<40} pages 1, 2, 3, 4, 5 (5 -> 4 pages)" in result.output
    assert "Page 5 (page removed)" in (tmp_path / "report/index.html").read_text(encoding="utf-8")


def test_folders_without_a_manifest_pair_their_pdfs_by_path(built, tmp_path):
    old = copy_build(built, tmp_path / "old")
    (old / "manifest.json").unlink()
    result = run("diff", old, built, "--out", tmp_path / "report")
    assert result.exit_code == 0, result.output
    assert "8 PDFs compared" in result.output


def test_release_folders_pair_sheets_whose_names_carry_the_version(built, tmp_path):
    release = tmp_path / "release/1.1.0"
    release.mkdir(parents=True)
    data = manifest(built)
    for entry in data["files"]:
        versioned = entry["path"].replace(".pdf", "-1.1.0.pdf")
        (release / versioned).parent.mkdir(exist_ok=True)
        shutil.copy(built / entry["path"], release / versioned)
        entry["path"] = versioned
    write_manifest(release, {**data, "release": "1.1.0"})
    result = run("diff", built, release, "--out", tmp_path / "report")
    assert result.exit_code == 0, result.output
    assert "8 PDFs compared, 0 changed" in result.output


def test_identity_leaves_out_the_release_version_only():
    assert diff.identity("en/aftercare-1.2.0.pdf", "1.2.0") == "en/aftercare.pdf"
    assert diff.identity("aftercare_v1.2.0.pdf", "1.2.0") == "aftercare.pdf"
    assert diff.identity("en/aftercare-1.2.0.pdf", "1.2") == "en/aftercare-1.2.0.pdf"
    assert diff.identity("en/1.2.0-notes/aftercare.pdf", "1.2.0") == "en/1.2.0-notes/aftercare.pdf"
    assert diff.identity("en/aftercare.pdf", "") == "en/aftercare.pdf"


# --- the tolerance, at its boundaries ---------------------------------------------------------------

def page_with(pixels: int, level: int) -> tuple[Image.Image, Image.Image]:
    old = Image.new("RGB", (200, 100), (250, 250, 250))
    new = old.copy()
    for x in range(pixels):
        new.putpixel((10 + 20 * (x % 8), 10 + 20 * (x // 8)), (250 - level, 250, 250))
    return old, new


@pytest.mark.parametrize("pixels, level, changed", [
    (diff.NOISE_PIXELS, 255, False),          # a few stray pixels are noise...
    (diff.NOISE_PIXELS + 1, 255, True),       # ...one more is a change
    (40, diff.NOISE_LEVEL, False),            # a shade too faint to see is noise...
    (40, diff.NOISE_LEVEL + 1, True),         # ...one level more is a change
])
def test_tolerance_boundaries(pixels, level, changed):
    comparison = diff.compare_pages(*page_with(pixels, level))
    assert comparison.changed is changed
    assert comparison.changed_pixels == (pixels if level > diff.NOISE_LEVEL else 0)


def test_regions_box_each_band_of_changes_apart():
    old = Image.new("RGB", (400, 600), "white")
    new = old.copy()
    new.paste((0, 0, 0), (20, 30, 120, 40))     # a changed line near the top
    new.paste((0, 0, 0), (200, 400, 380, 430))  # a changed paragraph further down
    assert diff.compare_pages(old, new).regions == [(20, 30, 120, 40), (200, 400, 380, 430)]


def test_pages_of_different_sizes_compare_on_one_canvas():
    letter, a4 = Image.new("RGB", (612, 792), "white"), Image.new("RGB", (595, 842), "white")
    comparison = diff.compare_pages(letter, a4)
    assert comparison.total_pixels == 612 * 842
    assert not comparison.changed  # blank on blank: the canvas is white where a page is missing


# --- bad input: exit 2, a clear message, no traceback --------------------------------------------------

def test_a_missing_folder_exits_2_naming_it(built, tmp_path):
    result = run("diff", tmp_path / "nowhere", built, "--out", tmp_path / "report")
    assert result.exit_code == 2
    assert "nowhere: no such folder; expected a build folder or its manifest.json" in result.output
    assert not (tmp_path / "report").exists()


def test_builds_that_share_no_pdf_exit_2(built, tmp_path):
    (tmp_path / "empty").mkdir()
    result = run("diff", built, tmp_path / "empty", "--out", tmp_path / "report")
    assert result.exit_code == 2
    assert "share no PDF; expected two builds of the same handouts" in result.output


def test_a_broken_manifest_exits_2_naming_it(built, tmp_path):
    new = copy_build(built, tmp_path / "new")
    (new / "manifest.json").write_text('{"files": [{"name": "en/x.pdf"}]}')
    result = run("diff", built, new, "--out", tmp_path / "report")
    assert result.exit_code == 2
    assert "manifest.json: expected a build manifest with a 'files' list" in result.output


@pytest.mark.parametrize("data", [b"%PDF-1.7 not really", b""], ids=["broken", "zero bytes"])
def test_an_unreadable_pdf_exits_2_naming_it(built, tmp_path, data):
    new = copy_build(built, tmp_path / "new")
    (new / "en/ketamine-aftercare.pdf").write_bytes(data)
    result = run("diff", built, new, "--out", tmp_path / "report")
    assert result.exit_code == 2
    assert "en/ketamine-aftercare.pdf: expected a PDF, cannot read it" in result.output


# --- bounded: huge pages, long PDFs, a report that cannot be written ---------------------------------

def made_pdf(path: Path, *, pages: int = 1, size=(612, 792), colour: str = "0 0 1",
             producer: str = "") -> Path:
    """A PDF of ``pages`` pages of ``size`` points, each with a rectangle of ``colour`` on it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = pikepdf.new()
    for _ in range(pages):
        page = pdf.add_blank_page(page_size=size)
        page.Contents = pdf.make_stream(f"{colour} rg 72 72 {size[0] / 3} {size[1] / 3} re f".encode())
    pdf.docinfo["/Producer"] = producer
    pdf.save(path)
    return path


# The peak of this process's own memory (VmHWM): getrusage's ru_maxrss would also count the
# memory of the test process that started it, which Linux carries across fork and exec.
PEAK = """import re, sys
from handouts.cli import main
try:
    main(sys.argv[1:])
finally:
    with open("/proc/self/status") as status:
        print(int(re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1)) // 1024, file=sys.stderr)
"""


def diff_with_peak(*args) -> tuple[subprocess.CompletedProcess, int]:
    """``handouts diff ARGS`` in a process of its own, and its peak memory in megabytes."""
    process = subprocess.run([sys.executable, "-c", PEAK, "diff", *map(str, args)],
                             capture_output=True, text=True, timeout=120)
    return process, int(process.stderr.strip().splitlines()[-1])


def test_a_huge_page_is_rendered_within_the_pixel_budget(tmp_path):
    inches_200 = (14400, 14400)  # the largest page PDF allows: 1.5 GB of pixels at 96 dpi
    made_pdf(tmp_path / "old/a.pdf", size=inches_200, colour="0 0 1")
    made_pdf(tmp_path / "new/a.pdf", size=inches_200, colour="1 0 0")
    result, megabytes = diff_with_peak(tmp_path / "old", tmp_path / "new", "--out", tmp_path / "report")
    assert result.returncode == 1, result.stderr
    assert "changed     a.pdf" in result.stdout
    assert megabytes < 600, megabytes
    width, height = Image.open(tmp_path / "report/pages/a/page-1.png").size
    page_width = (width - 4 * diff.MARGIN) // 3
    assert page_width * (height - diff.HEADER - diff.MARGIN) <= diff.MAX_PAGE_PIXELS
    assert page_width > 0.99 * diff.MAX_PAGE_PIXELS ** 0.5  # as large as the budget allows


def test_a_page_within_the_budget_keeps_the_asked_resolution(tmp_path):
    letter = made_pdf(tmp_path / "letter.pdf")
    width, height = diff.render_pages(letter, 300)[0].size  # 8.4 megapixels: in budget
    assert width == 2550 and abs(height - 3300) <= 1


def test_a_long_pdf_is_compared_a_page_at_a_time(tmp_path):
    made_pdf(tmp_path / "old/a.pdf", pages=120, producer="one")
    made_pdf(tmp_path / "new/a.pdf", pages=120, producer="two")  # other bytes, the same pages
    result, megabytes = diff_with_peak(tmp_path / "old", tmp_path / "new", "--out", tmp_path / "report")
    assert result.returncode == 0, result.stderr
    assert "1 PDF compared, 0 changed (0 pages)." in result.stdout
    assert megabytes < 500, megabytes  # holding them all: 120 x 2 pages of 2.6 MB each, 620 MB


@pytest.mark.parametrize("size, options, expected", [("8k", (), "the disk is full"),
                                                     ("1m", ("ro",), "the folder is read-only")])
def test_a_report_that_cannot_be_written_exits_2(tmp_path, size, options, expected):
    made_pdf(tmp_path / "old/a.pdf", colour="0 0 1")
    made_pdf(tmp_path / "new/a.pdf", colour="1 0 0")
    with small_disk(tmp_path / "disk", size, *options) as out:
        with contextlib.suppress(OSError), open(out / "filler", "wb") as file:
            file.write(b"\0" * 1024 * 1024)  # a full disk leaves no room for the page image
        result = run("diff", tmp_path / "old", tmp_path / "new", "--out", out / "report")
    assert result.exit_code == 2
    assert f"report: cannot write the report: {expected}" in result.output, result.output


def test_a_report_folder_under_a_file_exits_2(tmp_path):
    made_pdf(tmp_path / "old/a.pdf")
    made_pdf(tmp_path / "new/a.pdf")
    (tmp_path / "file").write_text("not a folder")
    result = run("diff", tmp_path / "old", tmp_path / "new", "--out", tmp_path / "file/report")
    assert result.exit_code == 2
    assert "file/report: cannot write the report: part of the path is a file" in result.output
    assert (tmp_path / "file").read_text() == "not a folder"


class ReportPage(HTMLParser):
    """What a test needs to know of the report's HTML."""

    def __init__(self):
        super().__init__()
        self.lang = self.title = None
        self.images, self.alts, self.links, self.ids, self.headings = [], [], [], set(), []
        self.scripts = self.external = self.header_cells_without_scope = 0
        self._in_title = False

    @classmethod
    def of(cls, text: str) -> "ReportPage":
        page = cls()
        page.feed(text)
        return page

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        self._in_title = tag == "title"
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag in ("h1", "h2", "h3"):
            self.headings.append(tag)
        if tag == "script":
            self.scripts += 1
        if tag == "img":
            self.images.append(attrs["src"])
            self.alts.append(attrs.get("alt", ""))
        if tag == "a":
            self.links.append(attrs["href"])
        if tag == "th" and "scope" not in attrs:
            self.header_cells_without_scope += 1
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            if ":" in value or value.startswith("/"):
                self.external += 1

    def handle_data(self, data):
        if self._in_title:
            self.title = data
            self._in_title = False
