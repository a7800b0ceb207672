"""The sandbox's rules, each at its boundary: which URLs a sheet may use, and how a project
file is read (what it is, where it really lies, how large it may be). No PDF is printed."""
from __future__ import annotations

import os
import socket

import pytest

from handouts import sandbox
from handouts.sandbox import SandboxViolation, UnreadableFile


@pytest.fixture
def root(tmp_path):
    """A project with one file in each allowed folder, a file beside them and one outside."""
    project = tmp_path / "project"
    for folder in ("assets", "styles", "content", "templates"):
        (project / folder).mkdir(parents=True)
    (project / "assets" / "logo.svg").write_text("<svg/>")
    (project / "styles" / "print.css").write_text("p {}")
    (project / "content" / "note.md").write_text("x")
    (project / "templates" / "base.html").write_text("x")
    (project / "handouts.toml").write_text("x")
    (tmp_path / "secret.txt").write_text("secret")
    return project


@pytest.mark.parametrize("url, expected", [
    ("assets/logo.svg", "assets/logo.svg"), ("styles/print.css", "styles/print.css"),
    ("content/note.md", "content/note.md"), (" assets/logo.svg ", "assets/logo.svg"),
    ("assets/logo%2Esvg", "assets/logo.svg"), ("file:///handouts-project/assets/logo.svg", "assets/logo.svg"),
    ("styles/../styles/print.css", "styles/print.css")])
def test_a_file_in_the_three_folders_is_allowed(root, url, expected):
    assert sandbox.resolve(root, url) == (root / expected).resolve()


def test_a_data_url_names_no_file(root):
    assert sandbox.resolve(root, "data:image/png;base64,AAAA") is None


@pytest.mark.parametrize("url", ["https://example.org/x.png", "http://example.org/x.png",
                                 "file:///etc/hostname", "file://host/handouts-project/assets/logo.svg",
                                 "//example.org/assets/logo.svg", "/etc/hostname", "../../secret.txt",
                                 "assets/../../secret.txt",
                                 "ftp://example.org/x"])
def test_anything_outside_the_project_is_refused(root, url):
    with pytest.raises(SandboxViolation, match="is outside the project; expected a file in assets/, "
                                               "styles/, content/ "):
        sandbox.resolve(root, url)


@pytest.mark.parametrize("url", ["handouts.toml", "templates/base.html", "content/../handouts.toml",
                                 "content/%2e%2e/templates/base.html", "content/%2E%2E/handouts.toml",
                                 "content/%2e%2e/assets/logo.svg", "assets%2F..%2Fhandouts.toml"])
def test_a_project_file_outside_the_three_folders_is_refused(root, url):
    with pytest.raises(SandboxViolation, match="is not in the project's assets/, styles/, content/ folders"):
        sandbox.resolve(root, url)


