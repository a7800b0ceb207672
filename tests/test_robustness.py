"""No input crashes, hangs or runs away; the output folder never loses a good PDF or lies.

File-system oddities, the render gate's own checks, the output folder's faults, two builds at
once, ``kill -9`` mid-build, two threads printing at once, and a property test that feeds
random front matter and Markdown through the command line.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pdfplumber
import pytest
import tinycss2
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import FIXTURES, ROOT, copy_project, one_sheet_project, run
from handouts import output, sandbox
from handouts.config import load_project
from handouts.errors import InputError
from handouts.pdf import pdf_text
from handouts.pipeline import PersonalFieldError, UnknownSheet, render_sheet
from handouts.render import Personal, css_string, keep_together

HANDOUTS = str(Path(sys.executable).parent / "handouts")
AFTERCARE = "content/en/ketamine-aftercare.md"


def build(project: Path, *args, timeout=120) -> subprocess.CompletedProcess:
    """``handouts build`` as its own process: what a hang or a kill would really hit."""
    return subprocess.run([HANDOUTS, "-C", str(project), "build", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def manifest_is_true(out: Path) -> list[dict]:
    """Every manifest entry's sha256 matches its file; returns the entries."""
    entries = json.loads((out / "manifest.json").read_text())["files"]
    for entry in entries:
        assert hashlib.sha256((out / entry["path"]).read_bytes()).hexdigest() == entry["sha256"], entry
    return entries


def temporary_files(out: Path) -> list[str]:
    return [p.name for p in out.rglob(".*") if p.name != output.CACHE]


# --- content paths that are not regular files ----------------------------------------------

def test_paths_that_are_not_regular_files_are_named_and_never_read(tmp_path):
    project = one_sheet_project(tmp_path)
    secret = tmp_path / "outside.md"
    secret.write_text("---\ntitle: root:x:0:0 secret line\n---\n")
    en = project / "content/en"
    (en / "a-directory.md").mkdir()
    (en / "a-broken-link.md").symlink_to(tmp_path / "nowhere.md")
    (en / "a-link-outside.md").symlink_to(secret)
    (en / "a-link-loop.md").symlink_to(en / "a-link-loop.md")
    (en / "a-link-inside.md").symlink_to(en / "ketamine-aftercare.md")
    os.mkfifo(en / "a-fifo.md")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(en / "a-socket.md"))
    (en / "a-huge-sheet.md").write_text("---\n" + "x" * (200 * 1024))
    try:
        result = build(project, timeout=60)  # a FIFO that were opened would hang here
    finally:
        listener.close()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    expected = {
        "a-directory.md": "expected a regular file, found a directory",
        "a-broken-link.md": "expected a regular file, found a link to nothing",
        "a-link-outside.md": "is a link to a file outside the project",
        "a-link-loop.md": "expected a regular file, found a symbolic link that leads back to itself",
        "a-fifo.md": "expected a regular file, found a FIFO",
        "a-socket.md": "expected a regular file, found a socket",
        "a-huge-sheet.md": "expected a file of at most 128 KiB, found 200 KiB",
    }
    for name, words in expected.items():
        assert f"content/en/{name}: {words}" in result.stderr, result.stderr
    assert "secret" not in result.stderr and "root:x" not in result.stderr
    assert "ok          en/ketamine-treatment.pdf" in result.stdout
    assert "ok          en/a-link-inside.pdf" in result.stdout  # a link inside the project is fine
    for command in (["check", "a-fifo"], ["list"]):  # they load the same content, fail as cleanly
        other = subprocess.run([HANDOUTS, "-C", str(project), *command], capture_output=True,
                               text=True, timeout=120)
        assert other.returncode == 1 and "Traceback" not in other.stderr + other.stdout
        assert re.search(r"content/en/a-fifo\.md: (error: )?expected a regular file, found a FIFO",
                         other.stderr + other.stdout)


def test_handouts_toml_that_is_a_directory(tmp_path):
    project = one_sheet_project(tmp_path)
    (project / "handouts.toml").unlink()
    (project / "handouts.toml").mkdir()
    result = run("-C", project, "build")
    assert result.exit_code == 1
    assert "handouts.toml: expected a regular file, found a directory" in result.stderr


