"""handouts new: a sheet that builds and passes check at once; nothing is ever overwritten."""
from __future__ import annotations

from datetime import date

import yaml

from conftest import one_sheet_project, run


def front_matter(path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])


def test_a_new_sheet_passes_check_at_once(tmp_path):
    project = one_sheet_project(tmp_path)
    result = run("-C", project, "new", "knee-injection", "--title", "Your knee injection: what to expect")
    assert result.exit_code == 0, result.output
    sheet = project / "content/en/knee-injection.md"
    meta = front_matter(sheet)
    assert meta["title"] == "Your knee injection: what to expect" and meta["status"] == "draft"
    assert meta["version"] == "1.0" and meta["updated"] == date.today()
    body = sheet.read_text(encoding="utf-8")
    assert body.count("\n## ") == 3  # what it is, what to do, when to call
    checked = run("-C", project, "check", "knee-injection")
    assert checked.exit_code == 0, checked.output
    assert "0 errors" in checked.output
    built = run("-C", project, "build", "knee-injection", "--strict", "--out", tmp_path / "out")
    assert built.exit_code == 0, built.output


def test_new_refuses_an_existing_or_malformed_slug(tmp_path):
    project = one_sheet_project(tmp_path)
    sheet = project / "content/en/ketamine-aftercare.md"
    before = sheet.read_bytes()
    result = run("-C", project, "new", "ketamine-aftercare")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "content/en/ketamine-aftercare.md: already exists" in result.stderr
    assert sheet.read_bytes() == before
    for slug in ("Knee Injection", "knee_injection", "knee-", "../knee"):
        result = run("-C", project, "new", slug)
        assert result.exit_code == 1, slug
        assert "expected a slug of lowercase letters and digits joined by hyphens" in result.stderr
    assert sorted(p.name for p in (project / "content/en").iterdir()) == [
        "ketamine-aftercare.md", "ketamine-treatment.md"]


def test_a_translation_starts_from_the_original(project):
    result = run("-C", project, "new", "knee-injection")
    assert result.exit_code == 0, result.output
    original = project / "content/en/knee-injection.md"
    original.write_text(original.read_text().replace('version: "1.0"', 'version: "1.2"\nmax_pages: 3'))
    result = run("-C", project, "new", "knee-injection", "--lang", "es", "--title", "Su inyección")
    assert result.exit_code == 0, result.output
    translation = project / "content/es/knee-injection.md"
    meta = front_matter(translation)
    assert meta == {**meta, "title": "Su inyección", "version": "1.2", "status": "draft", "max_pages": 3}
    assert "max_pages_large" not in meta  # only the budgets the original sets
    assert translation.read_text().split("---\n", 2)[2] == original.read_text().split("---\n", 2)[2]
    missing = run("-C", project, "new", "no-original", "--lang", "es")
    assert missing.exit_code == 1
    assert "content/en/no-original.md: does not exist; a translation starts from its original" in missing.stderr
    unknown = run("-C", project, "new", "knee-injection", "--lang", "fr")
    assert unknown.exit_code == 1 and "--lang: expected one of en, es" in unknown.stderr
