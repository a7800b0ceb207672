"""handouts specimen: every element, in every language and edition, outside dist/."""
from __future__ import annotations

import page
import pikepdf

from conftest import copy_project, reading_text, run


def test_the_specimen_shows_every_element_in_each_language_and_edition(tmp_path):
    project = copy_project(tmp_path / "project")
    result = run("-C", project, "specimen")
    assert result.exit_code == 0, result.output
    assert not (project / "dist").exists()  # never in a build's released set
    pdfs = sorted(str(p.relative_to(project / "specimen")) for p in (project / "specimen").rglob("*.pdf"))
    assert pdfs == ["en/specimen-large-print.pdf", "en/specimen.pdf",
                    "es/specimen-large-print.pdf", "es/specimen.pdf"]
    for name in pdfs:
        path = project / "specimen" / name
        report = page.validate_pdf(path, profile=page.ValidationProfile.PDF_UA_1)
        assert report.is_compliant, (name, [(f.rule_id, f.message) for f in report.failures])
        with pikepdf.open(path) as pdf:
            tags = {str(e.S) for e in _elements(pdf)}
            assert len(list(path.parent.glob(path.stem + "-page-*.png"))) == len(pdf.pages)
        assert {"/H1", "/H2", "/H3", "/H4", "/L", "/Table", "/THead", "/TH", "/Link",
                "/BlockQuote"} <= tags, (name, tags)
        text = reading_text(path)
        assert ("Specimen of every element" if name.startswith("en") else "Muestra de cada elemento") in text


def _elements(pdf):
    stack = list(pdf.Root.StructTreeRoot.K)
    while stack:
        element = stack.pop()
        if isinstance(element, pikepdf.Dictionary) and "/S" in element:
            yield element
            kids = element.get("/K")
            stack.extend(kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else [])