@pytest.mark.parametrize("path", ["handouts.toml", "templates/handout.html", ".git/config",
                                  "content/../handouts.toml", "styles/../templates/base.html",
                                  "../outside.css", "file:///etc/passwd", "https://example.org/a.css"])
def test_the_sandbox_refuses_files_outside_its_three_folders(path):
    with pytest.raises(sandbox.SandboxViolation):
        sandbox.resolve(ROOT, path)


def test_the_sandbox_serves_its_three_folders():
    for path in ("styles/print.css", "assets/logo.svg", "content/en/ketamine-aftercare.md"):
        assert sandbox.resolve(ROOT, path) == (ROOT / path).resolve()


# --- what the gate prints, and what it refuses ---------------------------------------------

def printed_fixture(project: Path, fixture: str) -> tuple[Path, str]:
    shutil.copyfile(FIXTURES / "content" / f"{fixture}.md", project / AFTERCARE)
    result = run("-C", project, "build", "--strict", "ketamine-aftercare")
    assert result.exit_code == 0, result.output
    pdf = project / "dist/en/ketamine-aftercare.pdf"
    return pdf, pdf_text(pdf.read_bytes())


def test_a_carriage_return_in_the_title_cannot_hide_the_contact_box(tmp_path):
    _, text = printed_fixture(one_sheet_project(tmp_path), "carriage-return-in-title")
    assert "(480) 555-0142" in text.replace("\xa0", " ") and "911" in text and "988" in text
    assert ".contact" in text  # the would-be CSS is printed as words in the footer


def test_allowed_inline_html_prints(tmp_path):
    _, text = printed_fixture(one_sheet_project(tmp_path), "raw-html-allowed")
    squeezed = re.sub(r"\s", "", text)
    assert "H2O" in squeezed and "1stvisit" in squeezed


def test_a_word_longer_than_a_line_wraps_inside_the_page(tmp_path):
    pdf, _ = printed_fixture(one_sheet_project(tmp_path), "word-longer-than-a-line")
    with pdfplumber.open(pdf) as document:
        page = document.pages[0]
        assert max(char["x1"] for char in page.chars) < page.width - 0.5 * 72


@pytest.mark.parametrize("value", ['a"b', "a\rb", "a\nb", "a\\", "}{", "</style><b>", "a'b;c"])
def test_css_string_cannot_be_left(value):
    assert_css_string_keeps(value)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_css_string_keeps_any_text_as_one_string(value):
    assert_css_string_keeps(value)


def assert_css_string_keeps(value: str) -> None:
    escaped = str(css_string(value))
    tokens = [t for t in tinycss2.parse_component_value_list(escaped) if t.type != "whitespace"]
    assert len(tokens) == 1 and tokens[0].type == "string"
    assert tokens[0].value == value.replace("\x00", "\ufffd").replace("\r\n", "\n") or \
        tokens[0].value == value.replace("\x00", "\ufffd")
    assert not re.search(r"[\r\n\f<>{}]", escaped)


def test_the_gate_refuses_a_sheet_whose_styles_hide_the_emergency_lines(tmp_path):
    project = one_sheet_project(tmp_path)
    css = project / "styles/print.css"
    css.write_text(css.read_text() + "\n.contact { display: none; }\n")
    line = css.read_text().count("\n")
    with pytest.raises(InputError, match=re.escape("page 1 must show the clinic's phone number")) as caught:
        render_sheet(load_project(project), "ketamine-aftercare", "en")
    assert caught.value.path == css and caught.value.line == line
    assert "(the rule .contact { display: none })" in caught.value.message


def test_the_gate_names_what_does_not_exist(tmp_path):
    project = load_project(one_sheet_project(tmp_path))
    for args, words in [(("ketamine-aftercar", "en"), "unknown en handout 'ketamine-aftercar'"),
                        (("ketamine-aftercare", "fr"), "unknown language 'fr'"),
                        (("ketamine-aftercare", "en", "huge-print"), "unknown edition 'huge-print'"),
                        (("ketamine-aftercare", "en", "standard", "legal"), "unknown paper 'legal'"),
                        (("../../etc/passwd", "en"), "unknown en handout '../../etc/passwd'")]:
        with pytest.raises(UnknownSheet, match=re.escape(words)):
            render_sheet(project, *args)


