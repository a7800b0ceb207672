"""The sandbox: which files a sheet may embed, which links it may carry, and how a project file
is read without trusting it.

HTML is rendered against a fixed base URL, never the checkout's real path, so that two
checkouts print identical bytes. A URL is allowed when it resolves, under that base, to an
existing file in one of the project's ``assets/``, ``styles/`` or ``content/`` folders, or
when it is a ``data:`` URL. A link (``<a href>``) may also point to ``http(s)://``, ``mailto:``
or ``tel:``: it is never fetched. Everything else embedded (``http(s)://``, ``file:///etc/...``, ``../..``,
``handouts.toml``, ``templates/``, ``.git/``) is refused and nothing is ever fetched from the
network.

Every project file is read through ``read_file``: it refuses, without opening it, anything that
is not a regular file (a directory, a FIFO that would hang the build, a socket, a broken link)
or whose real path lies outside the project, and it never reads more than a size limit.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

#: The base every project file is addressed from, on every machine.
BASE_URL = "file:///handouts-project/"
ALLOWED_FOLDERS = ("assets", "styles", "content")
#: Link targets that print as plain links and fetch nothing.
INERT_LINK_SCHEMES = ("mailto", "tel")
#: What a link (``<a href>``, never an embedded file) may point to: it becomes a link
#: annotation in the PDF and is never fetched.
LINK_SCHEMES = ("http", "https", *INERT_LINK_SCHEMES)
#: No file a sheet is made from is this large; a bigger one is a mistake, not a sheet.
MAX_FILE_BYTES = 16 * 1024 * 1024


class SandboxViolation(ValueError):
    """A URL that points outside the sandbox; its message says why."""


class UnreadableFile(ValueError):
    """A project path that is not a regular file inside the project; its message says what it is."""


def project_url(relative_path: str) -> str:
    """The URL of a project file, e.g. ``styles/print.css``."""
    return urljoin(BASE_URL, relative_path)


def resolve(root: Path, url: str) -> Path | None:
    """The project file a URL names, or None for a ``data:`` URL; raise SandboxViolation otherwise."""
    absolute = urljoin(BASE_URL, url.strip())
    parts = urlsplit(absolute)
    if parts.scheme == "data":
        return None
    if not absolute.startswith(BASE_URL):  # another scheme, a host, or above the project
        raise SandboxViolation(f"{excerpt(url)!r} is outside the project; expected a file in "
                               f"{', '.join(f + '/' for f in ALLOWED_FOLDERS)} (nothing is fetched "
                               f"from the network or the rest of the disk)")
    relative = unquote(parts.path).removeprefix(urlsplit(BASE_URL).path)
    folder = relative.partition("/")[0]
    path = (root / relative).resolve()
    if folder not in ALLOWED_FOLDERS or not path.is_relative_to(root.resolve() / folder):
        raise SandboxViolation(f"{excerpt(url)!r} is not in the project's "
                               f"{', '.join(f + '/' for f in ALLOWED_FOLDERS)} folders")
    if not path.is_file():
        raise SandboxViolation(f"{excerpt(url)!r} does not exist (looked for {excerpt(relative)})")
    return path


def read_file(root: Path, path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file inside the project, at most ``limit`` of them.

    What the path is, is decided from its metadata before it is opened, and once more on the
    open descriptor, so a FIFO never blocks and a link out of the project is never read."""
    kind = file_kind(path)
    if kind != "file":
        raise UnreadableFile(f"expected a regular file, found {kind}")
    real, project = Path(os.path.realpath(path)), Path(os.path.realpath(root))
    if not real.is_relative_to(project):
        raise UnreadableFile("is a link to a file outside the project; expected the file itself "
                             "(files outside the project are never read)")
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # not inherited (PEP 446)
    except OSError as error:
        raise UnreadableFile(f"could not be opened: {error.strerror.lower()}") from None
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):  # swapped after the check above
            raise UnreadableFile("expected a regular file, found something else")
        size = os.fstat(file.fileno()).st_size
        data = file.read(limit + 1)
    if len(data) > limit:
        raise UnreadableFile(f"expected a file of at most {_size(limit)}, found {_size(max(size, len(data)))}")
    return data


def file_kind(path: Path) -> str:
    """'file', or what the path is instead, in words: 'a directory', 'a FIFO (named pipe)', ..."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "a link to nothing (broken symbolic link)" if os.path.islink(path) else "nothing"
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a symbolic link that leads back to itself"
        return f"a path that cannot be read ({error.strerror.lower()})"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def _size(size: int) -> str:
    return f"{size / (1024 * 1024):.3g} MiB" if size >= 1024 * 1024 else f"{size / 1024:.3g} KiB"


def excerpt(text: str, limit: int = 80) -> str:
    """At most a short excerpt of what the user wrote goes into a message."""
    return text if len(text) <= limit else text[:limit - 3] + "..."
