"""handouts specimen: one sheet that shows every element, for designers.

``templates/specimen/<lang>/specimen.md`` uses every element a sheet can have (call-outs,
headings, nested lists, a table, a task list, links, a figure, a quote, a definition list, a
footnote, a rule). It goes through the same render gate as a real sheet, strictly, in every
configured language and edition, into a folder of its own (``specimen/`` by default), never
into a build's released set. Each PDF gets page images beside it, so a designer sees every
style at once after a change.
"""
from __future__ import annotations

from pathlib import Path

from . import content, pipeline, sandbox
from .config import Project

SOURCE = "templates/specimen/{lang}/specimen.md"
PAGE_DPI = 60


def build_specimen(project: Project, out: Path, paper: str | None = None) -> list[Path]:
    """Print the specimen in every language and edition into ``out``; the files written."""
    import pypdfium2

    config = project.config
    written = []
    specimens = []
    for lang in config.languages:
        path = project.root / SOURCE.format(lang=lang)
        if sandbox.file_kind(path) == "nothing":  # a language without its own specimen shows the original's
            path = project.root / SOURCE.format(lang=config.source_language)
        specimens.append(content.load_handout(path, lang))
    for job in pipeline.plan(specimens, paper or config.paper, config.editions, config.bilingual):
        sheet = pipeline.print_sheet(project, job, strict=True)
        pdf_path = out / job.path
        pdf_path.parent.mkdir(parents=True, exist_ok=True)
        pdf_path.write_bytes(sheet.data)
        written.append(pdf_path)
        document = pypdfium2.PdfDocument(sheet.data)
        for number in range(len(document)):
            image = pdf_path.with_name(f"{pdf_path.stem}-page-{number + 1}.png")
            document[number].render(scale=PAGE_DPI / 72).to_pil().save(image)
            written.append(image)
        document.close()
    return written
