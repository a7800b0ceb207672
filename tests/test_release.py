"""handouts build --release: the versioned folder, its checksums, its packets, its refusals, and
a published release that never changes, whatever goes wrong while the next one is written."""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import tomllib

import page
import pikepdf
import pytest
import yaml

from conftest import ROOT, copy_project, one_sheet_project, run, structure
from handouts import release
from handouts.config import load_project
from handouts.pdf import pdf_text
from test_robustness import small_disk

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
NEXT = "99.0.0"  # a later project version, for the release after VERSION
AFTERCARE = "content/en/ketamine-aftercare.md"


def release_of(project, *options):
    return run("-C", project, "build", "--release", "--strict", *options)


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """A release of the project with the standard edition only, drafts allowed (the Spanish
    sheets are drafts): 4 sheets and 2 packets."""
    project = copy_project(tmp_path_factory.mktemp("full") / "project")
    config = project / "handouts.toml"
    config.write_text(config.read_text().replace('editions = ["standard", "large-print"]',
                                                 'editions = ["standard"]'))
    result = release_of(project, "--allow-drafts")
    assert result.exit_code == 0, result.output
    return project / "dist/release" / VERSION


@pytest.fixture(scope="module")
def small_release(tmp_path_factory):
    """The English standard sheets released: 2 sheets and their packet."""
    project = one_sheet_project(tmp_path_factory.mktemp("small"))
    result = release_of(project)
    assert result.exit_code == 0, result.output
    return project


@pytest.fixture
def published(small_release, tmp_path):
    """A copy of ``small_release``, its published release included, for one test to change."""
    return shutil.copytree(small_release, tmp_path / "project")


def snapshot(folder) -> dict[str, tuple[str, int]]:
    """Every file under ``folder``: its sha256 and its inode (a rewrite changes the inode)."""
    return {path.relative_to(folder).as_posix(): (hashlib.sha256(path.read_bytes()).hexdigest(),
                                                  path.stat().st_ino)
            for path in sorted(folder.rglob("*")) if path.is_file()}


def checksums_hold(folder) -> bool:
    checked = subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=folder,
                             capture_output=True, text=True)
    return checked.returncode == 0


def raise_project_version(project, version: str = NEXT) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(f'version = "{VERSION}"', f'version = "{version}"'))
    changelog = project / "CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace("## [Unreleased]",
                                                       f"## [Unreleased]\n\n## [{version}] - 2026-12-03"))


def reword(project, sheet: str = AFTERCARE) -> None:
    path = project / sheet
    path.write_text(path.read_text().replace("After treatment, your body", "After your treatment, your body"))


# --- what a release holds --------------------------------------------------------------------

def test_a_release_leaves_drafts_out_and_names_them(small_project):
    treatment = small_project / "content/en/ketamine-treatment.md"
    treatment.write_text(treatment.read_text().replace("status: approved", "status: draft"))
    result = release_of(small_project)
    assert result.exit_code == 0, result.output
    assert "Left out of the release: 1 draft" in result.stderr
    assert "content/en/ketamine-treatment.md:5: status is draft" in result.stderr
    folder = small_project / "dist/release" / VERSION
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "SHA256SUMS", f"en/ketamine-aftercare-{VERSION}.pdf", "manifest.json"]  # no packet: a half


def test_a_release_of_drafts_only_is_refused(small_project):
    for sheet in ("ketamine-treatment", "ketamine-aftercare"):
        path = small_project / f"content/en/{sheet}.md"
        path.write_text(path.read_text().replace("status: approved", "status: draft"))
    result = release_of(small_project)
    assert result.exit_code == 1
    assert "expected approved sheets to release, found only drafts" in result.stderr
    assert not (small_project / "dist").exists()


@pytest.mark.parametrize("narrowing", [["--lang", "en"], ["--edition", "standard"], ["--paper", "a4"],
                                       ["ketamine-aftercare"]])
