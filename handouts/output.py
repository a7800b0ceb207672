"""The output folder: a lock, atomic writes, a manifest that never lies, and the build cache.

Only the pipeline's last stage writes, and only here. The order of the writes is what keeps
the manifest true whatever happens (``kill -9``, a full disk, a second build):

1. the folder itself is locked with ``flock``, which the operating system releases when a
   build dies, so a second build waits instead of interleaving its writes with ours;
2. before any PDF is replaced, the manifest is written without the entries of the PDFs about
   to change, so an interruption can only leave an entry out, never leave a wrong one in;
3. each PDF is written to a temporary file and renamed over the old one; a PDF that goes
   (its sheet is gone) is deleted only after its entry is out of the manifest;
4. the full manifest and the cache are written last.

An entry is only ever read back if its file still has the recorded sha256, and the cache
still names every PDF whose entry was forgotten, so the next build repairs whatever an
interrupted one left undone.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import HandoutsError, display_path

MANIFEST = "manifest.json"
#: Which inputs each built PDF came from, so that an unchanged one is not printed again.
CACHE = ".handouts-cache.json"
CACHE_FORMAT = 2


class OutputError(HandoutsError):
    """The output folder cannot be written: read-only, full, or not a folder."""


@dataclass
class OutputFolder:
    """A locked output folder with the last build's manifest entries and cache, as read."""

    path: Path
    release: str
    entries: dict[str, dict] = field(default_factory=dict)  # manifest entries that are true
    cache: dict[str, dict] = field(default_factory=dict)  # PDF path -> {"key", "used", "source"}
    notes: list[str] = field(default_factory=list)  # what was wrong with the folder and mended

    def forget(self, paths) -> None:
        """Drop the entries of PDFs about to be replaced, on disk too, before touching a PDF."""
        stale = [path for path in paths if path in self.entries]
        for path in stale:
            del self.entries[path]
            self.cache.pop(path, None)
        if stale:
            self.write_manifest_only()

    def write_pdf(self, relative: str, data: bytes, entry: dict, cached: dict) -> None:
        """Write one PDF atomically and remember its entry (written with the manifest at the end)."""
        target = self.path / relative
        if target.is_dir() and not target.is_symlink():
            raise OutputError(f"{display_path(target)}: expected a PDF file here, found a folder "
                              f"(move it away and build again)")
        write_atomically(target, data)
        self.entries[relative] = entry
        self.cache[relative] = cached

    def remove_pdfs(self, paths: list[str]) -> None:
        """Forget the PDFs' entries, on disk too, then delete the PDFs: an interruption can leave
        a PDF without its entry (the cache still names it), never an entry without its PDF."""
        self.forget(paths)
        for relative in paths:
            target = self.path / relative
            try:
                target.unlink(missing_ok=True)
            except OSError as error:
                raise OutputError(f"{display_path(target)}: could not remove the PDF of a sheet "
                                  f"that is gone: {reason(error)}") from None
            self.cache.pop(relative, None)

    def sources(self) -> dict[str, str]:
        """The content file (project path) each recorded PDF was made from, where it is known:
        from its manifest entry, or from the cache for a PDF whose entry an interrupted build
        forgot."""
        known = {path: entry["source"] for path, entry in self.cache.items()
                 if isinstance(entry.get("source"), str)}
        for path, entry in self.entries.items():
            if isinstance(entry.get("lang"), str) and isinstance(entry.get("handout"), str):
                known[path] = f"content/{entry['lang']}/{entry['handout']}.md"
        return known

    def write_manifest_only(self) -> None:
        manifest = {"release": self.release, "files": [self.entries[p] for p in sorted(self.entries)]}
        _write_if_changed(self.path / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())

    def finish(self) -> None:
        """The full manifest, then the cache: the last two writes of a build (none at all when
        nothing changed)."""
        self.write_manifest_only()
        cache = {"format": CACHE_FORMAT, "sheets": {p: self.cache[p] for p in sorted(self.cache)
                                                    if p in self.entries}}
        _write_if_changed(self.path / CACHE, json.dumps(cache, indent=1, sort_keys=True).encode())


