"""Visual diff of two builds: what a stylesheet or content change did to the printed pages.

``diff(old, new, out)`` pairs the PDFs of two build folders (by their manifests, or by the PDFs
found when a folder has none), renders every page of every PDF present in both with pypdfium2,
compares the pixels with Pillow, and writes into ``out``: one image per changed page (old, new,
and the changes highlighted) and ``index.html``, the report a reviewer opens: the folder is
self-contained, nothing in it refers to anything outside it.

Bounded: each page is rendered at ``dpi`` or, when that would take more than MAX_PAGE_PIXELS,
at the resolution that fits in them, and the pages of a PDF are rendered, compared and dropped
one pair at a time, so that neither a huge page nor a long PDF can exhaust the memory. What
cannot be read or written (a broken PDF, a full disk) is a CannotCompare error, exit 2.

The comparison (``render_pages`` and ``compare_pages``) is reused by the tests' golden page images.
"""
from __future__ import annotations

import filecmp
import html
import json
import math
import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageChops, ImageDraw, ImageFont

from .errors import HandoutsError, display_path
from .output import reason

MANIFEST = "manifest.json"
REPORT = "index.html"
PAGES_DIR = "pages"
DPI = 96
# At most this many pixels a page: Letter and A4 at 300 dpi fit (8.7 megapixels), a 200 x 200
# inch page is drawn at 15 dpi instead of needing 1.5 GB at 96 dpi.
MAX_PAGE_PIXELS = 9_000_000
# A pixel has changed when one of its channels moved by more than NOISE_LEVEL (of 255), and a
# page has changed when more than NOISE_PIXELS pixels did: enough to ignore a stray anti-aliased
# edge, small enough that a changed full stop or a slightly different colour still counts.
NOISE_LEVEL = 8
NOISE_PIXELS = 4
HIGHLIGHT = (214, 0, 120)  # magenta: found on no sheet, so a change never hides in the brand
BACKGROUND = (96, 96, 96)
MARGIN, HEADER = 16, 40  # around the three pages of a changed page's picture; above them, labels


class CannotCompare(HandoutsError):
    """The two builds cannot be compared: a folder is missing, unreadable, or shares no PDF."""

    exit_code = 2


@dataclass
class Build:
    """One side of the diff: a build folder and its PDFs, keyed by what they are."""

    folder: Path
    pdfs: dict[str, Path]  # identity (the manifest's path, release version left out) -> file


@dataclass
class Comparison:
    """How one page differs from another; ``changed`` is False when the difference is noise."""

    changed_pixels: int
    total_pixels: int
    regions: list[tuple[int, int, int, int]]  # boxes around the changes, in pixels of the page
    mask: Image.Image  # white where a pixel changed

    @property
    def changed(self) -> bool:
        return self.changed_pixels > NOISE_PIXELS

    @property
    def percent(self) -> float:
        return 100 * self.changed_pixels / self.total_pixels if self.total_pixels else 0.0


@dataclass
class PageChange:
    number: int  # 1-based
    comparison: Comparison
    image: Path  # the old | new | changes picture, relative to the report folder
    note: str = ""  # "page added" or "page removed" when only one side has it


@dataclass
class PdfDiff:
    name: str
    old_pages: int
    new_pages: int
    pages: list[PageChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.pages) or self.old_pages != self.new_pages


@dataclass
class Report:
    old: Build
    new: Build
    out: Path
    dpi: int
    compared: list[PdfDiff]
    added: list[str]
    removed: list[str]

    @property
    def changed_pdfs(self) -> list[PdfDiff]:
        return [pdf for pdf in self.compared if pdf.changed]

    @property
    def changed(self) -> bool:
        return bool(self.changed_pdfs or self.added or self.removed)