def test_options_that_would_narrow_a_release_are_usage_errors(small_project, narrowing):
    result = release_of(small_project, *narrowing)
    assert result.exit_code == 2
    assert "--release takes every approved sheet in every language and edition" in result.output
    assert not (small_project / "dist").exists()


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
    assert packet["sheets"] == ["ketamine-treatment 1.2", "ketamine-aftercare 1.3"]
    assert packet["status"] == "approved"
    sheet = next(e for e in manifest["files"] if e["path"] == f"en/ketamine-aftercare-{VERSION}.pdf")
    source = released.parents[2] / AFTERCARE
    assert sheet["source"] == hashlib.sha256(source.read_bytes()).hexdigest()


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
    assert text.count("BORRADOR: sin revisar para uso con pacientes") >= 2


def test_two_release_builds_are_byte_identical(small_release, tmp_path):
    result = release_of(small_release, "--out", tmp_path / "two")
    assert result.exit_code == 0, result.output
    one, two = small_release / "dist/release" / VERSION, tmp_path / "two/release" / VERSION
    assert {name: sha for name, (sha, _) in snapshot(one).items()} == \
           {name: sha for name, (sha, _) in snapshot(two).items()}
    assert len(snapshot(one)) == 5


def test_a_release_needs_its_changelog_entry(small_project):
    changelog = small_project / "CHANGELOG.md"
    changelog.write_text(re.sub(rf"## \[{re.escape(VERSION)}\]", "## [0.0.1]", changelog.read_text()))
    result = release_of(small_project)
    assert result.exit_code == 1
    assert f"CHANGELOG.md: expected an entry for version {VERSION}" in result.stderr
    assert not (small_project / "dist/release").exists()


# --- a published release never changes -----------------------------------------------------------

def test_the_same_bytes_again_is_a_no_op_that_clears_an_interrupted_release(published):
    releases = published / "dist/release"
    before = snapshot(releases / VERSION)
    leftover = releases / f".{NEXT}.partial/en"  # what a release killed mid-write leaves
    leftover.mkdir(parents=True)
    (leftover / f"ketamine-aftercare-{NEXT}.pdf").write_bytes(b"%PDF-1.7 half")
    result = release_of(published)
    assert result.exit_code == 0, result.output
    assert f"Release {VERSION} is already published with these same bytes" in result.output
    assert snapshot(releases / VERSION) == before
    assert sorted(path.name for path in releases.iterdir()) == [VERSION]


def test_changed_words_under_a_published_version_are_refused_and_nothing_changes(published):
    before = snapshot(published / "dist")
    reword(published)
    result = release_of(published)
    assert result.exit_code == 1
    assert (f"release {VERSION} is already published, and this build of it differs: "
            f"en/ketamine-aftercare-{VERSION}.pdf changed, en/patient-packet-{VERSION}.pdf changed."
            in result.stderr)
    assert "Raise the version in pyproject.toml" in result.stderr
    assert "the sheet's own version in its front matter" in result.stderr
    assert snapshot(published / "dist") == before


def test_a_sheet_whose_words_changed_needs_a_new_sheet_version(published):
    raise_project_version(published)
    reword(published)
    result = release_of(published)
    assert result.exit_code == 1
    assert (f"{AFTERCARE}:3: the words changed since release {VERSION}, which printed version 1.3 "
            f"of this sheet; expected a new version, found 1.3 again") in result.stderr
    assert not (published / "dist/release" / NEXT).exists()

    sheet = published / AFTERCARE
    sheet.write_text(sheet.read_text().replace('version: "1.3"', 'version: "1.4"'))
    result = release_of(published)
    assert result.exit_code == 0, result.output
    new = json.loads((published / "dist/release" / NEXT / "manifest.json").read_text())
    assert {e["handout"]: e.get("version") for e in new["files"]}["ketamine-aftercare"] == "1.4"
    assert checksums_hold(published / "dist/release" / VERSION)


def test_an_older_manifest_without_sources_is_not_held_against_a_sheet(published):
    manifest = published / "dist/release" / VERSION / "manifest.json"
    data = json.loads(manifest.read_text())
    for entry in data["files"]:
        entry.pop("source", None)
    manifest.write_text(json.dumps(data))
    raise_project_version(published)
    reword(published)
    result = release_of(published)
    assert result.exit_code == 0, result.output


