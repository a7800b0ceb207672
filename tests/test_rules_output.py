"""The output folder's rules: the lock, atomic writes and their file mode, a manifest that
trusts only entries true to their file, and a cache filtered to the manifest. Each case
writes a few bytes through the output module and reads the folder back; no PDF is printed."""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import stat
import tempfile
import threading

import pytest

from handouts import output
from handouts.output import CACHE, MANIFEST, OutputError


def entry(path: str, data: bytes) -> dict:
    return {"path": path, "handout": "x", "lang": "en", "sha256": hashlib.sha256(data).hexdigest()}


def cached(key: str = "k") -> dict:
    return {"key": key, "used": {"styles/print.css": "abc"}}


def build_once(out, files: dict[str, bytes], release="1.0") -> None:
    """What a build writes: each PDF with its entry and cache, then the manifest and cache."""
    with output.opened(out, release) as folder:
        for path, data in files.items():
            folder.forget([path])
            folder.write_pdf(path, data, entry(path, data), cached())
        folder.finish()


def manifest(out) -> dict:
    return json.loads((out / MANIFEST).read_text())


def test_a_build_writes_pdfs_readable_by_everyone_and_a_true_manifest(tmp_path):
    out = tmp_path / "dist"
    build_once(out, {"en/a.pdf": b"A", "en/b.pdf": b"B"})
    assert (out / "en/a.pdf").read_bytes() == b"A"
    assert stat.S_IMODE((out / "en/a.pdf").stat().st_mode) == 0o644
    assert stat.S_IMODE((out / MANIFEST).stat().st_mode) == 0o644
    assert manifest(out) == {"release": "1.0", "files": [entry("en/a.pdf", b"A"), entry("en/b.pdf", b"B")]}
    cache = json.loads((out / CACHE).read_text())
    assert cache == {"format": 2, "sheets": {"en/a.pdf": cached(), "en/b.pdf": cached()}}
    assert sorted(p.name for p in (out / "en").iterdir()) == ["a.pdf", "b.pdf"]  # no temporary file


def test_the_next_build_reads_back_what_is_true(tmp_path):
    out = tmp_path / "dist"
    build_once(out, {"en/a.pdf": b"A"})
    with output.opened(out, "1.0") as folder:
        assert folder.entries == {"en/a.pdf": entry("en/a.pdf", b"A")}
        assert folder.cache == {"en/a.pdf": cached()}
        assert folder.notes == []
        assert folder.sources() == {"en/a.pdf": "content/en/x.md"}


def test_a_build_with_nothing_to_do_leaves_every_file_as_it_was(tmp_path):
    out = tmp_path / "dist"
    build_once(out, {"en/a.pdf": b"A"})
    before = {p.name: p.stat().st_ino for p in (out / MANIFEST, out / CACHE)}
    with output.opened(out, "1.0") as folder:
        folder.finish()
    assert {p.name: p.stat().st_ino for p in (out / MANIFEST, out / CACHE)} == before


def test_an_entry_whose_pdf_changed_or_went_is_not_trusted(tmp_path):
    out = tmp_path / "dist"
    build_once(out, {"en/a.pdf": b"A", "en/b.pdf": b"B"})
    (out / "en/a.pdf").write_bytes(b"changed")
    (out / "en/b.pdf").unlink()
    with output.opened(out, "1.0") as folder:
        assert folder.entries == {}


@pytest.mark.parametrize("path", ["../outside.pdf", "/tmp/outside.pdf", "en/../../outside.pdf"])
def test_an_entry_pointing_outside_the_folder_is_not_trusted_even_with_the_right_hash(tmp_path, path):
    out = tmp_path / "dist"
    out.mkdir()
    (tmp_path / "outside.pdf").write_bytes(b"X")
    if path.startswith("/"):
        path = str(tmp_path / "outside.pdf")
    (out / MANIFEST).write_text(json.dumps({"release": "1", "files": [entry(path, b"X")]}))
    assert output.read_manifest(out) == {}


@pytest.mark.parametrize("files", [[{"path": "en/a.pdf"}], [{"sha256": "x"}], ["en/a.pdf"],
                                   [{"path": 3, "sha256": "x"}], [{"path": "en/a.pdf", "sha256": 3}]])