def diff(old: Path, new: Path, out: Path, *, dpi: int = DPI) -> Report:
    """Compare two builds page by page and write the report into ``out``."""
    old_build, new_build = open_build(old), open_build(new)
    shared = sorted(old_build.pdfs.keys() & new_build.pdfs.keys())
    if not shared:
        raise CannotCompare(f"{display_path(old_build.folder)} and {display_path(new_build.folder)} "
                            f"share no PDF; expected two builds of the same handouts")
    with writing(out):
        clear_previous_report(out)
    compared = [diff_pdf(name, old_build.pdfs[name], new_build.pdfs[name], out, dpi) for name in shared]
    report = Report(old_build, new_build, out, dpi, compared,
                    added=sorted(new_build.pdfs.keys() - old_build.pdfs.keys()),
                    removed=sorted(old_build.pdfs.keys() - new_build.pdfs.keys()))
    with writing(out):
        (out / REPORT).write_text(report_html(report), encoding="utf-8")
    return report


@contextmanager
def writing(out: Path):
    """A report that cannot be written (a full disk, a read-only folder) cannot be compared to."""
    try:
        yield
    except OSError as error:
        raise CannotCompare(f"{display_path(out)}: cannot write the report: {reason(error)}") from None


def open_build(path: Path) -> Build:
    """A build folder, or a manifest.json whose folder is the build."""
    folder = path.parent if path.name == MANIFEST and path.is_file() else path
    if not folder.is_dir():
        raise CannotCompare(f"{display_path(path)}: no such folder; expected a build folder "
                            f"or its {MANIFEST}")
    manifest = folder / MANIFEST
    pdfs = pdfs_in_manifest(manifest) if manifest.is_file() else pdfs_in_folder(folder)
    return Build(folder, pdfs)


def pdfs_in_manifest(manifest: Path) -> dict[str, Path]:
    """The PDFs a manifest lists that are on disk, keyed by path without the release version."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        release = str(data.get("release", ""))
        paths = [entry["path"] for entry in data["files"]]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise CannotCompare(f"{display_path(manifest)}: expected a build manifest with a 'files' "
                            f"list of {{'path': ...}} entries, found something else ({error})")
    folder = manifest.parent
    return {identity(path, release): folder / path for path in paths
            if path.endswith(".pdf") and (folder / path).is_file()}


def pdfs_in_folder(folder: Path) -> dict[str, Path]:
    return {path.relative_to(folder).as_posix(): path for path in sorted(folder.rglob("*.pdf"))}


def identity(path: str, release: str) -> str:
    """``en/aftercare-1.2.0.pdf`` of release 1.2.0 is ``en/aftercare.pdf``: so that two release
    folders pair their sheets although each file name carries its own version."""
    if not release:
        return path
    head, _, name = path.rpartition("/")
    name = re.sub(rf"[-_.]v?{re.escape(release)}(?=\.pdf$)", "", name)
    return f"{head}/{name}" if head else name


def clear_previous_report(out: Path) -> None:
    """Remove the images of an earlier report in ``out`` (and nothing else), so none goes stale."""
    if (out / REPORT).is_file() and (out / PAGES_DIR).is_dir():
        shutil.rmtree(out / PAGES_DIR)
    out.mkdir(parents=True, exist_ok=True)


def diff_pdf(name: str, old: Path, new: Path, out: Path, dpi: int) -> PdfDiff:
    """Compare one PDF's pages, one pair at a time; a page only one side has is compared with
    a blank page."""
    with _open_pdf(old) as old_document, _open_pdf(new) as new_document:
        old_pages, new_pages = len(old_document), len(new_document)
        result = PdfDiff(name, old_pages, new_pages)
        if same_bytes(old, new):
            return result
        for index in range(max(old_pages, new_pages)):
            before = render_page(old_document, index, old, dpi) if index < old_pages else None
            after = render_page(new_document, index, new, dpi) if index < new_pages else None
            before, after = on_one_canvas(before, after)
            comparison = compare_pages(before, after)
            if not comparison.changed:
                continue
            image = Path(PAGES_DIR, name.removesuffix(".pdf"), f"page-{index + 1}.png")
            with writing(out):
                (out / image).parent.mkdir(parents=True, exist_ok=True)
                side_by_side(before, after, comparison).save(out / image)
            note = "page added" if index >= old_pages else "page removed" if index >= new_pages else ""
            result.pages.append(PageChange(index + 1, comparison, image, note))
    return result


def same_bytes(old: Path, new: Path) -> bool:
    try:
        return filecmp.cmp(old, new, shallow=False)
    except OSError as error:
        raise CannotCompare(f"{display_path(old)} or {display_path(new)}: cannot read it: "
                            f"{reason(error)}") from None


def render_pages(path: Path, dpi: int = DPI) -> list[Image.Image]:
    """Every page of a (short) PDF as an RGB image, ``dpi`` pixels to the inch at most."""
    with _open_pdf(path) as document:
        return [render_page(document, index, path, dpi) for index in range(len(document))]


def render_page(document: pdfium.PdfDocument, index: int, path: Path, dpi: int) -> Image.Image:
    """One page as an RGB image at ``dpi``, or at less where that would exceed MAX_PAGE_PIXELS."""
    try:
        page = document[index]
        try:
            width, height = page.get_size()
            scale = min(dpi / 72, math.sqrt(MAX_PAGE_PIXELS / max(width * height, 1)))
            bitmap = page.render(scale=scale)
            try:  # closed at once: the document would keep every page's bitmap until its end
                return bitmap.to_pil().convert("RGB")
            finally:
                bitmap.close()
        finally:
            page.close()
    except (pdfium.PdfiumError, MemoryError) as error:
        raise CannotCompare(f"{display_path(path)}: cannot render page {index + 1} "
                            f"({error.__class__.__name__}: {error})") from None


@contextmanager
def _open_pdf(path: Path):
    """pypdfium2's document, closed after use, with a clear error for a file it cannot read."""
    try:
        document = pdfium.PdfDocument(path)
    except (pdfium.PdfiumError, OSError) as error:
        raise CannotCompare(f"{display_path(path)}: expected a PDF, cannot read it ({error})")
    try:
        yield document
    finally:
        document.close()


