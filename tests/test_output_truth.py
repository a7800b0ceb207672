"""The output folder tells the truth about the content: a sheet whose content file is gone loses
its PDFs and manifest entries at the next build of everything, and nothing else does; a
handouts.toml that would build nothing, or a packet of sheets that do not exist, is an error.
"""
from __future__ import annotations

import json
import os
import re
import shutil

import pytest

from conftest import copy_project, run

GONE = "content/es/ketamine-aftercare.md"  # a translation: the packet names the originals
ITS_PDFS = ["es/ketamine-aftercare.pdf", "es/ketamine-aftercare-large-print.pdf"]


@pytest.fixture(scope="module")
def built_once(tmp_path_factory):
    """The aftercare sheet alone, in both languages and editions, built: 4 PDFs."""
    project = copy_project(tmp_path_factory.mktemp("truth") / "project")
    for lang in ("en", "es"):
        (project / f"content/{lang}/ketamine-treatment.md").unlink()
    config = project / "handouts.toml"
    config.write_text(re.sub(r"^packet = .*$", 'packet = ["ketamine-aftercare"]', config.read_text(),
                             flags=re.MULTILINE))
    assert run("-C", project, "build").exit_code == 0
    return project


@pytest.fixture
def rebuildable(built_once, tmp_path):
    """A fresh copy of ``built_once``, dist/ included, for one test to change."""
    return shutil.copytree(built_once, tmp_path / "project")


def manifest_paths(project) -> list[str]:
    return [entry["path"] for entry in json.loads((project / "dist/manifest.json").read_text())["files"]]


def cache_paths(project) -> list[str]:
    return list(json.loads((project / "dist/.handouts-cache.json").read_text())["sheets"])


def test_a_sheet_whose_content_is_gone_loses_its_pdfs_and_entries(rebuildable):
    (rebuildable / GONE).unlink()
    result = run("-C", rebuildable, "build")
    assert result.exit_code == 0, result.output
    for pdf in ITS_PDFS:
        assert f"  removed     {pdf}: {rebuildable / GONE} is gone" in result.stdout
        assert not (rebuildable / "dist" / pdf).exists()
        assert pdf not in manifest_paths(rebuildable) and pdf not in cache_paths(rebuildable)
    assert len(manifest_paths(rebuildable)) == 2 and "2 PDFs ready, 0 failed, 2 removed" in result.stdout
    again = run("-C", rebuildable, "build")
    assert "Nothing changed: 2 PDFs up to date" in again.stdout and "removed" not in again.stdout


@pytest.mark.parametrize("partial", [["ketamine-aftercare"], ["--lang", "es"], ["--edition", "standard"]],
                         ids=["slug", "lang", "edition"])
def test_a_partial_build_removes_nothing(rebuildable, partial):
    (rebuildable / GONE).unlink()
    result = run("-C", rebuildable, "build", *partial)
    assert result.exit_code == 0, result.output
    assert "removed" not in result.stdout
    for pdf in ITS_PDFS:
        assert (rebuildable / "dist" / pdf).exists() and pdf in manifest_paths(rebuildable)


def test_a_content_file_that_fails_to_load_keeps_its_pdf(rebuildable):
    (rebuildable / GONE).write_text("not front matter\n", encoding="utf-8")
    result = run("-C", rebuildable, "build")
    assert result.exit_code == 1 and f"{GONE}:1: expected front matter" in result.stderr
    assert "removed" not in result.stdout
    for pdf in ITS_PDFS:
        assert (rebuildable / "dist" / pdf).exists() and pdf in manifest_paths(rebuildable)


def test_the_entry_is_forgotten_before_the_pdf_goes(rebuildable, monkeypatch):
    (rebuildable / GONE).unlink()
    listed_at_removal = []
    real_unlink = os.unlink

    def unlink(path, *args, **kwargs):  # what the manifest on disk says as each PDF is deleted
        if str(path).endswith(".pdf"):
            listed_at_removal.append(str(path).split("/dist/")[1] in manifest_paths(rebuildable))
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    assert run("-C", rebuildable, "build").exit_code == 0
    assert listed_at_removal == [False, False]


def test_a_pdf_left_by_an_interrupted_removal_goes_at_the_next_build(rebuildable):
    """The removal was interrupted after the manifest forgot the PDF: the cache still names it."""
    (rebuildable / GONE).unlink()
    manifest = json.loads((rebuildable / "dist/manifest.json").read_text())
    manifest["files"] = [entry for entry in manifest["files"] if entry["path"] not in ITS_PDFS]
    (rebuildable / "dist/manifest.json").write_text(json.dumps(manifest))
    result = run("-C", rebuildable, "build")
    assert result.exit_code == 0, result.output
    for pdf in ITS_PDFS:
        assert f"  removed     {pdf}: {rebuildable / GONE} is gone" in result.stdout
        assert not (rebuildable / "dist" / pdf).exists()


def line_of(path, start: str) -> int:
    return next(number for number, text in enumerate(path.read_text().splitlines(), start=1)
                if text.startswith(start))


def test_no_editions_is_an_error(project):
    config = project / "handouts.toml"
    config.write_text(re.sub(r"^editions = .*$", "editions = []", config.read_text(), flags=re.MULTILINE))
    result = run("-C", project, "build")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"handouts.toml:{line_of(config, 'editions')}: editions: expected at least one, such as " \
           f"[\"standard\"]" in result.stderr
    assert not (project / "dist").exists()


@pytest.mark.parametrize("packet", ['["ketamine-treatment", "ketamine-aftercar"]',  # a typo
                                    '["spanish-only"]',  # a sheet only in a translation
                                    '["../en/ketamine-aftercare"]'])
def test_a_packet_of_sheets_that_do_not_exist_is_an_error(project, packet):
    (project / "content/es/spanish-only.md").write_text(
        (project / "content/es/ketamine-aftercare.md").read_text(encoding="utf-8"), encoding="utf-8")
    config = project / "handouts.toml"
    config.write_text(re.sub(r"^packet = .*$", f"packet = {packet}", config.read_text(), flags=re.MULTILINE))
    result = run("-C", project, "build")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"handouts.toml:{line_of(config, 'packet')}: packet: expected sheets of content/en/, found" in result.stderr
    assert "the sheets there are: ketamine-aftercare, ketamine-treatment" in result.stderr
