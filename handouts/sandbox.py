"""The URL sandbox: which files a handout may embed or link to.

HTML is rendered against a fixed base URL, never the checkout's real path, so that two
checkouts print identical bytes. A URL is allowed when it resolves, under that base, to an
existing file in one of the project's ``assets/``, ``styles/`` or ``content/`` folders, or
when it is a ``data:`` URL. Everything else (``http(s)://``, ``file:///etc/...``, ``../..``)
is refused and nothing is ever fetched from the network.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

#: The base every project file is addressed from, on every machine.
BASE_URL = "file:///handouts-project/"
ALLOWED_FOLDERS = ("assets", "styles", "content")
#: Link targets that print as plain links and fetch nothing.
INERT_LINK_SCHEMES = ("mailto", "tel")


class SandboxViolation(ValueError):
    """A URL that points outside the sandbox; its message says why."""


def project_url(relative_path: str) -> str:
    """The URL of a project file, e.g. ``styles/print.css``."""
    return urljoin(BASE_URL, relative_path)


def resolve(root: Path, url: str) -> Path | None:
    """The project file a URL names, or None for a ``data:`` URL; raise SandboxViolation otherwise."""
    absolute = urljoin(BASE_URL, url.strip())
    parts = urlsplit(absolute)
    if parts.scheme == "data":
        return None
    if parts.scheme != "file" or parts.netloc or not absolute.startswith(BASE_URL):
        raise SandboxViolation(f"{url!r} is outside the project; expected a file in "
                               f"{', '.join(f + '/' for f in ALLOWED_FOLDERS)} (nothing is fetched "
                               f"from the network or the rest of the disk)")
    relative = unquote(parts.path).removeprefix(urlsplit(BASE_URL).path)
    folder = relative.split("/", 1)[0]
    path = (root / relative).resolve()
    if folder not in ALLOWED_FOLDERS or not path.is_relative_to(root.resolve() / folder):
        raise SandboxViolation(f"{url!r} is not in the project's "
                               f"{', '.join(f + '/' for f in ALLOWED_FOLDERS)} folders")
    if not path.is_file():
        raise SandboxViolation(f"{url!r} does not exist (looked for {relative})")
    return path