def test_an_entry_of_the_wrong_shape_is_dropped(tmp_path, files):
    out = tmp_path / "dist"
    (out / "en").mkdir(parents=True)
    (out / "en/a.pdf").write_bytes(b"A")
    (out / MANIFEST).write_text(json.dumps({"release": "1", "files": files}))
    notes = []
    assert output.read_manifest(out, notes) == {} and notes == []


@pytest.mark.parametrize("text", ['{"files": 3}', "[]", '{"release": "1"}', "3"])
def test_a_manifest_of_the_wrong_shape_is_written_anew_with_a_note(tmp_path, text):
    (tmp_path / MANIFEST).write_text(text)
    notes = []
    assert output.read_manifest(tmp_path, notes) == {}
    assert notes == [f"{tmp_path / MANIFEST} is not a manifest (expected an object with a 'files' list); "
                     f"it will be written anew"]


def test_a_manifest_that_is_no_json_or_a_fifo_is_noted_and_never_hangs(tmp_path, deadline):
    (tmp_path / MANIFEST).write_text("{")
    notes = []
    assert output.read_manifest(tmp_path, notes) == {}
    assert notes == [f"{tmp_path / MANIFEST} could not be read (JSONDecodeError); it will be written anew"]
    (tmp_path / MANIFEST).unlink()
    os.mkfifo(tmp_path / MANIFEST)
    notes = []
    assert output.read_manifest(tmp_path, notes) == {}
    assert notes == [f"{tmp_path / MANIFEST} could not be read (IsADirectoryError); it will be written anew"]


def test_no_manifest_is_no_note(tmp_path):
    notes = []
    assert output.read_manifest(tmp_path, notes) == {} and output.read_cache(tmp_path, notes) == {}
    assert notes == []


@pytest.mark.parametrize("cache", [{"format": 1, "sheets": {"en/a.pdf": cached()}}, {"sheets": {}},
                                   {"format": 2, "sheets": []}, {"format": 2}, []])
def test_a_cache_of_another_version_or_shape_is_not_trusted(tmp_path, cache):
    (tmp_path / CACHE).write_text(json.dumps(cache))
    notes = []
    assert output.read_cache(tmp_path, notes) == {}
    assert notes == [f"{tmp_path / CACHE} is not a cache this version wrote; every PDF is printed anew"]


def test_cache_entries_without_a_key_or_files_are_dropped(tmp_path):
    sheets = {"a": cached(), "b": {"key": 1, "used": {}}, "c": {"key": "k", "used": []}, "d": "x",
              "e": {"used": {}}, "f": {"key": "k"}}
    (tmp_path / CACHE).write_text(json.dumps({"format": 2, "sheets": sheets}))
    assert output.read_cache(tmp_path) == {"a": cached()}


def test_the_cache_keeps_only_pdfs_of_the_manifest(tmp_path):
    out = tmp_path / "dist"
    build_once(out, {"en/a.pdf": b"A"})
    with output.opened(out, "1.0") as folder:
        folder.cache["en/stray.pdf"] = cached("stray")
        folder.finish()
    assert list(json.loads((out / CACHE).read_text())["sheets"]) == ["en/a.pdf"]


def test_forget_takes_the_entry_out_of_the_manifest_on_disk_before_a_pdf_changes(tmp_path):
    out = tmp_path / "dist"
    build_once(out, {"en/a.pdf": b"A", "en/b.pdf": b"B"})
    with output.opened(out, "1.0") as folder:
        folder.forget(["en/a.pdf", "en/none.pdf"])
        assert [e["path"] for e in manifest(out)["files"]] == ["en/b.pdf"]
        assert "en/a.pdf" not in folder.cache and "en/b.pdf" in folder.cache
        mtime = (out / MANIFEST).stat().st_mtime_ns
        folder.forget(["en/none.pdf"])  # nothing to forget: nothing written
        assert (out / MANIFEST).stat().st_mtime_ns == mtime


def test_removing_pdfs_drops_their_entries_then_the_files(tmp_path):
    out = tmp_path / "dist"
    build_once(out, {"en/a.pdf": b"A", "en/b.pdf": b"B"})
    with output.opened(out, "1.0") as folder:
        folder.cache["en/c.pdf"] = {**cached(), "source": "content/en/c.md"}  # entry forgotten earlier
        (out / "en/c.pdf").write_bytes(b"C")
        assert folder.sources()["en/c.pdf"] == "content/en/c.md"
        folder.remove_pdfs(["en/a.pdf", "en/c.pdf"])
        assert "en/c.pdf" not in folder.cache
        folder.finish()
    assert not (out / "en/a.pdf").exists() and not (out / "en/c.pdf").exists()
    assert [e["path"] for e in manifest(out)["files"]] == ["en/b.pdf"]