def test_the_newest_earlier_release_is_compared_by_number():
    assert release.version_key("1.10.0") > release.version_key("1.9.2")
    assert release.version_key("2.0.0") > release.version_key("1.10.0")


# --- crash safety ------------------------------------------------------------------------------

def full_disk(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("step", ["first file", "last file", "rename"])
def test_a_release_that_fails_at_any_step_leaves_the_published_ones_as_they_were(published, step,
                                                                                 monkeypatch):
    releases = published / "dist/release"
    before = snapshot(releases)
    raise_project_version(published)
    if step == "rename":
        monkeypatch.setattr(release.os, "rename", full_disk)
    else:
        written, write = [], release.output.write_atomically
        fail_at = 0 if step == "first file" else 5 - 1  # 2 sheets, a packet, the 2 listings

        def failing(target, data):
            written.append(target)
            if len(written) - 1 == fail_at:
                full_disk()
            write(target, data)

        monkeypatch.setattr(release.output, "write_atomically", failing)
    result = release_of(published)
    assert result.exit_code == 1
    assert (f"dist/release/{NEXT}: could not write the release: the disk is full; nothing was "
            f"published, earlier releases are unchanged") in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(releases) == before  # no new folder, no leftover
    assert checksums_hold(releases / VERSION)


def test_a_file_where_the_release_folder_goes_is_left_alone(small_project):
    target = small_project / "dist/release" / VERSION
    target.parent.mkdir(parents=True)
    target.write_text("not a release")
    result = release_of(small_project)
    assert result.exit_code == 1
    assert "expected a published release folder or nothing, found a file" in result.stderr
    assert target.read_text() == "not a release"
    assert sorted(path.name for path in target.parent.iterdir()) == [VERSION]


def test_a_full_disk_keeps_the_published_release(small_project, tmp_path):
    with small_disk(tmp_path / "disk", "1m") as out:
        assert release_of(small_project, "--out", out).exit_code == 0
        before = snapshot(out / "release")
        with contextlib.suppress(OSError), open(out / "filler", "wb") as file:
            file.write(b"\0" * (2 * 1024 * 1024))  # the disk is now full
        raise_project_version(small_project)
        result = release_of(small_project, "--out", out)
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert "the disk is full" in result.stderr, result.stderr
        assert snapshot(out / "release") == before
        assert checksums_hold(out / "release" / VERSION)


def test_two_releases_at_once_take_turns(small_project):
    releases = small_project / "dist/release"
    releases.mkdir(parents=True)
    waiting = threading.Event()
    reports = []
    holder = os.open(releases, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(holder, fcntl.LOCK_EX)  # another release is writing
    try:
        worker = threading.Thread(target=lambda: reports.append(release.release(
            load_project(small_project), small_project / "dist", on_wait=lambda _: waiting.set())))
        worker.start()
        assert waiting.wait(120), "the release did not wait for the lock"
        assert not (releases / VERSION).exists()
    finally:
        os.close(holder)
    worker.join(60)
    assert reports and not reports[0].errors
    assert checksums_hold(releases / VERSION)


# --- the CI workflow ------------------------------------------------------------------------------

def workflow_steps(job: str) -> list[str]:
    workflow = yaml.safe_load((ROOT / ".github/workflows/handouts.yml").read_text())
    return [step.get("run", "") for step in workflow["jobs"][job]["steps"]]


def test_the_workflow_installs_every_tool_make_test_calls():
    """The python image has no Node: the Makefile's `npm ci` needs Debian's nodejs and npm."""
    assert re.search(r"^\s*npm ci\b", (ROOT / "Makefile").read_text(), re.MULTILINE)
    installs = " ".join(run for run in workflow_steps("test") if "apt-get install" in run)
    assert {"nodejs", "npm", "chromium"} <= set(installs.split())
    assert any("make test" in run for run in workflow_steps("test"))


def test_the_workflow_releases_what_the_project_says():
    assert not any(re.search(r"--(lang|edition|paper)\b", run) for run in workflow_steps("release"))
