"""The command line, run in-process with click's CliRunner (and once through build.py)."""
from __future__ import annotations

import os
import subprocess
import sys

from handouts.config import load_project
from handouts.pipeline import render_sheet

from conftest import ROOT, run


def test_build_shows_a_line_per_pdf_and_a_summary(project):
    result = run("-C", project, "build")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Building into ") and lines[0].endswith("dist/ (letter paper)")
    assert any(line.split()[:2] == ["ok", "en/ketamine-aftercare.pdf"] and "2 pages" in line
               for line in lines)
    assert any(line.split()[:2] == ["ok", "en/ketamine-treatment.pdf"] for line in lines)
    assert any(line.split()[:2] == ["ok", "es/ketamine-aftercare-large-print.pdf"] for line in lines)
    assert lines[-1].startswith("8 PDFs ready, 0 failed, in ")
    assert (project / "dist/manifest.json").is_file()


def test_unchanged_sheets_are_not_printed_again_unless_forced(project):
    assert run("-C", project, "build").exit_code == 0
    written = {path: path.stat().st_mtime_ns for path in (project / "dist").rglob("*")}
    again = run("-C", project, "build")
    assert again.stdout.count("up to date\n") == 8
    assert "Nothing changed: 8 PDFs up to date, nothing written." in again.stdout
    assert {path: path.stat().st_mtime_ns for path in (project / "dist").rglob("*")} == written
    forced = run("-C", project, "build", "--force")
    assert "up to date" not in forced.stdout
    page = project / "content/en/ketamine-treatment.md"
    page.write_text(page.read_text().replace("Bring a list", "Bring the list"))
    edited = run("-C", project, "build")
    assert edited.stdout.count("up to date\n") == 6
    assert sorted(line.split()[1] for line in edited.stdout.splitlines()
                  if line.strip().startswith("ok") and "up to date" not in line) == [
        "en/ketamine-treatment-large-print.pdf", "en/ketamine-treatment.pdf"]


def test_a_build_that_will_likely_print_nothing_starts_no_worker(small_project):
    # The guess: no input newer than the last build's cache. A file written since (even with
    # the same words), a missing cache, or a project never built means a worker is started.
    from handouts.cli import _probably_up_to_date

    project, out = small_project, small_project / "dist"
    assert not _probably_up_to_date(project, out)  # never built
    assert run("-C", project, "build").exit_code == 0
    assert _probably_up_to_date(project, out)
    sheet = project / "content/en/ketamine-aftercare.md"
    built = (out / ".handouts-cache.json").stat().st_mtime
    os.utime(sheet, (built + 1, built + 1))
    assert not _probably_up_to_date(project, out)
    os.utime(sheet, (built - 1, built - 1))
    (project / "styles/tokens.css").touch()
    assert not _probably_up_to_date(project, out)


def test_a_style_change_reprints(small_project):
    project = small_project
    assert run("-C", project, "build").exit_code == 0
    tokens = project / "styles/tokens.css"
    tokens.write_text(tokens.read_text().replace("#0e5a63", "#0e5a64"))
    assert "up to date" not in run("-C", project, "build").stdout


def test_building_one_handout_keeps_the_others_in_the_manifest(small_project):
    project = small_project
    assert run("-C", project, "build").exit_code == 0
    assert run("-C", project, "build", "--force", "ketamine-aftercare").exit_code == 0
    manifest = (project / "dist/manifest.json").read_text()
    assert "en/ketamine-treatment.pdf" in manifest and "en/ketamine-aftercare.pdf" in manifest


def test_quiet_says_nothing_when_all_is_well(small_project):
    project = small_project
    for args in (["-q", "-C", project, "build"], ["-C", project, "build", "--force", "-q"]):
        result = run(*args)
        assert result.exit_code == 0
        assert result.output == ""


def test_list_shows_each_handout_in_each_language_with_its_pages(project):
    assert run("-C", project, "build").exit_code == 0
    result = run("-C", project, "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["HANDOUT", "LANG", "VERSION", "STATUS", "UPDATED", "PAGES",
                                "(standard/large-print)"]
    assert lines[1].split() == ["ketamine-aftercare", "en", "1.3", "approved", "2026-12-03", "2/4"]
    assert lines[2].split() == ["ketamine-aftercare", "es", "1.3", "draft", "2026-12-03", "2/4"]
    assert lines[3].split()[:5] == ["ketamine-treatment", "en", "1.2", "approved", "2026-12-03"]
    assert "Missing" not in result.stdout


def test_list_shows_a_missing_translation(project):
    (project / "content/es/ketamine-treatment.md").unlink()
    result = run("-C", project, "list")
    assert result.exit_code == 0
    assert ["ketamine-treatment", "es", "-", "MISSING", "-", "-"] in [
        line.split() for line in result.stdout.splitlines()]
    assert "Missing: content/es/ketamine-treatment.md" in result.stdout


def test_list_before_any_build(project):
    result = run("-C", project, "list")
    assert "not built" in result.stdout


def test_build_py_is_the_same_command():
    result = subprocess.run([sys.executable, "build.py", "-C", str(ROOT), "list"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("HANDOUT")
    helped = subprocess.run([sys.executable, "build.py", "--help"], cwd=ROOT,
                            capture_output=True, text=True)
    assert "Usage: handouts" in helped.stdout


def test_missing_project_is_a_clear_error(tmp_path):
    result = run("-C", tmp_path, "build")
    assert result.exit_code == 1
    assert "handouts.toml: no handouts.toml here" in result.stderr


def test_the_render_gate_works_in_memory_and_writes_nothing(project):
    before = sorted(path for path in project.rglob("*"))
    sheet = render_sheet(load_project(project), "ketamine-aftercare", "en", "standard", "letter")
    assert sheet.data.startswith(b"%PDF-") and sheet.pages == 2
    assert not sheet.warnings
    assert sorted(path for path in project.rglob("*")) == before