def test_a_pdf_that_cannot_be_removed_is_named(tmp_path):
    out = tmp_path / "dist"
    build_once(out, {"en/a.pdf": b"A"})
    (out / "en/gone.pdf").mkdir()
    with output.opened(out, "1.0") as folder, pytest.raises(OutputError) as raised:
        folder.remove_pdfs(["en/gone.pdf"])
    assert str(raised.value.format_message()) == (
        f"{out / 'en/gone.pdf'}: could not remove the PDF of a sheet that is gone: a folder stands where a "
        f"file should go")


def test_a_folder_where_a_pdf_goes_is_named(tmp_path):
    out = tmp_path / "dist"
    (out / "en/a.pdf").mkdir(parents=True)
    with output.opened(out, "1.0") as folder, pytest.raises(OutputError) as raised:
        folder.write_pdf("en/a.pdf", b"A", entry("en/a.pdf", b"A"), cached())
    assert raised.value.format_message() == (f"{out / 'en/a.pdf'}: expected a PDF file here, found a folder "
                                             f"(move it away and build again)")


def test_an_output_path_that_is_a_file_or_under_one_is_named(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="file: expected a folder for the PDFs, found a file"):
        with output.opened(tmp_path / "file", "1"):
            pass
    with pytest.raises(OutputError, match="file/dist: cannot create the folder: part of the path is a file, "
                                          "not a folder"):
        with output.opened(tmp_path / "file" / "dist", "1"):
            pass


def test_a_write_that_fails_inside_the_build_becomes_an_output_error(tmp_path):
    with pytest.raises(OutputError) as raised:
        with output.opened(tmp_path / "dist", "1"):
            raise OSError(errno.ENOSPC, "No space left on device")
    assert raised.value.format_message() == (f"{tmp_path / 'dist'}: could not write the build: the disk is "
                                             f"full; the earlier PDFs and their manifest entries are unchanged")


def test_a_failed_atomic_write_leaves_the_old_file_and_no_temporary_one(tmp_path):
    (tmp_path / "a.pdf").mkdir()
    with pytest.raises(IsADirectoryError):
        output.write_atomically(tmp_path / "a.pdf", b"new")
    assert [p.name for p in tmp_path.iterdir()] == ["a.pdf"]


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "the disk is full"), (errno.EROFS, "the folder is read-only"),
                                         (errno.EACCES, "permission denied"), (errno.EPERM, "permission denied"),
                                         (errno.ENOTDIR, "part of the path is a file, not a folder"),
                                         (errno.EISDIR, "a folder stands where a file should go"),
                                         (errno.EFBIG, "the file is too large for this disk or account"),
                                         (errno.EIO, "input/output error")])
def test_each_write_failure_is_said_in_plain_words(code, words):
    assert output.reason(OSError(code, os.strerror(code))) == words


def test_a_second_build_waits_for_the_lock_and_says_so(tmp_path):
    out = tmp_path / "dist"
    out.mkdir()
    holder = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(holder, fcntl.LOCK_EX)
    said, entered = [], threading.Event()

    def second_build():
        with output.opened(out, "1", on_wait=said.append):
            entered.set()

    thread = threading.Thread(target=second_build)
    thread.start()
    try:
        assert not entered.wait(0.5), "the second build went on while the first held the folder"
        assert said == [f"Another build is writing {out}/ (see `fuser {out}`); waiting for it to finish..."]
    finally:
        os.close(holder)
    assert entered.wait(10)
    thread.join()


def test_a_build_holds_the_lock_until_it_ends(tmp_path):
    out = tmp_path / "dist"
    with output.opened(out, "1"):
        probe = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
        with pytest.raises(BlockingIOError):
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(probe)
    probe = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(probe)


def test_a_free_folder_is_taken_without_a_word(tmp_path):
    said = []
    with output.opened(tmp_path / "dist", "1", on_wait=said.append):
        pass
    assert said == []