def on_one_canvas(old: Image.Image | None, new: Image.Image | None) -> tuple[Image.Image, Image.Image]:
    """Both pages on white canvases of one size (a missing page is a blank one)."""
    sizes = [image.size for image in (old, new) if image is not None]
    size = (max(w for w, _ in sizes), max(h for _, h in sizes))

    def fit(image):
        if image is not None and image.size == size:
            return image
        canvas = Image.new("RGB", size, "white")
        if image is not None:
            canvas.paste(image, (0, 0))
        return canvas

    return fit(old), fit(new)


def compare_pages(old: Image.Image, new: Image.Image) -> Comparison:
    """Which pixels changed beyond the noise level, and boxes around where they are."""
    old, new = on_one_canvas(old.convert("RGB"), new.convert("RGB"))
    red, green, blue = ImageChops.difference(old, new).split()
    largest = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    mask = largest.point(lambda level: 255 if level > NOISE_LEVEL else 0)
    changed = mask.histogram()[255]
    return Comparison(changed, mask.width * mask.height, changed_regions(mask) if changed else [], mask)


def changed_regions(mask: Image.Image) -> list[tuple[int, int, int, int]]:
    """Boxes around the changes, one per band of rows with changes in it: a reviewer's eye goes
    to each changed line or paragraph rather than to one box around the whole page."""
    strip = max(4, mask.height // 100)
    regions: list[list[int]] = []
    for top in range(0, mask.height, strip):
        box = mask.crop((0, top, mask.width, min(top + strip, mask.height))).getbbox()
        if box is None:
            continue
        left, y0, right, y1 = box[0], top + box[1], box[2], top + box[3]
        if regions and y0 - regions[-1][3] <= strip:  # touches the band above: one region
            last = regions[-1]
            last[0], last[2], last[3] = min(last[0], left), max(last[2], right), y1
        else:
            regions.append([left, y0, right, y1])
    return [tuple(region) for region in regions]


def side_by_side(old: Image.Image, new: Image.Image, comparison: Comparison,
                 labels: tuple[str, str] = ("Old", "New")) -> Image.Image:
    """Old, new, and the new page faded with its changed pixels and regions in magenta."""
    width, height = new.size
    picture = Image.new("RGB", (3 * width + 4 * MARGIN, height + HEADER + MARGIN), BACKGROUND)
    changes = highlighted(new, comparison)
    font = _label_font()
    draw = ImageDraw.Draw(picture)
    for column, (label, panel) in enumerate(zip((*labels, "Changes"), (old, new, changes))):
        x = MARGIN + column * (width + MARGIN)
        draw.text((x, HEADER // 2), label, fill="white", font=font, anchor="lm")
        picture.paste(panel, (x, HEADER))
    return picture


def highlighted(page: Image.Image, comparison: Comparison) -> Image.Image:
    faded = Image.blend(page.convert("L").convert("RGB"), Image.new("RGB", page.size, "white"), 0.7)
    faded.paste(Image.new("RGB", page.size, HIGHLIGHT), (0, 0), comparison.mask)
    draw = ImageDraw.Draw(faded)
    pad = 4
    for left, top, right, bottom in comparison.regions:
        draw.rectangle((left - pad, top - pad, right + pad, bottom + pad), outline=HIGHLIGHT, width=2)
    return faded


def _label_font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=26)
    except TypeError:  # Pillow built without FreeType: the small bitmap font still labels
        return ImageFont.load_default()


def summary_lines(report: Report) -> list[str]:
    """What the command prints: each change on a line, then the verdict and the report's path."""
    lines = [f"  added       {name}" for name in report.added]
    lines += [f"  removed     {name}" for name in report.removed]
    for pdf in report.changed_pdfs:
        pages = ", ".join(str(page.number) for page in pdf.pages) or "none"
        count = f" ({pdf.old_pages} -> {pdf.new_pages} pages)" if pdf.old_pages != pdf.new_pages else ""
        lines.append(f"  changed     {pdf.name:<40} pages {pages}{count}")
    lines.append(verdict(report) + f" Report: {display_path(report.out / REPORT)}")
    return lines


def verdict(report: Report) -> str:
    changed_pages = sum(len(pdf.pages) for pdf in report.compared)
    parts = [f"{len(report.compared)} PDF{_s(len(report.compared))} compared",
             f"{len(report.changed_pdfs)} changed ({changed_pages} page{_s(changed_pages)})"]
    if report.added:
        parts.append(f"{len(report.added)} added")
    if report.removed:
        parts.append(f"{len(report.removed)} removed")
    return ", ".join(parts) + "."


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def report_html(report: Report) -> str:
    """The reviewer's page: no script, nothing fetched; its images lie beside it in ``pages/``
    (inlined, a stylesheet change to every sheet would make one page of hundreds of megabytes)."""
    e = html.escape
    old, new = e(display_path(report.old.folder)), e(display_path(report.new.folder))
    title = "No visual change" if not report.changed else "Visual changes to review"
    body = [f"<h1>{title}</h1>",
            f"<p>Old build: <code>{old}</code>. New build: <code>{new}</code>. "
            f"Pages rendered at {report.dpi} dpi (a page larger than {MAX_PAGE_PIXELS // 1_000_000} "
            f"megapixels at less).</p>",
            f"<p class=verdict>{e(verdict(report))}</p>",
            _pdf_table(report)]
    body += _name_list("PDFs added", "Only in the new build.", report.added)
    body += _name_list("PDFs removed", "Only in the old build.", report.removed)
    for number, pdf in enumerate(report.changed_pdfs, start=1):
        body += _pdf_section(pdf, number)
    return _PAGE.format(title=e(title), body="\n".join(body))


def _pdf_table(report: Report) -> str:
    rows = []
    for number, pdf in enumerate(report.changed_pdfs, start=1):
        pages = ", ".join(str(page.number) for page in pdf.pages) or "none"
        rows.append(f"<tr><th scope=row><a href='#pdf-{number}'>{html.escape(pdf.name)}</a></th>"
                    f"<td>{pdf.old_pages}</td><td>{pdf.new_pages}</td><td>{pages}</td></tr>")
    for pdf in report.compared:
        if not pdf.changed:
            rows.append(f"<tr><th scope=row>{html.escape(pdf.name)}</th><td>{pdf.old_pages}</td>"
                        f"<td>{pdf.new_pages}</td><td>none</td></tr>")
    return ("<table><caption>PDFs in both builds, changed ones first</caption>"
            "<thead><tr><th scope=col>PDF</th><th scope=col>Old pages</th>"
            "<th scope=col>New pages</th><th scope=col>Changed pages</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _name_list(heading: str, explanation: str, names: list[str]) -> list[str]:
    if not names:
        return []
    items = "".join(f"<li><code>{html.escape(name)}</code></li>" for name in names)
    return [f"<h2>{heading}</h2>", f"<p>{explanation}</p>", f"<ul>{items}</ul>"]


def _pdf_section(pdf: PdfDiff, number: int) -> list[str]:
    e = html.escape
    section = [f"<section aria-labelledby='pdf-{number}'>",
               f"<h2 id='pdf-{number}'>{e(pdf.name)}</h2>"]
    if pdf.old_pages != pdf.new_pages:
        section.append(f"<p>Page count changed: {pdf.old_pages} before, {pdf.new_pages} now.</p>")
    for page in pdf.pages:
        what = f"Page {page.number}" + (f" ({page.note})" if page.note else "")
        described = (f"{what} of {pdf.name}: the old page, the new page, and the new page faded "
                     f"with {len(page.comparison.regions)} changed area"
                     f"{_s(len(page.comparison.regions))} boxed in magenta")
        src = e(page.image.as_posix())
        section.append(
            f"<figure><figcaption><h3>{e(what)}</h3>{page.comparison.percent:.2f}% of the page "
            f"changed, in {len(page.comparison.regions)} area{_s(len(page.comparison.regions))}. "
            f"Left: old. Middle: new. Right: changes in magenta.</figcaption>"
            f"<a href='{src}'><img src='{src}' alt='{e(described)}' loading=lazy></a></figure>")
    section.append("</section>")
    return section


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ background: #fff; color: #1c2329; font: 1rem/1.5 system-ui, sans-serif; margin: 0 auto;
       max-width: 110rem; padding: 1rem 2rem 3rem; }}
h1 {{ font-size: 1.8rem; margin-bottom: 0.25rem; }}
h2 {{ border-top: 2px solid #c5d3d6; font-size: 1.35rem; margin-top: 2.5rem; padding-top: 1rem; }}
h3 {{ display: inline; font-size: 1.1rem; margin-right: 0.5rem; }}
code {{ background: #eef2f3; padding: 0 0.25rem; }}
.verdict {{ font-size: 1.15rem; font-weight: bold; }}
table {{ border-collapse: collapse; margin-top: 1rem; }}
caption {{ font-weight: bold; padding-bottom: 0.5rem; text-align: left; }}
th, td {{ border: 1px solid #c5d3d6; padding: 0.3rem 0.75rem; text-align: left; }}
thead th {{ background: #eef2f3; }}
a {{ color: #0b4f8a; }}
a:focus {{ outline: 3px solid #d60078; outline-offset: 2px; }}
figure {{ margin: 1.5rem 0; }}
figcaption {{ margin-bottom: 0.5rem; }}
img {{ border: 1px solid #606060; height: auto; max-width: 100%; }}
</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""
