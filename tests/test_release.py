"""handouts build --release: the versioned folder, its checksums, its packets, its refusals."""
from __future__ import annotations

import json
import re
import subprocess
import tomllib

import page
import pikepdf
import pytest

from conftest import ROOT, run, structure
from handouts.pdf import pdf_text

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


@pytest.fixture
def released(project):
    """A release of the standard edition, drafts allowed (the Spanish sheets are drafts)."""
    result = run("-C", project, "build", "--release", "--allow-drafts", "--edition", "standard")
    assert result.exit_code == 0, result.output
    return project / "dist/release" / VERSION


def test_a_release_refuses_drafts_and_names_them(project):
    result = run("-C", project, "build", "--release")
    assert result.exit_code == 1
    for draft in ("content/es/ketamine-aftercare.md:5: status is draft",
                  "content/es/ketamine-treatment.md:5: status is draft"):
        assert draft in result.stderr
    assert "Release refused: 2 problems, nothing written." in result.stderr
    assert "--allow-drafts" in result.stderr
    assert not (project / "dist").exists()


def test_a_release_folder_holds_versioned_pdfs_packets_manifest_and_checksums(released):
    names = sorted(p.relative_to(released).as_posix() for p in released.rglob("*") if p.is_file())
    assert names == ["SHA256SUMS", *sorted(
        f"{lang}/{name}-{VERSION}.pdf" for lang in ("en", "es")
        for name in ("ketamine-aftercare", "ketamine-treatment", "patient-packet")), "manifest.json"]
    checked = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=released, capture_output=True,
                             text=True)
    assert checked.returncode == 0 and checked.stdout.count(": OK") == 6, checked.stdout
    manifest = json.loads((released / "manifest.json").read_text())
    assert manifest["release"] == VERSION and len(manifest["files"]) == 6
    packet = next(e for e in manifest["files"] if e["path"] == f"en/patient-packet-{VERSION}.pdf")
    assert packet["sheets"] == ["ketamine-treatment 1.1", "ketamine-aftercare 1.1"]
    assert packet["status"] == "approved"


def test_a_packet_is_one_tagged_document_with_a_bookmark_per_sheet(released):
    path = released / f"en/patient-packet-{VERSION}.pdf"
    report = page.validate_pdf(path, profile=page.ValidationProfile.PDF_UA_1)
    assert report.is_compliant, [(f.rule_id, f.message) for f in report.failures]
    with pikepdf.open(path) as pdf:
        sheets = [pikepdf.open(released / f"en/{slug}-{VERSION}.pdf")
                  for slug in ("ketamine-treatment", "ketamine-aftercare")]
        assert len(pdf.pages) == sum(len(sheet.pages) for sheet in sheets)
        with pdf.open_outline() as outline:
            tops = [(item.title, item.destination) for item in outline.root]
        assert [title for title, _ in tops] == ["What to expect from ketamine treatment",
                                                "After your ketamine treatment"]
        assert pdf.Root.PageLabels.Nums[1].S == "/D"
        headings = [element for element in structure(pdf) if element.S == "/H1"]
        assert len(headings) == 2  # both titles, in the one structure tree
        numbers = pdf.Root.StructTreeRoot.ParentTree.Nums
        keys = [int(numbers[i]) for i in range(0, len(numbers), 2)]
        assert sorted(int(p.obj.StructParents) for p in pdf.pages) == sorted(set(keys))[:len(pdf.pages)]
    text = pdf_text(path.read_bytes())
    assert text.index("What to expect from ketamine treatment") < text.index("After your ketamine")


def test_a_draft_in_a_release_keeps_its_band(released):
    text = pdf_text((released / f"es/patient-packet-{VERSION}.pdf").read_bytes())
    assert text.count("BORRADOR - sin revisar para uso con pacientes") >= 2


def test_two_release_builds_are_byte_identical(project, tmp_path):
    for out in ("one", "two"):
        result = run("-C", project, "build", "--release", "--lang", "en", "--edition", "standard",
                     "--out", tmp_path / out)
        assert result.exit_code == 0, result.output
    one, two = (tmp_path / out / "release" / VERSION for out in ("one", "two"))
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert len(files) == 5
    for name in files:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_a_release_needs_its_changelog_entry(project):
    changelog = project / "CHANGELOG.md"
    changelog.write_text(re.sub(rf"## \[{re.escape(VERSION)}\]", "## [0.0.1]", changelog.read_text()))
    result = run("-C", project, "build", "--release", "--lang", "en")
    assert result.exit_code == 1
    assert f"CHANGELOG.md: expected an entry for version {VERSION}" in result.stderr
    assert not (project / "dist/release").exists()