def test_manifest_and_cache_are_written_in_their_exact_form(tmp_path):
    out = tmp_path / "dist"
    build_once(out, {"en/b.pdf": b"B", "en/a.pdf": b"A"}, release="2.0")
    files = [entry("en/a.pdf", b"A"), entry("en/b.pdf", b"B")]
    assert (out / MANIFEST).read_text() == json.dumps({"release": "2.0", "files": files}, indent=2) + "\n"
    sheets = {"en/a.pdf": cached(), "en/b.pdf": cached()}
    assert (out / CACHE).read_text() == json.dumps({"format": 2, "sheets": sheets}, indent=1, sort_keys=True)
    with output.opened(out, "2.0") as folder:
        folder.cache["en/a.pdf"] = {"used": {}, "source": "content/en/a.md", "key": "k"}
        folder.finish()
    assert '"key": "k",\n   "source": "content/en/a.md",\n   "used": {}' in (out / CACHE).read_text()


def test_a_nested_output_folder_is_made(tmp_path):
    build_once(tmp_path / "a" / "b" / "dist", {"en/a.pdf": b"A"})
    assert (tmp_path / "a" / "b" / "dist" / "en/a.pdf").read_bytes() == b"A"


def test_a_link_where_a_pdf_goes_is_replaced_by_the_pdf(tmp_path):
    out = tmp_path / "dist"
    (out / "en").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (out / "en/a.pdf").symlink_to(tmp_path / "elsewhere")
    build_once(out, {"en/a.pdf": b"A"})
    assert not (out / "en/a.pdf").is_symlink() and (out / "en/a.pdf").read_bytes() == b"A"
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_removing_a_pdf_that_is_already_gone_is_no_error(tmp_path):
    out = tmp_path / "dist"
    build_once(out, {"en/a.pdf": b"A"})
    with output.opened(out, "1.0") as folder:
        folder.remove_pdfs(["en/never.pdf"])
        assert list(folder.entries) == ["en/a.pdf"]


def test_sources_come_from_entries_and_from_the_cache(tmp_path):
    folder = output.OutputFolder(tmp_path, "1")
    folder.entries = {"en/a.pdf": {"lang": "en", "handout": "a"}, "en/b.pdf": {"lang": 3, "handout": "b"},
                      "en/c.pdf": {"lang": "en"}}
    folder.cache = {"en/d.pdf": {"source": "content/en/d.md"}, "en/e.pdf": {"source": 5},
                    "en/a.pdf": {"source": "content/en/old.md"}}
    assert folder.sources() == {"en/a.pdf": "content/en/a.md", "en/d.pdf": "content/en/d.md"}


def test_forgetting_a_pdf_the_cache_never_had_is_no_error(tmp_path):
    out = tmp_path / "dist"
    build_once(out, {"en/a.pdf": b"A"})
    with output.opened(out, "1.0") as folder:
        del folder.cache["en/a.pdf"]
        folder.forget(["en/a.pdf"])
        assert folder.entries == {}


def test_a_manifest_over_64_mib_is_not_read(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en/a.pdf").write_bytes(b"A")
    text = json.dumps({"release": "1", "files": [entry("en/a.pdf", b"A")]})[:-1]  # the last } comes last
    (tmp_path / MANIFEST).write_text(text + " " * (64 * 1024 * 1024 - len(text) - 1) + "}")
    assert list(output.read_manifest(tmp_path)) == ["en/a.pdf"]
    (tmp_path / MANIFEST).write_text(text + " " * (64 * 1024 * 1024 - len(text)) + "}")
    notes = []
    assert output.read_manifest(tmp_path, notes) == {}
    assert notes == [f"{tmp_path / MANIFEST} could not be read (JSONDecodeError); it will be written anew"]


def test_a_cache_that_is_no_json_is_noted(tmp_path):
    (tmp_path / CACHE).write_text("{")
    notes = []
    assert output.read_cache(tmp_path, notes) == {}
    assert notes == [f"{tmp_path / CACHE} could not be read (JSONDecodeError); it will be written anew"]


def test_an_unknown_failure_is_said_in_its_own_words():
    assert output.reason(OSError("Strange Failure")) == "strange failure"


def test_an_atomic_write_makes_its_folders_and_writes_beside_the_target(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-temporary-folder"))
    output.write_atomically(tmp_path / "a" / "b" / "c.pdf", b"C")
    assert (tmp_path / "a" / "b" / "c.pdf").read_bytes() == b"C"
    assert [p.name for p in (tmp_path / "a" / "b").iterdir()] == ["c.pdf"]