@pytest.mark.parametrize("field, value, words", [
    ("note", "x" * 151, "note: expected at most 150 characters, found 151"),
    ("patient", "Ana\x1b[2J", "patient: expected plain text, found a control character"),
    ("clinician", "Dr. Ana \U0001F600", "clinician: (U+1F600 GRINNING FACE): no font this project ships has it; write it in by hand"),
])
def test_the_gate_refuses_personal_fields_without_repeating_them(tmp_path, field, value, words):
    project = load_project(one_sheet_project(tmp_path))
    with pytest.raises(PersonalFieldError) as raised:
        render_sheet(project, "ketamine-aftercare", "en", personal=Personal(**{field: value}))
    assert words in str(raised.value) and value not in str(raised.value)


def test_two_threads_each_get_their_own_warnings_and_errors(tmp_path):
    clean = load_project(copy_project(tmp_path / "clean"))
    noisy_root = copy_project(tmp_path / "noisy")
    css = noisy_root / "styles/print.css"
    css.write_text(css.read_text() + "\nh2 { colour: red; }\n")
    noisy = load_project(noisy_root)
    alone = render_sheet(clean, "ketamine-aftercare", "en").data
    results: dict[str, list] = {"clean": [], "noisy": []}

    def print_three(name, project):
        for _ in range(3):
            try:
                results[name].append(render_sheet(project, "ketamine-aftercare", "en"))
            except InputError as error:  # a stylesheet's warning is its error
                results[name].append(error)

    threads = [threading.Thread(target=print_three, args=item) for item in
               (("clean", clean), ("noisy", noisy))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(not sheet.warnings and sheet.data == alone for sheet in results["clean"])
    assert all("Ignored `colour: red`" in error.message for error in results["noisy"])


# --- the cache -----------------------------------------------------------------------------

def test_a_changed_image_under_content_and_strict_each_reprint(tmp_path):
    project = one_sheet_project(tmp_path)
    (project / "content/images").mkdir()
    diagram = project / "content/images/diagram.svg"
    diagram.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
                       '<rect width="40" height="20" fill="#1d5c63"/></svg>')
    sheet = project / AFTERCARE
    sheet.write_text(sheet.read_text().replace("max_pages: 1", "max_pages: 2")
                     + "\n![A green bar](content/images/diagram.svg)\n")
    first = run("-C", project, "build")
    assert first.exit_code == 0, first.output
    assert "up to date" in run("-C", project, "build").stdout.splitlines()[1]
    diagram.write_text(diagram.read_text().replace("#1d5c63", "#a9541b"))
    again = run("-C", project, "build").stdout
    assert re.search(r"ok +en/ketamine-aftercare\.pdf +\d pages? +\d", again), again
    assert re.search(r"ok +en/ketamine-treatment\.pdf .* up to date", again)
    strict = run("-C", project, "build", "--strict").stdout
    assert "up to date" not in strict


def test_a_manifest_or_cache_of_the_wrong_shape_is_rebuilt_with_a_warning(tmp_path):
    project = one_sheet_project(tmp_path)
    assert run("-C", project, "build").exit_code == 0
    (project / "dist/manifest.json").write_text("[]")
    (project / "dist" / output.CACHE).write_text('{"format": 2, "sheets": []}')
    result = run("-C", project, "build")
    assert result.exit_code == 0, result.output
    assert "manifest.json is not a manifest" in result.stderr
    assert "is not a cache this version wrote" in result.stderr
    assert len(manifest_is_true(project / "dist")) == 2


# --- output folder faults ------------------------------------------------------------------

def test_out_is_a_file_or_under_a_file(tmp_path):
    project = one_sheet_project(tmp_path)
    (tmp_path / "a-file").write_text("x")
    for out, words in [(tmp_path / "a-file", "expected a folder for the PDFs, found a file"),
                       (tmp_path / "a-file/dist", "part of the path is a file, not a folder")]:
        result = run("-C", project, "build", "--out", out)
        assert result.exit_code == 1 and words in result.stderr, result.output