@contextlib.contextmanager
def opened(out: Path, release: str, on_wait=None):
    """The output folder, created if need be and locked for this build until the block ends.

    ``on_wait(message)`` is called once when another build holds the lock; this one then
    waits for it. Every failure to create, lock or write the folder is an OutputError."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{display_path(out)}: expected a folder for the PDFs, found a file") from None
    except OSError as error:
        raise OutputError(f"{display_path(out)}: cannot create the folder: {reason(error)}") from None
    try:
        lock = os.open(out, os.O_RDONLY | os.O_DIRECTORY)  # not inherited (PEP 446)
    except OSError as error:
        raise OutputError(f"{display_path(out)}: cannot open the folder: {reason(error)}") from None
    try:
        _acquire(lock, out, on_wait)
        _remove_leftovers(out)
        folder = OutputFolder(out, release=release)
        folder.entries = read_manifest(out, folder.notes)
        folder.cache = read_cache(out, folder.notes)
        try:
            yield folder
        except OSError as error:
            raise OutputError(f"{display_path(out)}: could not write the build: {reason(error)}; "
                              f"the earlier PDFs and their manifest entries are unchanged") from None
    finally:
        os.close(lock)  # releases the flock


def _remove_leftovers(out: Path) -> None:
    """The temporary file a killed build was writing (``write_atomically``): with the lock held,
    no other build can be writing it."""
    for leftover in out.glob(f".{MANIFEST}.*"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def _acquire(lock: int, out: Path, on_wait) -> None:
    """flock the folder itself: no lock file to leave behind, and the kernel lets go of it
    when the build ends, however it ends."""
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        if on_wait:
            on_wait(f"Another build is writing {display_path(out)}/ (see `fuser {display_path(out)}`); "
                    f"waiting for it to finish...")
        fcntl.flock(lock, fcntl.LOCK_EX)


def read_manifest(out: Path, notes: list[str] | None = None) -> dict[str, dict]:
    """The last build's entries whose PDF is still there with the recorded sha256, by path."""
    data = _read_json(out / MANIFEST, notes)
    files = data.get("files") if isinstance(data, dict) else None
    if data is not None and not isinstance(files, list):
        _note(notes, f"{display_path(out / MANIFEST)} is not a manifest (expected an object with a "
                     f"'files' list); it will be written anew")
        return {}
    entries = {}
    for entry in files or []:
        if (isinstance(entry, dict) and isinstance(entry.get("path"), str)
                and isinstance(entry.get("sha256"), str) and _inside(entry["path"])
                and sha256_of_file(out / entry["path"]) == entry["sha256"]):
            entries[entry["path"]] = entry
    return entries


def read_cache(out: Path, notes: list[str] | None = None) -> dict[str, dict]:
    data = _read_json(out / CACHE, notes)
    sheets = data.get("sheets") if isinstance(data, dict) and data.get("format") == CACHE_FORMAT else None
    if data is not None and not isinstance(sheets, dict):
        _note(notes, f"{display_path(out / CACHE)} is not a cache this version wrote; every PDF "
                     f"is printed anew")
        return {}
    return {path: entry for path, entry in (sheets or {}).items()
            if isinstance(entry, dict) and isinstance(entry.get("key"), str)
            and isinstance(entry.get("used"), dict)}


def _read_json(path: Path, notes: list[str] | None):
    """The file's JSON, or None when there is no such file (or it is unreadable)."""
    try:
        # Non-blocking, and checked on the descriptor: a FIFO in its place must not hang us.
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise IsADirectoryError  # only its name goes into the note
            return json.loads(file.read(64 * 1024 * 1024))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        _note(notes, f"{display_path(path)} could not be read ({error.__class__.__name__}); "
                     f"it will be written anew")
        return None


def _note(notes: list[str] | None, message: str) -> None:
    if notes is not None:
        notes.append(message)


def _inside(relative: str) -> bool:
    return not Path(relative).is_absolute() and ".." not in Path(relative).parts


def sha256_of_file(path: Path) -> str | None:
    try:
        with open(path, "rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except OSError:
        return None


def _write_if_changed(target: Path, data: bytes) -> None:
    """A build with nothing to do leaves the folder exactly as it was."""
    try:
        if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
            return
    except OSError:
        pass
    write_atomically(target, data)


def write_atomically(target: Path, data: bytes) -> None:
    """Write to a temporary file beside the target, then rename: never a half-written file,
    and no temporary file left behind when the write fails (a full disk) or is refused."""
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def reason(error: OSError) -> str:
    reasons = {errno.ENOSPC: "the disk is full", errno.EROFS: "the folder is read-only",
               errno.EACCES: "permission denied", errno.EPERM: "permission denied",
               errno.ENOTDIR: "part of the path is a file, not a folder",
               errno.EISDIR: "a folder stands where a file should go",
               errno.EFBIG: "the file is too large for this disk or account"}
    return reasons.get(error.errno, (error.strerror or str(error)).lower())