def test_a_link_out_of_an_allowed_folder_is_refused(root, tmp_path):
    (root / "assets" / "escape.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(SandboxViolation, match="not in the project's"):
        sandbox.resolve(root, "assets/escape.txt")


@pytest.mark.parametrize("url", ["assets/missing.png", "assets", "assets/"])
def test_a_missing_file_or_a_folder_is_named(root, url):
    with pytest.raises(SandboxViolation, match=r"does not exist \(looked for assets"):
        sandbox.resolve(root, url)


def test_a_long_url_is_shortened_in_the_message(root):
    with pytest.raises(SandboxViolation) as raised:
        sandbox.resolve(root, "https://example.org/" + "x" * 200)
    assert str(raised.value).startswith("'https://example.org/" + "x" * 57 + "...'")


def test_excerpt_keeps_80_characters_and_shortens_81():
    assert sandbox.excerpt("x" * 80) == "x" * 80
    assert sandbox.excerpt("x" * 81) == "x" * 77 + "..."
    assert sandbox.excerpt("abcdef", 5) == "ab..."


def test_project_url_is_the_same_on_every_machine():
    assert sandbox.project_url("styles/print.css") == "file:///handouts-project/styles/print.css"


# --- read_file ---------------------------------------------------------------------------------

def test_a_file_of_exactly_the_limit_is_read_and_one_byte_more_is_refused(root):
    path = root / "content" / "sheet.md"
    path.write_bytes(b"x" * 1000)
    assert sandbox.read_file(root, path, 1000) == b"x" * 1000
    with pytest.raises(UnreadableFile, match=r"expected a file of at most 0.976 KiB, found 0.977 KiB"):
        sandbox.read_file(root, path, 999)


def test_the_default_limit_is_16_mib(root):
    path = root / "assets" / "big.bin"
    path.write_bytes(b"\0" * (16 * 1024 * 1024))
    assert len(sandbox.read_file(root, path)) == 16 * 1024 * 1024
    with open(path, "ab") as file:
        file.write(b"\0")
    with pytest.raises(UnreadableFile, match=r"^expected a file of at most 16 MiB, found 16 MiB$"):
        sandbox.read_file(root, path)


def test_the_message_gives_the_whole_size_of_a_large_file(root):
    path = root / "assets" / "big.bin"
    path.write_bytes(b"\0" * (3 * 1024 * 1024))
    with pytest.raises(UnreadableFile, match=r"^expected a file of at most 1 MiB, found 3 MiB$"):
        sandbox.read_file(root, path, 1024 * 1024)
    with pytest.raises(UnreadableFile, match=r"^expected a file of at most 1.02e\+03 KiB, found 3 MiB$"):
        sandbox.read_file(root, path, 1024 * 1024 - 1)


def test_no_more_than_the_limit_is_ever_read(root, deadline):
    path = root / "assets" / "huge.bin"
    with open(path, "wb") as file:
        file.truncate(64 * 1024 ** 3)  # sparse: 64 GiB that take no room on the disk
    with pytest.raises(UnreadableFile, match=r"^expected a file of at most 1 MiB, found 6.55e\+04 MiB$"):
        sandbox.read_file(root, path, 1024 * 1024)


def test_a_small_limit_is_said_in_kib(root):
    path = root / "content" / "sheet.md"
    path.write_bytes(b"x" * 2049)
    with pytest.raises(UnreadableFile, match=r"^expected a file of at most 2 KiB, found 2 KiB$"):
        sandbox.read_file(root, path, 2048)


@pytest.mark.parametrize("make, kind", [
    (lambda p: p.mkdir(), "a directory"),
    (lambda p: os.mkfifo(p), r"a FIFO \(named pipe\)"),
    (lambda p: p.symlink_to(p.parent / "nowhere"), r"a link to nothing \(broken symbolic link\)"),
    (lambda p: p.symlink_to(p), "a symbolic link that leads back to itself"),
    (lambda p: None, "nothing"),
    (lambda p: p.symlink_to("/dev/null"), "a device"),
])
def test_what_is_not_a_regular_file_is_named_and_never_opened(root, make, kind, deadline):
    path = root / "content" / "odd.md"
    make(path)
    with pytest.raises(UnreadableFile, match=f"^expected a regular file, found {kind}$"):
        sandbox.read_file(root, path)


def test_a_socket_is_named(root):
    path = root / "content" / "odd.md"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(UnreadableFile, match="^expected a regular file, found a socket$"):
            sandbox.read_file(root, path)


def test_a_path_through_a_file_cannot_be_read(root):
    assert sandbox.file_kind(root / "content" / "note.md" / "x") == \
        "a path that cannot be read (not a directory)"


def test_a_link_to_a_file_outside_the_project_is_never_read(root, tmp_path):
    path = root / "content" / "linked.md"
    path.symlink_to(tmp_path / "secret.txt")
    with pytest.raises(UnreadableFile, match=r"^is a link to a file outside the project; expected "
                                             r"the file itself \(files outside the project are never read\)$"):
        sandbox.read_file(root, path)


def test_a_link_inside_the_project_is_read(root):
    path = root / "content" / "linked.md"
    path.symlink_to(root / "assets" / "logo.svg")
    assert sandbox.read_file(root, path) == b"<svg/>"


def test_a_file_swapped_for_a_fifo_after_the_check_is_refused_on_its_descriptor(root, monkeypatch, deadline):
    """The swap happens between the check of the path and its opening: the check said 'file'."""
    path = root / "content" / "swapped.md"
    os.mkfifo(path)
    monkeypatch.setattr(sandbox, "file_kind", lambda _path: "file")
    with pytest.raises(UnreadableFile, match="^expected a regular file, found something else$"):
        sandbox.read_file(root, path)


def test_a_file_that_cannot_be_opened_says_why(root, monkeypatch):
    """A file removed between its check and its opening."""
    path = root / "content" / "gone.md"
    monkeypatch.setattr(sandbox, "file_kind", lambda _path: "file")
    with pytest.raises(UnreadableFile, match="^could not be opened: no such file or directory$"):
        sandbox.read_file(root, path)