def test_a_folder_where_a_pdf_should_go(tmp_path):
    project = one_sheet_project(tmp_path)
    (project / "dist/en/ketamine-aftercare.pdf").mkdir(parents=True)
    result = run("-C", project, "build")
    assert result.exit_code == 1
    assert "dist/en/ketamine-aftercare.pdf: expected a PDF file here, found a folder" in result.stderr
    assert "ok          en/ketamine-treatment.pdf" in result.stdout
    assert [e["path"] for e in manifest_is_true(project / "dist")] == ["en/ketamine-treatment.pdf"]
    assert temporary_files(project / "dist") == []


def test_an_atomic_write_that_fails_halfway_leaves_no_temporary_file(tmp_path):
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    (tmp_path / "a.pdf").write_bytes(b"old")
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, limits[1]))
    try:
        with pytest.raises(OSError):
            output.write_atomically(tmp_path / "a.pdf", b"x" * (256 * 1024))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, previous)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pdf"]
    assert (tmp_path / "a.pdf").read_bytes() == b"old"


@contextlib.contextmanager
def small_disk(path: Path, size: str, *options: str):
    """A tmpfs of ``size`` at ``path``: a real full disk or read-only folder, even for root."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join([f"size={size}", *options]),
                              "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_a_full_disk_loses_nothing_and_leaves_no_temporary_file(tmp_path):
    project = one_sheet_project(tmp_path)
    with small_disk(tmp_path / "disk", "400k") as out:
        assert build(project, "--out", out).returncode == 0
        good = {e["path"]: (out / e["path"]).read_bytes() for e in manifest_is_true(out)}
        filler = out / "filler"
        with contextlib.suppress(OSError), open(filler, "wb") as file:
            file.write(b"\0" * (1024 * 1024))  # the disk is now full
        result = build(project, "--out", out, "--force")
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert "the disk is full" in result.stderr, result.stderr
        assert temporary_files(out) == []
        for entry in manifest_is_true(out):
            assert (out / entry["path"]).read_bytes() == good[entry["path"]]


def test_a_read_only_folder(tmp_path):
    project = one_sheet_project(tmp_path)
    with small_disk(tmp_path / "disk", "1m", "ro") as out:
        result = build(project, "--out", out)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "the folder is read-only" in result.stderr, result.stderr


# --- the manifest never lies ---------------------------------------------------------------

def test_kill_9_at_any_moment_leaves_a_true_manifest_and_the_next_build_repairs_it(tmp_path):
    project = one_sheet_project(tmp_path)
    out = project / "dist"
    assert build(project).returncode == 0
    css = project / "styles/tokens.css"
    # Killed while printing the first PDF, just after writing it, and just after the second.
    for written in (0, 1, 2):
        css.write_text(css.read_text() + "\n/* a change */\n")  # every PDF must be printed anew
        # Two jobs: the workers must die with the build and let go of the folder's lock.
        process = subprocess.Popen([HANDOUTS, "-C", str(project), "build", "--jobs", "2"], text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        lines = 0
        while lines < written and (line := process.stdout.readline()):
            lines += line.startswith("  ok")
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
        manifest_is_true(out)
    repaired = build(project, timeout=60)  # a worker left holding the lock would hang it
    assert repaired.returncode == 0, repaired.stderr
    assert len(manifest_is_true(out)) == 2
    assert temporary_files(out) == []


def test_a_forced_build_killed_before_it_writes_keeps_every_entry(tmp_path):
    """An entry is forgotten only just before its own PDF is replaced: killed while printing,
    a forced build leaves the manifest listing every PDF, each still valid."""
    project = one_sheet_project(tmp_path)
    out = project / "dist"
    assert build(project).returncode == 0
    process = subprocess.Popen([HANDOUTS, "-C", str(project), "build", "--force"], text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    process.stdout.readline()  # "Building into ...": printing, nothing written yet
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stdout.close()
    assert len(manifest_is_true(out)) == 2


def test_two_builds_into_one_folder_at_once(tmp_path):
    project = one_sheet_project(tmp_path)
    first, second = (subprocess.Popen([HANDOUTS, "-C", str(project), "build", "--force"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for _ in range(2))
    outputs = [process.communicate(timeout=120) for process in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outputs
    assert any("Another build is writing" in err and "waiting" in err for _, err in outputs), outputs
    assert len(manifest_is_true(project / "dist")) == 2


# --- whatever the author types -------------------------------------------------------------

FRONT_VALUES = st.one_of(
    st.text(max_size=30), st.just("2026-02-30"), st.just("&a [x]"), st.just("*a"),
    st.just("[" * 50 + "]" * 50), st.just("{a: [b, {c: d}]}"), st.integers().map(str),
    st.sampled_from(["approved", "draft", "1.0", "'1.10'", "2026-11-27", "null", "~", "|\n  x"]))
MARKDOWN = st.lists(st.one_of(
    st.text(max_size=60),
    st.sampled_from(["- item", "    - nested", "1. one", "> quote", ">" * 30 + " deep", "# Title",
                     "<style>p{}</style>", "<b>bold</b>", "![](assets/logo.svg)", "[a](https://x.org)",
                     "| a | b |\n|---|---|\n| 1 | 2 |", "\x00", "\x07", "\u202e", "😀", "```", "***"]),
    st.integers(0, 40).map(lambda n: "  " * n + "- deep")), max_size=12).map("\n".join)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(keys=st.dictionaries(st.sampled_from(["title", "version", "updated", "status", "summary",
                                             "max_pages", "review_due", "titel"]), FRONT_VALUES),
       body=MARKDOWN)
def test_any_front_matter_and_markdown_gives_a_clean_result(tmp_path_factory, keys, body):
    project = tmp_path_factory.mktemp("random")
    if not (project / "handouts.toml").exists():
        one_sheet_project(project)
        project = project / "project"
        shutil.rmtree(project / "content/en")
        (project / "content/en").mkdir()
        config = project / "handouts.toml"  # the patient packet's sheets are gone too
        config.write_text(re.sub(r"packet = \[.*\]", "packet = []", config.read_text()))
    front = "\n".join(f"{key}: {value}" for key, value in keys.items())
    (project / "content/en/random.md").write_text(f"---\n{front}\n---\n{body}\n", encoding="utf-8",
                                                  errors="surrogatepass")
    result = run("-C", project, "build", "--strict")
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        assert "content/en/random.md" in result.stderr, result.stderr


def test_phone_and_emergency_numbers_never_break_across_lines(built):
    number = re.sub(r"<[^>]*>", "", keep_together("(480) 555-0142"))  # the text of its <bdi>
    assert "\u00a0" in number and " " not in number
    for pdf in sorted(built.rglob("*.pdf")):
        with pdfplumber.open(pdf) as document:
            lines = [line.replace("\u00a0", " ") for page in document.pages
                     for line in (page.extract_text() or "").splitlines()]
        assert any("(480) 555-0142" in line for line in lines), pdf
        assert not any(line.rstrip().endswith("(480)") for line in lines), pdf


def test_one_job_and_two_jobs_give_identical_bytes(tmp_path):
    project = one_sheet_project(tmp_path)
    for jobs in ("1", "2"):
        result = run("-C", project, "build", "--jobs", jobs, "--out", tmp_path / jobs)
        assert result.exit_code == 0, result.output
    for pdf in ("en/ketamine-aftercare.pdf", "en/ketamine-treatment.pdf"):
        assert (tmp_path / "1" / pdf).read_bytes() == (tmp_path / "2" / pdf).read_bytes()
    assert manifest_is_true(tmp_path / "2") == manifest_is_true(tmp_path / "1")


def test_build_html_writes_html_a_bare_weasyprint_prints(tmp_path):
    import weasyprint

    project = one_sheet_project(tmp_path)
    result = run("-C", project, "build", "--html", tmp_path / "html")
    assert result.exit_code == 0, result.output
    assert not (project / "dist").exists()
    page = tmp_path / "html/en/ketamine-aftercare.html"
    text = pdf_text(weasyprint.HTML(filename=str(page)).write_pdf())
    assert "After your ketamine treatment" in text and "988" in text
